"""Sign-in limits on top of django-axes' per-account lock."""

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db.models import Sum
from django.utils import timezone


def address_throttled(request) -> bool:
    """Too many failures from this address within the cool-off, whatever the accounts.

    Refuses further tries from that address without locking any account, so one address can lock
    at most a few accounts and a shop's shared address never locks everyone.
    """
    from axes.helpers import get_client_ip_address
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = AccessAttempt.objects.filter(
        ip_address=get_client_ip_address(request), attempt_time__gte=since
    ).aggregate(n=Sum("failures_since_start"))["n"]
    return (failures or 0) >= settings.MERCHANT_ADDRESS_FAILURE_LIMIT


def code_failed(request, user) -> bool:
    """A wrong e-mailed code counts as a failed sign-in for axes; True when now locked."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )
    return bool(getattr(request, "axes_locked_out", False))
