from django.urls import path, re_path

from payments import api, pwa, store_views, views

app_name = "payments"
urlpatterns = [
    # POS integration API first in the list: the busiest paths
    path("api/v1/openapi.json", api.openapi, name="api_openapi"),
    path("api/v1/payments", api.payments, name="api_payments"),
    path("api/v1/payments/<payment_number:number>", api.payment, name="api_payment"),
    path(
        "api/v1/payments/<payment_number:number>/cancel",
        api.payment_cancel,
        name="api_payment_cancel",
    ),
    # Anything else under the API (a malformed payment number too) is a JSON not_found.
    re_path(r"^api/v1/", api.not_found, name="api_not_found"),
    # Residents (phone browser)
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("history/", views.history, name="history"),
    path("pay/", views.pay_start, name="pay"),
    path("pay/passcode/", views.pay_passcode, name="pay_passcode"),
    path("pay/s/<str:token>/", views.store_pay, name="store_pay"),
    path("pay/s/<str:token>/confirm/", views.store_pay_confirm, name="store_pay_confirm"),
    path("pay/done/<payment_number:number>/", views.done, name="done"),
    path("code/", views.code, name="code"),
    path("code/new.json", views.code_new, name="code_new"),
    path("code/status.json", views.code_status, name="code_status"),
    path("offline/", pwa.offline, name="offline"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa.resident_manifest, name="resident_manifest"),
    path("favicon.ico", pwa.favicon, name="favicon"),
    # Store app (加盟店アプリ)
    path("store/manifest.webmanifest", pwa.store_manifest, name="store_manifest"),
    path("store/", store_views.home, name="store_home"),
    path("store/setup/", store_views.setup, name="store_setup"),
    path("store/setup/confirm/", store_views.setup_confirm, name="store_setup_confirm"),
    path("store/login/", store_views.login, name="store_login"),
    path("store/logout/", store_views.logout, name="store_logout"),
    path("store/password/", store_views.password, name="store_password"),
    path("store/pay/", store_views.pay, name="store_pay_amount"),
    path("store/pay/scan/", store_views.pay_scan, name="store_pay_scan"),
    path("store/pay/pin/", store_views.pay_pin, name="store_pay_pin"),
    path("store/payments/", store_views.history, name="store_history"),
    path(
        "store/payments/<payment_number:number>/", store_views.payment_detail, name="store_payment"
    ),
    path("store/payments/<payment_number:number>/done/", store_views.done, name="store_done"),
    path(
        "store/payments/<payment_number:number>/cancel/",
        store_views.payment_cancel,
        name="store_payment_cancel",
    ),
    path("store/feed/", store_views.feed, name="store_feed"),
    path("store/feed.json", store_views.feed_json, name="store_feed_json"),
]
