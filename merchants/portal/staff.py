"""City staff's second factor for Django admin (docs/security.md): an authenticator app (TOTP),
e-mailed codes as the fallback, single-use backup codes; and the staff session's idle timeout.

The sign-in limits are the merchant admin's (merchants.portal.security): wrong codes count for
django-axes and the long per-account budget, and the per-address budget refuses code tries.
"""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.audit import audit_log

LAST_SEEN_KEY = "staff_last_seen"
BACKUP_CODES_KEY = "staff_backup_codes"
TOTP_NAME = "authenticator"
BACKUP_NAME = "backup"


def totp_device(user, *, confirmed=True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, name=TOTP_NAME, confirmed=confirmed).first()


def totp_device_pending(user) -> TOTPDevice:
    """The authenticator being enrolled: one unconfirmed device whose key the QR shows."""
    device = totp_device(user, confirmed=False)
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def enrolled(user) -> bool:
    return totp_device(user) is not None


@transaction.atomic
def totp_confirm(device: TOTPDevice, *, actor) -> list[str]:
    """The first right code confirms the authenticator; fresh backup codes come with it."""
    TOTPDevice.objects.filter(user=device.user, name=TOTP_NAME).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_log(action="core.staff.second_factor_enrolled", actor=actor, obj=device.user)
    return backup_codes_issue(device.user, actor=actor)


@transaction.atomic
def backup_codes_issue(user, *, actor) -> list[str]:
    """New single-use backup codes; the old ones stop working."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name=BACKUP_NAME)
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.STAFF_BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    audit_log(action="core.staff.backup_codes_issued", actor=actor, obj=user, count=len(codes))
    return codes


def email_device(user) -> EmailDevice:
    device, _created = EmailDevice.objects.get_or_create(user=user, name="email")
    return device


def code_device(user, code: str):
    """The device that accepts `code` (each device throttles its own wrong tries), or None.

    Six digits are the authenticator's or the e-mailed code; anything else a backup code, which
    the static device deletes once used.
    """
    if code.isdigit() and len(code) == 6:
        candidates = [totp_device(user), EmailDevice.objects.filter(user=user).first()]
    else:
        candidates = [StaticDevice.objects.filter(user=user, name=BACKUP_NAME).first()]
    for device in candidates:
        if device is not None and device.verify_token(code):
            return device
    return None


def _admin_prefix() -> str:
    return reverse("admin:index")


class StaffSessionMiddleware:
    """Staff sessions only (merchants and residents keep theirs): 30 idle minutes sign them out,
    and no Django admin page opens before the second factor (enrolment at the first sign-in)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)  # none on the POS API (core.middleware)
        if user is not None and user.is_authenticated and user.is_staff:
            response = self._idle(request) or self._second_factor(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def _idle(self, request):
        now = time.time()
        last_seen = request.session.get(LAST_SEEN_KEY)
        if isinstance(last_seen, int | float) and now - last_seen > settings.STAFF_IDLE_SECONDS:
            logout(request)
            messages.info(
                request, _("You were signed out after 30 minutes without activity. Sign in again.")
            )
            return redirect(f"{reverse('admin:login')}?{urlencode({'next': request.path})}")
        request.session[LAST_SEEN_KEY] = now
        request.session.set_expiry(settings.STAFF_IDLE_SECONDS)
        return None

    def _second_factor(self, request, user):
        prefix = _admin_prefix()
        if not request.path.startswith(prefix) or user.is_verified():
            return None
        open_paths = [reverse("admin:login"), reverse("admin:logout"), f"{prefix}otp/"]
        if any(request.path.startswith(p) for p in open_paths):
            return None
        target = "staff_otp:verify" if enrolled(user) else "staff_otp:enrol"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
