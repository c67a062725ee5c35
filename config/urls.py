from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Electronic voucher administration")
admin.site.site_title = _("Electronic voucher administration")
admin.site.index_title = _("City staff")


def healthz(request):
    """For load balancers and deployment checks: the app answers. No database, no session."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("merchant/settlement/", include("merchants.portal.settlement_urls")),
    path("merchant/", include("merchants.portal.urls")),
    path("", include("payments.urls")),
]
