"""Installable resident pages and store app: web app manifests, the service worker, the offline
page. The worker only answers a page that cannot load with the offline page: it caches nothing
else and never keeps, queues or replays a request, so no payment can happen offline."""

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

THEME = "#0b6e4f"
# Bumped when the offline page or what it needs changes, so old caches are dropped.
OFFLINE_CACHE = "offline-v1"


def _manifest(name: str, short_name: str, start: str) -> JsonResponse:
    icons = [
        {"src": static(f"icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ]
    return JsonResponse(
        {
            "name": name,
            "short_name": short_name,
            "start_url": start,
            "scope": start,
            "display": "standalone",
            "background_color": "#f6f7f9",
            "theme_color": THEME,
            "lang": "ja",
            "icons": icons,
        },
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
@cache_control(max_age=3600)
def resident_manifest(request):
    return _manifest(_("Electronic ticket"), _("Ticket"), reverse("payments:home"))


@require_GET
@cache_control(max_age=3600)
def store_manifest(request):
    return _manifest(_("Store app"), _("Store app"), reverse("payments:store_home"))


@require_GET
@cache_control(no_cache=True)
def service_worker(request):
    """At the site's root so that it may answer for every resident and store-app page."""
    response = render(
        request,
        "payments/sw.js",
        {
            "cache": OFFLINE_CACHE,
            "offline": reverse("payments:offline"),
            "assets": [
                static("css/base.css"),
                static("css/resident.css"),
                static("icons/icon-192.png"),
            ],
        },
        content_type="text/javascript",
    )
    return response


@require_GET
def offline(request):
    return render(request, "payments/offline.html")


@require_GET
@cache_control(max_age=86400)
def favicon(request):
    return HttpResponse(status=301, headers={"Location": static("icons/favicon-32.png")})
