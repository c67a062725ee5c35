"""The one door for money: every movement of value is a balanced journal entry posted here.

Rules every function keeps (PostgreSQL enforces the ledger's own ones again, see migration 0002):
- one database transaction per call;
- the wallet row is locked first, then accounts in primary-key order, so that payments,
  cancellations and adjustments that cross never deadlock;
- a repeated call with the same idempotency key returns the first result, and the same key
  for a different request is an IdempotencyConflict;
- failures are DomainErrors with a stable code and a translated message.

A payment is written by the database function `payment_make` (payments migration 0006), which
keeps the same lock order and the same rules; its cancellation is an entry posted here.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from core.formatting import grouped
from wallets import sql
from wallets.exceptions import (
    ExpiryTooEarly,
    IdempotencyConflict,
    InsufficientBalance,
    ValidationFailed,
)
from wallets.models import Account, JournalEntry, Programme, ValueType, Wallet

Kind = JournalEntry.Kind


def check_amount(amount: Any) -> int:
    """A positive whole number of yen (bool is an int in Python; a True yen is still a bug)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed()
    return amount


def account_for(
    programme: Programme, kind: str, *, wallet=None, value_type=None, company=None, company_id=None
) -> Account:
    """The account of that owner, created on first use (the unique constraint settles races)."""
    params = {
        "programme": programme.pk,
        "kind": kind,
        "wallet": getattr(wallet, "pk", None),
        "value_type": getattr(value_type, "pk", None),
        "company": company.pk if company is not None else company_id,
    }
    with connection.cursor() as cursor:
        find = sql.account_find(params)
        cursor.execute(find, params)
        row = cursor.fetchone()
        if row is None:
            cursor.execute(sql.ACCOUNT_CREATE, params)
            cursor.execute(find, params)
            row = cursor.fetchone()
    return Account.from_db(connection.alias, sql.ACCOUNT_FIELDS, row)


def post(
    *,
    programme: Programme,
    kind: str,
    lines: list[tuple[Account | int, int]],
    actor=None,
    memo: str = "",
    idempotency_key: str | None = None,
    reverses: JournalEntry | None = None,
    created_at=None,
) -> JournalEntry:
    """Write one balanced entry: lines on the same account merge, postings go in account order."""
    entry = JournalEntry(
        programme=programme,
        kind=kind,
        created_by=actor if getattr(actor, "pk", None) else None,
        memo=memo[:200],
        idempotency_key=idempotency_key,
        reverses=reverses,
        created_at=created_at or timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql.POST, _entry_params(entry, lines))
        entry.pk = cursor.fetchone()[0]
    entry._state.adding, entry._state.db = False, connection.alias
    return entry


def _entry_params(entry: JournalEntry, lines: list[tuple[Account | int, int]]) -> dict:
    """The parameters of `sql.POST` for this (unsaved) entry and its lines."""
    amounts: dict[int, int] = {}
    for account, amount in lines:
        pk = getattr(account, "pk", account)
        amounts[pk] = amounts.get(pk, 0) + amount
    if sum(amounts.values()) != 0:
        raise ValueError(f"unbalanced entry: {lines!r}")
    merged = [(pk, amount) for pk, amount in sorted(amounts.items()) if amount]
    return {
        "programme": entry.programme_id,
        "kind": entry.kind,
        "actor": entry.created_by_id,
        "memo": entry.memo,
        "now": entry.created_at,
        "key": entry.idempotency_key,
        "reverses": entry.reverses_id,
        "accounts": [pk for pk, _amount in merged],
        "amounts": [amount for _pk, amount in merged],
    }


def lock_wallet(wallet: Wallet | int) -> Wallet:
    """The wallet row locked (FOR UPDATE of the wallet only), with its programme read."""
    with connection.cursor() as cursor:
        cursor.execute(sql.LOCK_WALLET, {"wallet": getattr(wallet, "pk", wallet)})
        row = cursor.fetchone()
    if row is None:
        raise Wallet.DoesNotExist()
    n = len(sql.WALLET_FIELDS)
    locked = Wallet.from_db(
        connection.alias, [f.attname for f in Wallet._meta.concrete_fields], row[:n]
    )
    locked.programme = Programme.from_db(
        connection.alias, [f.attname for f in Programme._meta.concrete_fields], row[n:]
    )
    return locked


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


def _write_once(idempotency_key: str | None, request: dict, write) -> JournalEntry:
    """`write(locked wallet)` once per key: a retry gets the first entry, another request a conflict.

    Two first requests under one key for different wallets lock different rows, so both pass the
    replay check; the unique key then makes the second wait for the first and fail, and it is
    answered as a retry would be.
    """
    try:
        with transaction.atomic():
            wallet = lock_wallet(request["wallet"])
            if existing := _replay(idempotency_key, **request):
                return existing
            return write(wallet)
    except IntegrityError:
        if existing := _replay(idempotency_key, **request):
            return existing
        raise


def grant_lines(programme: Programme, wallet_account, amount: int, paid: int) -> list:
    """A grant's postings: the wallet gets the value; what the resident paid (購入額) comes from
    the sales account, the rest (the premium, or all of a free grant) from issuance."""
    lines = [(wallet_account, amount)]
    if paid:
        lines.append((account_for(programme, Account.Kind.SALES), -paid))
    if amount - paid:
        lines.append((account_for(programme, Account.Kind.ISSUANCE), -(amount - paid)))
    return lines


def check_paid(paid: Any, amount: int) -> int:
    if not isinstance(paid, int) or isinstance(paid, bool) or not 0 <= paid <= amount:
        raise ValidationFailed(
            message=_(
                "The purchase price must be a whole number of yen from 0 to the value granted."
            )
        )
    return paid


def grant(
    *,
    wallet: Wallet,
    value_type: ValueType,
    amount: int,
    paid: int = 0,
    actor=None,
    memo: str = "",
    idempotency_key: str | None = None,
) -> JournalEntry:
    """付与: the programme issues value into a wallet, `paid` of it bought by the resident."""
    amount = check_amount(amount)
    paid = check_paid(paid, amount)
    if value_type.programme_id != wallet.programme_id:
        raise ValidationFailed(message=_("This value type belongs to another programme."))
    request = dict(kind=Kind.GRANT, wallet=wallet, value_type=value_type, amount=amount)

    def write(wallet: Wallet) -> JournalEntry:
        programme = wallet.programme
        account = account_for(programme, Account.Kind.WALLET, wallet=wallet, value_type=value_type)
        return post(
            programme=programme,
            kind=Kind.GRANT,
            lines=grant_lines(programme, account, amount, paid),
            actor=actor,
            memo=memo,
            idempotency_key=idempotency_key,
        )

    return _write_once(idempotency_key, request, write)


@dataclass(frozen=True)
class GrantLine:
    """One grant of `grant_many`; its key makes it happen once, however often it is sent."""

    wallet_id: int
    value_type_id: int
    amount: int
    idempotency_key: str
    paid: int = 0


@dataclass
class GrantManyResult:
    granted: int = 0
    total: int = 0
    # Keys already used: by this same grant (a re-run), or by a different one, which is not
    # granted ({key: the amount granted under it first}).
    replayed: list[str] = field(default_factory=list)
    conflicts: dict[str, int] = field(default_factory=dict)


def grant_many(
    *, programme: Programme, lines: list[GrantLine], actor=None, memo: str = ""
) -> GrantManyResult:
    """Many grants in a few statements (imports of tens of thousands of households).

    One journal entry per grant, as `grant` writes it, so each is replayed or refused by its own
    key; the wallets are locked first, in id order, as every other write locks them.
    """
    for line in lines:
        check_paid(line.paid, check_amount(line.amount))
    if len({line.idempotency_key for line in lines}) != len(lines):
        raise ValueError("grant_many: one key per line")
    vt_programmes = set(
        ValueType.objects.filter(pk__in={line.value_type_id for line in lines}).values_list(
            "programme_id", flat=True
        )
    )
    wallet_programmes = set(
        Wallet.objects.filter(pk__in={line.wallet_id for line in lines}).values_list(
            "programme_id", flat=True
        )
    )
    if (vt_programmes | wallet_programmes) - {programme.pk}:
        raise ValidationFailed(message=_("This value type belongs to another programme."))
    result = GrantManyResult()
    if not lines:
        return result
    params = {
        "programme": programme.pk,
        "actor": actor.pk if getattr(actor, "pk", None) else None,
        "memo": memo[:200],
        "now": timezone.now(),
        "keys": [line.idempotency_key for line in lines],
        "wallets": [line.wallet_id for line in lines],
        "value_types": [line.value_type_id for line in lines],
        "amounts": [line.amount for line in lines],
        "paids": [line.paid for line in lines],
        "issuance": account_for(programme, Account.Kind.ISSUANCE).pk,
        "sales": account_for(programme, Account.Kind.SALES).pk,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.LOCK_WALLETS, params)
        cursor.execute(sql.WALLET_ACCOUNTS_CREATE, params)
        cursor.execute(sql.GRANT_MANY, params)
        made = {key for (key,) in cursor.fetchall()}
        by_key = {line.idempotency_key: line for line in lines}
        for line in lines:
            if line.idempotency_key in made:
                result.granted += 1
                result.total += line.amount
        used = [key for key in by_key if key not in made]
        if used:
            cursor.execute(sql.GRANTS_UNDER_KEYS, {"keys": used})
            first = {key: (wallet, vt, amount) for key, wallet, vt, amount in cursor.fetchall()}
            for key in used:
                line = by_key[key]
                if first.get(key) == (line.wallet_id, line.value_type_id, line.amount):
                    result.replayed.append(key)
                else:
                    result.conflicts[key] = first.get(key, (None, None, 0))[2]
    return result


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

    def write(wallet: Wallet) -> JournalEntry:
        programme = wallet.programme
        account = account_for(programme, Account.Kind.WALLET, wallet=wallet, value_type=value_type)
        account = Account.objects.select_for_update().get(pk=account.pk)
        if account.balance + amount < 0:
            raise InsufficientBalance(available=grouped(account.balance))
        return post(
            programme=programme,
            kind=Kind.ADJUSTMENT,
            lines=[(account, amount), (account_for(programme, Account.Kind.ADJUSTMENT), -amount)],
            actor=actor,
            memo=reason,
            idempotency_key=idempotency_key,
        )

    return _write_once(idempotency_key, request, write)


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
            wallet = lock_wallet(wallet_id)
            accounts = list(
                Account.objects.select_for_update()
                .filter(wallet=wallet, value_type__in=expired_types, balance__gt=0)
                .order_by("pk")
            )
            total = sum(a.balance for a in accounts)
            if not total:
                continue
            post(
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
        raise ValueError("wallet balances move only through grants, payments, adjustments, expiry")
    with transaction.atomic():
        if existing := _existing_entry(idempotency_key):
            return existing
        locked = Account.objects.select_for_update().filter(pk__in=[a.pk for a, _amount in lines])
        list(locked.order_by("pk"))
        return post(
            programme=programme,
            kind=kind,
            lines=lines,
            actor=actor,
            memo=memo,
            idempotency_key=idempotency_key,
        )
