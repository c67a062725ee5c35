from django.urls import path

from settlement import views

app_name = "settlement"
urlpatterns = [
    path("cycle/", views.cycle, name="cycle"),
    path("payouts/", views.payouts, name="payouts"),
    path("payouts/<int:pk>/statement.pdf", views.statement, name="statement"),
]
