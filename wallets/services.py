"""Wallet rules that span several models: bulk grants from a CSV file, PINs and cards, lifting a PIN lock."""

import csv
import hashlib
import io
import secrets
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_log
from core.ratelimit import rate_limit_clear
from wallets import ledger
from wallets.models import (
    NEW_PIN_DIGITS,
    Programme,
    ValueType,
    Wallet,
    card_digest,
    pin_failure_keys,
)

GRANT_CSV_COLUMNS = ["ticket_number", "value_type", "amount", "memo"]


def wallet_pin_unlock(*, wallet: Wallet, actor) -> None:
    """City staff lift the lock of a ticket whose PIN was entered wrongly too many times."""
    rate_limit_clear(*pin_failure_keys(wallet.ticket_number))
    audit_log(action="wallets.wallet.pin_unlocked", actor=actor, obj=wallet)


# A card QR says what it is, so the store app tells it from a CPM code before any lookup.
CARD_TOKEN_PREFIX = "CARD-"


@dataclass(frozen=True)
class Credentials:
    """What a notice prints; the only time the PIN and the card token exist in clear."""

    wallet: Wallet
    pin: str
    card_token: str


def wallet_credentials_issue(wallets) -> list[Credentials]:
    """A new PIN and card for each wallet; every earlier notice's PIN and card stop working.

    Callers (a notice batch, a reissue) write the audit row and print the result at once:
    nothing keeps the clear values.
    """
    issued, now = [], timezone.now()
    for wallet in wallets:
        pin = f"{secrets.randbelow(10**NEW_PIN_DIGITS):0{NEW_PIN_DIGITS}d}"
        token = CARD_TOKEN_PREFIX + secrets.token_urlsafe(18)
        wallet.set_pin(pin)
        wallet.card_digest = card_digest(token)
        wallet.credentials_issued_at = now
        issued.append(Credentials(wallet=wallet, pin=pin, card_token=token))
    Wallet.objects.bulk_update(
        [c.wallet for c in issued],
        ["pin_hash", "card_digest", "credentials_issued_at"],
        batch_size=1000,
    )
    rate_limit_clear(*(key for c in issued for key in pin_failure_keys(c.wallet.ticket_number)))
    return issued


def wallet_for_card(token: str) -> Wallet | None:
    """The wallet of a card QR, or None for anything else (an old, reissued or made-up card)."""
    token = token.strip()
    if not token.startswith(CARD_TOKEN_PREFIX) or len(token) > 64:
        return None
    return Wallet.objects.select_related("programme").filter(card_digest=card_digest(token)).first()


def decode_csv(data: bytes) -> str:
    """Excel in Japan writes Shift_JIS (cp932) or UTF-8 with a BOM; accept both."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp932")


@dataclass
class GrantRow:
    line: int
    ticket_number: str
    value_type_code: str
    amount: int | None
    memo: str = ""
    wallet: Wallet | None = None
    value_type: ValueType | None = None
    error: str = ""


@dataclass
class GrantPlan:
    programme: Programme
    digest: str
    rows: list[GrantRow] = field(default_factory=list)

    @property
    def rejected(self) -> list[GrantRow]:
        return [row for row in self.rows if row.error]

    @property
    def accepted(self) -> list[GrantRow]:
        return [row for row in self.rows if not row.error]

    @property
    def total(self) -> int:
        return sum(row.amount for row in self.accepted)


def grant_csv_plan(*, programme: Programme, text: str) -> GrantPlan:
    """Read and check every row (the dry run); nothing is written."""
    plan = GrantPlan(programme=programme, digest=hashlib.sha256(text.encode()).hexdigest()[:20])
    reader = csv.DictReader(io.StringIO(text))
    missing = set(GRANT_CSV_COLUMNS[:3]) - set(reader.fieldnames or [])
    if missing:
        plan.rows.append(
            GrantRow(
                line=1,
                ticket_number="",
                value_type_code="",
                amount=None,
                error=_("The header must be: %(columns)s")
                % {"columns": ",".join(GRANT_CSV_COLUMNS)},
            )
        )
        return plan
    raw = list(reader)
    wallets = Wallet.objects.filter(
        programme=programme, ticket_number__in=[(r.get("ticket_number") or "").strip() for r in raw]
    ).in_bulk(field_name="ticket_number")
    value_types = {vt.code: vt for vt in programme.value_types.all()}
    for line, record in enumerate(raw, start=2):
        ticket = (record.get("ticket_number") or "").strip()
        code = (record.get("value_type") or "").strip()
        amount_text = (record.get("amount") or "").strip().replace(",", "")
        row = GrantRow(
            line=line,
            ticket_number=ticket,
            value_type_code=code,
            amount=None,
            memo=(record.get("memo") or "").strip(),
        )
        row.wallet = wallets.get(ticket)
        row.value_type = value_types.get(code)
        if row.wallet is None:
            row.error = _("No ticket with this number in this programme.")
        elif row.value_type is None:
            row.error = _("Unknown value type code.")
        elif not amount_text.isdigit() or int(amount_text) <= 0:
            row.error = _("The amount must be a whole number of yen greater than zero.")
        else:
            row.amount = int(amount_text)
        plan.rows.append(row)
    return plan


def grant_csv_apply(*, plan: GrantPlan, actor) -> int:
    """All rows or none. Keys derive from the file, so uploading it again grants nothing twice."""
    if plan.rejected or not plan.rows:
        raise ValueError("only a clean plan can be applied")
    with transaction.atomic():
        for row in plan.rows:
            ledger.grant(
                wallet=row.wallet,
                value_type=row.value_type,
                amount=row.amount,
                actor=actor,
                memo=row.memo,
                idempotency_key=f"grant-csv:{plan.programme.pk}:{plan.digest}:{row.line}",
            )
        audit_log(
            action="wallets.grant.bulk",
            actor=actor,
            obj=plan.programme,
            rows=len(plan.rows),
            total=plan.total,
            digest=plan.digest,
        )
    return len(plan.rows)
