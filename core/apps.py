from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Shared pieces with no domain rules: audit trail, rate limits, errors, formatting, PDFs."""

    name = "core"
    verbose_name = _("Shared")
    default_auto_field = "django.db.models.BigAutoField"
