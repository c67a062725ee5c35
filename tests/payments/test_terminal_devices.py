"""Each device set up for a store-app terminal is a row: named by its cookie, seen at most once a
minute, listed for the merchant and city staff, and ended alone or with every other one."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from core.models import AuditLog
from core.roles import AUDIT, MERCHANTS
from merchants.models import Terminal, TerminalDevice
from payments.access import TERMINAL_COOKIE, TERMINAL_COOKIE_SALT, device_token
from tests import factories
from tests.payments.conftest import pair

pytestmark = pytest.mark.django_db

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Mobile Safari/537.36"
)


def set_up(client, terminal, password="52825282", **headers):
    """The store app's set-up screen and its confirmation, as a person goes through them."""
    html = client.post(
        "/store/setup/", {"terminal_id": terminal.terminal_id, "password": password}, **headers
    ).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    return client.post("/store/setup/confirm/", {"token": token}, **headers)


def cookie_token(client) -> str:
    request = RequestFactory().get("/")
    request.COOKIES[TERMINAL_COOKIE] = client.cookies[TERMINAL_COOKIE].value
    return device_token(request)


def signed(value: str, salt: str) -> str:
    response = HttpResponse()
    response.set_signed_cookie(TERMINAL_COOKIE, value, salt=salt)
    return response.cookies[TERMINAL_COOKIE].value


def device_updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('UPDATE "merchants_terminaldevice"')]


def test_set_up_makes_a_device_row_the_cookie_names(client, app_terminal):
    response = set_up(client, app_terminal, HTTP_USER_AGENT=IPHONE, REMOTE_ADDR="203.0.113.9")
    assert response["Location"] == "/store/login/"
    device = TerminalDevice.objects.get()
    token = cookie_token(client)
    # The database holds the token's digest only.
    assert device.token_digest == TerminalDevice.digest(token) != token
    assert (device.terminal, device.label, device.client_address) == (
        app_terminal,
        "iPhone · Safari",
        "203.0.113.9",
    )
    assert client.get("/store/login/").status_code == 200

    # Set up again on the same browser (here for another terminal): one browser, one row.
    other = factories.terminal(
        app_terminal.store, kind=Terminal.Kind.STORE_APP, setup_password="11112222"
    )
    set_up(client, other, "11112222", HTTP_USER_AGENT=ANDROID)
    assert list(TerminalDevice.objects.values_list("terminal", "label")) == [
        (other.pk, "Android · Chrome")
    ]


def test_last_seen_is_written_at_most_once_a_minute(store_app):
    device = TerminalDevice.objects.get()
    long_ago = timezone.now() - timedelta(minutes=5)
    TerminalDevice.objects.update(last_seen_at=long_ago)
    with CaptureQueriesContext(connection) as first:
        assert store_app.get("/store/").status_code == 200
    device.refresh_from_db()
    assert device.last_seen_at > long_ago + timedelta(minutes=4)
    assert len(device_updates(first.captured_queries)) == 1

    just_now = timezone.now() - timedelta(seconds=30)
    TerminalDevice.objects.update(last_seen_at=just_now)
    with CaptureQueriesContext(connection) as second:
        assert store_app.get("/store/pay/").status_code == 200
    device.refresh_from_db()
    assert device.last_seen_at == just_now and device_updates(second.captured_queries) == []


def test_a_cookie_without_a_live_device_asks_for_set_up(client, app_terminal, store_staff):
    """A cookie from before device rows ("pk:pairing", the old salt), a made-up token, and the
    device of a terminal taken out of use all go back to set-up."""
    client.cookies[TERMINAL_COOKIE] = signed(f"{app_terminal.pk}:", "payments.store-terminal")
    assert client.get("/store/login/")["Location"] == "/store/setup/"
    client.cookies[TERMINAL_COOKIE] = signed("made-up-token", TERMINAL_COOKIE_SALT)
    assert cookie_token(client) == "made-up-token"  # well signed, naming no device
    assert client.get("/store/login/")["Location"] == "/store/setup/"

    pair(client, app_terminal)
    client.force_login(store_staff)
    assert client.get("/store/").status_code == 200
    Terminal.objects.filter(pk=app_terminal.pk).update(is_active=False)
    assert client.get("/store/")["Location"] == "/store/setup/"


def test_a_device_set_up_before_a_reissue_is_refused_after_it(
    store_app, app_terminal, company_admin, merchant_login
):
    assert store_app.get("/store/pay/").status_code == 200
    admin = merchant_login(Client(), company_admin)
    admin.post(f"/merchant/terminals/{app_terminal.pk}/password/")
    assert not TerminalDevice.objects.exists()
    refused = store_app.get("/store/pay/")
    assert refused.status_code == 302 and refused["Location"] == "/store/setup/"
    # The old password no longer sets up a device either.
    response = store_app.post(
        "/store/setup/", {"terminal_id": app_terminal.terminal_id, "password": "52825282"}
    )
    assert "端末IDまたは端末パスワードが正しくありません" in response.content.decode()


def test_a_set_up_begun_before_a_reissue_cannot_be_confirmed_after_it(
    client, app_terminal, company_admin, merchant_login
):
    html = client.post(
        "/store/setup/", {"terminal_id": app_terminal.terminal_id, "password": "52825282"}
    ).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    merchant_login(Client(), company_admin).post(f"/merchant/terminals/{app_terminal.pk}/password/")
    response = client.post("/store/setup/confirm/", {"token": token})
    assert response["Location"] == "/store/setup/"
    assert TERMINAL_COOKIE not in response.cookies and not TerminalDevice.objects.exists()


def test_the_merchant_lists_devices_with_last_seen_and_ends_one(
    app_terminal, store_staff, company_admin, merchant_login
):
    phone, tablet = Client(), Client()
    set_up(phone, app_terminal, HTTP_USER_AGENT=IPHONE, REMOTE_ADDR="203.0.113.9")
    set_up(tablet, app_terminal, HTTP_USER_AGENT=ANDROID, REMOTE_ADDR="198.51.100.4")
    for device in (phone, tablet):
        device.force_login(store_staff)
    seen = timezone.now() - timedelta(days=2)
    TerminalDevice.objects.filter(label="iPhone · Safari").update(last_seen_at=seen)

    admin = merchant_login(Client(), company_admin)
    body = admin.get("/merchant/terminals/").content.decode()
    assert "セットアップ済みの端末" in body and "最終利用" in body
    assert "iPhone · Safari" in body and "203.0.113.9" in body
    assert "Android · Chrome" in body and "198.51.100.4" in body
    assert date_format(timezone.localtime(seen), "DATETIME_FORMAT") in body

    lost = TerminalDevice.objects.get(label="iPhone · Safari")
    ended = admin.post(f"/merchant/terminals/devices/{lost.pk}/end/", follow=True)
    assert "iPhone · Safari" in ended.content.decode()  # the message names it
    assert phone.get("/store/")["Location"] == "/store/setup/"
    assert tablet.get("/store/").status_code == 200
    log = AuditLog.objects.get(action="merchants.terminal.device_ended")
    assert log.actor == company_admin and log.data["address"] == "203.0.113.9"


def test_django_admin_issues_a_terminal_password_once(client, city_staff, small_store):
    factories.staff_login(client, city_staff)
    response = client.post(
        "/admin/merchants/terminal/add/",
        {
            "store": small_store.pk,
            "terminal_id": "900000000001",
            "name": "店頭スマホ",
            "kind": "store_app",
            "external_id": "",
        },
        follow=True,
    )
    terminal = Terminal.objects.get(terminal_id="900000000001")
    password = re.search(r"の端末パスワードは (\d{8}) です", response.content.decode()).group(1)
    assert check_password(password, terminal.setup_password_hash)
    assert terminal.setup_password_issued_at is not None
    assert AuditLog.objects.filter(action="merchants.terminal.created", actor=city_staff).exists()
    change = client.get(f"/admin/merchants/terminal/{terminal.pk}/change/").content.decode()
    assert password not in change and "端末パスワード発行日時" in change

    client.get("/admin/merchants/terminal/")  # the message is gone
    pair(Client(), terminal)
    response = client.post(
        "/admin/merchants/terminal/",
        {"action": "reissue_password", "_selected_action": [terminal.pk]},
        follow=True,
    )
    again = re.search(r"の端末パスワードは (\d{8}) です", response.content.decode()).group(1)
    terminal.refresh_from_db()
    assert check_password(again, terminal.setup_password_hash)
    assert not check_password(password, terminal.setup_password_hash)
    assert not TerminalDevice.objects.exists()
    assert again not in client.get("/admin/merchants/terminal/").content.decode()


@pytest.mark.parametrize("role", [MERCHANTS, AUDIT])
def test_django_admin_lists_devices_and_merchant_staff_end_one(client, app_terminal, role):
    """加盟店担当 end a device from the terminal's page; 監査 see the list and change nothing."""
    pair(Client(), app_terminal)
    lost, kept = Client(), Client()
    for device in (lost, kept):
        pair(device, app_terminal)
    lost_row = TerminalDevice.objects.get(token_digest=TerminalDevice.digest(cookie_token(lost)))
    staff = factories.user("devices-staff", is_staff=True)
    factories.staff_login(client, staff, role=role)
    url = f"/admin/merchants/terminal/{app_terminal.pk}/change/"
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and "セットアップ済みの端末" in body and "最終利用" in body
    assert ('name="devices-0-DELETE"' in body) == (role == MERCHANTS)
    if role == AUDIT:
        return
    devices = list(
        TerminalDevice.objects.filter(terminal=app_terminal).order_by("-last_seen_at", "pk")
    )
    form = {
        "store": app_terminal.store_id,
        "terminal_id": app_terminal.terminal_id,
        "name": app_terminal.name,
        "kind": app_terminal.kind,
        "external_id": "",
        "is_active": "on",
        "failed_setup_attempts": 0,
        "devices-TOTAL_FORMS": len(devices),
        "devices-INITIAL_FORMS": len(devices),
        "devices-MIN_NUM_FORMS": 0,
        "devices-MAX_NUM_FORMS": 1000,
    }
    for n, device in enumerate(devices):
        form[f"devices-{n}-id"] = device.pk
        form[f"devices-{n}-terminal"] = app_terminal.pk
        if device == lost_row:
            form[f"devices-{n}-DELETE"] = "on"
    assert client.post(url, form).status_code == 302
    assert not TerminalDevice.objects.filter(pk=lost_row.pk).exists()
    assert TerminalDevice.objects.count() == 2
    assert AuditLog.objects.filter(action="merchants.terminal.device_ended", actor=staff).exists()
