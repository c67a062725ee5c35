from django.urls import path

from merchants.portal.views import auth, pages

app_name = "merchants"
urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("login/code/", auth.code_view, name="login_code"),
    path("login/code/resend/", auth.code_resend_view, name="login_code_resend"),
    path("logout/", auth.logout_view, name="logout"),
    path("password/change/", auth.password_change_view, name="password_change"),
    path("password/reset/", auth.password_reset, name="password_reset"),
    path("password/reset/sent/", auth.password_reset_done, name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth.password_reset_complete, name="password_reset_complete"),
    path("", pages.home, name="home"),
    path("history/", pages.history, name="history"),
    path("payments/<payment_number:number>/cancel/", pages.payment_cancel, name="payment_cancel"),
    path("monthly/", pages.monthly, name="monthly"),
    path("daily/", pages.daily, name="daily"),
    path("stores/", pages.stores, name="stores"),
    path("terminals/", pages.terminals, name="terminals"),
    path("terminals/<int:pk>/password/", pages.terminal_password, name="terminal_password"),
    path("terminals/<int:pk>/unlock/", pages.terminal_unlock, name="terminal_unlock"),
    path("terminals/<int:pk>/unpair/", pages.terminal_unpair, name="terminal_unpair"),
    path("terminals/devices/<int:pk>/end/", pages.terminal_device_end, name="terminal_device_end"),
    path("users/", pages.users, name="users"),
    path("users/new/", pages.user_create, name="user_create"),
    path("users/<int:pk>/deactivate/", pages.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/unlock/", pages.user_unlock, name="user_unlock"),
    path("users/<int:pk>/welcome/", pages.user_welcome_resend, name="user_welcome_resend"),
    path("welcome/<uidb64>/<token>/", auth.welcome, name="welcome"),
    path("welcome/done/", auth.welcome_done, name="welcome_done"),
    path(
        "stores/<int:pk>/qr-sheet.pdf", pages.store_qr_sheet, {"fmt": "pdf"}, name="store_qr_sheet"
    ),
    path(
        "stores/<int:pk>/qr-sheet.png",
        pages.store_qr_sheet,
        {"fmt": "png"},
        name="store_qr_sheet_png",
    ),
    path("company/", pages.company, name="company"),
    path("exports/", pages.export_create, name="export_create"),
    path("downloads/", pages.exports, name="exports"),
    path("downloads/<int:pk>/", pages.export_download, name="export_download"),
]
