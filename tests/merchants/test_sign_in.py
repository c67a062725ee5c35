"""Sign-in: password (axes), e-mailed 6-digit code (django-otp), forced password change.

The limits themselves (per address, per account, known devices) are in test_throttling.py."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice

from core.models import AuditLog
from merchants.models import User
from tests import factories

LOGIN = "/merchant/login/"
CODE = "/merchant/login/code/"
PASSWORD = "Passw0rd-test"
PAUSED = "ログインを一時停止しています"


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def last_code() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def sign_in_password(client, user, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": user.username, "password": password}, **extra)


@pytest.fixture
def newcomer(small_store):
    user = factories.user(
        "newmanager1",
        email="newcomer@example.jp",
        role="store_manager",
        company=small_store.company,
        store=small_store,
    )
    user.must_change_password = True
    user.save()
    return user


@pytest.mark.django_db
def test_first_sign_in_sends_code_then_forces_password_change(client, newcomer):
    response = sign_in_password(client, newcomer)
    assert response.status_code == 302 and response["Location"] == CODE
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["newcomer@example.jp"]
    assert client.get("/merchant/").status_code == 302  # not verified yet

    response = client.post(CODE, {"code": last_code()})
    assert response["Location"] == reverse("merchants:password_change")
    assert client.get("/merchant/")["Location"] == "/merchant/password/change/"

    response = client.post(
        "/merchant/password/change/",
        {"old_password": PASSWORD, "new_password1": "Tsuki9Hoshi", "new_password2": "Tsuki9Hoshi"},
    )
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert not newcomer.must_change_password
    assert newcomer.check_password("Tsuki9Hoshi")
    assert AuditLog.objects.filter(
        action="merchants.user.password_changed", actor=newcomer
    ).exists()
    assert client.get("/merchant/").status_code == 200


@pytest.mark.django_db
def test_code_is_single_use_and_expires(client, company_admin):
    company_admin.email = "alice@example.jp"
    company_admin.save()
    sign_in_password(client, company_admin)
    code = last_code()
    device = EmailDevice.objects.get(user=company_admin)
    device.valid_until = timezone.now() - timedelta(seconds=1)
    device.save()
    response = client.post(CODE, {"code": code})
    assert response.status_code == 200
    assert "コードが正しくないか、有効期限が切れています" in response.content.decode()

    client.logout()
    device.last_generated_timestamp = None  # past the resend cool-down
    device.throttling_failure_count = 0
    device.save()
    sign_in_password(client, company_admin)
    code = last_code()
    assert client.post(CODE, {"code": code}).status_code == 302
    client.logout()
    # The same code cannot be used for a second sign-in.
    sign_in_password(client, company_admin)
    assert client.post(CODE, {"code": code}).status_code == 200


@pytest.mark.django_db
def test_resend_has_a_cool_down(client, company_admin, settings):
    company_admin.email = "alice@example.jp"
    company_admin.save()
    sign_in_password(client, company_admin)
    assert len(mail.outbox) == 1
    response = client.post("/merchant/login/code/resend/", follow=True)
    assert "しばらくお待ちください" in response.content.decode()
    assert len(mail.outbox) == 1
    device = EmailDevice.objects.get(user=company_admin)
    device.last_generated_timestamp = timezone.now() - timedelta(
        seconds=settings.OTP_EMAIL_COOLDOWN_DURATION + 1
    )
    device.save()
    client.post("/merchant/login/code/resend/")
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_policy_rejects_weak_passwords(client, newcomer, merchant_login):
    merchant_login(client, newcomer)
    for weak, message in [
        ("short1A", "短すぎます"),
        ("alllowercase1", "数字、英大文字、英小文字"),
        ("Password1", "よく使われる"),
        ("newmanager1", "ログインID"),
    ]:
        response = client.post(
            "/merchant/password/change/",
            {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak},
        )
        assert response.status_code == 200, weak
        assert message in response.content.decode(), weak
    newcomer.refresh_from_db()
    assert newcomer.must_change_password


@pytest.mark.django_db
def test_store_staff_need_twelve_characters(client, store_staff, merchant_login):
    merchant_login(client, store_staff)
    data = {
        "old_password": PASSWORD,
        "new_password1": "Abcdefgh123",
        "new_password2": "Abcdefgh123",
    }
    response = client.post("/merchant/password/change/", data)
    assert response.status_code == 200
    assert "このパスワードは短すぎます。最低 12 文字以上必要です。" in response.content.decode()
    store_staff.refresh_from_db()
    assert store_staff.check_password(PASSWORD)
    data["new_password1"] = data["new_password2"] = "Abcdefgh1234"
    assert client.post("/merchant/password/change/", data).status_code == 302


@pytest.mark.django_db
def test_five_wrong_passwords_pause_that_address_for_the_account_only(client, company_admin):
    for _ in range(4):
        response = sign_in_password(client, company_admin, "wrong")
        assert "ログインIDまたはパスワードが正しくありません" in response.content.decode()
    response = sign_in_password(client, company_admin, "wrong")
    assert response.status_code == 429
    assert PAUSED in response.content.decode()
    assert sign_in_password(client, company_admin).status_code == 429
    assert not mail.outbox
    # The pause is the attacker's address's: the real user elsewhere still signs in.
    response = sign_in_password(client, company_admin, REMOTE_ADDR="192.0.2.99")
    assert response["Location"] == CODE


@pytest.mark.django_db
def test_lock_is_per_account_not_per_address(client, company_admin, store_manager):
    for _ in range(5):
        sign_in_password(client, company_admin, "wrong")
    # Same address, another account: still signs in.
    response = sign_in_password(client, store_manager)
    assert response.status_code == 302 and response["Location"] == CODE


@pytest.mark.django_db
def test_one_address_is_throttled_across_accounts(client, programme, company, settings):
    settings.MERCHANT_ADDRESS_FAILURE_LIMIT = 6
    users = [
        factories.user(
            f"spray-user-{i}", email=f"s{i}@example.jp", role="company_admin", company=company
        )
        for i in range(4)
    ]
    for user in users[:3]:
        for _ in range(2):
            sign_in_password(client, user, "wrong")
    response = sign_in_password(client, users[3])
    assert response.status_code == 429
    assert PAUSED in response.content.decode()
    # The account itself is not locked: from another address it signs in.
    response = sign_in_password(client, users[3], REMOTE_ADDR="198.51.100.7")
    assert response["Location"] == CODE


@pytest.mark.django_db
def test_wrong_codes_count_towards_the_lock(client, company_admin):
    sign_in_password(client, company_admin)
    device = EmailDevice.objects.get(user=company_admin)
    for _attempt in range(5):
        device.throttling_failure_count = 0  # look past django-otp's own back-off
        device.save()
        response = client.post(CODE, {"code": "000000" if last_code() != "000000" else "111111"})
    assert response.status_code == 429
    assert not client.session.get("_auth_user_id")
    assert sign_in_password(client, company_admin).status_code == 429


@pytest.mark.django_db
def test_city_staff_cannot_use_the_merchant_sign_in(client, city_staff):
    response = sign_in_password(client, city_staff)
    assert response.status_code == 200
    assert "ログインIDまたはパスワードが正しくありません" in response.content.decode()


@pytest.mark.django_db
def test_session_expires_after_inactivity_and_sign_out(client, company_admin, settings):
    sign_in_password(client, company_admin)
    assert client.session.get_expiry_age() == settings.MERCHANT_IDLE_SECONDS
    client.post(CODE, {"code": last_code()})
    assert client.get("/merchant/").status_code == 200
    response = client.post("/merchant/logout/")
    assert response["Location"] == LOGIN
    assert client.get("/merchant/").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_password_reset_by_e_mail(client, company_admin):
    company_admin.email = "alice@example.jp"
    company_admin.must_change_password = True
    company_admin.save()
    response = client.post("/merchant/password/reset/", {"email": "alice@example.jp"})
    assert response["Location"] == "/merchant/password/reset/sent/"
    run_worker()
    link = re.search(r"http://testserver(/merchant/password/reset/\S+/)", mail.outbox[0].body)
    response = client.get(link.group(1), follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "Umi7Yama8Kawa", "new_password2": "Umi7Yama8Kawa"}
    )
    assert response["Location"] == "/merchant/password/reset/done/"
    company_admin.refresh_from_db()
    assert company_admin.check_password("Umi7Yama8Kawa")
    assert not company_admin.must_change_password


@pytest.mark.django_db
def test_login_next_is_kept_and_safe(client, company_admin):
    sign_in_password(client, company_admin)
    client.logout()
    client.post(
        LOGIN + "?next=https://evil.example/",
        {"username": company_admin.username, "password": PASSWORD},
    )
    device = EmailDevice.objects.get(user=company_admin)
    device.last_generated_timestamp = None
    device.save()
    response = client.post(CODE, {"code": device.token})
    assert response["Location"] == "/merchant/"
    assert User.objects.get(pk=company_admin.pk).is_active


@pytest.mark.django_db(transaction=True)
def test_password_reset_mails_are_rate_limited(client, company_admin):
    company_admin.email = "alice@example.jp"
    company_admin.save()
    for _ in range(5):
        response = client.post("/merchant/password/reset/", {"email": "alice@example.jp"})
        assert response["Location"] == "/merchant/password/reset/sent/"
    run_worker()
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_the_forced_change_refuses_the_initial_password_again(client, newcomer):
    """All three fields the same would leave the password someone else chose in place."""
    sign_in_password(client, newcomer)
    client.post(CODE, {"code": last_code()})
    response = client.post(
        "/merchant/password/change/",
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert response.status_code == 200
    assert "最近使ったパスワードは使えません" in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.must_change_password


@pytest.mark.django_db
def test_a_change_may_not_go_back_to_one_of_the_last_passwords(
    client, company_admin, merchant_login
):
    merchant_login(client, company_admin)
    current = PASSWORD
    for new in ("Tsuki9Hoshi", "Umi7Yama8Kawa"):
        response = client.post(
            "/merchant/password/change/",
            {"old_password": current, "new_password1": new, "new_password2": new},
        )
        assert response.status_code == 302, response.content.decode()[-1500:]
        current = new
        company_admin.refresh_from_db()
        merchant_login(client, company_admin)  # signed in again with the new password
    back = client.post(
        "/merchant/password/change/",
        {"old_password": current, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert "最近使ったパスワードは使えません" in back.content.decode()


@pytest.mark.django_db
def test_store_staff_signing_in_here_are_sent_to_the_store_app(client, store_staff):
    response = client.post(
        "/merchant/login/", {"username": store_staff.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert (
        "店舗アプリ" in response.content.decode() and "/store/login/" in response.content.decode()
    )
    assert not mail.outbox  # no code sent, no session
    wrong = client.post("/merchant/login/", {"username": store_staff.username, "password": "nope"})
    assert "店舗アプリ" not in wrong.content.decode()  # the role is told only after the password
