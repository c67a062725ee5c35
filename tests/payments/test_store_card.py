"""The store app's QRコード決済 with a card: scan, the resident types the PIN, completion, receipt."""

import re

import pytest

from core.models import AuditLog
from payments import services
from payments.models import Payment
from payments.store_views import CARD_SESSION_KEY
from tests.payments.test_store_app import scan
from wallets.services import wallet_credentials_issue


def other_pin(pin):
    return "000000" if pin != "000000" else "111111"


def key_of(html):
    return re.search(r'name="key" value="([0-9a-f-]+)"', html).group(1)


def test_card_scan_asks_for_the_pin_then_pays_and_shows_the_balance_and_receipt(
    store_app, card, wallet, app_terminal, store_staff
):
    token, pin = card
    response = scan(store_app, token, amount=1_500)
    html = response.content.decode()
    assert response.status_code == 200
    assert "お客様がPINを入力してください" in html and "1,500 円" in html
    assert 'type="password"' in html and 'inputmode="numeric"' in html
    assert "data-pin-key" in html  # the on-screen keypad
    assert token not in html  # the card waits in the session, not in the page
    assert not Payment.objects.exists()

    response = store_app.post("/store/pay/pin/", {"key": key_of(html), "pin": pin})
    payment = Payment.objects.get()
    assert response["Location"] == f"/store/payments/{payment.number}/done/"
    assert (payment.mode, payment.amount, payment.terminal) == ("card", 1_500, app_terminal)
    assert payment.entry.created_by == store_staff
    assert CARD_SESSION_KEY not in store_app.session

    done = store_app.get(response["Location"]).content.decode()
    assert "お支払いが完了しました" in done
    assert re.search(r"data-remaining>6,500 円<", done)
    assert "レシート印刷" in done and "data-receipt" in done
    receipt = done[done.index("data-receipt") :]
    assert "取引番号" in receipt and payment.number in receipt
    assert payment.store.name in receipt
    assert "専用券" in receipt and "共通券" in receipt  # amounts and balances by value type
    assert wallet.ticket_number not in done and wallet.ticket_number[-4:] in receipt
    assert pin not in receipt and token not in done
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d\d:\d\d", receipt)
    # Printed again later from 取引履歴, with the balance as it was just after this payment.
    detail = store_app.get(f"/store/payments/{payment.number}/").content.decode()
    assert "レシート・残高" in detail
    services.payment_create_card(
        terminal=app_terminal,
        card_token=token,
        pin=pin,
        amount=500,
        idempotency_key="later",
        client_address="10.0.0.1",
    )
    again = store_app.get(response["Location"]).content.decode()
    assert re.search(r"data-remaining>6,500 円<", again)


def test_a_resident_code_still_pays_at_once_and_shows_no_balance(store_app, wallet):
    _cpm, text = services.cpm_code_issue(wallet=wallet)
    response = scan(store_app, text)
    done = store_app.get(response["Location"]).content.decode()
    assert "data-remaining" not in done and "data-receipt" not in done


def test_wrong_pin_says_how_many_tries_are_left_then_the_right_one_pays(store_app, card):
    token, pin = card
    key = key_of(scan(store_app, token).content.decode())
    response = store_app.post("/store/pay/pin/", {"key": key, "pin": other_pin(pin)})
    html = response.content.decode()
    assert response.status_code == 400
    assert "暗証番号（PIN）が正しくありません。あと4回" in html
    assert other_pin(pin) not in html
    response = store_app.post("/store/pay/pin/", {"key": key, "pin": pin})
    assert response.status_code == 302 and Payment.objects.count() == 1


def test_five_wrong_pins_lock_the_card_with_a_way_back(store_app, card):
    token, pin = card
    key = key_of(scan(store_app, token).content.decode())
    for _ in range(services.PIN_MAX_FAILURES - 1):
        store_app.post("/store/pay/pin/", {"key": key, "pin": other_pin(pin)})
    response = store_app.post("/store/pay/pin/", {"key": key, "pin": other_pin(pin)})
    html = response.content.decode()
    assert "15分間ロックされました" in html and 'href="/store/pay/"' in html
    assert "最初からやり直す" in html
    assert AuditLog.objects.filter(action="wallets.wallet.pin_locked").exists()
    # Scanning the card again says so at once, before any PIN.
    html = scan(store_app, token).content.decode()
    assert "15分間ロックされました" in html and "お客様がPINを入力してください" not in html
    assert not Payment.objects.exists()


def test_a_reissued_card_is_refused_at_the_scan(store_app, card, wallet):
    wallet_credentials_issue([wallet])
    response = scan(store_app, card[0])
    html = response.content.decode()
    assert response.status_code == 400
    assert "このカードは使えません（再発行されたか無効です）" in html
    assert "最初からやり直す" in html


def test_not_enough_balance_after_the_pin_says_so(store_app, card):
    token, pin = card
    key = key_of(scan(store_app, token, amount=9_000).content.decode())
    html = store_app.post("/store/pay/pin/", {"key": key, "pin": pin}).content.decode()
    assert "残高が不足しています" in html and not Payment.objects.exists()


@pytest.mark.parametrize("pin", ["", "12", "abcd", "１２３４５６", "1" * 30])
def test_malformed_pins_are_not_counted(store_app, card, wallet, pin):
    key = key_of(scan(store_app, card[0]).content.decode())
    response = store_app.post("/store/pay/pin/", {"key": key, "pin": pin})
    assert response.status_code == 400
    assert "暗証番号" in response.content.decode()
    from tests.payments.test_card import failures

    assert failures(wallet) == (0, 0)


def test_a_pin_without_a_scanned_card_goes_back_to_the_amount(store_app, card):
    response = store_app.post(
        "/store/pay/pin/", {"key": "6f1c0c5e-3c55-4a59-9d1b-1f7a2b8e4d11", "pin": card[1]}
    )
    assert response["Location"] == "/store/pay/" and not Payment.objects.exists()


def test_a_double_submitted_pin_pays_once(store_app, card, wallet):
    token, pin = card
    key = key_of(scan(store_app, token).content.decode())
    session = store_app.session[CARD_SESSION_KEY]
    store_app.post("/store/pay/pin/", {"key": key, "pin": pin})
    # The second tap of the same page: the session entry is gone, so nothing is paid again.
    again = store_app.post("/store/pay/pin/", {"key": key, "pin": pin})
    assert again["Location"] == "/store/pay/"
    assert session["key"] == key and Payment.objects.count() == 1
