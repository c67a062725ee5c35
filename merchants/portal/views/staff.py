"""Django admin's second factor: enrolment of the authenticator app, the code after the password,
re-verification for money actions, backup codes (merchants.portal.staff has the rules)."""

from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from core.audit import audit_log
from core.http import safe_next_url
from core.verification import REPLAY_KEY, fresh_verification_required, mark_verified
from merchants.portal.forms import StaffCodeForm
from merchants.portal.security import address_throttled, code_failed, sign_in_succeeded
from merchants.portal.staff import (
    BACKUP_CODES_KEY,
    backup_codes_issue,
    code_device,
    enrolled,
    totp_confirm,
    totp_device_pending,
)
from merchants.portal.views.auth import locked_out, send_email_code


def _next(request) -> str:
    return safe_next_url(
        request, request.POST.get("next") or request.GET.get("next"), reverse("admin:index")
    )


def _to(name: str, request):
    return redirect(f"{reverse(name)}?{urlencode({'next': _next(request)})}")


def _context(request, **extra):
    return {**admin.site.each_context(request), "next": _next(request), **extra}


def _qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    return image.to_string(encoding="unicode")


def _code_failed(request, user, form, field="code"):
    if code_failed(request, user):
        return locked_out(request)
    form.add_error(field, _("The code is incorrect or has expired."))
    return None


def enrol_view(request):
    """認証アプリの登録: forced at the first sign-in; scan the QR, type the first code."""
    user = request.user
    if enrolled(user):
        return _to("staff_otp:verify", request)
    device = totp_device_pending(user)
    form = StaffCodeForm(request.POST or None)
    if request.method == "POST" and address_throttled(request):
        return locked_out(request)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            request.session[BACKUP_CODES_KEY] = totp_confirm(device, actor=user)
            otp_login(request, device)
            mark_verified(request)
            sign_in_succeeded(user)
            return _to("staff_otp:backup_codes", request)
        if (locked := _code_failed(request, user, form)) is not None:
            return locked
    secret = device.config_url.split("secret=")[1].split("&")[0]
    return render(
        request,
        "staff_otp/enrol.html",
        _context(
            request,
            form=form,
            qr_svg=mark_safe(_qr_svg(device.config_url)),  # our own SVG, no user input
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            title=_("Set up the authenticator app"),
        ),
    )


def _code_page(request, *, reverify: bool):
    user = request.user
    form = StaffCodeForm(request.POST or None)
    if request.method == "POST" and address_throttled(request):
        return locked_out(request)
    if request.method == "POST" and form.is_valid():
        device = code_device(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            mark_verified(request)
            sign_in_succeeded(user)
            if reverify:
                audit_log(action="core.staff.reverified", actor=user, obj=user)
            return _after_check(request)
        if (locked := _code_failed(request, user, form)) is not None:
            return locked
    return render(
        request,
        "staff_otp/verify.html",
        _context(
            request,
            form=form,
            reverify=reverify,
            has_email=bool(user.email),
            title=_("Verify it is you") if reverify else _("Two-step verification"),
        ),
    )


def _after_check(request):
    """Back to where the staff member was; a POST that met a stale session is offered again."""
    next_url = _next(request)
    replay = request.session.pop(REPLAY_KEY, None)
    if replay and replay.get("url") == next_url:
        return render(
            request,
            "staff_otp/continue.html",
            _context(request, replay=replay, title=_("Verified: continue")),
        )
    return redirect(next_url)


def verify_view(request):
    """二段階認証: the authenticator's code, an e-mailed code or a backup code."""
    if not enrolled(request.user):
        return _to("staff_otp:enrol", request)
    if request.user.is_verified():
        return redirect(_next(request))
    return _code_page(request, reverify=False)


def reverify_view(request):
    """本人確認: a money action asks for a code again when the last check is over 10 minutes old."""
    if not request.user.is_verified():
        return _to("staff_otp:verify", request)
    return _code_page(request, reverify=True)


@require_POST
def email_code_view(request):
    """The fallback: a code to the registered address (60-second resend cool-down)."""
    user = request.user
    if not user.email:
        messages.error(request, _("No e-mail address is registered for this account."))
    elif send_email_code(request, user):
        messages.success(request, _("A code has been sent to your registered e-mail address."))
    else:
        messages.error(
            request, _("A code was sent a moment ago. Please wait a minute before resending.")
        )
    return _to("staff_otp:reverify" if user.is_verified() else "staff_otp:verify", request)


def backup_codes_view(request):
    """The backup codes, shown once right after they are made (and downloadable then)."""
    if not request.user.is_verified():
        return redirect("staff_otp:verify")
    codes = request.session.get(BACKUP_CODES_KEY)
    if request.method == "POST":
        request.session.pop(BACKUP_CODES_KEY, None)
        return redirect(_next(request))
    return render(
        request,
        "staff_otp/backup_codes.html",
        _context(request, codes=codes, title=_("Backup codes")),
    )


@require_POST
@fresh_verification_required
def backup_codes_new_view(request):
    """New backup codes on request (the old ones stop working)."""
    request.session[BACKUP_CODES_KEY] = backup_codes_issue(request.user, actor=request.user)
    return redirect("staff_otp:backup_codes")


def backup_codes_download(request):
    codes = request.session.get(BACKUP_CODES_KEY) if request.user.is_verified() else None
    if not codes:
        return redirect("staff_otp:backup_codes")
    text = "\r\n".join(
        [_("Backup codes for %(user)s") % {"user": request.user.get_username()}, "", *codes, ""]
    )
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="backup-codes.txt"'
    return response


def _staff(view):
    return admin.site.admin_view(view)


enrol = _staff(enrol_view)
verify = _staff(verify_view)
reverify = _staff(reverify_view)
email_code = _staff(email_code_view)
backup_codes = _staff(backup_codes_view)
backup_codes_new = _staff(backup_codes_new_view)
backup_codes_file = _staff(backup_codes_download)
