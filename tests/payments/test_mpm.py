"""MPM: the resident pays a store found by its QR sheet URL or its 6-digit passcode."""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import RateLimit
from payments.models import Payment
from payments.selectors import store_pay_token, store_pay_url
from tests import factories
from wallets.models import JournalEntry


def store_page(store):
    return f"/pay/s/{store_pay_token(store)}/"


def key_of(response) -> str:
    return re.search(r'name="key" value="([0-9a-f-]+)"', response.content.decode()).group(1)


def pay(client, store, amount):
    page = client.get(store_page(store))
    key = key_of(page)
    confirm = client.post(store_page(store), {"amount": amount, "key": key})
    assert "お支払い内容の確認" in confirm.content.decode()
    return client.post(store_page(store) + "confirm/", {"amount": amount, "key": key})


def test_passcode_finds_the_store_then_amount_confirm_done(resident, wallet, small_store):
    response = resident.post("/pay/passcode/", {"passcode": small_store.passcode})
    assert response.status_code == 302
    assert response["Location"] == store_page(small_store)
    page = resident.get(response["Location"])
    assert small_store.name in page.content.decode()

    done = pay(resident, small_store, 1_200)
    payment = Payment.objects.get()
    assert (payment.amount, payment.mode, payment.store) == (1_200, "mpm", small_store)
    assert done["Location"] == f"/pay/done/{payment.number}/"
    html = resident.get(done["Location"]).content.decode()
    assert "お支払いが完了しました" in html
    assert "1,200 円" in html and small_store.name in html
    assert "6,800 円" in html  # remaining: 8,000 - 1,200
    assert "data-live-clock" in html


def test_the_qr_sheet_url_is_signed_and_not_enumerable(resident, small_store, large_store):
    assert store_pay_url(small_store).endswith(store_page(small_store))
    # A sheet printed again carries the same URL; another store's differs.
    assert store_pay_url(small_store) == store_pay_url(small_store)
    assert store_pay_token(small_store) != store_pay_token(large_store)
    assert resident.get(f"/pay/s/{small_store.pk}/").status_code == 404
    tampered = store_pay_token(small_store)[:-2] + "xx"
    assert resident.get(f"/pay/s/{tampered}/").status_code == 404


def test_the_qr_sheet_url_asks_a_signed_out_phone_to_sign_in_first(client, wallet, small_store):
    response = client.get(store_page(small_store))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/pay/s/")


def test_double_tap_and_retry_make_one_payment(resident, wallet, small_store):
    page = resident.get(store_page(small_store))
    key = key_of(page)
    url = store_page(small_store) + "confirm/"
    first = resident.post(url, {"amount": 500, "key": key})
    second = resident.post(url, {"amount": 500, "key": key})
    assert first["Location"] == second["Location"]
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "1円以上の金額を入力してください"),
        ("-100", "1円以上の金額を入力してください"),
        ("abc", "金額は円単位の整数で入力してください"),
        ("1.5", "金額は円単位の整数で入力してください"),
        ("", "金額を入力してください"),
        ("8001", "このお店で使える残高は 8,000 円です"),
    ],
)
def test_bad_amounts_get_a_japanese_message_and_change_nothing(
    resident, wallet, small_store, amount, message
):
    page = resident.get(store_page(small_store))
    response = resident.post(store_page(small_store), {"amount": amount, "key": key_of(page)})
    assert message in response.content.decode()
    assert Payment.objects.count() == 0


def test_a_forged_confirm_above_the_balance_is_refused_by_the_ledger(resident, small_store):
    response = resident.post(
        store_page(small_store) + "confirm/", {"amount": 9_000, "key": str(uuid.uuid4())}
    )
    assert response.status_code == 400
    assert "残高が不足しています" in response.content.decode()
    assert Payment.objects.count() == 0


def test_a_large_store_only_takes_the_common_value_type(resident, wallet, large_store):
    response = resident.get(store_page(large_store))
    response = resident.post(store_page(large_store), {"amount": 6_000, "key": key_of(response)})
    assert "このお店で使える残高は 5,000 円です" in response.content.decode()


def test_store_not_eligible(resident, programme, local, large_store, client):
    only_local = factories.funded_wallet(programme, {local: 1_000})
    session = client.session
    session["resident_wallet_id"] = only_local.pk
    session.save()
    response = client.post(
        store_page(large_store) + "confirm/", {"amount": 100, "key": str(uuid.uuid4())}
    )
    assert "この電子チケットはこのお店では使えません" in response.content.decode()
    assert Payment.objects.count() == 0


def test_programme_not_active(resident, programme, small_store):
    programme.ends_on = timezone.localdate() - timedelta(days=1)
    programme.starts_on = programme.ends_on - timedelta(days=10)
    programme.save()
    response = resident.post(
        store_page(small_store) + "confirm/", {"amount": 100, "key": str(uuid.uuid4())}
    )
    assert "利用期間外" in response.content.decode()
    assert Payment.objects.count() == 0


def test_a_store_of_another_programme_is_refused(resident, company):
    elsewhere = factories.store(company, factories.programme())
    response = resident.get(store_page(elsewhere))
    assert response.status_code == 400
    assert "この電子チケットはこのお店では使えません" in response.content.decode()
    assert resident.post("/pay/passcode/", {"passcode": elsewhere.passcode}).status_code == 200


def test_wrong_passcodes_are_rate_limited_per_ticket(resident, small_store):
    for digits in ["000001", "000002", "000003", "000004", "000005"]:
        response = resident.post("/pay/passcode/", {"passcode": digits})
        assert "このパスコードのお店はありません" in response.content.decode()
    response = resident.post("/pay/passcode/", {"passcode": small_store.passcode})
    assert "試行回数が多すぎます" in response.content.decode()
    assert response.status_code == 200


@pytest.mark.parametrize("typed", ["full width", "as printed", "both"])
def test_passcode_as_people_type_it_finds_the_store(resident, small_store, typed):
    code = small_store.passcode
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    text = {
        "full width": full_width,
        "as printed": f"{code[:3]} {code[3:]}",
        "both": f"{full_width[:3]}　{full_width[3:]}",
    }[typed]
    response = resident.post("/pay/passcode/", {"passcode": text})
    assert response.status_code == 302
    assert response["Location"] == store_page(small_store)
    assert not RateLimit.objects.exists()  # not counted as a wrong try


def test_passcode_must_be_six_digits(resident):
    response = resident.post("/pay/passcode/", {"passcode": "12a"})
    assert "6桁のパスコードを入力してください" in response.content.decode()


def test_history_shows_grants_payments_and_cancellations(resident, wallet, small_store):
    pay(resident, small_store, 700)
    payment = Payment.objects.get()
    from payments import services as payment_services

    payment_services.payment_cancel(payment=payment)
    html = resident.get("/history/").content.decode()
    assert html.count("付与") == 2
    assert "取消済" in html
    assert "返金（決済取消）" in html
    assert "-700 円" in html and "+700 円" in html
    assert small_store.name in html
    assert JournalEntry.objects.filter(kind="payment_cancel").count() == 1


def test_home_shows_balance_per_value_type_with_expiry(resident, wallet, common, local):
    html = resident.get("/").content.decode()
    assert "8,000 円" in html
    assert "5,000 円" in html and "3,000 円" in html
    assert common.expires_on.strftime("%Y年%m月%d日") in html


def test_someone_elses_completion_page_is_not_found(resident, programme, common, small_store):
    other = factories.funded_wallet(programme, {common: 1_000})
    from payments.services import payment_create_mpm

    payment = payment_create_mpm(wallet=other, store=small_store, amount=100, idempotency_key="x")
    assert resident.get(f"/pay/done/{payment.number}/").status_code == 404


def test_history_shows_adjustments_and_expiry(resident, wallet, programme, common):
    from wallets import ledger

    ledger.adjust(wallet=wallet, value_type=common, amount=-500, reason="誤付与の訂正")
    ledger.expire(programme=programme, today=programme.ends_on + timedelta(days=1))
    html = resident.get("/history/").content.decode()
    assert "残高調整" in html and "-500 円" in html
    assert "失効" in html and "-7,500 円" in html  # 4,500 共通 + 3,000 専用 left at expiry
