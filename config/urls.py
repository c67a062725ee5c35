from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from core.health import healthz, readyz
from core.metrics import metrics_view
from merchants.portal.forms import AdminSignInForm
from merchants.portal.views.auth import admin_password_change

admin.site.site_header = _("Electronic voucher administration")
admin.site.site_title = _("Electronic voucher administration")
admin.site.index_title = _("City staff")
# Django admin's sign-in and password change in the merchant admin's limits (docs/security.md).
admin.site.login_form = AdminSignInForm


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/password_change/", admin_password_change),
    path("admin/otp/", include("merchants.portal.staff_urls")),
    path("admin/", admin.site.urls),
    path("merchant/settlement/", include("merchants.portal.settlement_urls")),
    path("merchant/", include("merchants.portal.urls")),
    path("", include("payments.urls")),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
