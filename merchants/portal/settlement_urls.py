from django.urls import path

from merchants.portal.views import settlement as views

app_name = "settlement"
urlpatterns = [
    path("cycle/", views.cycle, name="cycle"),
    path("payouts/", views.payouts, name="payouts"),
    path("payouts/<int:pk>/statement.pdf", views.statement, name="statement"),
]
