"""POS integration API (/api/v1/, the store manual's 外部端末連携).

Each POS terminal has its own key (`Authorization: Bearer <key>`), created and revoked in the
admin. Token-authenticated, so these views alone are CSRF-exempt. Errors are
`{"error": {"code": ..., "message": ...}}` with the stable codes of the domain errors.
"""

import functools
import json
import re
from datetime import datetime, timedelta
from functools import wraps

from django.conf import settings
from django.core import signing
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db.models import Prefetch, Q
from django.http import JsonResponse
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from core.dates import day_range, end_of
from core.exceptions import DomainError
from core.http import client_address
from payments import selectors, services
from payments.exceptions import ApiKeyThrottled, ApiValidationError, MethodNotAllowed, NotFound
from payments.models import Payment, PaymentSplit
from payments.openapi import BOUND_FORM, KEY_PATTERN, PIN_PATTERN, openapi_document
from payments.validators import (
    MAX_KEY_LENGTH,
    MAX_LIST_DAYS,
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    validate_date_in_range,
)

# One query for the value-type breakdown, not one plus one per value type.
SPLITS = Prefetch("splits", queryset=PaymentSplit.objects.select_related("value_type"))
CURSOR_SALT = "payments.api-list-cursor"


def error(exc: DomainError) -> JsonResponse:
    return JsonResponse({"error": {"code": exc.code, "message": str(exc)}}, status=exc.status)


def payment_json(payment: Payment, splits: list[tuple[str, int]] | None = None) -> dict:
    """`splits` as (value type code, amount) when the caller has them, else the prefetch."""
    if splits is None:
        splits = [(s.value_type.code, s.amount) for s in payment.splits.all()]
    return {
        "number": payment.number,
        "status": payment.status,
        "mode": payment.mode,
        "amount": payment.amount,
        "created_at": timezone.localtime(payment.created_at).isoformat(),
        "store_code": payment.store.code,
        "terminal_id": payment.terminal.terminal_id if payment.terminal_id else None,
        "splits": [{"value_type": code, "amount": amount} for code, amount in splits],
        "cancelled_at": (
            timezone.localtime(payment.cancelled_at).isoformat() if payment.cancelled_at else None
        ),
        "cancel_deadline": timezone.localtime(payment.cancel_deadline()).isoformat(),
        "url": f"{_payments_path()}/{payment.number}",
    }


@functools.cache
def _payments_path_in_site() -> str:
    return reverse("payments:api_payments").removeprefix(get_script_prefix())


def _payments_path() -> str:
    """Where the payments are (`payments:api_payments`), resolved once, not per answer."""
    return get_script_prefix() + _payments_path_in_site()


def _detailed(payments):
    """What payment_json reads, in two queries whatever the number of rows."""
    return payments.select_related("store", "terminal", "programme").prefetch_related(SPLITS)


def _payments(terminal):
    return _detailed(Payment.objects.filter(store_id=terminal.store_id))


def api_view(*methods):
    """Bearer-key authentication, allowed methods, and domain errors as JSON."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = error(MethodNotAllowed())
                response["Allow"] = ", ".join(methods)  # RFC 9110 15.5.6
                return response
            scheme, _sep, raw_key = request.headers.get("Authorization", "").partition(" ")
            try:
                request.terminal = services.api_key_authenticate(
                    raw_key=raw_key.strip() if scheme.lower() == "bearer" else "",
                    client_address=client_address(request),
                )
            except ApiKeyThrottled as exc:
                response = error(exc)
                # At most this long: the window began with the address's first counted failure.
                response["Retry-After"] = str(int(services.ATTEMPT_WINDOW.total_seconds()))
                return response
            except DomainError as exc:
                return error(exc)
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return error(exc)

        return wrapper

    return decorate


def _json_body(request) -> dict:
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiValidationError(
            _("The request body must be at most %(size)d bytes.")
            % {"size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
        ) from None
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nested too deep to decode
        body = None
    if not isinstance(body, dict):
        raise ApiValidationError(_("The request body must be a JSON object."))
    return body


@api_view("GET", "POST")
def payments(request):
    if request.method == "POST":
        return _create(request)
    return _list(request)


def _is_key(key: str) -> bool:
    """1-100 characters in the document's pattern (no NUL, no space at either end)."""
    return len(key) <= MAX_KEY_LENGTH and re.fullmatch(KEY_PATTERN, key) is not None


def _create(request):
    key = request.headers.get("Idempotency-Key", "")
    if not _is_key(key):
        raise ApiValidationError(_("An Idempotency-Key header (1-100 characters) is required."))
    body = _json_body(request)
    code, card_token, pin, amount = (body.get(k) for k in ("code", "card_token", "pin", "amount"))
    if isinstance(amount, float) and amount.is_integer():
        amount = int(amount)  # 100.0 is an integer to JSON Schema, so to the document
    card = card_token is not None or pin is not None
    if card and code is not None:
        raise ApiValidationError(_("Send either code, or card_token and pin; not both."))
    if card:
        if not isinstance(card_token, str) or not card_token:
            raise ApiValidationError(_("card_token must be the text read from the card's QR code."))
        if not isinstance(pin, str) or not re.fullmatch(PIN_PATTERN, pin):
            raise ApiValidationError(_("pin must be the 4 to 8 digits the customer typed."))
    elif not isinstance(code, str) or not code:
        raise ApiValidationError(_("code must be the text read from the resident's QR code."))
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ApiValidationError(_("amount must be a whole number of yen greater than zero."))
    if not card:
        payment = services.payment_create_cpm(
            terminal=request.terminal,
            code=code,
            amount=amount,
            idempotency_key=key,
            mode=Payment.Mode.POS,
        )
        return JsonResponse(payment_json(payment, payment.drawn), status=201)
    payment = services.payment_create_card(
        terminal=request.terminal,
        card_token=card_token,
        pin=pin,
        amount=amount,
        idempotency_key=key,
        client_address=client_address(request),
        channel=Payment.Mode.POS,
    )
    # The resident has no phone to look at: the POS prints what is left on its receipt.
    answer = payment_json(payment, payment.drawn)
    answer["remaining_balance"] = selectors.wallet_balance_after(payment=payment)
    return JsonResponse(answer, status=201)


def _bound(value: str | None, *, end: bool):
    """A date (the whole day, Tokyo time) or an ISO date-time, in the years searches allow;
    None when not given (an empty value is refused, as the document's pattern says). An end is
    inclusive as written: to=…T23:59 takes in the whole minute, as the merchant admin does."""
    if value is None:
        return None
    if not re.fullmatch(BOUND_FORM, value):
        raise ApiValidationError(_("from and to must be dates (YYYY-MM-DD) or ISO date-times."))
    try:
        day, moment = parse_date(value), parse_datetime(value)
    except ValueError:  # well-formed but impossible, e.g. 2026-02-30
        day = moment = None
    if not (day or moment):
        raise ApiValidationError(_("from and to must be dates (YYYY-MM-DD) or ISO date-times."))
    try:
        validate_date_in_range(day or moment)
    except ValidationError as exc:
        raise ApiValidationError(exc.messages[0]) from None
    if day:
        return day_range(day)[1 if end else 0]
    moment = moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    return end_of(moment, value) if end else moment


def _page_size(value: str | None) -> int:
    if value is None:
        return PAGE_SIZE
    if not re.fullmatch(r"[0-9]{1,4}", value) or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise ApiValidationError(
            _("limit must be a whole number from 1 to %(max)d.") % {"max": MAX_PAGE_SIZE}
        )
    return int(value)


def _cursor(payment: Payment) -> str:
    """Where the next page starts: after this payment in (created_at, id) order, signed so
    that only a value this API gave out is accepted."""
    return signing.Signer(salt=CURSOR_SALT).sign_object(
        [payment.created_at.isoformat(), payment.pk]
    )


def _after_cursor(value: str) -> Q:
    try:
        created_at, pk = signing.Signer(salt=CURSOR_SALT).unsign_object(value)
    except signing.BadSignature:
        raise ApiValidationError(
            _("cursor must be copied from the next link of a previous answer.")
        ) from None
    created_at = datetime.fromisoformat(created_at)
    return Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk)


def _list(request):
    today = timezone.localdate()
    # Every parameter's form is checked, also beside idempotency_key, which then ignores them.
    since = _bound(request.GET.get("from"), end=False) or day_range(today)[0]
    until = _bound(request.GET.get("to"), end=True) or day_range(today)[1]
    size = _page_size(request.GET.get("limit"))
    if "idempotency_key" in request.GET:
        return _recover(request, request.GET["idempotency_key"])
    if until <= since or until - since > timedelta(days=MAX_LIST_DAYS):
        raise ApiValidationError(
            _("The range must be positive and at most %(days)d days.") % {"days": MAX_LIST_DAYS}
        )
    rows = _payments(request.terminal).filter(created_at__gte=since, created_at__lt=until)
    if cursor := request.GET.get("cursor"):
        rows = rows.filter(_after_cursor(cursor))
    rows = list(rows.order_by("-created_at", "-pk")[: size + 1])
    next_url = None
    if len(rows) > size:
        rows = rows[:size]
        query = request.GET.copy()
        # Today written out, so that a walk across midnight stays on the day it began.
        query.setdefault("from", today.isoformat())
        query.setdefault("to", today.isoformat())
        query["cursor"] = _cursor(rows[-1])
        next_url = f"{_payments_path()}?{query.urlencode()}"
    return JsonResponse({"payments": [payment_json(p) for p in rows], "next": next_url})


def _recover(request, key: str):
    """For a POS that lost the answer to a POST: the payment made under its key, if any."""
    if not _is_key(key):
        raise ApiValidationError(_("idempotency_key must be 1-100 characters."))
    rows = _detailed(selectors.terminal_payments_for_key(terminal=request.terminal, key=key))
    return JsonResponse({"payments": [payment_json(p) for p in rows], "next": None})


def _get(request, number) -> Payment:
    payment = _payments(request.terminal).filter(number=number).first()
    if payment is None:
        raise NotFound()
    return payment


@api_view("GET")
def payment(request, number):
    return JsonResponse(payment_json(_get(request, number)))


@api_view("POST")
def payment_cancel(request, number):
    payment = _get(request, number)
    services.payment_cancel(
        payment=payment,
        memo=_("Cancelled by POS terminal %(id)s") % {"id": request.terminal.terminal_id},
    )
    return JsonResponse(payment_json(_get(request, number)))


@csrf_exempt
def not_found(request):
    return error(NotFound(_("There is nothing at this address of the API.")))


def openapi(request):
    return JsonResponse(openapi_document(), json_dumps_params={"ensure_ascii": False})
