"""Resident pages (phone browser) and the store QR sheet download."""

import base64

import qrcode
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from qrcode.image.svg import SvgPathImage

from core.exceptions import DomainError
from core.http import client_address, safe_next_url
from payments import selectors, services
from payments.access import resident_login, resident_logout, resident_required
from payments.forms import AmountForm, ConfirmForm, PasscodeForm, SignInForm
from payments.models import CpmCode
from payments.validators import is_cpm_nonce

# --- Sign-in -------------------------------------------------------------------------------


@never_cache
def login(request):
    """Ticket number + PIN; the mailed notice's QR opens this page with ?ticket= filled in."""
    next_url = safe_next_url(request, request.POST.get("next") or request.GET.get("next"), "")
    if request.method == "POST":
        form = SignInForm(request.POST)
        if form.is_valid():
            try:
                wallet = services.resident_sign_in(
                    ticket_number=form.cleaned_data["ticket"],
                    pin=form.cleaned_data["pin"],
                    client_address=client_address(request),
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                resident_login(request, wallet)
                return HttpResponseRedirect(next_url or reverse("payments:home"))
    else:
        form = SignInForm(initial={"ticket": request.GET.get("ticket", "")[:20]})
    return render(request, "payments/login.html", {"form": form, "next": next_url})


@require_POST
def logout(request):
    resident_logout(request)
    return redirect("payments:login")


# --- Home and history ----------------------------------------------------------------------


@resident_required
def home(request):
    wallet = request.wallet
    return render(
        request,
        "payments/home.html",
        {
            "balances": selectors.wallet_balances(wallet=wallet),
            "total": selectors.wallet_total(wallet=wallet),
            "history": selectors.wallet_history(wallet=wallet, limit=5),
        },
    )


@resident_required
def history(request):
    return render(
        request,
        "payments/history.html",
        {"history": selectors.wallet_history(wallet=request.wallet)},
    )


# --- MPM: the store's QR sheet or passcode -------------------------------------------------


@resident_required
def pay_start(request):
    return render(request, "payments/pay_start.html", {"passcode_form": PasscodeForm()})


@resident_required
@require_POST
def pay_passcode(request):
    form = PasscodeForm(request.POST)
    if form.is_valid():
        try:
            store = services.store_find_by_passcode(
                wallet=request.wallet,
                passcode=form.cleaned_data["passcode"],
                client_address=client_address(request),
            )
        except DomainError as error:
            form.add_error("passcode", str(error))
        else:
            return redirect("payments:store_pay", token=selectors.store_pay_token(store))
    return render(
        request, "payments/pay_start.html", {"passcode_form": form, "show_passcode": True}
    )


def _store_for(request, token):
    store = selectors.store_by_pay_token(token)
    if store is None:
        raise Http404
    return store


def _render_amount(request, store, token, form, status=200, error=None):
    context = {"store": store, "token": token, "form": form, "error": error}
    return render(request, "payments/pay_amount.html", context, status=status)


@never_cache
@resident_required
def store_pay(request, token):
    """Store name → amount; a valid amount renders the confirmation with the same key."""
    store = _store_for(request, token)
    if store.programme_id != request.wallet.programme_id:
        return render(request, "payments/pay_wrong_store.html", {"store": store}, status=400)
    available = selectors.wallet_available_at(wallet=request.wallet, store=store)
    if request.method != "POST":
        return _render_amount(request, store, token, AmountForm(available=available))
    form = AmountForm(request.POST, available=available)
    if not form.is_valid():
        return _render_amount(request, store, token, form)
    confirm = ConfirmForm(initial=form.cleaned_data)
    return render(
        request,
        "payments/pay_confirm.html",
        {"store": store, "token": token, "amount": form.cleaned_data["amount"], "form": confirm},
    )


@resident_required
@require_POST
def store_pay_confirm(request, token):
    store = _store_for(request, token)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        return redirect("payments:store_pay", token=token)
    try:
        payment = services.payment_create_mpm(
            wallet=request.wallet,
            store=store,
            amount=form.cleaned_data["amount"],
            idempotency_key=str(form.cleaned_data["key"]),
        )
    except DomainError as error:
        amount_form = AmountForm(initial={"amount": form.cleaned_data["amount"]})
        return _render_amount(request, store, token, amount_form, status=400, error=str(error))
    return redirect("payments:done", number=payment.number)


@never_cache
@resident_required
def done(request, number):
    payment = selectors.wallet_payment(wallet=request.wallet, number=number)
    if payment is None:
        raise Http404
    return render(
        request,
        "payments/done.html",
        {"payment": payment, "remaining": selectors.wallet_total(wallet=request.wallet)},
    )


# --- CPM: the resident's QR ----------------------------------------------------------------


def _code_payload(wallet) -> dict:
    code, text = services.cpm_code_issue(wallet=wallet)
    svg = qrcode.make(text, image_factory=SvgPathImage, box_size=10, border=4).to_string()
    return {
        "code": text,
        "nonce": code.nonce,
        "qr": "data:image/svg+xml;base64," + base64.b64encode(svg).decode(),
        "expires_at": code.expires_at.isoformat(),
        "lifetime": int(services.CPM_CODE_LIFETIME.total_seconds()),
    }


@never_cache
@resident_required
def code(request):
    return render(request, "payments/code.html", {"code": _code_payload(request.wallet)})


@never_cache
@resident_required
@require_POST
def code_new(request):
    return JsonResponse(_code_payload(request.wallet))


@never_cache
@resident_required
@require_GET
def code_status(request):
    """Polled by the code page: has one of the codes it showed been used?"""
    nonces = request.GET.getlist("n")[:5]
    if not all(is_cpm_nonce(n) for n in nonces):
        return JsonResponse({"paid_url": None}, status=400)
    used = (
        CpmCode.objects.filter(wallet=request.wallet, nonce__in=nonces, payment__isnull=False)
        .select_related("payment")
        .first()
    )
    url = reverse("payments:done", args=[used.payment.number]) if used else None
    return JsonResponse({"paid_url": url})


# --- QR sheet for the merchant side --------------------------------------------------------
