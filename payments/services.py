"""Payment rules: resident sign-in, payments (MPM, CPM, POS) and their cancellation, terminals, keys.

A payment is a ledger entry plus its Payment row, written together in one statement on the
ledger's primitives (`wallets.ledger`, `wallets.sql`); the database's ledger rules hold for it as
for every entry. These functions are called alike by the resident pages, the store app, the API,
Django admin and the merchant admin.
"""

import functools
import hashlib
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import metrics
from core.audit import audit_log
from core.exceptions import DomainError
from core.formatting import grouped
from core.ratelimit import rate_limit_clear, rate_limit_exceeded, rate_limit_hit
from merchants.models import Store, Terminal, TerminalDevice, User
from payments import selectors, sql
from payments.access import STORE_ROLES
from payments.exceptions import (
    ApiKeyThrottled,
    CardBlocked,
    CardLocked,
    CardUnknown,
    CodeExpired,
    CodeInvalid,
    CodeUsed,
    CurrentPasswordInvalid,
    PasscodeInvalid,
    PinWrong,
    SignInFailed,
    StaffSignInFailed,
    StaffSignInThrottled,
    TerminalSetupFailed,
    TerminalSetupLocked,
    TicketBlocked,
    TicketLocked,
    TooManyAttempts,
    Unauthorized,
)
from payments.models import ApiKey, CpmCode, Payment, new_payment_number
from wallets import ledger
from wallets.exceptions import (
    AlreadyCancelled,
    IdempotencyConflict,
    InsufficientBalance,
    OutsideCancelWindow,
    ProgrammeNotActive,
    StoreNotEligible,
    ValidationFailed,
)
from wallets.models import JournalEntry, Programme, Wallet, card_digest, pin_failure_keys
from wallets.services import wallet_for_card

# Resident PIN: 5 wrong PINs lock the ticket for 15 minutes, and failures add up until the right
# PIN: the 10th wrong one locks it until city staff lift the lock, so a ticket yields 10 guesses,
# not 480 a day. One address may fail 20 times in 15 minutes whatever the ticket, so nobody can
# walk through ticket numbers with common PINs.
PIN_MAX_FAILURES = 5
PIN_LOCK = timedelta(minutes=15)
PIN_MAX_TOTAL_FAILURES = 10
# Longer than any programme (135-180 days): in practice the count ends only with the right PIN.
PIN_FAILURE_MEMORY = timedelta(days=400)
ADDRESS_MAX_FAILURES = 20
ATTEMPT_WINDOW = timedelta(minutes=15)
# Passcodes are 6 digits: a million guesses. 5 wrong ones per ticket per window is plenty for a
# person mistyping and useless for enumerating stores.
PASSCODE_MAX_FAILURES = 5
# A terminal password is 8 digits (10^8): 10 wrong ones in a row lock the terminal's set-up until
# a merchant admin lifts it. Unknown IDs are counted for a month to answer alike.
TERMINAL_SETUP_MAX_FAILURES = 10
UNKNOWN_TERMINAL_WINDOW = timedelta(days=30)
# Store app staff sign-in: 10 wrong passwords per paired device per window (and the address limit).
STORE_SIGN_IN_DEVICE_MAX_FAILURES = 10
# The card: wrong PINs count on the ticket's own counters (a lock by either path holds for both);
# a store device or address may also fail 20 times in 15 minutes (wrong PINs and unknown cards),
# so one device cannot lock card after card.
CARD_DEVICE_MAX_FAILURES = 20
CPM_CODE_LIFETIME = timedelta(seconds=60)
CPM_SIGNING_SALT = "payments.cpm-code"


def _guard_address(scope: str, client_address: str, error=TooManyAttempts) -> str:
    key = f"{scope}:addr:{client_address}"
    if rate_limit_exceeded(key=key, limit=ADDRESS_MAX_FAILURES, window=ATTEMPT_WINDOW):
        raise error()
    return key


# --- Residents -----------------------------------------------------------------------------


@functools.cache
def _dummy_pin_hash() -> str:
    return make_password(secrets.token_hex(8), hasher="pin_hmac")


def _ticket_lock(recent_key: str, total_key: str) -> DomainError | None:
    if rate_limit_exceeded(key=total_key, limit=PIN_MAX_TOTAL_FAILURES, window=PIN_FAILURE_MEMORY):
        return TicketBlocked()
    if rate_limit_exceeded(key=recent_key, limit=PIN_MAX_FAILURES, window=PIN_LOCK):
        return TicketLocked()
    return None


def resident_sign_in(*, ticket_number: str, pin: str, client_address: str) -> Wallet:
    """Ticket number + PIN. Wrong PINs count per ticket number (lock) and per address (throttle).

    A number no ticket has is counted, locked and hashed exactly like a real one, so neither the
    answer nor its time tells whether a ticket exists.
    """
    address_key = _guard_address("pin", client_address)
    recent_key, total_key = pin_failure_keys(ticket_number)
    if lock := _ticket_lock(recent_key, total_key):
        raise lock
    # Counted before the PIN is checked, so parallel guesses cannot slip past the limits.
    recent = rate_limit_hit(key=recent_key, window=PIN_LOCK)
    total = rate_limit_hit(key=total_key, window=PIN_FAILURE_MEMORY)
    if total > PIN_MAX_TOTAL_FAILURES or recent > PIN_MAX_FAILURES:
        raise _ticket_lock(recent_key, total_key)
    wallet = Wallet.objects.filter(ticket_number=ticket_number).first()
    if check_password(pin, wallet.pin_hash if wallet else _dummy_pin_hash()) and wallet:
        rate_limit_clear(recent_key, total_key)
        return wallet
    rate_limit_hit(key=address_key, window=ATTEMPT_WINDOW)
    raise _ticket_lock(recent_key, total_key) or SignInFailed()


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


# --- Payments ------------------------------------------------------------------------------


def payments_in_flight_wait(*, programme_id: int) -> None:
    """Return once every payment of the programme that has begun has committed or rolled back.

    Every payment takes its time stamp after it holds the lock shared, so once this returns,
    later payments are stamped after this moment. Call it outside a transaction: the exclusive
    lock is held only for its own short one, so payments queue behind it for milliseconds.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.PAYMENTS_IN_FLIGHT_WAIT, [sql.PAYMENTS_IN_FLIGHT_LOCK, programme_id])


# The failures payment_make answers with, by their codes (insufficient_balance has its amount).
_MAKE_FAILURES = {
    error.code: error
    for error in (
        StoreNotEligible,
        ProgrammeNotActive,
        IdempotencyConflict,
        CodeInvalid,
        CodeUsed,
        CodeExpired,
    )
}
# What payment_make answers for the Payment it made or replayed, in its row's order.
_MADE_FIELDS = ["id", "entry_id", "number", "wallet_id", "programme_id"]


def _payment_make(
    *, wallet_id, nonce, store: Store, terminal, amount: int, mode: str, key: str, actor, now
) -> Payment:
    """One call of the database's `payment_make` (payments migration 0006), its answer as a
    Payment or a DomainError. The Payment carries `drawn`, the (value type code, amount) it
    drew, so that the answer to the resident or the POS needs no further query."""
    started = time.perf_counter()
    amount = ledger.check_amount(amount)
    if amount > Payment.MAX_AMOUNT:
        raise ValidationFailed(message=_("The amount is too large."))
    with connection.cursor() as cursor:
        cursor.execute(
            sql.PAYMENT_MAKE,
            {
                "wallet": wallet_id,
                "nonce": nonce,
                "store": store.pk,
                "terminal": getattr(terminal, "pk", None),
                "amount": amount,
                "mode": mode,
                "key": key,
                "number": new_payment_number(),
                "actor": actor.pk if getattr(actor, "pk", None) else None,
                "now": now,
                "time_zone": settings.TIME_ZONE,
                "lock_class": sql.PAYMENTS_IN_FLIGHT_LOCK,
            },
        )
        (
            outcome,
            available,
            *made,
            cancel_window,
            created_at,
            status,
            cancelled_at,
            codes,
            amounts,
        ) = cursor.fetchone()
    if outcome == "insufficient_balance":
        raise InsufficientBalance(available=grouped(available))
    if outcome == "wallet_missing":
        raise Wallet.DoesNotExist()
    if outcome in _MAKE_FAILURES:
        raise _MAKE_FAILURES[outcome]()
    row = dict(zip(_MADE_FIELDS, made, strict=True)) | {
        "company_id": store.company_id,
        "store_id": store.pk,
        "terminal_id": getattr(terminal, "pk", None),
        "amount": amount,
        "mode": mode,
        "status": status,
        "created_at": created_at,
        "cancelled_at": cancelled_at,
        "idempotency_key": key,
    }
    fields = [f.attname for f in Payment._meta.concrete_fields if f.attname in row]
    payment = Payment.from_db(connection.alias, fields, [row[name] for name in fields])
    payment.store, payment.terminal = store, terminal
    # The programme's cancel window is all a payment's answer reads of it; the rest loads if used.
    payment.programme = Programme.from_db(
        connection.alias, ["id", "cancel_window"], [payment.programme_id, cancel_window]
    )
    payment.drawn = list(zip(codes, amounts, strict=True))
    if outcome == "created":
        transaction.on_commit(
            lambda: metrics.payment_recorded(mode, amount, time.perf_counter() - started)
        )
    return payment


def payment_create(
    *,
    wallet: Wallet,
    store: Store,
    amount: int,
    idempotency_key: str,
    mode: str,
    terminal: Terminal | None = None,
    actor=None,
    now=None,
) -> Payment:
    """決済: move value from the wallet to the store's company; one payment per idempotency key.

    Only `wallet.pk` is read from the wallet given: the database locks and reads the rest.
    """
    return _payment_make(
        wallet_id=wallet.pk,
        nonce=None,
        store=store,
        terminal=terminal,
        amount=amount,
        mode=mode,
        key=idempotency_key,
        actor=actor,
        now=now,
    )


def payment_cancel(
    *, payment: Payment, actor=None, memo: str = "", enforce_window: bool = True, now=None
) -> Payment:
    """決済取消: a reversing entry, never a delete. City staff may pass enforce_window=False.

    The one door for every cancellation: merchant admin, store app, POS API and Django admin.
    """
    with transaction.atomic():
        ledger.lock_wallet(payment.wallet_id)
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("programme", "entry", "company")
            .get(pk=payment.pk)
        )
        if payment.is_cancelled:
            raise AlreadyCancelled()
        now = now or timezone.now()
        if enforce_window and not payment.can_be_cancelled(now):
            raise OutsideCancelWindow()
        payment.cancel_entry = ledger.post(
            programme=payment.programme,
            kind=JournalEntry.Kind.PAYMENT_CANCEL,
            lines=[(p.account_id, -p.amount) for p in payment.entry.postings.all()],
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
            late=now > payment.cancel_deadline(),
        )
        return payment


def payment_create_mpm(*, wallet: Wallet, store: Store, amount: int, idempotency_key: str):
    """MPM: the resident pays the store whose QR sheet (or passcode) they used."""
    terminal = store.terminals.filter(kind=Terminal.Kind.QR_SHEET, is_active=True).first()
    return payment_create(
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
    """CPM / POS: the store scans the resident's code, which is consumed with the payment.

    A retry answers with the first result even after the code has expired; a payment under
    this key made with another code is a conflict.
    """
    return _payment_make(
        wallet_id=None,
        nonce=_cpm_nonce(code),
        store=terminal.store,
        terminal=terminal,
        amount=amount,
        mode=mode,
        key=Payment.terminal_key(mode, terminal, idempotency_key),
        actor=actor,
        now=now,
    )


# --- The card (residents without a smartphone) -------------------------------------------


def _card_guard(terminal: Terminal, client_address: str) -> tuple[str, str]:
    """The store device's and the address's budgets, checked before the card is looked up."""
    device_key = f"card:terminal:{terminal.pk}"
    if rate_limit_exceeded(key=device_key, limit=CARD_DEVICE_MAX_FAILURES, window=ATTEMPT_WINDOW):
        raise TooManyAttempts()
    return device_key, _guard_address("card", client_address)


def _card_lock(recent_key: str, total_key: str) -> DomainError | None:
    """The ticket's lock, in the card's words."""
    return {TicketBlocked: CardBlocked(), TicketLocked: CardLocked()}.get(
        type(_ticket_lock(recent_key, total_key))
    )


def card_check(*, terminal: Terminal, card_token: str, client_address: str) -> Wallet:
    """What the store app asks once a card is scanned, before the PIN: usable, or why not.

    An unknown card counts on the device's and the address's budgets, as a wrong PIN does.
    """
    device_key, address_key = _card_guard(terminal, client_address)
    wallet = wallet_for_card(card_token)
    if wallet is None:
        _count_failure((device_key, address_key))
        raise CardUnknown()
    if lock := _card_lock(*pin_failure_keys(wallet.ticket_number)):
        raise lock
    return wallet


def _card_pin_check(*, terminal: Terminal, card_token: str, pin: str, client_address: str):
    """The card's PIN on the ticket's counters, as `resident_sign_in` checks it.

    Each try is counted before the PIN is checked, so parallel guesses cannot pass. An unknown
    card goes the same way on counters of its own digest and hashes a dummy PIN: the same
    statements and the same hash as a wrong PIN, then card_unknown whatever those counters say.
    """
    device_key, address_key = _card_guard(terminal, client_address)
    wallet = wallet_for_card(card_token)
    recent_key, total_key = pin_failure_keys(
        wallet.ticket_number if wallet else f"card:{card_digest(card_token.strip())[:24]}"
    )
    if lock := _card_lock(recent_key, total_key):
        raise lock if wallet else CardUnknown()
    recent = rate_limit_hit(key=recent_key, window=PIN_LOCK)
    total = rate_limit_hit(key=total_key, window=PIN_FAILURE_MEMORY)
    if total > PIN_MAX_TOTAL_FAILURES or recent > PIN_MAX_FAILURES:
        raise _card_lock(recent_key, total_key) if wallet else CardUnknown()
    if check_password(pin, wallet.pin_hash if wallet else _dummy_pin_hash()) and wallet:
        rate_limit_clear(recent_key, total_key)
        return wallet
    _count_failure((device_key, address_key))
    lock = _card_lock(recent_key, total_key)
    if wallet is None:
        raise CardUnknown()
    if lock:
        audit_log(
            action="wallets.wallet.pin_locked",
            obj=wallet,
            company=terminal.store.company,
            actor_label=f"terminal {terminal.terminal_id}@{client_address}",
            via="card",
            failures=total,
            until_unlocked=isinstance(lock, CardBlocked),
        )
        raise lock
    raise PinWrong(
        remaining=min(PIN_MAX_FAILURES - recent, PIN_MAX_TOTAL_FAILURES - total),
    )


def payment_create_card(
    *,
    terminal: Terminal,
    card_token: str,
    pin: str,
    amount: int,
    idempotency_key: str,
    client_address: str,
    actor=None,
    channel: str = Payment.Mode.CPM,
    now=None,
) -> Payment:
    """The card scanned at the store app or a POS, then the PIN typed on the store device.

    `channel` names the device's own key space (the store app's QR payments, or the POS's):
    a key already used there for a resident code is a conflict, not a second payment.
    """
    wallet = _card_pin_check(
        terminal=terminal, card_token=card_token, pin=pin, client_address=client_address
    )
    return payment_create(
        wallet=wallet,
        store=terminal.store,
        amount=amount,
        idempotency_key=Payment.terminal_key(channel, terminal, idempotency_key),
        mode=Payment.Mode.CARD,
        terminal=terminal,
        actor=actor,
        now=now,
    )


# --- Store app terminals and POS keys ------------------------------------------------------


def terminal_find_for_setup(*, terminal_id: str, password: str, client_address: str) -> Terminal:
    """端末ID + 端末パスワード, as in the store app manual.

    Wrong passwords count per address and per terminal; at TERMINAL_SETUP_MAX_FAILURES in a row
    the terminal's set-up stays locked until a merchant admin lifts it. An unknown ID locks after
    as many tries, and a dummy password is hashed for it, so neither the lock notice nor the time
    tells which IDs exist.
    """
    address_key = _guard_address("terminal", client_address)
    with transaction.atomic():
        terminal = (
            Terminal.store_apps_in_use()
            .select_for_update(of=("self",))
            .select_related("store__company", "store__programme")
            .filter(terminal_id=terminal_id)
            .first()
        )
        if terminal is None:
            check_password(password, _dummy_pin_hash())  # the same work as for a real ID
            rate_limit_hit(key=address_key, window=ATTEMPT_WINDOW)
            tries = rate_limit_hit(key=f"terminal:id:{terminal_id}", window=UNKNOWN_TERMINAL_WINDOW)
            locked = tries >= TERMINAL_SETUP_MAX_FAILURES
        elif terminal.setup_locked_at is not None:
            locked = True
        elif check_password(password, terminal.setup_password_hash):
            if terminal.failed_setup_attempts:
                terminal.failed_setup_attempts = 0
                terminal.save(update_fields=["failed_setup_attempts"])
            return terminal
        else:
            rate_limit_hit(key=address_key, window=ATTEMPT_WINDOW)
            terminal.failed_setup_attempts += 1
            locked = terminal.failed_setup_attempts >= TERMINAL_SETUP_MAX_FAILURES
            if locked:
                terminal.setup_locked_at = timezone.now()
            terminal.save(update_fields=["failed_setup_attempts", "setup_locked_at"])
    # Raised after commit: the failure count must stick.
    raise TerminalSetupLocked() if locked else TerminalSetupFailed()


def terminal_pair(
    *, terminal: Terminal, client_address: str, label: str, previous_token: str | None = None
) -> str:
    """A new device row for the set-up device; returns the token for its cookie (kept nowhere
    else). The device's previous pairing, if its cookie still names one, ends: one browser, one row.
    """
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        if previous_token:
            TerminalDevice.objects.filter(
                token_digest=TerminalDevice.digest(previous_token)
            ).delete()
        TerminalDevice.objects.create(
            terminal=terminal,
            token_digest=TerminalDevice.digest(token),
            label=label[:100],
            client_address=client_address[:45],
        )
        audit_log(
            action="payments.terminal.paired",
            obj=terminal,
            company=terminal.store.company,
            actor_label=f"device@{client_address}",
            device=label,
        )
    return token


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_authenticate(*, raw_key: str, client_address: str) -> Terminal:
    """The terminal of a POS key; wrong keys count per address (ADDRESS_MAX_FAILURES per window),
    and past that the address's wrong keys are ApiKeyThrottled, answered without a write.

    Unlike the other credential paths, a right key is still served from a limited address: a
    key is 256 random bits, so a refused try protects no key from guessing, while refusing
    would let one client behind a shared address (a shopping centre's network, a till with a
    revoked key) stop every POS there, and would cost each call a read of the counter.
    """
    if not raw_key:
        raise Unauthorized()  # no key was tried: nothing to count
    terminal = selectors.terminal_for_api_key(key_hash=api_key_hash(raw_key))
    if terminal is None:
        address_key = _guard_address("pos-key", client_address, error=ApiKeyThrottled)
        rate_limit_hit(key=address_key, window=ATTEMPT_WINDOW)
        raise Unauthorized()
    return terminal


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
    selectors.api_key_forget(key_hash=api_key.key_hash)
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def _store_sign_in_guard(*, terminal: Terminal, client_address: str) -> tuple[str, str]:
    """The store app's own limits, per paired device and per address; django-axes is not involved."""
    device_key = f"store-login:terminal:{terminal.pk}"
    if rate_limit_exceeded(
        key=device_key, limit=STORE_SIGN_IN_DEVICE_MAX_FAILURES, window=ATTEMPT_WINDOW
    ):
        raise StaffSignInThrottled()
    return device_key, _guard_address("store-login", client_address)


def _count_failure(keys: tuple[str, ...]) -> None:
    """One failure on each of the budgets an attempt spends (device, address, ...)."""
    for key in keys:
        rate_limit_hit(key=key, window=ATTEMPT_WINDOW)


def store_staff_sign_in(*, terminal: Terminal, username: str, password: str, client_address: str):
    """A staff member or manager of the terminal's store, by login ID and password.

    Any other login ID gets the wrong-password answer with its password unchecked: the store app
    must not be an oracle for, nor a way to lock, merchant-admin or Django-admin accounts.
    """
    keys = _store_sign_in_guard(terminal=terminal, client_address=client_address)
    user = User.objects.filter(
        username=username, is_active=True, role__in=STORE_ROLES, store_id=terminal.store_id
    ).first()
    if user is None:
        User().set_password(password)  # the time of a real check, as Django's ModelBackend does
    elif user.check_password(password):
        return user
    _count_failure(keys)
    raise StaffSignInFailed()


def store_staff_password_change(
    *, user, terminal: Terminal, current_password: str, password: str, client_address: str
) -> None:
    """Always asks the current password; wrong ones count like wrong sign-ins on the device."""
    keys = _store_sign_in_guard(terminal=terminal, client_address=client_address)
    if not user.check_password(current_password):
        _count_failure(keys)
        raise CurrentPasswordInvalid()
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit_log(action="merchants.user.password_changed", actor=user, obj=user, company=user.company)
