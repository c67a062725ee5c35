"""Django admin: no page before a verified second factor; enrolment, TOTP, e-mailed and backup
codes, limits on code entry, the staff session's idle timeout."""

import re
import time

import pytest
from django.core import mail
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditLog
from merchants.portal.staff import LAST_SEEN_KEY
from tests import factories

PASSWORD = "Passw0rd-test"
ADMIN_PAGES = [
    "/admin/",
    "/admin/wallets/wallet/",
    "/admin/settlement/payout/",
    "/admin/password_change/",
]


def code_for(device: TOTPDevice, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():06d}"


def signed_in_with_password(user, address="192.0.2.10") -> Client:
    client = Client(REMOTE_ADDR=address)
    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_no_admin_page_with_the_password_only(city_staff, path):
    client = signed_in_with_password(city_staff)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/otp/setup/?next=")
    enrolled(city_staff)
    response = client.get(path)
    assert response["Location"].startswith("/admin/otp/verify/?next=")


@pytest.mark.django_db
def test_enrolment_at_first_sign_in_then_backup_codes_once(city_staff):
    client = signed_in_with_password(city_staff)
    page = client.get("/admin/otp/setup/?next=/admin/wallets/wallet/")
    html = page.content.decode()
    assert page.status_code == 200 and "認証アプリの設定" in html
    assert "<svg" in html and "<path" in html and "style=" not in html[html.index("<svg") :]
    assert "<script>" not in html
    device = TOTPDevice.objects.get(user=city_staff, confirmed=False)
    # The key the page shows (spaced in fours) is the device's key in base32.
    shown = re.search(r"data-secret>([A-Z2-7 ]+)<", html).group(1).replace(" ", "")
    assert device.config_url.split("secret=")[1].startswith(shown)
    wrong = client.post("/admin/otp/setup/", {"code": "000000", "next": "/admin/"})
    assert wrong.status_code == 200 and "コードが正しくないか" in wrong.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # otp's delay
    response = client.post(
        "/admin/otp/setup/", {"code": code_for(device), "next": "/admin/wallets/wallet/"}
    )
    assert response.status_code == 302 and response["Location"].startswith(
        "/admin/otp/backup-codes/"
    )
    device.refresh_from_db()
    assert device.confirmed
    codes = re.findall(
        r"<li><code>(\w+)</code></li>", client.get(response["Location"]).content.decode()
    )
    assert len(codes) == 10 and set(codes) == set(
        StaticToken.objects.filter(device__user=city_staff).values_list("token", flat=True)
    )
    download = client.get("/admin/otp/backup-codes/download/")
    assert download["Content-Disposition"] == 'attachment; filename="backup-codes.txt"'
    assert all(code in download.content.decode() for code in codes)
    done = client.post("/admin/otp/backup-codes/", {"next": "/admin/wallets/wallet/"})
    assert done["Location"] == "/admin/wallets/wallet/"
    assert client.get("/admin/wallets/wallet/").status_code == 200
    # Shown once: the page no longer lists them, the download has nothing.
    again = client.get("/admin/otp/backup-codes/").content.decode()
    assert not any(code in again for code in codes)
    assert client.get("/admin/otp/backup-codes/download/").status_code == 302
    assert AuditLog.objects.filter(
        action="core.staff.second_factor_enrolled", object_id=str(city_staff.pk)
    ).exists()


@pytest.mark.django_db
def test_enrolled_staff_cannot_enrol_a_new_authenticator_with_the_password(city_staff):
    device = enrolled(city_staff)
    client = signed_in_with_password(city_staff)
    response = client.get("/admin/otp/setup/")
    assert response["Location"].startswith("/admin/otp/verify/")
    assert list(TOTPDevice.objects.filter(user=city_staff)) == [device]


@pytest.mark.django_db
def test_sign_in_with_a_computed_totp_code(city_staff):
    device = enrolled(city_staff)
    client = signed_in_with_password(city_staff)
    page = client.get("/admin/otp/verify/?next=/admin/settlement/payout/")
    assert "二段階認証" in page.content.decode()
    response = client.post(
        "/admin/otp/verify/", {"code": code_for(device), "next": "/admin/settlement/payout/"}
    )
    assert response["Location"] == "/admin/settlement/payout/"
    assert client.get("/admin/settlement/payout/").status_code == 200


@pytest.mark.django_db
def test_the_same_totp_code_does_not_sign_in_twice(city_staff):
    device = enrolled(city_staff)
    code = code_for(device)
    first = signed_in_with_password(city_staff)
    assert first.post("/admin/otp/verify/", {"code": code})["Location"] == "/admin/"
    second = signed_in_with_password(city_staff, address="192.0.2.11")
    assert second.post("/admin/otp/verify/", {"code": code}).status_code == 200
    assert second.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_an_e_mailed_code_is_the_fallback(city_staff):
    city_staff.email = "staff@city.example.jp"
    city_staff.save()
    enrolled(city_staff)
    client = signed_in_with_password(city_staff)
    response = client.post("/admin/otp/email/", {"next": "/admin/"})
    assert response["Location"].startswith("/admin/otp/verify/")
    assert [m.to for m in mail.outbox] == [["staff@city.example.jp"]]
    code = re.search(r"\b(\d{6})\b", mail.outbox[0].body).group(1)
    response = client.post("/admin/otp/verify/", {"code": code, "next": "/admin/"})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_a_backup_code_works_once(city_staff):
    from merchants.portal.staff import backup_codes_issue

    enrolled(city_staff)
    codes = backup_codes_issue(city_staff, actor=city_staff)
    client = signed_in_with_password(city_staff)
    # People copy them with spaces or in capitals.
    response = client.post("/admin/otp/verify/", {"code": f" {codes[0].upper()} "})
    assert response["Location"] == "/admin/"
    other = signed_in_with_password(city_staff, address="192.0.2.12")
    assert other.post("/admin/otp/verify/", {"code": codes[0]}).status_code == 200
    assert other.get("/admin/").status_code == 302
    StaticDevice.objects.filter(user=city_staff).update(throttling_failure_count=0)
    assert other.post("/admin/otp/verify/", {"code": codes[1]})["Location"] == "/admin/"
    assert StaticToken.objects.filter(device__user=city_staff).count() == 8


@pytest.mark.django_db
def test_wrong_codes_lock_the_pair_and_end_the_session(city_staff):
    device = enrolled(city_staff)
    client = signed_in_with_password(city_staff, address="198.51.100.7")
    for _ in range(4):
        device.throttling_failure_count = 0  # django-otp's own delay is not under test here
        device.save()
        assert client.post("/admin/otp/verify/", {"code": "123456"}).status_code == 200
    response = client.post("/admin/otp/verify/", {"code": "123456"})
    assert response.status_code == 429 and "しばらく" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The right password from the same address is now refused before it is checked.
    again = Client(REMOTE_ADDR="198.51.100.7")
    response = again.post("/admin/login/", {"username": city_staff.username, "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in again.session
    city_staff.refresh_from_db()
    assert city_staff.failed_sign_ins == 5
    # Another address still signs in (the pause is the attacker's pair).
    assert signed_in_with_password(city_staff, address="192.0.2.99")


@pytest.mark.django_db
def test_the_address_budget_refuses_code_tries(settings, city_staff):
    settings.MERCHANT_ADDRESS_FAILURE_LIMIT = 2
    device = enrolled(city_staff)
    attacker = Client(REMOTE_ADDR="198.51.100.8")
    for n in range(2):
        attacker.post("/admin/login/", {"username": f"nobody-{n}", "password": "wrong"})
    staff = factories.staff_login(Client(REMOTE_ADDR="198.51.100.8"), city_staff)
    session = staff.session
    session.pop("otp_device_id")
    session.save()
    response = staff.post("/admin/otp/verify/", {"code": code_for(device)})
    assert response.status_code == 429
    device.refresh_from_db()
    assert device.last_t == -1  # refused before the code was checked


@pytest.mark.django_db
def test_thirty_idle_minutes_end_a_staff_session(city_staff, settings):
    client = factories.staff_login(Client(), city_staff)
    assert client.get("/admin/").status_code == 200
    assert client.session.get_expiry_age() == settings.STAFF_IDLE_SECONDS
    session = client.session
    session[LAST_SEEN_KEY] = time.time() - 29 * 60
    session.save()
    assert client.get("/admin/").status_code == 200  # activity moves the clock on
    session = client.session
    session[LAST_SEEN_KEY] = time.time() - 31 * 60
    session.save()
    response = client.get("/admin/wallets/wallet/")
    assert response["Location"] == "/admin/login/?next=%2Fadmin%2Fwallets%2Fwallet%2F"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_merchant_sessions_keep_their_own_expiry(client, merchant_login, company_admin, settings):
    merchant_login(client, company_admin)
    session = client.session
    session.set_expiry(settings.MERCHANT_IDLE_SECONDS * 4)
    session.save()
    assert client.get("/merchant/").status_code == 200
    assert LAST_SEEN_KEY not in client.session
    assert client.session.get_expiry_age() == settings.MERCHANT_IDLE_SECONDS * 4


@pytest.mark.django_db
def test_the_admin_sign_in_page_is_japanese(client):
    html = client.get("/admin/login/").content.decode()
    assert "ユーザー名" in html or "ログイン" in html


@pytest.mark.django_db
def test_no_registered_admin_page_opens_without_the_second_factor(city_staff):
    from django.contrib import admin
    from django.urls import reverse

    enrolled(city_staff)
    client = signed_in_with_password(city_staff)
    paths = [
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
        for m in admin.site._registry
    ]
    assert len(paths) > 20
    opened = [p for p in paths if client.get(p).status_code != 302]
    assert opened == []
    assert factories.staff_login(client, city_staff).get(paths[0]).status_code == 200


@pytest.mark.django_db
def test_verified_staff_find_their_backup_codes_in_the_header(city_staff):
    client = factories.staff_login(Client(), city_staff)
    html = client.get("/admin/").content.decode()
    assert 'href="/admin/otp/backup-codes/">バックアップコード</a>' in html
