"""The card for residents without a smartphone: card QR scanned, PIN typed on the store device.

Wrong PINs count on the ticket's own counters, so the card and the ticket sign-in lock together.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditLog, RateLimit
from merchants.models import Terminal
from payments import services
from payments.exceptions import (
    CardBlocked,
    CardLocked,
    CardUnknown,
    PinWrong,
    SignInFailed,
    TicketLocked,
    TooManyAttempts,
)
from payments.models import Payment
from tests import factories
from tests.payments.conftest import code_for
from wallets.exceptions import IdempotencyConflict, InsufficientBalance
from wallets.models import Account, pin_failure_keys
from wallets.services import wallet_credentials_issue


@pytest.fixture
def card(wallet):
    """(token, pin) of the wallet's card, as its notice prints them."""
    credentials = wallet_credentials_issue([wallet])[0]
    return credentials.card_token, credentials.pin


@pytest.fixture
def terminal(app_terminal):
    return app_terminal


def pay(terminal, card, *, pin=None, amount=1_000, key="k1", address="10.0.0.1", **kw):
    token, right_pin = card
    return services.payment_create_card(
        terminal=terminal,
        card_token=token,
        pin=right_pin if pin is None else pin,
        amount=amount,
        idempotency_key=key,
        client_address=address,
        **kw,
    )


def wrong_pin(card):
    return "000000" if card[1] != "000000" else "111111"


def failures(wallet):
    counts = dict(RateLimit.objects.values_list("key", "count"))
    return tuple(counts.get(key, 0) for key in pin_failure_keys(wallet.ticket_number))


def balance(wallet):
    return sum(Account.objects.filter(wallet=wallet).values_list("balance", flat=True))


def test_right_pin_pays_from_the_wallet_of_the_card(terminal, card, wallet, store_staff):
    payment = pay(terminal, card, amount=1_200, actor=store_staff)
    assert (payment.mode, payment.amount, payment.wallet_id) == ("card", 1_200, wallet.pk)
    assert payment.terminal == terminal and payment.store_id == terminal.store_id
    assert balance(wallet) == 8_000 - 1_200
    assert payment.entry.created_by == store_staff


def test_wrong_pin_says_how_many_tries_are_left_and_pays_nothing(terminal, card, wallet):
    with pytest.raises(PinWrong) as error:
        pay(terminal, card, pin=wrong_pin(card))
    assert error.value.params == {"remaining": 4}
    assert "あと4回" in str(error.value)
    assert failures(wallet) == (1, 1)
    assert not Payment.objects.exists()


def test_five_wrong_pins_lock_the_card_and_the_lock_is_audited(terminal, card, wallet):
    for remaining in (4, 3, 2, 1):
        with pytest.raises(PinWrong) as error:
            pay(terminal, card, pin=wrong_pin(card), address=f"10.0.0.{remaining}")
        assert error.value.params["remaining"] == remaining
    with pytest.raises(CardLocked) as error:
        pay(terminal, card, pin=wrong_pin(card))
    assert "15分" in str(error.value)
    log = AuditLog.objects.get(action="wallets.wallet.pin_locked")
    assert log.object_id == str(wallet.pk) and log.data["via"] == "card"
    assert terminal.terminal_id in log.actor_label
    # The right PIN waits for the lock too, and is not counted.
    with pytest.raises(CardLocked):
        pay(terminal, card)
    assert failures(wallet) == (5, 5)
    assert not Payment.objects.exists()


def test_a_card_lock_locks_the_ticket_sign_in(terminal, card, wallet):
    for _ in range(services.PIN_MAX_FAILURES - 1):
        with pytest.raises(PinWrong):
            pay(terminal, card, pin=wrong_pin(card))
    with pytest.raises(CardLocked):
        pay(terminal, card, pin=wrong_pin(card))
    with pytest.raises(TicketLocked):
        services.resident_sign_in(
            ticket_number=wallet.ticket_number, pin=card[1], client_address="10.9.9.9"
        )


def test_wrong_pins_at_the_sign_in_count_for_the_card(terminal, card, wallet):
    for _ in range(services.PIN_MAX_FAILURES - 2):
        with pytest.raises(SignInFailed):
            services.resident_sign_in(
                ticket_number=wallet.ticket_number, pin=wrong_pin(card), client_address="10.9.9.9"
            )
    with pytest.raises(PinWrong) as error:
        pay(terminal, card, pin=wrong_pin(card))
    assert error.value.params == {"remaining": 1}
    with pytest.raises(CardLocked):
        pay(terminal, card, pin=wrong_pin(card))


def test_the_last_try_from_the_ticket_path_then_locks_the_card(terminal, card, wallet):
    for _ in range(services.PIN_MAX_FAILURES):
        with pytest.raises((SignInFailed, TicketLocked)):
            services.resident_sign_in(
                ticket_number=wallet.ticket_number, pin=wrong_pin(card), client_address="10.9.9.9"
            )
    with pytest.raises(CardLocked):
        services.card_check(terminal=terminal, card_token=card[0], client_address="10.0.0.1")
    with pytest.raises(CardLocked):
        pay(terminal, card)


def test_ten_wrong_pins_block_the_card_until_city_staff_lift_it(terminal, card, wallet):
    from tests.payments.test_resident_sign_in import pass_lock_period

    for _ in range(services.PIN_MAX_FAILURES):
        with pytest.raises((PinWrong, CardLocked)):
            pay(terminal, card, pin=wrong_pin(card))
    pass_lock_period(wallet.ticket_number)
    for _ in range(services.PIN_MAX_TOTAL_FAILURES - services.PIN_MAX_FAILURES):
        with pytest.raises((PinWrong, CardBlocked)):
            pay(terminal, card, pin=wrong_pin(card))
    pass_lock_period(wallet.ticket_number)
    with pytest.raises(CardBlocked) as error:
        pay(terminal, card)
    assert "窓口" in str(error.value)
    assert AuditLog.objects.filter(action="wallets.wallet.pin_locked").count() == 2


def test_the_right_pin_clears_the_count(terminal, card, wallet):
    for _ in range(3):
        with pytest.raises(PinWrong):
            pay(terminal, card, pin=wrong_pin(card))
    pay(terminal, card)
    assert failures(wallet) == (0, 0)


def test_reissued_card_is_refused_and_the_new_one_pays(terminal, card, wallet):
    new = wallet_credentials_issue([wallet])[0]
    with pytest.raises(CardUnknown) as error:
        pay(terminal, card)
    assert str(error.value) == "このカードは使えません（再発行されたか無効です）"
    with pytest.raises(CardUnknown):
        services.card_check(terminal=terminal, card_token=card[0], client_address="10.0.0.1")
    payment = pay(terminal, (new.card_token, new.pin))
    assert payment.wallet_id == wallet.pk


@pytest.mark.parametrize("token", ["CARD-made-up", "CARD-" + "x" * 80, "not a card", ""])
def test_made_up_cards_are_unknown_and_spend_the_devices_budget(terminal, card, token):
    with pytest.raises(CardUnknown):
        pay(terminal, (token, "123456"))
    counts = dict(RateLimit.objects.values_list("key", "count"))
    assert counts[f"card:terminal:{terminal.pk}"] == 1
    assert counts["card:addr:10.0.0.1"] == 1


def test_unknown_cards_do_the_work_of_a_real_one(terminal, card, monkeypatch):
    """The same statements and one PIN hash for a wrong PIN and for an unknown card."""
    checked = []
    real = services.check_password
    monkeypatch.setattr(services, "check_password", lambda *a: checked.append(a) or real(*a))
    statements = {}
    for name, attempt in (("wrong", card[0]), ("unknown", "CARD-made-up-but-well-formed")):
        with CaptureQueriesContext(connection) as queries, pytest.raises((PinWrong, CardUnknown)):
            pay(terminal, (attempt, "123456") if name == "unknown" else card, pin=wrong_pin(card))
        statements[name] = len(queries)
    assert len(checked) == 2
    assert statements["unknown"] == statements["wrong"]


def test_one_device_cannot_walk_through_cards(terminal, card, wallet):
    for n in range(services.CARD_DEVICE_MAX_FAILURES):
        with pytest.raises(CardUnknown):
            pay(terminal, (f"CARD-guess-{n}", "123456"), address=f"10.1.0.{n}")
    with pytest.raises(TooManyAttempts):
        pay(terminal, card)  # refused before the card is looked up: not counted on it
    assert failures(wallet) == (0, 0)


def test_one_address_cannot_walk_through_cards(small_store, card):
    devices = [
        factories.terminal(small_store, kind=Terminal.Kind.STORE_APP)
        for _ in range(services.ADDRESS_MAX_FAILURES // 5 + 1)
    ]
    for n in range(services.ADDRESS_MAX_FAILURES):
        with pytest.raises(CardUnknown):
            pay(devices[n // 5], (f"CARD-guess-{n}", "123456"))
    with pytest.raises(TooManyAttempts):
        pay(devices[-1], card)


def test_a_retry_with_the_same_key_pays_once(terminal, card, wallet):
    first = pay(terminal, card, amount=700)
    again = pay(terminal, card, amount=700)
    assert again.pk == first.pk
    assert balance(wallet) == 8_000 - 700
    with pytest.raises(IdempotencyConflict):
        pay(terminal, card, amount=800)


def test_a_key_used_for_a_resident_code_is_a_conflict_for_a_card(terminal, card, wallet):
    services.payment_create_cpm(
        terminal=terminal, code=code_for(wallet), amount=500, idempotency_key="k1"
    )
    with pytest.raises(IdempotencyConflict):
        pay(terminal, card, amount=500, key="k1")
    assert Payment.objects.count() == 1


def test_not_enough_balance_is_refused_after_the_right_pin(terminal, card, wallet):
    with pytest.raises(InsufficientBalance):
        pay(terminal, card, amount=9_000)
    assert failures(wallet) == (0, 0) and not Payment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_payments_with_one_card_never_overdraw_and_pay_once_per_key(
    terminal, card, wallet
):
    """Five store devices at once (the ticket's limit), two of them retrying one key."""
    barrier = threading.Barrier(5)
    keys = ["a", "a", "b", "c", "d"]

    def attempt(key):
        barrier.wait()
        try:
            return pay(terminal, card, amount=3_000, key=key).number
        except InsufficientBalance:
            return "insufficient"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(attempt, keys))
    payments = Payment.objects.filter(wallet=wallet)
    assert payments.count() == 2  # 8,000 yen pays two of 3,000 yen
    assert balance(wallet) == 2_000
    assert len({p.idempotency_key for p in payments}) == 2
    # The two requests under key "a" got one answer, whether a payment or a refusal.
    assert results[0] == results[1]
    assert results.count("insufficient") == 2 + (results[0] == "insufficient")
