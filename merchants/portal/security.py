"""Sign-in limits for the merchant admin and Django admin (docs/security.md).

Three limits, none of which an attacker can turn against the real user: django-axes' quick limit per
(account, address); a per-address budget across accounts; a long per-account budget that only a
reset by e-mail or an unlock lifts. A browser that passed the e-mailed code carries a signed
"known device" cookie: its failures count apart, so a spray from elsewhere never shuts it out.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db.models import F, Sum
from django.utils import timezone

from core.http import client_address
from merchants.models import User

KNOWN_DEVICE_COOKIE = "merchant_device"
KNOWN_DEVICE_SALT = "merchants.known-device"


def address_throttled(request) -> bool:
    """Too many failures from this address within the cool-off, whatever the accounts.

    Refuses further tries from that address without locking any account, so one address can lock
    at most a few accounts and a shop's shared address never locks everyone.
    """
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = AccessAttempt.objects.filter(
        ip_address=client_address(request), attempt_time__gte=since
    ).aggregate(n=Sum("failures_since_start"))["n"]
    return (failures or 0) >= settings.MERCHANT_ADDRESS_FAILURE_LIMIT


def known_device(request, username: str) -> bool:
    """The browser passed the e-mailed code for this account, and its password has not changed."""
    value = request.get_signed_cookie(
        KNOWN_DEVICE_COOKIE,
        default=None,
        salt=KNOWN_DEVICE_SALT,
        max_age=timedelta(days=settings.MERCHANT_KNOWN_DEVICE_DAYS),
    )
    if not value:
        return False
    user = User.objects.filter(username=username).first()
    return user is not None and value == _device_value(user)


def known_device_remember(response, user) -> None:
    """Set after the second factor: from now on this browser's failures count apart."""
    response.set_signed_cookie(
        KNOWN_DEVICE_COOKIE,
        _device_value(user),
        salt=KNOWN_DEVICE_SALT,
        max_age=int(timedelta(days=settings.MERCHANT_KNOWN_DEVICE_DAYS).total_seconds()),
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def _device_value(user) -> str:
    # Bound to the password hash, so a password reset forgets every device.
    return f"{user.pk}:{user.get_session_auth_hash()}"


def sign_in_refused(request, username: str) -> bool:
    """Refuse before checking the password: axes' pause for this (account, address), or the
    address's budget or the account's is spent. A known device skips the last two."""
    if pair_paused(request, username):
        return True
    if known_device(request, username):
        return False
    if address_throttled(request):
        return True
    return User.objects.filter(
        username=username, failed_sign_ins__gte=settings.MERCHANT_ACCOUNT_FAILURE_LIMIT
    ).exists()


def pair_paused(request, username: str) -> bool:
    """axes' quick limit for this (account, address), checked before authenticate() so that a
    refused try is never counted as a guess."""
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, credentials={"username": username})


def sign_in_failed(request, username: str) -> None:
    """Count a checked wrong password or code on the account's long budget unless it came from a
    known device; axes counts it (per account and address) through the signal."""
    if not known_device(request, username):
        User.objects.filter(username=username).update(failed_sign_ins=F("failed_sign_ins") + 1)


def sign_in_succeeded(user) -> None:
    """Both factors passed (or a reset by e-mail, or an unlock): the long budget starts again."""
    User.objects.filter(pk=user.pk).update(failed_sign_ins=0)


def code_failed(request, user) -> bool:
    """A wrong e-mailed code counts as a failed sign-in; True when axes now locks the pair."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )
    sign_in_failed(request, user.get_username())
    return bool(getattr(request, "axes_locked_out", False))
