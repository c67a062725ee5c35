"""Request helpers every portal needs: the client's address and a safe place to go next."""

from django.utils.http import url_has_allowed_host_and_scheme


def client_address(request) -> str:
    """The client's address as django-axes sees it, so AXES_PROXY_COUNT applies behind a proxy."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or ""


def safe_next_url(request, url: str | None, default: str) -> str:
    """`url` when it stays on this site (no open redirect through ?next=), else `default`."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default
