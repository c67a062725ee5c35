"""Payment rules: resident sign-in, MPM and CPM payments, store cancellations, terminals, API keys.

Money moves only through `wallets.ledger`; these functions add the rules around it (codes,
passcodes, rate limits) and are called alike by the resident pages, the store app and the API.
"""

import hashlib
import secrets
from datetime import timedelta

from django.core import signing
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format

from core.audit import audit_log
from core.ratelimit import rate_limit_exceeded, rate_limit_hit
from merchants.models import Store, Terminal
from payments.exceptions import (
    CodeExpired,
    CodeInvalid,
    CodeUsed,
    PasscodeInvalid,
    SignInFailed,
    TerminalSetupFailed,
    TicketLocked,
    TooManyAttempts,
)
from payments.models import ApiKey, CpmCode, Payment
from wallets import ledger
from wallets.exceptions import IdempotencyConflict
from wallets.models import Wallet

# Resident PIN: 5 wrong PINs lock the ticket for 15 minutes; one address may fail 20 times in
# 15 minutes whatever the ticket, so nobody can walk through ticket numbers with common PINs.
PIN_MAX_FAILURES = 5
PIN_LOCK = timedelta(minutes=15)
ADDRESS_MAX_FAILURES = 20
ATTEMPT_WINDOW = timedelta(minutes=15)
# Passcodes are 6 digits: a million guesses. 5 wrong ones per ticket per window is plenty for a
# person mistyping and useless for enumerating stores.
PASSCODE_MAX_FAILURES = 5
CPM_CODE_LIFETIME = timedelta(seconds=60)
CPM_SIGNING_SALT = "payments.cpm-code"


def _guard_address(scope: str, client_address: str) -> str:
    key = f"{scope}:addr:{client_address}"
    if rate_limit_exceeded(key=key, limit=ADDRESS_MAX_FAILURES, window=ATTEMPT_WINDOW):
        raise TooManyAttempts()
    return key


# --- Residents -----------------------------------------------------------------------------


def _locked(wallet: Wallet) -> TicketLocked:
    until = date_format(timezone.localtime(wallet.locked_until), "DATETIME_FORMAT")
    return TicketLocked(until=until)


def resident_sign_in(*, ticket_number: str, pin: str, client_address: str, now=None) -> Wallet:
    """Ticket number + PIN. Wrong PINs count per ticket (lock) and per address (throttle)."""
    now = now or timezone.now()
    address_key = _guard_address("pin", client_address)
    with transaction.atomic():
        wallet = Wallet.objects.select_for_update().filter(ticket_number=ticket_number).first()
        if wallet is not None and wallet.is_locked(now):
            raise _locked(wallet)
        if wallet is not None and wallet.check_pin(pin):
            if wallet.failed_pin_attempts or wallet.locked_until:
                wallet.failed_pin_attempts, wallet.locked_until = 0, None
                wallet.save(update_fields=["failed_pin_attempts", "locked_until"])
            return wallet
        rate_limit_hit(key=address_key, window=ATTEMPT_WINDOW)
        if wallet is not None:
            wallet.failed_pin_attempts += 1
            if wallet.failed_pin_attempts >= PIN_MAX_FAILURES:
                wallet.failed_pin_attempts, wallet.locked_until = 0, now + PIN_LOCK
            wallet.save(update_fields=["failed_pin_attempts", "locked_until"])
    # Raised after commit: the failure count must stick.
    if wallet is not None and wallet.is_locked(now):
        raise _locked(wallet)
    raise SignInFailed()


def store_find_by_passcode(*, wallet: Wallet, passcode: str, client_address: str) -> Store:
    """「パスコードを入力する」: the 6 digits of a store in the wallet's programme."""
    wallet_key = f"passcode:wallet:{wallet.pk}"
    if rate_limit_exceeded(key=wallet_key, limit=PASSCODE_MAX_FAILURES, window=ATTEMPT_WINDOW):
        raise TooManyAttempts()
    address_key = _guard_address("passcode", client_address)
    store = Store.objects.filter(
        programme_id=wallet.programme_id, passcode=passcode, is_active=True
    ).first()
    if store is None:
        rate_limit_hit(key=wallet_key, window=ATTEMPT_WINDOW)
        rate_limit_hit(key=address_key, window=ATTEMPT_WINDOW)
        raise PasscodeInvalid()
    return store


def payment_create_mpm(*, wallet: Wallet, store: Store, amount: int, idempotency_key: str):
    """MPM: the resident pays the store whose QR sheet (or passcode) they used."""
    terminal = store.terminals.filter(kind=Terminal.Kind.QR_SHEET, is_active=True).first()
    return ledger.pay(
        wallet=wallet,
        store=store,
        amount=amount,
        idempotency_key=f"mpm:{wallet.pk}:{idempotency_key}",
        mode=Payment.Mode.MPM,
        terminal=terminal,
    )


# --- CPM codes -----------------------------------------------------------------------------


def cpm_code_issue(*, wallet: Wallet, now=None) -> tuple[CpmCode, str]:
    """A fresh code for the resident's QR: the signed nonce of a one-use row, valid 60 s."""
    now = now or timezone.now()
    code = CpmCode.objects.create(
        wallet=wallet, nonce=secrets.token_urlsafe(16), expires_at=now + CPM_CODE_LIFETIME
    )
    return code, signing.Signer(salt=CPM_SIGNING_SALT).sign(code.nonce)


def _cpm_nonce(text: str) -> str:
    try:
        return signing.Signer(salt=CPM_SIGNING_SALT).unsign(text.strip())
    except signing.BadSignature:
        raise CodeInvalid() from None


def _same_cpm_request(payment: Payment, *, store: Store, amount: int, nonce: str) -> Payment:
    code = CpmCode.objects.filter(payment=payment).first()
    if (
        (payment.store_id, payment.amount) != (store.pk, amount)
        or code is None
        or (code.nonce != nonce)
    ):
        raise IdempotencyConflict()
    return payment


def payment_create_cpm(
    *,
    terminal: Terminal,
    code: str,
    amount: int,
    idempotency_key: str,
    actor=None,
    mode: str = Payment.Mode.CPM,
    now=None,
) -> Payment:
    """CPM / POS: the store scans the resident's code. The code is consumed with the payment."""
    nonce = _cpm_nonce(code)
    key = f"{mode}:{terminal.pk}:{idempotency_key}"
    store = terminal.store
    with transaction.atomic():
        # A retry answers with the first result even after the code has expired.
        if existing := ledger.payment_for_key(key):
            return _same_cpm_request(existing, store=store, amount=amount, nonce=nonce)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, wallet_id, payment_id, expires_at FROM payments_cpmcode"
                " WHERE nonce = %s FOR UPDATE",
                [nonce],
            )
            cpm = cursor.fetchone()
        if cpm is None:
            raise CodeInvalid()
        cpm_id, wallet_id, used_id, expires_at = cpm
        if used_id:
            # A concurrent retry with the same key got the lock first. (Loaded on its own: a
            # join in the locking read would miss a payment committed while we waited.)
            used = Payment.objects.get(pk=used_id)
            if used.idempotency_key == key:
                return _same_cpm_request(used, store=store, amount=amount, nonce=nonce)
            raise CodeUsed()
        if expires_at <= (now or timezone.now()):
            raise CodeExpired()
        payment = ledger.pay(
            # The ledger locks and reads the wallet row itself: only its pk is needed here.
            wallet=Wallet(pk=wallet_id),
            store=store,
            amount=amount,
            idempotency_key=key,
            mode=mode,
            terminal=terminal,
            actor=actor,
            now=now,  # taken by the ledger once the payment holds its locks, unless a test sets it
        )
        # The ledger answered a retry of this key made with another code (the wallet lock made
        # us wait for it, so its code's link is committed and seen): not the same request.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE payments_cpmcode SET payment_id = %s WHERE id = %s AND NOT EXISTS"
                " (SELECT 1 FROM payments_cpmcode WHERE payment_id = %s)",
                [payment.pk, cpm_id, payment.pk],
            )
            if cursor.rowcount != 1:
                raise IdempotencyConflict()
        return payment


def payment_cancel_by_store(*, payment: Payment, actor=None, memo: str = "") -> Payment:
    """取消 from the store app or a POS: only inside the programme's merchant window."""
    return ledger.cancel(payment=payment, actor=actor, memo=memo, enforce_window=True)


# --- Store app terminals and POS keys ------------------------------------------------------


def terminal_find_for_setup(*, terminal_id: str, password: str, client_address: str) -> Terminal:
    """端末ID + 端末パスワード, as in manual 004; wrong pairs are throttled per address."""
    address_key = _guard_address("terminal", client_address)
    terminal = (
        Terminal.objects.select_related("store__company", "store__programme")
        .filter(
            terminal_id=terminal_id,
            kind=Terminal.Kind.STORE_APP,
            is_active=True,
            store__is_active=True,
        )
        .first()
    )
    if terminal is None or not secrets.compare_digest(
        terminal.setup_password.encode(), password.encode()
    ):
        rate_limit_hit(key=address_key, window=ATTEMPT_WINDOW)
        raise TerminalSetupFailed()
    return terminal


def terminal_pair(*, terminal: Terminal, client_address: str) -> None:
    audit_log(
        action="payments.terminal.paired",
        obj=terminal,
        company=terminal.store.company,
        actor_label=f"device@{client_address}",
    )


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, terminal: Terminal, name: str = "", actor=None) -> tuple[ApiKey, str]:
    """A new POS key; the raw key is returned once and never stored."""
    raw_key = f"vk_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        terminal=terminal,
        name=name,
        prefix=raw_key[:10],
        key_hash=api_key_hash(raw_key),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_log(
        action="payments.api_key.created",
        actor=actor,
        obj=api_key,
        company=terminal.store.company,
        terminal=terminal.terminal_id,
        prefix=api_key.prefix,
    )
    return api_key, raw_key


def api_key_revoke(*, api_key: ApiKey, actor=None) -> ApiKey:
    updated = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated:
        audit_log(
            action="payments.api_key.revoked",
            actor=actor,
            obj=api_key,
            company=api_key.terminal.store.company,
            prefix=api_key.prefix,
        )
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def store_staff_password_change(*, user, password: str) -> None:
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit_log(action="merchants.user.password_changed", actor=user, obj=user, company=user.company)
