"""The store app: device set-up, staff sign-in, CPM payments, history with cancel, 入金 feed."""

import re
import uuid
from datetime import timedelta

from django.utils import timezone

from core.models import AuditLog
from payments import services
from payments.access import TERMINAL_COOKIE
from payments.models import Payment
from tests import factories
from tests.payments.conftest import pair


def test_setup_shows_the_store_then_remembers_the_device(client, app_terminal, small_store):
    response = client.post(
        "/store/setup/", {"terminal_id": app_terminal.terminal_id, "password": "52825282"}
    )
    html = response.content.decode()
    assert "店舗情報の確認" in html and small_store.name in html
    assert TERMINAL_COOKIE not in response.cookies  # not before the person confirms
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    response = client.post("/store/setup/confirm/", {"token": token})
    assert response["Location"] == "/store/login/"
    cookie = response.cookies[TERMINAL_COOKIE]
    assert cookie["max-age"] >= 365 * 24 * 3600 and cookie["httponly"]
    assert small_store.name in client.get("/store/login/").content.decode()
    assert AuditLog.objects.filter(action="payments.terminal.paired").exists()


def test_setup_throttles_wrong_pairs_per_address(client, app_terminal):
    for n in range(services.ADDRESS_MAX_FAILURES):
        response = client.post("/store/setup/", {"terminal_id": f"{n:012d}", "password": "nope"})
        assert "端末IDまたは端末パスワードが正しくありません" in response.content.decode()
    response = client.post(
        "/store/setup/", {"terminal_id": app_terminal.terminal_id, "password": "52825282"}
    )
    assert "試行回数が多すぎます" in response.content.decode()


def test_a_forged_setup_token_pairs_nothing(client, app_terminal):
    response = client.post("/store/setup/confirm/", {"token": f"{app_terminal.pk}:forged"})
    assert response["Location"] == "/store/setup/"
    assert TERMINAL_COOKIE not in response.cookies


def test_store_pages_need_a_paired_device(client, store_staff):
    client.force_login(store_staff)
    assert client.get("/store/")["Location"] == "/store/setup/"
    assert client.get("/store/login/")["Location"] == "/store/setup/"


def test_only_staff_of_the_terminals_store_can_sign_in(
    client, app_terminal, company_admin, other_company_admin, company, programme
):
    pair(client, app_terminal)
    elsewhere = factories.store(company, programme)
    other_staff = factories.user(
        "dave-staff1", role="store_staff", company=company, store=elsewhere
    )
    for user in (other_staff, company_admin, other_company_admin):
        response = client.post(
            "/store/login/", {"username": user.username, "password": "Passw0rd-test"}
        )
        assert "ログインIDまたはパスワードが正しくありません" in response.content.decode()
        assert "_auth_user_id" not in client.session


def test_first_password_is_the_login_id_and_must_be_changed(client, app_terminal, small_store):
    staff = factories.user(
        "eve-staff01",
        password="eve-staff01",
        role="store_staff",
        company=small_store.company,
        store=small_store,
    )
    staff.must_change_password = True
    staff.save()
    pair(client, app_terminal)
    response = client.post("/store/login/", {"username": "eve-staff01", "password": "eve-staff01"})
    assert response["Location"] == "/store/password/"
    assert client.get("/store/pay/")["Location"] == "/store/password/"
    response = client.post(
        "/store/password/",
        {
            "current_password": "eve-staff01",
            "new_password1": "Short1pass",
            "new_password2": "Short1pass",
        },
    )
    assert "パスワードは12文字以上にしてください" in response.content.decode()
    response = client.post(
        "/store/password/",
        {
            "current_password": "eve-staff01",
            "new_password1": "eve-staff01",
            "new_password2": "eve-staff01",
        },
    )
    assert "現在のパスワードとは別のパスワードにしてください" in response.content.decode()
    new = {"new_password1": "Counter-2026-ok", "new_password2": "Counter-2026-ok"}
    response = client.post("/store/password/", {"current_password": "wrong-one", **new})
    assert "現在のパスワードが正しくありません" in response.content.decode()
    response = client.post("/store/password/", {"current_password": "eve-staff01", **new})
    assert response["Location"] == "/store/"
    staff.refresh_from_db()
    assert not staff.must_change_password and staff.check_password("Counter-2026-ok")
    assert client.get("/store/pay/").status_code == 200


def scan(client, code, amount=1_500):
    page = client.post("/store/pay/", {"amount": amount, "key": str(uuid.uuid4())})
    html = page.content.decode()
    assert "お客様に金額をご確認ください" in html and f"{amount:,} 円" in html
    key = re.search(r'name="key" value="([0-9a-f-]+)"', html).group(1)
    return client.post("/store/pay/scan/", {"amount": amount, "key": key, "code": code})


def test_cpm_payment_from_the_store_app(store_app, wallet, app_terminal, store_staff):
    _cpm, text = services.cpm_code_issue(wallet=wallet)
    response = scan(store_app, text)
    payment = Payment.objects.get()
    assert response["Location"] == f"/store/payments/{payment.number}/done/"
    assert (payment.terminal, payment.mode, payment.entry.created_by) == (
        app_terminal,
        "cpm",
        store_staff,
    )
    html = store_app.get(response["Location"]).content.decode()
    assert "お支払いが完了しました" in html and "1,500 円" in html and "data-live-clock" in html


def test_bad_scans_and_amounts_say_why(store_app, wallet):
    response = store_app.post("/store/pay/", {"amount": "0"})
    assert "1円以上の金額を入力してください" in response.content.decode()
    response = scan(store_app, "not-a-code")
    assert "電子チケットのコードではありません" in response.content.decode()
    _cpm, text = services.cpm_code_issue(wallet=wallet)
    response = scan(store_app, text, amount=50_000)
    assert "残高が不足しています" in response.content.decode()
    assert Payment.objects.count() == 0


def test_history_detail_and_cancel_with_confirmation(store_app, resident, wallet, app_terminal):
    _cpm, text = services.cpm_code_issue(wallet=wallet)
    payment = services.payment_create_cpm(
        terminal=app_terminal, code=text, amount=800, idempotency_key="h"
    )
    assert payment.number in store_app.get("/store/payments/").content.decode()
    detail = store_app.get(f"/store/payments/{payment.number}/").content.decode()
    assert "この取引を取り消す" in detail
    confirm = store_app.get(f"/store/payments/{payment.number}/cancel/").content.decode()
    assert "この決済を取り消しますか" in confirm
    payment.refresh_from_db()
    assert not payment.is_cancelled  # the confirmation page alone changes nothing
    response = store_app.post(f"/store/payments/{payment.number}/cancel/", {"memo": "打ち間違い"})
    assert response["Location"] == f"/store/payments/{payment.number}/"
    payment.refresh_from_db()
    assert payment.is_cancelled and payment.cancel_memo == "打ち間違い"
    assert "取消済" in store_app.get(response["Location"]).content.decode()
    again = store_app.post(f"/store/payments/{payment.number}/cancel/", {"memo": ""})
    assert "この取引はここでは取り消せません" in again.content.decode()


def test_no_cancel_outside_the_window(store_app, wallet, small_store, programme):
    past = timezone.now() - programme.cancel_window - timedelta(minutes=1)
    payment = services.payment_create_mpm(
        wallet=wallet, store=small_store, amount=100, idempotency_key="old"
    )
    Payment.objects.filter(pk=payment.pk).update(created_at=past)
    url = f"/store/payments/{payment.number}/"
    assert (
        "この取引を取り消す" not in store_app.get(url + f"?date={past:%Y-%m-%d}").content.decode()
    )
    response = store_app.post(url + "cancel/", {"memo": ""})
    assert "取消可能期間を過ぎています" in response.content.decode()
    payment.refresh_from_db()
    assert not payment.is_cancelled


def test_another_stores_payment_is_not_found(store_app, company, programme, common):
    other_store = factories.store(company, programme)
    other_wallet = factories.funded_wallet(programme, {common: 1_000})
    payment = services.payment_create_mpm(
        wallet=other_wallet, store=other_store, amount=100, idempotency_key="o"
    )
    assert store_app.get(f"/store/payments/{payment.number}/").status_code == 404
    assert store_app.post(f"/store/payments/{payment.number}/cancel/").status_code == 404
    assert payment.number not in store_app.get("/store/feed.json").content.decode()


def test_feed_lists_todays_payments_as_they_land(store_app, wallet, small_store):
    assert store_app.get("/store/feed.json").json() == {"payments": []}
    payment = services.payment_create_mpm(
        wallet=wallet, store=small_store, amount=1_234, idempotency_key="f"
    )
    rows = store_app.get("/store/feed.json").json()["payments"]
    assert [(r["number"], r["amount"], r["amount_display"]) for r in rows] == [
        (payment.number, 1_234, "1,234 円")
    ]
    assert "入金" in store_app.get("/store/feed/").content.decode()


def test_amounts_are_read_as_people_type_them_and_capped_on_every_step(store_app, wallet):
    for typed in ("1,000", "１，０００", "1000円"):
        page = store_app.post("/store/pay/", {"amount": typed, "key": str(uuid.uuid4())})
        assert page.status_code == 200 and 'name="amount" value="1000"' in page.content.decode()
    too_much = store_app.post("/store/pay/", {"amount": "10,000,001"})
    assert "金額が大きすぎます" in too_much.content.decode()
    # The later steps take the amount from hidden fields: the cap holds there too.
    _cpm, text = services.cpm_code_issue(wallet=wallet)
    forged = store_app.post(
        "/store/pay/scan/", {"amount": 10_000_001, "key": str(uuid.uuid4()), "code": text}
    )
    assert forged["Location"] == "/store/pay/" and Payment.objects.count() == 0


def test_history_shows_numbers_and_searches_by_range_number_and_method(
    store_app, wallet, app_terminal, small_store
):
    _cpm, text = services.cpm_code_issue(wallet=wallet)
    cpm = services.payment_create_cpm(
        terminal=app_terminal, code=text, amount=800, idempotency_key="h1"
    )
    mpm = services.payment_create_mpm(
        wallet=wallet, store=small_store, amount=300, idempotency_key="h2"
    )
    old = services.payment_create_mpm(
        wallet=wallet, store=small_store, amount=200, idempotency_key="h3"
    )
    three_days_ago = timezone.now() - timedelta(days=3)
    Payment.objects.filter(pk=old.pk).update(created_at=three_days_ago)
    today = timezone.localdate()

    def listed(**query):
        page = store_app.get("/store/payments/", query)
        assert page.status_code == 200, page.content.decode()[-2000:]
        return {n for n in (cpm.number, mpm.number, old.number) if n in page.content.decode()}

    assert listed() == {cpm.number, mpm.number}  # today, each with its number shown
    assert listed(mode="cpm") == {cpm.number}
    assert listed(number=mpm.number) == {mpm.number}
    week = {"start": (today - timedelta(days=6)).isoformat(), "end": today.isoformat()}
    assert listed(**week) == {cpm.number, mpm.number, old.number}
    assert listed(date=timezone.localtime(three_days_ago).date().isoformat()) == {old.number}
    refused = store_app.get("/store/payments/", {"start": "2026-01-01", "end": "2026-03-31"})
    assert refused.status_code == 400 and "31日" in refused.content.decode()


def test_a_new_terminal_password_or_disconnect_unpairs_every_device(
    store_app, app_terminal, company_admin, merchant_login
):
    """A lost phone stops working, signed-in staff and all; the merchant can also disconnect
    without changing the password."""
    from django.test import Client

    assert store_app.get("/store/pay/").status_code == 200
    admin = merchant_login(Client(), company_admin)
    admin.post(f"/merchant/terminals/{app_terminal.pk}/password/")
    lost = store_app.get("/store/pay/")
    assert lost.status_code == 302 and "/store/setup/" in lost["Location"]

    app_terminal.refresh_from_db()
    again = pair(Client(), app_terminal)  # set up again with the new password
    again.force_login(
        factories.user(
            "again-staff",
            role="store_staff",
            store=app_terminal.store,
            company=app_terminal.store.company,
        )
    )
    assert again.get("/store/pay/").status_code == 200
    admin.post(f"/merchant/terminals/{app_terminal.pk}/unpair/")
    assert again.get("/store/pay/").status_code == 302
    assert AuditLog.objects.filter(action="merchants.terminal.unpaired").exists()


def test_the_store_app_password_change_refuses_a_recent_password(store_app, store_staff):
    """As in the merchant admin: a change may not go back to one of the last passwords."""
    old = "Passw0rd-test"
    new = "Harukaze2026Sakura"
    changed = store_app.post(
        "/store/password/",
        {"current_password": old, "new_password1": new, "new_password2": new},
    )
    assert changed.status_code == 302
    store_staff.refresh_from_db()
    store_app.force_login(store_staff)
    back = store_app.post(
        "/store/password/",
        {"current_password": new, "new_password1": old + "Xy", "new_password2": old + "Xy"},
    )
    assert back.status_code == 302  # a new one is fine
    store_staff.refresh_from_db()
    store_app.force_login(store_staff)
    again = store_app.post(
        "/store/password/",
        {"current_password": old + "Xy", "new_password1": new, "new_password2": new},
    )
    assert "最近使ったパスワードは使えません" in again.content.decode()
