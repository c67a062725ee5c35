"""Merchant sign-in: login ID + password (django-axes watches), then a 6-digit code by e-mail
(django-otp), then the forced password change at first sign-in."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_email.models import EmailDevice

from core.audit import audit_log
from core.http import client_address, safe_next_url
from core.ratelimit import rate_limit_hit
from merchants.portal.access import LOGIN_URL
from merchants.portal.forms import CodeForm, LoginForm, PasswordChangeForm, PasswordResetForm
from merchants.portal.forms import SetPasswordForm as MerchantSetPasswordForm
from merchants.portal.security import address_throttled, code_failed

NEXT_KEY = "merchant_next"


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lockout answer: a plain page in the user's language instead of a bare 403."""
    if request.user.is_authenticated:
        logout(request)
    return render(request, "merchants/locked_out.html", status=429)


@sensitive_post_parameters("password")
def login_view(request):
    """ログイン: password first; the e-mailed code follows on the next page."""
    if request.user.is_authenticated and request.user.is_verified():
        return redirect("merchants:home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if address_throttled(request):
            return render(request, "merchants/locked_out.html", {"address": True}, status=429)
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
        if user is None or not user.is_merchant:
            form.add_error(None, _("The login ID or password is incorrect."))
        elif not user.email:
            form.add_error(
                None,
                _(
                    "No e-mail address is registered for this account. Please ask your administrator."
                ),
            )
        else:
            login(request, user)
            request.session.set_expiry(settings.MERCHANT_IDLE_SECONDS)
            request.session[NEXT_KEY] = safe_next_url(
                request, request.GET.get("next"), reverse("merchants:home")
            )
            _send_code(request, user)
            return redirect("merchants:login_code")
    return render(request, "merchants/login.html", {"form": form})


def _device(user) -> EmailDevice:
    device, _created = EmailDevice.objects.get_or_create(user=user, name="email")
    return device


def _send_code(request, user) -> bool:
    """Send a code unless the resend cool-down is running; False when it is."""
    device = _device(user)
    allowed, _data = device.generate_is_allowed()
    if not allowed:
        return False
    device.generate_challenge()
    return True


def _pending_user(request):
    user = request.user
    if user.is_authenticated and user.is_merchant and not user.is_verified():
        return user
    return None


def code_view(request):
    """メールアドレス認証: the 6-digit code, valid 5 minutes, single use; failures count for axes."""
    user = _pending_user(request)
    if user is None:
        return redirect(LOGIN_URL)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and address_throttled(request):
        logout(request)
        return render(request, "merchants/locked_out.html", {"address": True}, status=429)
    if request.method == "POST" and form.is_valid():
        device = _device(user)
        allowed, _data = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["code"]):
            otp_login(request, device)
            next_url = request.session.pop(NEXT_KEY, "") or reverse("merchants:home")
            if user.must_change_password:
                return redirect("merchants:password_change")
            return redirect(safe_next_url(request, next_url, reverse("merchants:home")))
        if code_failed(request, user):
            return locked_out(request)
        form.add_error(
            "code",
            _("The code is incorrect or has expired.")
            if allowed
            else _("Too many wrong codes. Please wait a moment and try again."),
        )
    return render(request, "merchants/login_code.html", {"form": form, "user_email": user.email})


@require_POST
def code_resend_view(request):
    user = _pending_user(request)
    if user is None:
        return redirect(LOGIN_URL)
    if _send_code(request, user):
        messages.success(request, _("A new code has been sent."))
    else:
        messages.error(
            request, _("A code was sent a moment ago. Please wait a minute before resending.")
        )
    return redirect("merchants:login_code")


@sensitive_post_parameters()
def password_change_view(request):
    """パスワード変更: from the menu, and forced after the first sign-in (must_change_password)."""
    user = request.user
    if not (user.is_authenticated and user.is_merchant and user.is_verified()):
        return redirect(LOGIN_URL)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.user.must_change_password = False
        form.save()
        update_session_auth_hash(request, form.user)
        audit_log(
            action="merchants.user.password_changed", actor=user, obj=user, company=user.company
        )
        messages.success(request, _("Your password has been changed."))
        return redirect("merchants:home")
    return render(
        request,
        "merchants/password_change.html",
        {"form": form, "forced": user.must_change_password},
    )


@require_POST
def logout_view(request):
    logout(request)
    messages.success(request, _("You have signed out."))
    return redirect(LOGIN_URL)


class PasswordResetView(auth_views.PasswordResetView):
    """At most a few reset mails an hour per e-mail address and per client address, so the form
    cannot be used to flood someone's inbox. Over the limit the answer looks the same."""

    def form_valid(self, form):
        keys = [
            f"password-reset:email:{form.cleaned_data['email'].lower()}",
            f"password-reset:addr:{client_address(self.request)}",
        ]
        counts = [rate_limit_hit(key=key, window=RESET_WINDOW) for key in keys]
        if max(counts) > RESET_LIMIT:
            return redirect(self.get_success_url())
        return super().form_valid(form)


RESET_LIMIT, RESET_WINDOW = 3, timedelta(hours=1)
password_reset = PasswordResetView.as_view(
    form_class=PasswordResetForm,
    template_name="merchants/password_reset.html",
    subject_template_name="merchants/emails/password_reset_subject.txt",
    email_template_name="merchants/emails/password_reset_body.txt",
    html_email_template_name="merchants/emails/password_reset_body.html",
    success_url=reverse_lazy("merchants:password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="merchants/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    form_class=MerchantSetPasswordForm,
    template_name="merchants/password_reset_confirm.html",
    success_url=reverse_lazy("merchants:password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="merchants/password_reset_complete.html"
)
