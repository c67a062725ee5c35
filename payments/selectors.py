"""Reads for the resident pages, the store app and the POS API, each from its owner's scope."""

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


def terminal_for_api_key(*, key_hash: str) -> Terminal | None:
    """The active terminal of an unrevoked POS key, with its store. Every API call starts
    here, so one plain statement: no query compilation."""
    terminal_fields, store_fields = Terminal._meta.concrete_fields, Store._meta.concrete_fields
    with connection.cursor() as cursor:
        cursor.execute(sql.TERMINAL_FOR_API_KEY, [key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(terminal_fields)
    terminal = Terminal.from_db(connection.alias, [f.attname for f in terminal_fields], row[:n])
    terminal.store = Store.from_db(connection.alias, [f.attname for f in store_fields], row[n:])
    return terminal


def terminal_payments_for_key(*, terminal: Terminal, key: str):
    """The POS payment (none or one) this terminal made under its Idempotency-Key."""
    return Payment.objects.filter(
        store_id=terminal.store_id,
        terminal=terminal,
        idempotency_key=Payment.terminal_key(Payment.Mode.POS, terminal, key),
    )
