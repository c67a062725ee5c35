"""Wallet rules that span several models: PINs and cards, lifting a PIN lock (CSV imports: wallets.imports)."""

import secrets
from dataclasses import dataclass

from django.utils import timezone

from core.audit import audit_log
from core.ratelimit import rate_limit_clear
from wallets.models import (
    NEW_PIN_DIGITS,
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
