"""管理ユーザ, 端末, 加盟店情報, and lock state in the merchant admin and Django admin."""

import re
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth.hashers import check_password
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from core.models import AuditLog
from merchants.models import BankAccountChange, User
from merchants.tokens import WelcomeTokenGenerator
from tests import factories

PASSWORD = "Passw0rd-test"


def register(client, store, **overrides):
    data = {
        "role": "store_staff",
        "store": store.pk,
        "name": "山田 花子",
        "username": "hanako-yamada",
        "email": "hanako@example.jp",
    } | overrides
    return client.post(reverse("merchants:user_create"), data)


def link_in(message) -> str:
    return re.search(r"http://\S+/merchant/welcome/\S+/", message.body).group(0)


@pytest.mark.django_db(transaction=True)
def test_a_new_user_sets_their_own_password_from_a_one_time_link(
    client, merchant_login, company_admin, small_store
):
    """Nobody but the new user ever knows the password: no initial password, a link valid 72 h
    that works once, and the user is sent to the app their role uses."""
    merchant_login(client, company_admin)
    response = register(client, small_store)
    assert response["Location"] == reverse("merchants:users")
    user = User.objects.get(username="hanako-yamada")
    assert (user.role, user.company, user.store) == (
        "store_staff",
        small_store.company,
        small_store,
    )
    assert not user.has_usable_password() and not user.must_change_password
    assert mail.outbox[0].to == ["hanako@example.jp"]
    body = mail.outbox[0].body
    assert "hanako-yamada" in body and "72時間以内" in body and "/store/login/" in body
    assert AuditLog.objects.filter(action="merchants.user.created", actor=company_admin).exists()
    listed = client.get(reverse("merchants:users")).content.decode()
    assert "パスワード未設定" in listed

    newcomer = Client()
    form = newcomer.get(link_in(mail.outbox[0]), follow=True)
    assert "パスワードの設定" in form.content.decode()
    weak = newcomer.post(
        form.redirect_chain[-1][0], {"new_password1": "Sakura2Haru", "new_password2": "Sakura2Haru"}
    )
    assert "12" in weak.content.decode()  # store staff: 12 characters or more
    done = newcomer.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Sakura2026Haru", "new_password2": "Sakura2026Haru"},
        follow=True,
    )
    assert "店舗アプリ" in done.content.decode()
    user.refresh_from_db()
    assert user.check_password("Sakura2026Haru")
    again = Client().get(link_in(mail.outbox[0]), follow=True).content.decode()
    assert "このリンクは使用済みか有効期限切れです" in again


@pytest.mark.django_db(transaction=True)
def test_an_expired_link_is_refused_and_the_mail_can_be_sent_again(
    client, merchant_login, company_admin, small_store
):
    merchant_login(client, company_admin)
    register(client, small_store, role="store_manager")
    user = User.objects.get(username="hanako-yamada")
    with mock.patch.object(
        WelcomeTokenGenerator, "_now", return_value=datetime.now() + timedelta(hours=72, minutes=1)
    ):
        expired = Client().get(link_in(mail.outbox[0]), follow=True).content.decode()
    assert "有効期限切れ" in expired
    with mock.patch.object(
        WelcomeTokenGenerator, "_now", return_value=datetime.now() + timedelta(hours=71)
    ):
        assert (
            "パスワードの設定"
            in Client().get(link_in(mail.outbox[0]), follow=True).content.decode()
        )
    client.post(reverse("merchants:user_welcome_resend", args=[user.pk]))
    assert len(mail.outbox) == 2
    assert "パスワードの設定" in Client().get(link_in(mail.outbox[1]), follow=True).content.decode()


@pytest.mark.django_db
def test_registration_rules(client, merchant_login, company_admin, small_store, other_store):
    merchant_login(client, company_admin)
    assert "8" in register(client, small_store, username="short").content.decode()
    assert "正しく選択" in register(client, other_store).content.decode()
    assert "店舗を選択してください" in client.get(reverse("merchants:user_create")).content.decode()
    assert not User.objects.filter(username="hanako-yamada").exists()


@pytest.mark.django_db(transaction=True)
def test_city_staff_registering_a_company_admin_sends_the_registration_notice(
    client, city_staff, company
):
    response = factories.staff_login(client, city_staff).post(
        reverse("admin:merchants_user_add"),
        {
            "username": "tanaka-admin",
            "name": "田中 一郎",
            "email": "tanaka@example.jp",
            "role": "company_admin",
            "company": company.pk,
            "usable_password": "false",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    notice = mail.outbox[0]
    assert notice.subject == "加盟店登録完了のお知らせ"
    assert company.code in notice.body and "tanaka-admin" in notice.body
    assert "/merchant/welcome/" in notice.body and "/merchant/login/" in notice.body


@pytest.mark.django_db
def test_store_manager_registers_only_staff_of_own_store(
    client, merchant_login, store_manager, large_store, small_store
):
    merchant_login(client, store_manager)
    response = register(client, large_store)
    assert "正しく選択" in response.content.decode()
    response = register(client, small_store, role="store_manager")
    assert "正しく選択" in response.content.decode()
    assert register(client, small_store).status_code == 302


@pytest.mark.django_db
def test_list_search_lock_state_unlock_and_deactivate(
    client, merchant_login, company_admin, store_staff, store_manager, settings
):
    settings.MERCHANT_ACCOUNT_FAILURE_LIMIT = 5  # the long budget, spent quickly
    for _ in range(5):
        client.post("/merchant/login/", {"username": store_staff.username, "password": "bad"})
    merchant_login(client, company_admin)
    response = client.get(reverse("merchants:users"), {"q": "charlie"})
    body = response.content.decode()
    assert store_staff.username in body and store_manager.username not in body
    assert "ロック中" in body

    client.post(reverse("merchants:user_unlock", args=[store_staff.pk]))
    body = client.get(reverse("merchants:users"), {"q": "charlie"}).content.decode()
    assert "ロック中" not in body and "ロックなし" in body

    client.post(reverse("merchants:user_deactivate", args=[store_staff.pk]))
    store_staff.refresh_from_db()
    assert not store_staff.is_active
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"merchants.user.unlocked", "merchants.user.deactivated"} <= actions


@pytest.mark.django_db
def test_store_manager_cannot_unlock_or_touch_company_admin(
    client, merchant_login, store_manager, company_admin
):
    merchant_login(client, store_manager)
    assert client.post(reverse("merchants:user_unlock", args=[company_admin.pk])).status_code == 404
    response = client.post(reverse("merchants:user_deactivate", args=[company_admin.pk]))
    assert response.status_code == 404
    company_admin.refresh_from_db()
    assert company_admin.is_active


@pytest.mark.django_db
def test_django_admin_shows_lock_and_city_staff_unlocks(client, city_staff, store_staff, settings):
    settings.MERCHANT_ACCOUNT_FAILURE_LIMIT = 5  # the long budget, spent quickly
    for _ in range(5):
        client.post("/merchant/login/", {"username": store_staff.username, "password": "bad"})
    factories.staff_login(client, city_staff)
    body = client.get("/admin/merchants/user/").content.decode()
    assert "アカウントロック状態" in body and "ロック中" in body
    client.post(
        "/admin/merchants/user/",
        {"action": "unlock", "_selected_action": [store_staff.pk]},
    )
    assert "ロック中" not in client.get("/admin/merchants/user/").content.decode()
    assert AuditLog.objects.filter(action="merchants.user.unlocked", actor=city_staff).exists()


@pytest.mark.django_db
def test_a_new_terminal_password_is_shown_once(client, merchant_login, company_admin, small_store):
    """Issued, it is in the page after the POST; the list, a reload and the database never
    show it again (only a keyed hash is kept)."""
    terminal = factories.terminal(small_store, name="レジ1", setup_password="52825282")
    merchant_login(client, company_admin)
    body = client.get(reverse("merchants:terminals")).content.decode()
    assert terminal.terminal_id in body and "52825282" not in body and "発行済み" in body

    issued = client.post(reverse("merchants:terminal_password", args=[terminal.pk]), follow=True)
    body = issued.content.decode()
    password = re.search(r"レジ1の端末パスワードは (\d{8}) です", body).group(1)
    assert "二度と表示されません" in body
    terminal.refresh_from_db()
    assert check_password(password, terminal.setup_password_hash)
    assert not check_password("52825282", terminal.setup_password_hash)
    reloaded = client.get(reverse("merchants:terminals")).content.decode()
    assert password not in reloaded and "二度と表示されません" not in reloaded
    issued_at = date_format(
        timezone.localtime(terminal.setup_password_issued_at), "DATETIME_FORMAT"
    )
    assert f"発行済み（{issued_at}）" in reloaded
    log = AuditLog.objects.get(action="merchants.terminal.password_regenerated")
    assert log.actor == company_admin and log.data["terminal_id"] == terminal.terminal_id
    assert password not in str(log.data)


@pytest.mark.django_db
def test_store_staff_cannot_regenerate(client, merchant_login, store_staff, small_store):
    terminal = factories.terminal(small_store)
    merchant_login(client, store_staff)
    assert (
        client.post(reverse("merchants:terminal_password", args=[terminal.pk])).status_code == 403
    )


@pytest.mark.django_db
def test_company_info_and_bank_account(client, merchant_login, company_admin, store_manager):
    merchant_login(client, company_admin)
    url = reverse("merchants:company")
    good = {
        "postal_code": "100-0001",
        "address": "東京都千代田区",
        "phone": "03-0000-0000",
        "email": "info@example.jp",
        "bank_code": "0001",
        "bank_name_kana": "ﾐｽﾞﾎ",
        "branch_code": "001",
        "branch_name_kana": "ﾄｳｷﾖｳ",
        "account_type": "1",
        "account_number": "1234567",
        "account_holder_kana": "ｶ)ﾃｽﾄ",
    }
    response = client.post(url, good | {"account_number": "12ab", "bank_name_kana": "みずほ"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "数字のみで入力してください" in body and "半角カナ" in body
    assert client.post(url, good).status_code == 302
    company_admin.company.refresh_from_db()
    assert company_admin.company.address == "東京都千代田区"  # contact details: at once
    assert company_admin.company.account_number == ""  # the account: only once approved
    change = BankAccountChange.objects.get(company=company_admin.company)
    assert (change.status, change.account_number) == ("pending", "1234567")
    log = AuditLog.objects.get(action="merchants.company.updated")
    assert "account_number" not in log.data["changes"]
    assert (
        AuditLog.objects.get(action="merchants.bank_account.requested").data["requested"][
            "account_number"
        ]
        == "1234567"
    )
    assert "承認待ち" in client.get(url).content.decode()

    merchant_login(client, store_manager)
    body = client.get(url).content.decode()
    assert '<form method="post" class="m-card' not in body
    assert client.post(url, good | {"address": "x"}).status_code == 200
    company_admin.company.refresh_from_db()
    assert company_admin.company.address == "東京都千代田区"


@pytest.mark.django_db
def test_stores_page_lists_scope(client, merchant_login, company_admin, small_store, large_store):
    merchant_login(client, company_admin)
    body = client.get(reverse("merchants:stores")).content.decode()
    assert small_store.code in body and large_store.code in body and small_store.passcode in body


@pytest.mark.django_db(transaction=True)
def test_a_new_payout_account_waits_for_city_staff_and_every_company_admin_is_told(
    client, merchant_login, company_admin, city_staff
):
    """Stolen merchant credentials cannot redirect a shop's money: the request is pending, every
    company admin is e-mailed, and only approved values reach the company (payouts, 全銀)."""
    company = company_admin.company
    other_admin = factories.user(
        "second-admin", role="company_admin", company=company, email="second@example.jp"
    )
    merchant_login(client, company_admin)
    account = {
        "bank_code": "0005",
        "bank_name_kana": "ﾐﾂﾋﾞｼ",
        "branch_code": "123",
        "branch_name_kana": "ﾎﾝﾃﾝ",
        "account_type": "1",
        "account_number": "7654321",
        "account_holder_kana": "ｶ)ﾃｽﾄ",
    }
    client.post(
        reverse("merchants:company"),
        {"postal_code": "", "address": "", "phone": "", "email": ""} | account,
    )
    assert sorted(m.to[0] for m in mail.outbox) == sorted([company_admin.email, other_admin.email])
    assert "口座" in mail.outbox[0].subject and "****321" in mail.outbox[0].body
    change = BankAccountChange.objects.get()

    staff = factories.staff_login(Client(), city_staff, fresh=False)
    url = reverse("admin:merchants_bankaccountchange_changelist")
    stale = staff.post(url, {"action": "approve", "_selected_action": [change.pk]})
    assert "/admin/otp/reverify/" in stale["Location"]
    company.refresh_from_db()
    assert company.account_number == ""  # nothing changed without a fresh second factor
    staff = factories.staff_login(Client(), city_staff)
    staff.post(url, {"action": "approve", "_selected_action": [change.pk]})
    company.refresh_from_db()
    change.refresh_from_db()
    assert (change.status, change.decided_by) == ("approved", city_staff)
    assert (company.account_number, company.bank_name_kana) == ("7654321", "ﾐﾂﾋﾞｼ")
    assert AuditLog.objects.filter(action="merchants.bank_account.approved").exists()
    assert "承認されました" in mail.outbox[-1].subject


@pytest.mark.django_db(transaction=True)
def test_a_later_request_replaces_the_pending_one_and_a_rejected_one_changes_nothing(
    client, merchant_login, company_admin, city_staff
):
    company = company_admin.company
    merchant_login(client, company_admin)
    base = {
        "postal_code": "",
        "address": "",
        "phone": "",
        "email": "",
        "bank_code": "0001",
        "bank_name_kana": "ﾐｽﾞﾎ",
        "branch_code": "001",
        "branch_name_kana": "ﾄｳｷﾖｳ",
        "account_type": "1",
        "account_holder_kana": "ｶ)ﾃｽﾄ",
    }
    client.post(reverse("merchants:company"), base | {"account_number": "1111111"})
    client.post(reverse("merchants:company"), base | {"account_number": "2222222"})
    assert list(BankAccountChange.objects.order_by("pk").values_list("status", flat=True)) == [
        "superseded",
        "pending",
    ]
    staff = factories.staff_login(Client(), city_staff)
    pending = BankAccountChange.objects.get(status="pending")
    staff.post(
        reverse("admin:merchants_bankaccountchange_changelist"),
        {"action": "reject", "_selected_action": [pending.pk]},
    )
    company.refresh_from_db()
    assert (
        company.account_number == ""
        and BankAccountChange.objects.get(pk=pending.pk).status == "rejected"
    )
