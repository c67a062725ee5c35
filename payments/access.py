"""Who may open resident pages and the store app.

Residents are not Django users: the session holds their wallet id. The store app needs a
paired device (a signed long-lived cookie naming its TerminalDevice row) and a staff member of that
terminal's store signed in; the paired device stands in for the e-mailed code of the
merchant admin.
"""

from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db.models import F
from django.shortcuts import redirect
from django.utils import timezone

from merchants.models import Terminal, TerminalDevice, User
from wallets.models import Wallet

RESIDENT_SESSION_KEY = "resident_wallet_id"
RESIDENT_SESSION_AGE = timedelta(days=180)
TERMINAL_COOKIE = "store_terminal"
# A new salt with the device rows (merchants 0013): the older "pk:pairing" cookies read as none.
TERMINAL_COOKIE_SALT = "payments.store-device"
TERMINAL_COOKIE_AGE = timedelta(days=3650)
STORE_ROLES = (User.Role.STORE_STAFF, User.Role.STORE_MANAGER)


def resident_login(request, wallet: Wallet) -> None:
    request.session.cycle_key()
    request.session[RESIDENT_SESSION_KEY] = wallet.pk
    # The phone stays signed in for the programme's season, as residents expect of an app.
    request.session.set_expiry(RESIDENT_SESSION_AGE)


def resident_logout(request) -> None:
    request.session.pop(RESIDENT_SESSION_KEY, None)
    request.session.cycle_key()


def resident_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        wallet_id = request.session.get(RESIDENT_SESSION_KEY)
        wallet = (
            Wallet.objects.select_related("programme").filter(pk=wallet_id).first()
            if wallet_id
            else None
        )
        if wallet is None:
            return redirect_to_login(request.get_full_path(), "payments:login")
        request.wallet = wallet
        return view(request, *args, **kwargs)

    return wrapper


def device_token(request) -> str | None:
    """The token of the device's cookie, whether or not it still names a device."""
    return request.get_signed_cookie(
        TERMINAL_COOKIE,
        default=None,
        salt=TERMINAL_COOKIE_SALT,
        max_age=TERMINAL_COOKIE_AGE.total_seconds(),
    )


def paired_terminal(request) -> Terminal | None:
    """The terminal of the device's cookie: a live device row of an active store-app terminal.

    Also refreshes the device's last seen time (at most once a minute)."""
    token = device_token(request)
    if not token:
        return None
    terminal = (
        Terminal.store_apps_in_use()
        .select_related("store__company", "store__programme")
        .filter(devices__token_digest=TerminalDevice.digest(token))
        .annotate(device_pk=F("devices__pk"), device_seen_at=F("devices__last_seen_at"))
        .first()
    )
    if terminal is not None:
        now = timezone.now()
        if now - terminal.device_seen_at >= TerminalDevice.SEEN_EVERY:
            TerminalDevice.seen(terminal.device_pk, now)
    return terminal


def remember_device(response, token: str) -> None:
    """The device's cookie, holding the token of its TerminalDevice row (services.terminal_pair)."""
    response.set_signed_cookie(
        TERMINAL_COOKIE,
        token,
        salt=TERMINAL_COOKIE_SALT,
        max_age=int(TERMINAL_COOKIE_AGE.total_seconds()),
        secure=settings.SECURE_COOKIES,
        httponly=True,
        samesite="Lax",
    )


def is_store_user_of(user, terminal: Terminal) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and user.role in STORE_ROLES
        and user.store_id == terminal.store_id
    )


def store_staff_required(view):
    """A paired device, and a staff member of its store with a password of their own."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        terminal = paired_terminal(request)
        if terminal is None:
            return redirect("payments:store_setup")
        if not is_store_user_of(request.user, terminal):
            if request.user.is_authenticated:
                logout(request)
            return redirect_to_login(request.get_full_path(), "payments:store_login")
        if request.user.must_change_password:
            return redirect("payments:store_password")
        request.terminal = terminal
        request.store = terminal.store
        return view(request, *args, **kwargs)

    return wrapper
