"""Request helpers every portal needs: the client's address and a safe place to go next."""

import ipaddress

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme


def client_address(request) -> str:
    """The client's address, read the same way by django-axes and every limit of ours.

    With AXES_PROXY_COUNT = N (N proxies in front, each appending the address it saw), the client is
    the N-th X-Forwarded-For entry from the right; anything left of it was written by the client and
    is ignored. With N = 0 the header is never read. django-ipware's proxy_count counts differently
    (one nginx hop with "client" in the header gives None), so the rule is spelt out here.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.AXES_IPWARE_PROXY_COUNT
    if not count:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(hops) < count:
        return remote  # not through the expected proxies: only the connection is known
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote


def safe_next_url(request, url: str | None, default: str) -> str:
    """`url` when it stays on this site (no open redirect through ?next=), else `default`."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


# (what the User-Agent holds, what we call it); the first match wins, so the more specific first.
_PLATFORMS = [
    ("iPad", "iPad"),
    ("iPhone", "iPhone"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Macintosh", "Mac"),
    ("Linux", "Linux"),
]
_BROWSERS = [
    ("Edg", "Edge"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("CriOS/", "Chrome"),
    ("FxiOS/", "Firefox"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
]


def device_label(request) -> str:
    """A short name for the client's device ("iPhone · Safari"), for a merchant to recognise it in
    a list; what no rule knows is cut short."""
    agent = request.META.get("HTTP_USER_AGENT", "")
    found = [
        next((name for token, name in table if token in agent), "")
        for table in (_PLATFORMS, _BROWSERS)
    ]
    return " · ".join(f for f in found if f) or agent[:40]
