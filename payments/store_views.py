"""The store app (加盟店アプリ): terminal set-up, staff sign-in, CPM and card payments, history, 入金 feed."""

from datetime import timedelta

from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.core import signing
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.dates import day_range
from core.exceptions import DomainError
from core.formatting import masked, yen
from core.http import client_address, device_label, safe_next_url
from merchants.models import Terminal
from payments import selectors, services
from payments.access import (
    device_token,
    is_store_user_of,
    paired_terminal,
    remember_device,
    store_staff_required,
)
from payments.exceptions import PinWrong
from payments.forms import (
    AmountForm,
    CancelForm,
    CardPinForm,
    ScanForm,
    StaffSignInForm,
    StoreHistoryForm,
    StorePasswordForm,
    TerminalConfirmForm,
    TerminalSetupForm,
)
from payments.models import Payment
from wallets.services import CARD_TOKEN_PREFIX

# The card scanned, waiting for its PIN: kept in the session, never in the page.
CARD_SESSION_KEY = "store_card"
SETUP_SALT = "payments.terminal-setup"
SETUP_MAX_AGE = 600  # the confirmation screen must be answered within ten minutes
# The password is checked by services.store_staff_sign_in, not authenticate(): django-axes
# must neither count nor lock merchant-admin accounts from the store app.
STORE_BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- Terminal set-up and sign-in -----------------------------------------------------------


def _password_issue(terminal: Terminal) -> str | None:
    issued = terminal.setup_password_issued_at
    return issued.isoformat() if issued else None


@never_cache
def setup(request):
    """端末ID + 端末パスワード → the store's information to confirm (as in the store app manual)."""
    form = TerminalSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            terminal = services.terminal_find_for_setup(
                terminal_id=form.cleaned_data["terminal_id"].strip(),
                password=form.cleaned_data["password"].strip(),
                client_address=client_address(request),
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            token = signing.dumps([terminal.pk, _password_issue(terminal)], salt=SETUP_SALT)
            return render(
                request,
                "payments/store/setup_confirm.html",
                {"terminal": terminal, "form": TerminalConfirmForm(initial={"token": token})},
            )
    return render(request, "payments/store/setup.html", {"form": form})


@require_POST
def setup_confirm(request):
    """The set-up token names the terminal and the password it was opened with: a password
    reissued in between voids it."""
    form = TerminalConfirmForm(request.POST)
    if not form.is_valid():
        return redirect("payments:store_setup")
    try:
        pk, issued = signing.loads(
            form.cleaned_data["token"], salt=SETUP_SALT, max_age=SETUP_MAX_AGE
        )
    except (signing.BadSignature, TypeError, ValueError):  # forged, stale, or of the old form
        return redirect("payments:store_setup")
    terminal = Terminal.store_apps_in_use().select_related("store__company").filter(pk=pk).first()
    if terminal is None or _password_issue(terminal) != issued:
        return redirect("payments:store_setup")
    token = services.terminal_pair(
        terminal=terminal,
        client_address=client_address(request),
        label=device_label(request),
        previous_token=device_token(request),
    )
    # A device re-paired to another store must not keep the previous store's staff signed in.
    auth_logout(request)
    response = redirect("payments:store_login")
    remember_device(response, token)
    return response


@never_cache
def login(request):
    terminal = paired_terminal(request)
    if terminal is None:
        return redirect("payments:store_setup")
    next_url = safe_next_url(request, request.POST.get("next") or request.GET.get("next"), "")
    form = StaffSignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.store_staff_sign_in(
                terminal=terminal,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                client_address=client_address(request),
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            auth_login(request, user, backend=STORE_BACKEND)
            if user.must_change_password:
                return redirect("payments:store_password")
            return HttpResponseRedirect(next_url or reverse("payments:store_home"))
    return render(
        request, "payments/store/login.html", {"form": form, "terminal": terminal, "next": next_url}
    )


@never_cache
def password(request):
    """The first password is the login ID: it must be replaced before anything else."""
    terminal = paired_terminal(request)
    if terminal is None or not is_store_user_of(request.user, terminal):
        return redirect("payments:store_login")
    form = StorePasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.store_staff_password_change(
                user=request.user,
                terminal=terminal,
                current_password=form.cleaned_data["current_password"],
                password=form.cleaned_data["new_password1"],
                client_address=client_address(request),
            )
        except DomainError as error:
            form.add_error("current_password", str(error))
        else:
            update_session_auth_hash(request, request.user)
            return redirect("payments:store_home")
    return render(request, "payments/store/password.html", {"form": form, "terminal": terminal})


@require_POST
def logout(request):
    auth_logout(request)
    return redirect("payments:store_login")


@store_staff_required
def home(request):
    return render(request, "payments/store/home.html")


# --- QRコード決済 ----------------------------------------------------------------------------


@never_cache
@store_staff_required
def pay(request):
    """Key the amount; a valid amount shows it to the customer with the camera scanner."""
    form = AmountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        scan = ScanForm(initial=form.cleaned_data)
        return render(
            request,
            "payments/store/pay_scan.html",
            {"form": scan, "amount": form.cleaned_data["amount"]},
        )
    return render(request, "payments/store/pay_amount.html", {"form": form})


@store_staff_required
@require_POST
def pay_scan(request):
    form = ScanForm(request.POST)
    if not form.is_valid():
        if "amount" in form.errors or "key" in form.errors:
            return redirect("payments:store_pay_amount")
        return render(
            request,
            "payments/store/pay_scan.html",
            {"form": form, "amount": form.cleaned_data["amount"]},
            status=400,
        )
    if form.cleaned_data["code"].strip().startswith(CARD_TOKEN_PREFIX):
        return _card_scanned(request, form.cleaned_data)
    try:
        payment = services.payment_create_cpm(
            terminal=request.terminal,
            code=form.cleaned_data["code"],
            amount=form.cleaned_data["amount"],
            idempotency_key=str(form.cleaned_data["key"]),
            actor=request.user,
        )
    except DomainError as error:
        retry = ScanForm(initial={k: form.cleaned_data[k] for k in ("amount", "key")})
        return render(
            request,
            "payments/store/pay_scan.html",
            {"form": retry, "amount": form.cleaned_data["amount"], "error": str(error)},
            status=400,
        )
    return redirect("payments:store_done", number=payment.number)


def _card_refused(request, error: DomainError):
    """A card that cannot pay (unknown, locked, not enough balance): say why, start again."""
    request.session.pop(CARD_SESSION_KEY, None)
    return render(
        request, "payments/store/pay_card_refused.html", {"error": str(error)}, status=400
    )


def _card_scanned(request, scanned: dict):
    """A card, not a resident code: checked at once, then the resident types the PIN."""
    token = scanned["code"].strip()
    try:
        services.card_check(
            terminal=request.terminal, card_token=token, client_address=client_address(request)
        )
    except DomainError as error:
        return _card_refused(request, error)
    key = str(scanned["key"])
    request.session[CARD_SESSION_KEY] = {"key": key, "token": token, "amount": scanned["amount"]}
    return render(
        request,
        "payments/store/pay_pin.html",
        {"form": CardPinForm(initial={"key": key}), "amount": scanned["amount"]},
    )


@never_cache
@store_staff_required
@require_POST
def pay_pin(request):
    """お客様がPINを入力してください: the PIN for the card scanned, then the payment."""
    card = request.session.get(CARD_SESSION_KEY)
    form = CardPinForm(request.POST)
    if not card or form.data.get("key") != card["key"]:
        return redirect("payments:store_pay_amount")
    context = {"amount": card["amount"]}
    if form.is_valid():
        try:
            payment = services.payment_create_card(
                terminal=request.terminal,
                card_token=card["token"],
                pin=form.cleaned_data["pin"],
                amount=card["amount"],
                idempotency_key=card["key"],
                client_address=client_address(request),
                actor=request.user,
            )
        except PinWrong as error:
            context["error"] = str(error)
        except DomainError as error:
            return _card_refused(request, error)
        else:
            request.session.pop(CARD_SESSION_KEY, None)
            return redirect("payments:store_done", number=payment.number)
    context["form"] = form  # a password input: the typed PIN is not sent back
    return render(request, "payments/store/pay_pin.html", context, status=400)


def _store_payment(request, number) -> Payment:
    payment = (
        selectors.store_payments(store=request.store)
        .select_related("programme", "cancelled_by")
        .prefetch_related("splits__value_type")
        .filter(number=number)
        .first()
    )
    if payment is None:
        raise Http404
    return payment


@never_cache
@store_staff_required
def done(request, number):
    """Completion; for a card also what is left and a receipt to print (the resident has no phone)."""
    payment = _store_payment(request, number)
    context = {"payment": payment}
    if payment.mode == Payment.Mode.CARD:
        context["balances"] = selectors.wallet_balances_after(payment=payment)
        context["remaining"] = sum(amount for _name, amount in context["balances"])
        context["ticket_masked"] = masked(payment.wallet.ticket_number)
    return render(request, "payments/store/done.html", context)


# --- 取引履歴 --------------------------------------------------------------------------------


@store_staff_required
def history(request):
    """取引履歴: today, a day from the day links, or a search; bad input shows today and why."""
    form = StoreHistoryForm(request.GET)
    valid = form.is_valid()
    today = timezone.localdate()
    data = form.cleaned_data if valid else {"start": today, "end": today}
    since, until = day_range(data["start"], data["end"])
    payments = selectors.store_payments(
        store=request.store,
        since=since,
        until=until,
        number=data.get("number", ""),
        mode=data.get("mode", ""),
    )
    page = Paginator(payments, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    day = data["start"] if data["start"] == data["end"] else None
    return render(
        request,
        "payments/store/history.html",
        {
            "page": page,
            "day": day,
            "start": data["start"],
            "end": data["end"],
            "previous_day": day and day - timedelta(days=1),
            "next_day": day + timedelta(days=1) if day and day < today else None,
            "form": form,
            "query": query.urlencode(),
        },
        status=200 if valid else 400,
    )


@store_staff_required
def payment_detail(request, number):
    payment = _store_payment(request, number)
    return render(
        request,
        "payments/store/payment_detail.html",
        {"payment": payment, "can_cancel": payment.can_be_cancelled(timezone.now())},
    )


@never_cache
@store_staff_required
def payment_cancel(request, number):
    """「この取引を取り消す」: a confirmation step, then the ledger's reversing entry."""
    payment = _store_payment(request, number)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.payment_cancel(
                payment=payment, actor=request.user, memo=form.cleaned_data["memo"]
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            return redirect("payments:store_payment", number=payment.number)
    return render(
        request,
        "payments/store/payment_cancel.html",
        {"payment": payment, "form": form, "can_cancel": payment.can_be_cancelled(timezone.now())},
    )


# --- 入金 feed ------------------------------------------------------------------------------


@store_staff_required
def feed(request):
    return render(request, "payments/store/feed.html")


@never_cache
@store_staff_required
def feed_json(request):
    """Polled every two seconds by the counter's feed page."""
    return JsonResponse(
        {
            "payments": [
                {
                    "number": p.number,
                    "amount": p.amount,
                    "amount_display": yen(p.amount),
                    "time": date_format(timezone.localtime(p.created_at), "H:i:s"),
                    "mode": p.get_mode_display(),
                    "cancelled": p.is_cancelled,
                    "url": reverse("payments:store_payment", args=[p.number]),
                }
                for p in selectors.store_feed(store=request.store)
            ]
        }
    )
