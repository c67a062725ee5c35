"""Reads for the resident pages, the store app and the POS API, each from its owner's scope."""

import time
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone

from merchants.models import Store, Terminal
from payments import sql
from payments.models import Payment
from wallets.models import Account, JournalEntry, Posting, Wallet

STORE_TOKEN_SALT = "payments.store-pay"


def store_pay_token(store: Store) -> str:
    """The QR sheet's URL carries the store's random token: nobody can walk through store
    numbers, a sheet printed again carries the same URL, and rotating SECRET_KEY changes
    nothing."""
    return store.sheet_token


def store_by_pay_token(token: str) -> Store | None:
    stores = Store.objects.select_related("programme").filter(is_active=True)
    if ":" not in token:
        return stores.filter(sheet_token=token[:32]).first()
    # Sheets printed before the tokens carried a signed store pk; they work until reprinted
    # (or until SECRET_KEY and its fallbacks no longer sign them).
    try:
        pk = signing.Signer(salt=STORE_TOKEN_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    return stores.filter(pk=pk).first()


def store_pay_url(store: Store) -> str:
    return settings.SITE_URL + reverse("payments:store_pay", args=[store_pay_token(store)])


@dataclass
class Balance:
    name: str
    amount: int
    expires_on: date
    small_local_only: bool


def wallet_balances(*, wallet: Wallet) -> list[Balance]:
    """One line per value type of the programme, zero when never granted."""
    amounts = dict(
        Account.objects.filter(wallet=wallet, kind=Account.Kind.WALLET).values_list(
            "value_type_id", "balance"
        )
    )
    return [
        Balance(vt.name, amounts.get(vt.pk, 0), vt.expires_on, vt.small_local_only)
        for vt in wallet.programme.value_types.all()
    ]


def wallet_total(*, wallet: Wallet) -> int:
    return (
        Account.objects.filter(wallet=wallet, kind=Account.Kind.WALLET).aggregate(t=Sum("balance"))[
            "t"
        ]
        or 0
    )


def wallet_balances_after(*, payment: Payment) -> list[tuple[str, int]]:
    """(value type name, yen) left in the payment's wallet just after it: the store prints this
    for a resident paying by card. Entries of one wallet are written under its lock, so their
    ids follow their order; a receipt printed again later shows the same figures."""
    rows = (
        Posting.objects.filter(
            account__wallet_id=payment.wallet_id,
            account__kind=Account.Kind.WALLET,
            entry_id__lte=payment.entry_id,
        )
        .values("account__value_type_id")
        .annotate(total=Sum("amount"))
    )
    amounts = {row["account__value_type_id"]: row["total"] for row in rows}
    return [(vt.name, amounts.get(vt.pk, 0)) for vt in payment.programme.value_types.all()]


def wallet_balance_after(*, payment: Payment) -> int:
    return sum(amount for _name, amount in wallet_balances_after(payment=payment))


def wallet_available_at(*, wallet: Wallet, store: Store) -> int:
    """What the store can take: value types it accepts that have not expired."""
    accounts = Account.objects.filter(
        wallet=wallet,
        kind=Account.Kind.WALLET,
        value_type__expires_on__gte=timezone.localdate(),
    )
    if not store.is_small_local:
        accounts = accounts.filter(value_type__small_local_only=False)
    return accounts.aggregate(t=Sum("balance"))["t"] or 0


def wallet_history(*, wallet: Wallet, limit: int = 100):
    """利用履歴: every journal entry touching the wallet, its signed amount as `delta`."""
    entry_ids = Posting.objects.filter(account__wallet=wallet).values("entry_id")
    return (
        JournalEntry.objects.filter(pk__in=entry_ids)
        .annotate(delta=Sum("postings__amount", filter=Q(postings__account__wallet=wallet)))
        .select_related("payment__store", "cancelled_payment__store")
        .order_by("-created_at", "-pk")[:limit]
    )


def wallet_payment(*, wallet: Wallet, number: str) -> Payment | None:
    return (
        Payment.objects.select_related("store", "programme")
        .filter(wallet=wallet, number=number)
        .first()
    )


def store_payments(*, store: Store, since=None, until=None, number: str = "", mode: str = ""):
    payments = Payment.objects.filter(store=store).select_related("terminal", "store")
    if number:
        payments = payments.filter(number=number)
    if mode:
        payments = payments.filter(mode=mode)
    if since is not None:
        payments = payments.filter(created_at__gte=since)
    if until is not None:
        payments = payments.filter(created_at__lt=until)
    return payments.order_by("-created_at", "-pk")


def store_feed(*, store: Store, limit: int = 30):
    """入金 feed: today's latest payments. The page dedupes by number, so a payment that
    commits out of id order still shows up."""
    return (
        Payment.objects.filter(store=store, created_at__date=timezone.localdate())
        .select_related("terminal")
        .order_by("-created_at", "-pk")[:limit]
    )


# A POS sends its one key all day; a key seen in the last few seconds is not looked up again.
API_KEY_CACHE_SECONDS = 5
API_KEY_CACHE_SIZE = 10_000
_api_key_rows: dict[str, tuple[float, tuple]] = {}
_TERMINAL_COLUMNS = [f.attname for f in Terminal._meta.concrete_fields]
_STORE_COLUMNS = [f.attname for f in Store._meta.concrete_fields]


def terminal_for_api_key(*, key_hash: str) -> Terminal | None:
    """The active terminal of an unrevoked POS key, with its store (active too).

    Every API call starts here, so the answer is kept in this process for API_KEY_CACHE_SECONDS.
    A cache per process is acceptable because revocation keeps a short, fixed bound: a key
    revoked, or its terminal or store deactivated, in any process or server stops working
    everywhere within those seconds (other changes to the terminal or store reach the API as
    late), and api_key_revoke forgets the key in its own process at once. Only keys that exist
    are kept, so made-up keys cannot fill the cache; rows rather than model instances, so that
    requests on other threads never share an object.
    """
    now = time.monotonic()
    cached = _api_key_rows.get(key_hash)
    if cached is not None and cached[0] > now:
        row = cached[1]
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql.TERMINAL_FOR_API_KEY, [key_hash])
            row = cursor.fetchone()
        if row is None:
            _api_key_rows.pop(key_hash, None)
            return None
        if len(_api_key_rows) >= API_KEY_CACHE_SIZE:
            _api_key_rows.clear()
        _api_key_rows[key_hash] = (now + API_KEY_CACHE_SECONDS, row)
    terminal = Terminal.from_db(connection.alias, _TERMINAL_COLUMNS, row[: len(_TERMINAL_COLUMNS)])
    terminal.store = Store.from_db(connection.alias, _STORE_COLUMNS, row[len(_TERMINAL_COLUMNS) :])
    return terminal


def api_key_forget(*, key_hash: str) -> None:
    """This process stops answering from its cache for the key (on revocation)."""
    _api_key_rows.pop(key_hash, None)


def terminal_payments_for_key(*, terminal: Terminal, key: str):
    """The POS payment (none or one) this terminal made under its Idempotency-Key."""
    return Payment.objects.filter(
        store_id=terminal.store_id,
        terminal=terminal,
        idempotency_key=Payment.terminal_key(Payment.Mode.POS, terminal, key),
    )
