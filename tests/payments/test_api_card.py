"""POS API with the resident's card: `card_token` + `pin` instead of a resident code."""

import pytest

from core.models import AuditLog
from payments import services
from payments.models import Payment
from tests.payments.conftest import assert_error, code_for
from wallets.services import wallet_credentials_issue


@pytest.fixture
def card(wallet):
    credentials = wallet_credentials_issue([wallet])[0]
    return credentials.card_token, credentials.pin


def other_pin(pin):
    return "000000" if pin != "000000" else "111111"


def test_card_and_pin_pay_and_the_answer_gives_the_remaining_balance(api, card, pos_terminal):
    token, pin = card
    response = api("post", "/payments", {"card_token": token, "pin": pin, "amount": 1_500})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["mode"] == "card" and created["amount"] == 1_500
    assert created["terminal_id"] == pos_terminal.terminal_id
    assert created["remaining_balance"] == 8_000 - 1_500
    assert token not in response.content.decode() and pin not in response.content.decode()
    # Read back like any payment, and found by its key after a lost answer.
    assert api("get", f"/payments/{created['number']}").json()["mode"] == "card"
    found = api("get", "/payments?idempotency_key=k-1").json()["payments"]
    assert [p["number"] for p in found] == [created["number"]]


def test_a_retry_returns_the_first_result_and_other_bodies_conflict(api, card, wallet):
    token, pin = card
    body = {"card_token": token, "pin": pin, "amount": 700}
    first = api("post", "/payments", body, key="r1")
    again = api("post", "/payments", body, key="r1")
    assert first.status_code == again.status_code == 201
    assert first.json()["number"] == again.json()["number"]
    assert_error(
        api("post", "/payments", body | {"amount": 701}, key="r1"), 409, "idempotency_conflict"
    )
    # The same POS key once used for a resident code is not a second payment either.
    assert_error(
        api("post", "/payments", {"code": code_for(wallet), "amount": 700}, key="r1"),
        409,
        "idempotency_conflict",
    )
    assert Payment.objects.count() == 1


def test_wrong_pin_then_lock(api, card):
    token, pin = card
    body = {"card_token": token, "pin": other_pin(pin), "amount": 100}
    response = api("post", "/payments", body, key="w0")
    assert_error(response, 400, "pin_wrong")
    assert "あと4回" in response.json()["error"]["message"]
    for n in range(1, services.PIN_MAX_FAILURES - 1):
        assert_error(api("post", "/payments", body, key=f"w{n}"), 400, "pin_wrong")
    assert_error(api("post", "/payments", body, key="w9"), 423, "card_locked")
    assert_error(api("post", "/payments", body | {"pin": pin}, key="w10"), 423, "card_locked")
    assert AuditLog.objects.filter(action="wallets.wallet.pin_locked").count() == 1
    assert not Payment.objects.exists()


def test_reissued_card(api, card, wallet):
    wallet_credentials_issue([wallet])
    token, pin = card
    response = api("post", "/payments", {"card_token": token, "pin": pin, "amount": 100})
    assert_error(response, 400, "card_unknown")
    assert response.json()["error"]["message"] == "このカードは使えません（再発行されたか無効です）"


@pytest.mark.parametrize(
    "body",
    [
        {"card_token": "CARD-x", "amount": 100},  # no PIN
        {"pin": "123456", "amount": 100},  # no card
        {"card_token": "CARD-x", "pin": "12a456", "amount": 100},
        {"card_token": "CARD-x", "pin": 123456, "amount": 100},
        {"card_token": "", "pin": "123456", "amount": 100},
        {"card_token": "CARD-x", "pin": "123", "amount": 100},
        {"card_token": "CARD-x", "pin": "123456", "amount": 0},
        {"card_token": "CARD-x", "pin": "123456", "code": "c", "amount": 100},  # both
        {"code": "c", "pin": "123456", "amount": 100},
    ],
)
def test_malformed_card_bodies_are_validation_errors_and_count_nothing(api, body):
    assert_error(api("post", "/payments", body), 400, "validation_error")
    assert not Payment.objects.exists()
    from core.models import RateLimit

    assert not RateLimit.objects.exists()
