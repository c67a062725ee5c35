"""The sign-in limits of docs/security.md for the merchant admin and Django admin, through real
HTTP clients with distinct addresses: each bites at its number, none locks the real user out."""

import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.management import call_command
from django.test import Client, RequestFactory
from django_tasks_db.models import DBTaskResult

from core.http import client_address
from merchants.models import User
from merchants.portal.forms import SetPasswordForm
from merchants.portal.security import KNOWN_DEVICE_COOKIE
from tests import factories

LOGIN = "/merchant/login/"
CODE = "/merchant/login/code/"
ADMIN_LOGIN = "/admin/login/"
PASSWORD = "Passw0rd-test"
PAUSED = "ログインを一時停止しています"
WRONG = "ログインIDまたはパスワードが正しくありません"


def at(address: str, **headers) -> Client:
    return Client(REMOTE_ADDR=address, **headers)


def sign_in(client, username, password=PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def page(response, username) -> str:
    """The answer without what differs by construction: the CSRF token and the echoed login ID."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return body.replace(username, "LOGIN-ID")


def sign_in_fully(client, user):
    """Password and e-mailed code: the browser becomes a known device."""
    assert sign_in(client, user.username)["Location"] == CODE
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    response = client.post(CODE, {"code": code})
    assert response.status_code == 302 and KNOWN_DEVICE_COOKIE in response.cookies
    client.post("/merchant/logout/")
    return client


# --- The client address ---


def test_a_direct_client_cannot_choose_its_address(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 0
    request = RequestFactory().get(
        "/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert client_address(request) == "198.51.100.1"


def test_behind_one_proxy_the_address_is_the_one_the_proxy_saw(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    rf = RequestFactory()
    proxied = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert client_address(proxied) == "203.0.113.9"  # the client's own entry on the left is ignored
    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.1")) == "10.0.0.1"
    junk = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_address(junk) == "10.0.0.1"


@pytest.mark.django_db
def test_a_spoofed_header_does_not_reset_the_address_count(settings, company):
    settings.MERCHANT_ADDRESS_FAILURE_LIMIT = 3
    user = factories.user(
        "spoof-target", email="t@example.jp", role="company_admin", company=company
    )
    for n in range(3):
        client = at("198.51.100.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        sign_in(client, f"someone-{n}", "wrong")
    client = at("198.51.100.1", HTTP_X_FORWARDED_FOR="203.0.113.77")
    assert sign_in(client, user.username).status_code == 429


@pytest.mark.django_db
def test_behind_a_proxy_each_client_has_its_own_limits(settings, company):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.MERCHANT_ADDRESS_FAILURE_LIMIT = 3
    user = factories.user(
        "proxied-user", email="p@example.jp", role="company_admin", company=company
    )
    attacker = at("10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66")
    for n in range(3):
        sign_in(attacker, f"someone-{n}", "wrong")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.66"}
    assert sign_in(attacker, user.username).status_code == 429
    respoofed = at("10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.66")
    assert sign_in(respoofed, user.username).status_code == 429
    resident = at("10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert sign_in(resident, user.username)["Location"] == CODE


# --- The merchant admin's sign-in ---


@pytest.mark.django_db
def test_a_try_during_the_pause_does_not_renew_it(company_admin):
    attacker = at("198.51.100.2")
    for _ in range(5):
        sign_in(attacker, company_admin.username, "wrong")
    before = AccessAttempt.objects.get()
    assert sign_in(attacker, company_admin.username).status_code == 429
    after = AccessAttempt.objects.get()
    assert (after.attempt_time, after.failures_since_start) == (
        before.attempt_time,
        before.failures_since_start,
    )


@pytest.mark.django_db
def test_the_long_budget_locks_the_account_until_a_reset_by_e_mail(settings, company_admin):
    settings.MERCHANT_ACCOUNT_FAILURE_LIMIT = 6
    for n in range(6):  # one guess per address: no quick limit ever bites
        assert (
            sign_in(at(f"198.51.100.{n + 10}"), company_admin.username, "wrong").status_code == 200
        )
    company_admin.refresh_from_db()
    assert company_admin.failed_sign_ins == 6
    response = sign_in(at("192.0.2.50"), company_admin.username)
    assert response.status_code == 429 and PAUSED in response.content.decode()
    assert not mail.outbox

    form = SetPasswordForm(
        company_admin, {"new_password1": "Umi7Yama8Kawa", "new_password2": "Umi7Yama8Kawa"}
    )
    assert form.is_valid()
    form.save()
    assert sign_in(at("192.0.2.50"), company_admin.username, "Umi7Yama8Kawa")["Location"] == CODE


@pytest.mark.django_db
def test_a_spray_never_refuses_the_real_user_on_a_known_device(settings, company):
    settings.MERCHANT_ACCOUNT_FAILURE_LIMIT = 10
    settings.MERCHANT_ADDRESS_FAILURE_LIMIT = 20
    users = [
        factories.user(
            f"shop-{i:02d}", email=f"s{i}@example.jp", role="company_admin", company=company
        )
        for i in range(20)
    ]
    real = users[0]
    phone = sign_in_fully(at("203.0.113.10"), real)
    for n in range(10):  # 10 addresses, every account, 2 guesses each per address
        attacker = at(f"198.51.100.{n + 100}")
        for user in users:
            for _ in range(2):
                sign_in(attacker, user.username, "wrong")
    # The real user's carrier address is shared with the attacker, who spent its budget too.
    shared = at("203.0.113.10")
    for user in users[1:]:
        sign_in(shared, user.username, "wrong")
    assert sign_in(at("203.0.113.10"), real.username).status_code == 429  # a new browser waits
    assert sign_in(phone, real.username)["Location"] == CODE
    real.refresh_from_db()
    assert real.failed_sign_ins >= settings.MERCHANT_ACCOUNT_FAILURE_LIMIT


@pytest.mark.django_db
def test_known_device_failures_do_not_spend_the_account_budget(company_admin):
    phone = sign_in_fully(at("203.0.113.11"), company_admin)
    sign_in(phone, company_admin.username, "typo")
    company_admin.refresh_from_db()
    assert company_admin.failed_sign_ins == 0


@pytest.mark.django_db
def test_answers_do_not_tell_whether_the_account_exists(company_admin):
    real, unknown = at("198.51.100.30"), at("198.51.100.31")
    wrong_real = sign_in(real, company_admin.username, "wrong")
    wrong_unknown = sign_in(unknown, "nobody-here", "wrong")
    assert WRONG in wrong_real.content.decode()
    assert page(wrong_real, company_admin.username) == page(wrong_unknown, "nobody-here")
    for _ in range(4):
        paused_real = sign_in(real, company_admin.username, "wrong")
        paused_unknown = sign_in(unknown, "nobody-here", "wrong")
    assert paused_real.status_code == paused_unknown.status_code == 429
    assert page(paused_real, company_admin.username) == page(paused_unknown, "nobody-here")


# --- Django admin ---


@pytest.mark.django_db
def test_django_admin_sign_in_has_the_per_address_budget(settings, city_staff):
    settings.MERCHANT_ADDRESS_FAILURE_LIMIT = 3
    attacker = at("198.51.100.40")
    for n in range(3):
        attacker.post(ADMIN_LOGIN, {"username": f"someone-{n}", "password": "wrong"})
    response = attacker.post(ADMIN_LOGIN, {"username": city_staff.username, "password": PASSWORD})
    assert response.status_code == 200 and PAUSED in response.content.decode()
    assert "_auth_user_id" not in attacker.session
    staff = at("192.0.2.60")
    response = staff.post(ADMIN_LOGIN, {"username": city_staff.username, "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in staff.session


@pytest.mark.django_db
def test_django_admin_failures_spend_the_account_budget(settings, city_staff):
    settings.MERCHANT_ACCOUNT_FAILURE_LIMIT = 3
    for n in range(3):
        at(f"198.51.100.{n + 50}").post(
            ADMIN_LOGIN, {"username": city_staff.username, "password": "wrong"}
        )
    response = at("192.0.2.61").post(
        ADMIN_LOGIN, {"username": city_staff.username, "password": PASSWORD}
    )
    assert PAUSED in response.content.decode()
    assert User.objects.get(pk=city_staff.pk).failed_sign_ins == 3


# --- The current password on the change forms ---


@pytest.mark.django_db
def test_wrong_current_passwords_count_in_the_merchant_limits(
    client, merchant_login, company_admin
):
    merchant_login(client, company_admin)
    data = {"new_password1": "Tsuki9Hoshi", "new_password2": "Tsuki9Hoshi"}
    for _ in range(4):
        response = client.post("/merchant/password/change/", {"old_password": "wrong", **data})
        assert response.status_code == 200
    response = client.post("/merchant/password/change/", {"old_password": "wrong", **data})
    assert response.status_code == 429 and PAUSED in response.content.decode()
    assert "_auth_user_id" not in client.session  # the open session is closed too
    company_admin.refresh_from_db()
    assert company_admin.check_password(PASSWORD) and company_admin.failed_sign_ins == 5
    assert sign_in(client, company_admin.username).status_code == 429


@pytest.mark.django_db
def test_wrong_current_passwords_count_in_the_django_admin(client, city_staff):
    factories.staff_login(client, city_staff)
    data = {"new_password1": "Tsuki9Hoshi", "new_password2": "Tsuki9Hoshi"}
    for _ in range(4):
        client.post("/admin/password_change/", {"old_password": "wrong", **data})
    response = client.post("/admin/password_change/", {"old_password": "wrong", **data})
    assert response.status_code == 429 and PAUSED in response.content.decode()
    city_staff.refresh_from_db()
    assert city_staff.check_password(PASSWORD) and city_staff.failed_sign_ins == 5
    response = client.post(ADMIN_LOGIN, {"username": city_staff.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_django_admin_password_change_still_works(client, city_staff):
    factories.staff_login(client, city_staff)
    response = client.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": "Tsuki9Hoshi", "new_password2": "Tsuki9Hoshi"},
    )
    assert response["Location"] == "/admin/password_change/done/"
    city_staff.refresh_from_db()
    assert city_staff.check_password("Tsuki9Hoshi")


# --- Password reset ---


@pytest.mark.django_db(transaction=True)
def test_reset_requests_do_the_same_work_and_the_worker_sends(client, company_admin):
    for email in [company_admin.email, "nobody@example.jp"]:
        response = client.post("/merchant/password/reset/", {"email": email})
        assert response["Location"] == "/merchant/password/reset/sent/"
    assert not mail.outbox  # nothing sent inside the request, whichever the address
    assert DBTaskResult.objects.count() == 2
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert [m.to for m in mail.outbox] == [[company_admin.email]]
    assert "/merchant/password/reset/" in mail.outbox[0].body
