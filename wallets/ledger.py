"""The one door for money. Every movement of value is a balanced journal entry posted here.

Rules every function keeps (PostgreSQL enforces the ledger's own ones again, see migration 0002):
- one database transaction per call;
- the wallet row is locked first, then accounts in primary-key order, so that payments,
  cancellations and adjustments that cross never deadlock;
- a repeated call with the same idempotency key returns the first result;
- failures are DomainErrors with a stable code and a translated message.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from payments.models import Payment
from wallets.exceptions import (
    AlreadyCancelled,
    ExpiryTooEarly,
    IdempotencyConflict,
    InsufficientBalance,
    OutsideCancelWindow,
    ProgrammeNotActive,
    StoreNotEligible,
    ValidationFailed,
)
from wallets.models import Account, JournalEntry, Posting, Programme, ValueType, Wallet

Kind = JournalEntry.Kind


def _check_amount(amount: Any) -> int:
    # bool is an int in Python; a True yen is still a bug.
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed()
    return amount


def account_for(
    programme: Programme, kind: str, *, wallet=None, value_type=None, company=None, company_id=None
) -> Account:
    """The account of that owner, created on first use (the unique constraint settles races)."""
    account, _created = Account.objects.get_or_create(
        programme=programme,
        kind=kind,
        wallet=wallet,
        value_type=value_type,
        company_id=company.pk if company is not None else company_id,
    )
    return account


def _entry_create(
    *,
    programme: Programme,
    kind: str,
    actor=None,
    memo: str = "",
    idempotency_key: str | None = None,
    reverses: JournalEntry | None = None,
    created_at=None,
) -> JournalEntry:
    return JournalEntry.objects.create(
        programme=programme,
        kind=kind,
        created_by=actor if getattr(actor, "pk", None) else None,
        memo=memo[:200],
        idempotency_key=idempotency_key,
        reverses=reverses,
        created_at=created_at or timezone.now(),
    )


def _postings_create(entry: JournalEntry, lines: list[tuple[Account, int]]) -> None:
    """Lines on the same account are merged; postings go in account order (the lock order)."""
    amounts: dict[int, int] = {}
    for account, amount in lines:
        amounts[account.pk] = amounts.get(account.pk, 0) + amount
    if sum(amounts.values()) != 0:
        raise ValueError(f"unbalanced entry: {lines!r}")
    Posting.objects.bulk_create(
        Posting(entry=entry, account_id=pk, amount=amount)
        for pk, amount in sorted(amounts.items())
        if amount
    )


def _post(*, lines: list[tuple[Account, int]], **entry_fields) -> JournalEntry:
    entry = _entry_create(**entry_fields)
    _postings_create(entry, lines)
    return entry


def _lock_wallet(wallet: Wallet) -> Wallet:
    # of=("self",): a plain FOR UPDATE would also lock the joined programme row for every payer.
    return (
        Wallet.objects.select_for_update(of=("self",)).select_related("programme").get(pk=wallet.pk)
    )


def _existing_entry(idempotency_key: str | None) -> JournalEntry | None:
    if idempotency_key is None:
        return None
    return JournalEntry.objects.filter(idempotency_key=idempotency_key).first()


def _replay(idempotency_key: str | None, **request) -> JournalEntry | None:
    """The entry already made under this key, if it was this same request; else a conflict.

    A grant or adjustment is the same request when kind, wallet, value type and amount match.
    """
    entry = _existing_entry(idempotency_key)
    if entry is None:
        return None
    same = entry.kind == request["kind"] and (
        entry.postings.filter(
            account__wallet_id=request["wallet"].pk,
            account__value_type_id=request["value_type"].pk,
            amount=request["amount"],
        ).exists()
    )
    if not same:
        raise IdempotencyConflict()
    return entry


def grant(
    *,
    wallet: Wallet,
    value_type: ValueType,
    amount: int,
    actor=None,
    memo: str = "",
    idempotency_key: str | None = None,
) -> JournalEntry:
    """付与: the programme issues value into a wallet."""
    amount = _check_amount(amount)
    if value_type.programme_id != wallet.programme_id:
        raise ValidationFailed(message=_("This value type belongs to another programme."))
    request = dict(kind=Kind.GRANT, wallet=wallet, value_type=value_type, amount=amount)
    try:
        with transaction.atomic():
            wallet = _lock_wallet(wallet)
            if existing := _replay(idempotency_key, **request):
                return existing
            programme = wallet.programme
            return _post(
                programme=programme,
                kind=Kind.GRANT,
                lines=[
                    (account_for(programme, Account.Kind.ISSUANCE), -amount),
                    (
                        account_for(
                            programme, Account.Kind.WALLET, wallet=wallet, value_type=value_type
                        ),
                        amount,
                    ),
                ],
                actor=actor,
                memo=memo,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # The same key raced in for another wallet: the unique key made us wait for it.
        if existing := _replay(idempotency_key, **request):
            return existing
        raise


def _split(accounts: list[Account], store, amount: int, today) -> list[tuple[Account, int]]:
    """Draw from the value types the store accepts: most restricted first, then soonest expiring.

    Not enough of what this store takes is `InsufficientBalance` with what it takes; only a
    wallet whose every unexpired yen is of types this store never takes is `StoreNotEligible`.
    """
    live = [a for a in accounts if a.value_type.expires_on >= today]
    usable = [a for a in live if a.value_type.accepted_at(store)]
    available = sum(a.balance for a in usable)
    if available < amount:
        if not usable and any(a.balance > 0 for a in live):
            raise StoreNotEligible()
        raise InsufficientBalance(available=intcomma(available))
    usable.sort(key=lambda a: (not a.value_type.small_local_only, a.value_type.expires_on, a.pk))
    parts, remaining = [], amount
    for account in usable:
        take = min(account.balance, remaining)
        if take:
            parts.append((account, take))
        remaining -= take
        if not remaining:
            break
    return parts


def _same_request(payment: Payment, *, wallet, store, terminal, amount, mode) -> Payment:
    """A retry is the same wallet, store, terminal, amount and mode; anything else a conflict."""
    asked = (wallet.pk, store.pk, getattr(terminal, "pk", None), amount, mode)
    made = (payment.wallet_id, payment.store_id, payment.terminal_id, payment.amount, payment.mode)
    if asked != made:
        raise IdempotencyConflict()
    return payment


def payment_for_key(idempotency_key: str) -> Payment | None:
    """The payment made under this key, if any: one cheap probe, the full row only on a retry."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM payments_payment WHERE idempotency_key = %s", [idempotency_key]
        )
        row = cursor.fetchone()
    return Payment.objects.select_related("programme").get(pk=row[0]) if row else None


# Every payment holds this advisory lock (shared, per programme) from before it takes its time
# stamp until it commits; closing a period takes it exclusively for a moment, so the close waits
# for payments in flight and every later payment is stamped after the close began
# (docs/settlement.md, "Which period a payment belongs to").
PAYMENTS_IN_FLIGHT_LOCK = 0x70617973  # "pays"


def _payment_begin(programme_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock_shared(%s, %s)", [PAYMENTS_IN_FLIGHT_LOCK, programme_id]
        )


def payments_in_flight_wait(*, programme_id: int) -> None:
    """Return once every payment of the programme that has begun has committed or rolled back.

    Call it outside a transaction: the exclusive lock is held only for its own short one, so
    payments queue behind it for milliseconds, not for a whole settlement run.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [PAYMENTS_IN_FLIGHT_LOCK, programme_id]
        )


def _lock_wallet_for_payment(wallet: Wallet) -> Programme:
    """`_lock_wallet` in one plain statement: the wallet row locked, its programme read."""
    fields = Programme._meta.concrete_fields
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(f'p.{f.column}' for f in fields)}"
            " FROM wallets_wallet w JOIN wallets_programme p ON p.id = w.programme_id"
            " WHERE w.id = %s FOR UPDATE OF w",
            [wallet.pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise Wallet.DoesNotExist()
    return Programme.from_db(connection.alias, [f.attname for f in fields], row)


def _wallet_pots(wallet: Wallet) -> list[Account]:
    """The wallet's value accounts, locked in pk order, each with what `_split` reads."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, a.balance, v.id, v.small_local_only, v.expires_on
            FROM wallets_account a JOIN wallets_valuetype v ON v.id = a.value_type_id
            WHERE a.wallet_id = %s AND a.kind = 'wallet'
            ORDER BY a.id
            FOR UPDATE OF a
            """,
            [wallet.pk],
        )
        return [
            Account(
                pk=pk,
                balance=balance,
                value_type=ValueType(pk=vt, small_local_only=small_local_only, expires_on=expires),
            )
            for pk, balance, vt, small_local_only, expires in cursor.fetchall()
        ]


def _payable_account_id(programme: Programme, company_id: int) -> int:
    """The company's payable account, created on first use without locking it."""
    find = (
        "SELECT id FROM wallets_account WHERE programme_id = %s AND kind = 'merchant_payable'"
        " AND company_id = %s AND wallet_id IS NULL AND value_type_id IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(find, [programme.pk, company_id])
        row = cursor.fetchone()
        if row is None:
            # A concurrent first payment may insert it too: the unique constraint settles it, and
            # the second SELECT (a new statement) sees the winner's committed row.
            cursor.execute(
                "INSERT INTO wallets_account (programme_id, kind, company_id, balance)"
                " VALUES (%s, 'merchant_payable', %s, 0) ON CONFLICT DO NOTHING",
                [programme.pk, company_id],
            )
            cursor.execute(find, [programme.pk, company_id])
            row = cursor.fetchone()
    return row[0]


# One statement writes the whole payment. Data-modifying CTEs all run; the posting trigger that
# moves balances is an AFTER trigger, so it fires once every row is written, in posting order.
PAYMENT_INSERT = """
WITH entry AS (
    INSERT INTO wallets_journalentry (programme_id, kind, created_by_id, memo, created_at)
    VALUES (%(programme)s, 'payment', %(actor)s, '', %(now)s)
    RETURNING id
), payment AS (
    INSERT INTO payments_payment (
        number, programme_id, wallet_id, company_id, store_id, terminal_id, amount, mode, status,
        created_at, entry_id, idempotency_key, cancel_memo)
    SELECT %(number)s, %(programme)s, %(wallet)s, %(company)s, %(store)s, %(terminal)s,
        %(amount)s, %(mode)s, %(status)s, %(now)s, entry.id, %(key)s, ''
    FROM entry
    RETURNING id
), splits AS (
    INSERT INTO payments_paymentsplit (payment_id, value_type_id, amount)
    SELECT payment.id, s.value_type_id, s.amount
    FROM payment, unnest(%(split_types)s::bigint[], %(split_amounts)s::bigint[])
        AS s(value_type_id, amount)
), postings AS (
    INSERT INTO wallets_posting (entry_id, account_id, amount)
    SELECT entry.id, p.account_id, p.amount
    FROM entry, unnest(%(accounts)s::bigint[], %(amounts)s::bigint[]) WITH ORDINALITY
        AS p(account_id, amount, n)
    ORDER BY p.n
)
SELECT payment.id, entry.id FROM payment, entry
"""


def pay(
    *,
    wallet: Wallet,
    store,
    amount: int,
    idempotency_key: str,
    mode: str,
    terminal=None,
    actor=None,
    now=None,
) -> Payment:
    """決済: move value from the wallet to the store's company; one payment per idempotency key.

    The hot path of every payment, so its statements are SQL written by hand: a handful of
    round trips and no query compilation. Only `wallet.pk` is read from the wallet given.
    """
    amount = _check_amount(amount)
    request = dict(wallet=wallet, store=store, terminal=terminal, amount=amount, mode=mode)
    try:
        with transaction.atomic():
            # Before any row lock (no lock cycle with a waiting close) and before the time stamp.
            _payment_begin(store.programme_id)
            programme = _lock_wallet_for_payment(wallet)
            # Retries of the same wallet queue on the wallet lock, so this read sees the first.
            if existing := payment_for_key(idempotency_key):
                return _same_request(existing, **request)
            now = now or timezone.now()
            if store.programme_id != programme.pk or not store.is_active:
                raise StoreNotEligible()
            if not programme.is_active_on(timezone.localdate(now)):
                raise ProgrammeNotActive()
            parts = _split(_wallet_pots(wallet), store, amount, timezone.localdate(now))
            payable_id = _payable_account_id(programme, store.company_id)
            payment = Payment(
                programme=programme,
                wallet_id=wallet.pk,
                company_id=store.company_id,
                store=store,
                terminal=terminal,
                amount=amount,
                mode=mode,
                created_at=now,
                idempotency_key=idempotency_key,
            )
            # Postings in account order (the lock order); the payable row, shared by all the
            # company's customers, stays locked only from here to commit.
            lines = sorted([(a.pk, -take) for a, take in parts] + [(payable_id, amount)])
            with connection.cursor() as cursor:
                cursor.execute(
                    PAYMENT_INSERT,
                    {
                        "programme": programme.pk,
                        "actor": actor.pk if getattr(actor, "pk", None) else None,
                        "now": now,
                        "number": payment.number,
                        "wallet": wallet.pk,
                        "company": store.company_id,
                        "store": store.pk,
                        "terminal": terminal.pk if terminal is not None else None,
                        "amount": amount,
                        "mode": mode,
                        "status": payment.status,
                        "key": idempotency_key,
                        "split_types": [a.value_type.pk for a, _take in parts],
                        "split_amounts": [take for _a, take in parts],
                        "accounts": [pk for pk, _amount in lines],
                        "amounts": [line_amount for _pk, line_amount in lines],
                    },
                )
                payment.pk, payment.entry_id = cursor.fetchone()
            payment._state.adding = False
            payment._state.db = connection.alias
            return payment
    except IntegrityError:
        # The same key raced in from another wallet's request: answer as a retry would.
        existing = payment_for_key(idempotency_key)
        if existing is None:
            raise
        return _same_request(existing, **request)


def cancel(
    *, payment: Payment, actor=None, memo: str = "", enforce_window: bool = True, now=None
) -> Payment:
    """決済取消: a reversing entry, never a delete. City staff may pass enforce_window=False."""
    with transaction.atomic():
        _lock_wallet(payment.wallet)
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("programme", "entry")
            .get(pk=payment.pk)
        )
        if payment.is_cancelled:
            raise AlreadyCancelled()
        now = now or timezone.now()
        if enforce_window and now > payment.cancel_deadline():
            raise OutsideCancelWindow()
        lines = [(p.account, -p.amount) for p in payment.entry.postings.select_related("account")]
        payment.cancel_entry = _post(
            programme=payment.programme,
            kind=Kind.PAYMENT_CANCEL,
            lines=lines,
            actor=actor,
            memo=memo,
            reverses=payment.entry,
            created_at=now,
        )
        payment.status = Payment.Status.CANCELLED
        payment.cancelled_at = now
        payment.cancelled_by = actor if getattr(actor, "pk", None) else None
        payment.cancel_memo = memo[:200]
        payment.save(
            update_fields=["status", "cancelled_at", "cancelled_by", "cancel_memo", "cancel_entry"]
        )
        audit_log(
            action="payments.payment.cancelled",
            actor=actor,
            obj=payment,
            company=payment.company,
            number=payment.number,
            amount=payment.amount,
            memo=memo,
            late=not enforce_window and now > payment.cancel_deadline(),
        )
        return payment


def adjust(
    *,
    wallet: Wallet,
    value_type: ValueType,
    amount: int,
    actor=None,
    reason: str,
    idempotency_key: str | None = None,
) -> JournalEntry:
    """残高調整: a signed correction by city staff, with its reason."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise ValidationFailed(message=_("An adjustment must be a non-zero whole number of yen."))
    if value_type.programme_id != wallet.programme_id:
        raise ValidationFailed(message=_("This value type belongs to another programme."))
    request = dict(kind=Kind.ADJUSTMENT, wallet=wallet, value_type=value_type, amount=amount)
    try:
        with transaction.atomic():
            wallet = _lock_wallet(wallet)
            if existing := _replay(idempotency_key, **request):
                return existing
            programme = wallet.programme
            account = account_for(
                programme, Account.Kind.WALLET, wallet=wallet, value_type=value_type
            )
            account = Account.objects.select_for_update().get(pk=account.pk)
            if account.balance + amount < 0:
                raise InsufficientBalance(available=intcomma(account.balance))
            return _post(
                programme=programme,
                kind=Kind.ADJUSTMENT,
                lines=[
                    (account, amount),
                    (account_for(programme, Account.Kind.ADJUSTMENT), -amount),
                ],
                actor=actor,
                memo=reason,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        if existing := _replay(idempotency_key, **request):
            return existing
        raise


@dataclass
class ExpiryReport:
    wallets: int = 0
    total: int = 0


def expire(*, programme: Programme, actor=None, today=None) -> ExpiryReport:
    """失効: move every balance of value types past their expiry date into the expiry account.

    Idempotent by state: a second run finds nothing left. One transaction per wallet keeps
    locks short while residents may still be paying with other value types.
    """
    today = today or timezone.localdate()
    expired_types = list(programme.value_types.filter(expires_on__lt=today))
    if not expired_types:
        raise ExpiryTooEarly()
    report = ExpiryReport()
    wallet_ids = (
        Account.objects.filter(
            kind=Account.Kind.WALLET, value_type__in=expired_types, balance__gt=0
        )
        .values_list("wallet_id", flat=True)
        .distinct()
        .order_by("wallet_id")
    )
    expired_account = account_for(programme, Account.Kind.EXPIRED)
    for wallet_id in wallet_ids.iterator():
        with transaction.atomic():
            wallet = Wallet.objects.select_for_update().get(pk=wallet_id)
            accounts = list(
                Account.objects.select_for_update()
                .filter(wallet=wallet, value_type__in=expired_types, balance__gt=0)
                .order_by("pk")
            )
            total = sum(a.balance for a in accounts)
            if not total:
                continue
            _post(
                programme=programme,
                kind=Kind.EXPIRY,
                lines=[(a, -a.balance) for a in accounts] + [(expired_account, total)],
                actor=actor,
                memo="expiry",
            )
            report.wallets += 1
            report.total += total
    audit_log(
        action="wallets.programme.expired",
        actor=actor,
        obj=programme,
        wallets=report.wallets,
        total=report.total,
    )
    return report


def transfer(
    *,
    programme: Programme,
    kind: str,
    lines: list[tuple[Account, int]],
    actor=None,
    memo: str = "",
    idempotency_key: str | None = None,
) -> JournalEntry:
    """Move value between the programme's own accounts (settlement, payouts); never wallets."""
    if any(account.kind == Account.Kind.WALLET for account, _amount in lines):
        raise ValueError("wallet balances move only through grant, pay, cancel, adjust, expire")
    with transaction.atomic():
        if existing := _existing_entry(idempotency_key):
            return existing
        locked = Account.objects.select_for_update().filter(pk__in=[a.pk for a, _amount in lines])
        list(locked.order_by("pk"))
        return _post(
            programme=programme,
            kind=kind,
            lines=lines,
            actor=actor,
            memo=memo,
            idempotency_key=idempotency_key,
        )
