from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# The third-party apps city staff see in Django admin, named in our words. Their models'
# names are their packages' own (lazy) msgids; listed here so that our catalogue keeps them.
APP_NAMES = {
    "axes": _("Sign-in attempts (axes)"),
    "otp_email": _("Second factor: e-mailed codes"),
    "otp_static": _("Second factor: backup codes"),
    "otp_totp": _("Second factor: authenticator apps"),
    "django_tasks_database": _("Background tasks"),
}
# django-otp's device models have no translatable names of their own.
MODEL_NAMES = {
    ("otp_email", "emaildevice"): (_("e-mail code device"), _("e-mail code devices")),
    ("otp_static", "staticdevice"): (_("backup code set"), _("backup code sets")),
    ("otp_static", "statictoken"): (_("backup code"), _("backup codes")),
    ("otp_totp", "totpdevice"): (_("authenticator app"), _("authenticator apps")),
}
THIRD_PARTY_NAMES = [
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
]


class CoreConfig(AppConfig):
    """Shared pieces with no domain rules: audit trail, rate limits, errors, formatting, PDFs."""

    name = "core"
    verbose_name = _("Shared")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        for config in apps.get_app_configs():
            config.verbose_name = APP_NAMES.get(config.label, config.verbose_name)
            for model in config.get_models():
                names = MODEL_NAMES.get((config.label, model._meta.model_name))
                if names:
                    model._meta.verbose_name, model._meta.verbose_name_plural = names
