from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        from django.urls import register_converter

        from payments.validators import PaymentNumberConverter

        # Here, not in payments/urls.py: merchants/urls.py is loaded first and uses it too.
        register_converter(PaymentNumberConverter, "payment_number")
