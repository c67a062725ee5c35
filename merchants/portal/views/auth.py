"""Merchant sign-in: login ID + password (django-axes watches), then a 6-digit code by e-mail
(django-otp), then the forced password change at first sign-in."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_email.models import EmailDevice

from core.audit import audit_log
from core.http import client_address, safe_next_url
from core.ratelimit import rate_limit_hit
from merchants.models import User
from merchants.portal.access import LOGIN_URL
from merchants.portal.forms import (
    AdminPasswordChange,
    CodeForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
)
from merchants.portal.forms import SetPasswordForm as MerchantSetPasswordForm
from merchants.portal.security import (
    address_throttled,
    code_failed,
    known_device,
    known_device_remember,
    sign_in_failed,
    sign_in_refused,
    sign_in_succeeded,
)
from merchants.portal.tasks import send_password_reset
from merchants.tokens import welcome_token_generator

NEXT_KEY = "merchant_next"


def locked_out(request, original_response=None, credentials=None):
    """Every lock's answer, whether or not the account exists: a page in the user's language that
    says what to do, instead of axes' bare 403."""
    if request.user.is_authenticated:
        logout(request)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if request.path.startswith(reverse("admin:index")):
        context = {
            **admin.site.each_context(request),
            "cooloff_minutes": minutes,
            "title": _("Sign-in paused"),
        }
        return render(request, "staff_otp/locked_out.html", context, status=429)
    return render(request, "merchants/locked_out.html", {"cooloff_minutes": minutes}, status=429)


@sensitive_post_parameters("password")
def login_view(request):
    """ログイン: password first; the e-mailed code follows on the next page."""
    if request.user.is_authenticated and request.user.is_verified():
        return redirect("merchants:home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        if sign_in_refused(request, username):
            return locked_out(request)
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None:
            sign_in_failed(request, username)
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
        if user is None or not user.is_merchant:
            form.add_error(None, _("The login ID or password is incorrect."))
        elif user.role == User.Role.STORE_STAFF:
            # Told only after the right password, so the page is no oracle of roles.
            form.add_error(
                None,
                _(
                    "Store staff use the store app on the store's device, not the merchant admin:"
                    " %(url)s"
                )
                % {"url": request.build_absolute_uri(reverse("payments:store_login"))},
            )
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
            send_email_code(request, user)
            return redirect("merchants:login_code")
    return render(request, "merchants/login.html", {"form": form})


def _device(user) -> EmailDevice:
    device, _created = EmailDevice.objects.get_or_create(user=user, name="email")
    return device


def send_email_code(request, user) -> bool:
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
    if (
        request.method == "POST"
        and not known_device(request, user.username)
        and address_throttled(request)
    ):
        return locked_out(request)
    if request.method == "POST" and form.is_valid():
        device = _device(user)
        allowed, _data = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["code"]):
            otp_login(request, device)
            sign_in_succeeded(user)
            next_url = request.session.pop(NEXT_KEY, "") or reverse("merchants:home")
            if user.must_change_password:
                response = redirect("merchants:password_change")
            else:
                response = redirect(safe_next_url(request, next_url, reverse("merchants:home")))
            known_device_remember(response, user)
            return response
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
    if send_email_code(request, user):
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
    form = PasswordChangeForm(user, request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        form.user.must_change_password = False
        form.save()
        update_session_auth_hash(request, form.user)
        audit_log(
            action="merchants.user.password_changed", actor=user, obj=user, company=user.company
        )
        messages.success(request, _("Your password has been changed."))
        response = redirect("merchants:home")
        known_device_remember(response, form.user)  # the cookie is bound to the password
        return response
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
    cannot be used to flood someone's inbox. Over the limit the answer looks the same.

    The mail is looked up and sent by the background worker, on both paths, so the answer takes
    the same time whether or not the address has an account."""

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        keys = [
            f"password-reset:email:{email.lower()}",
            f"password-reset:addr:{client_address(self.request)}",
        ]
        counts = [rate_limit_hit(key=key, window=RESET_WINDOW) for key in keys]
        if max(counts) <= RESET_LIMIT:
            task_kwargs = {
                "email": email,
                "domain": self.request.get_host(),
                "use_https": self.request.is_secure(),
                "language": translation.get_language(),
            }
            transaction.on_commit(lambda: send_password_reset.enqueue(**task_kwargs))
        return redirect(self.get_success_url())


RESET_LIMIT, RESET_WINDOW = 3, timedelta(hours=1)
password_reset = PasswordResetView.as_view(
    form_class=PasswordResetForm,
    template_name="merchants/password_reset.html",
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


class WelcomeView(auth_views.PasswordResetConfirmView):
    """The registration mail's one-time link: the new user sets their own first password."""

    form_class = MerchantSetPasswordForm
    template_name = "merchants/welcome.html"
    token_generator = welcome_token_generator

    def get_success_url(self):
        app = "store" if self.user.role == User.Role.STORE_STAFF else "merchant"
        return f"{reverse('merchants:welcome_done')}?app={app}"


welcome = WelcomeView.as_view()


def welcome_done(request):
    return render(
        request, "merchants/welcome_done.html", {"store_app": request.GET.get("app") == "store"}
    )


password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="merchants/password_reset_complete.html"
)


class AdminPasswordChangeView(auth_views.PasswordChangeView):
    """Django admin's password change with the current password in the sign-in limits."""

    form_class = AdminPasswordChange
    success_url = reverse_lazy("admin:password_change_done")
    template_name = "registration/password_change_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def get_context_data(self, **kwargs):
        return {**admin.site.each_context(self.request), **super().get_context_data(**kwargs)}


admin_password_change = admin.site.admin_view(AdminPasswordChangeView.as_view())
