"""Store app limits: staff sign-in per device and address, the password change, terminal set-up."""

import re

from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client

from core.models import AuditLog
from merchants.models import Terminal, User
from payments import services
from tests import factories
from tests.payments.conftest import pair

PASSWORD = "Passw0rd-test"
WRONG_PASSWORD = "ログインIDまたはパスワードが正しくありません"
DEVICE_THROTTLED = "この端末でパスワードの誤りが続きました"
ADDRESS_THROTTLED = "試行回数が多すぎます"
SETUP_FAILED = "端末IDまたは端末パスワードが正しくありません"
SETUP_LOCKED = "企業管理者に、加盟店管理画面の「端末」でロックを解除"


def sign_in(client, username, password=PASSWORD, address="192.0.2.1"):
    return client.post(
        "/store/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def page(html, username):
    """The page without what differs on every answer: the masked CSRF token and the typed ID."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return html.replace(f'value="{username}"', "")


def set_up(terminal_id, password, address="192.0.2.1"):
    return Client().post(
        "/store/setup/", {"terminal_id": terminal_id, "password": password}, REMOTE_ADDR=address
    )


# --- Staff sign-in -------------------------------------------------------------------------


def test_other_accounts_get_the_wrong_password_answer_and_lock_nothing(
    client, app_terminal, company_admin, city_staff, other_company_admin, small_store
):
    pair(client, app_terminal)
    other_store = factories.store(small_store.company, small_store.programme)
    elsewhere = factories.user(
        "dave-staff1", role="store_staff", company=small_store.company, store=other_store
    )
    wrong = sign_in(client, company_admin.username, "not-the-password").content.decode()
    for user in (company_admin, city_staff, other_company_admin, elsewhere):
        for _ in range(2):  # 9 failures in all: under the device limit
            right = sign_in(client, user.username).content.decode()
            assert WRONG_PASSWORD in right and "_auth_user_id" not in client.session
    assert page(right, "dave-staff1") == page(wrong, "alice-admin")  # the same page, word for word
    assert not AccessAttempt.objects.exists() and not AccessFailureLog.objects.exists()
    admin = Client()
    response = admin.post(
        "/admin/login/?next=/admin/",
        {"username": city_staff.username, "password": PASSWORD},
        REMOTE_ADDR="192.0.2.1",
    )
    assert response.status_code == 302 and admin.session["_auth_user_id"] == str(city_staff.pk)


def test_other_accounts_passwords_are_never_checked(
    client, app_terminal, company_admin, monkeypatch
):
    checked = []
    monkeypatch.setattr(User, "check_password", lambda user, raw: checked.append(user) or True)
    pair(client, app_terminal)
    assert WRONG_PASSWORD in sign_in(client, company_admin.username).content.decode()
    assert WRONG_PASSWORD in sign_in(client, "no-such-user").content.decode()
    assert checked == []


def test_store_staff_sign_in_without_touching_axes(client, app_terminal, store_staff):
    pair(client, app_terminal)
    assert sign_in(client, store_staff.username)["Location"] == "/store/"
    assert client.session["_auth_user_id"] == str(store_staff.pk)
    assert not AccessAttempt.objects.exists()


def test_the_device_limit_bites_at_its_number_from_any_address(
    app_terminal, store_staff, store_manager, small_store
):
    device = pair(Client(), app_terminal)
    for n in range(services.STORE_SIGN_IN_DEVICE_MAX_FAILURES):
        response = sign_in(device, store_staff.username, "wrong", address=f"198.51.100.{n}")
        assert WRONG_PASSWORD in response.content.decode()
    refused = sign_in(device, store_manager.username, address="203.0.113.9")
    assert DEVICE_THROTTLED in refused.content.decode() and "_auth_user_id" not in device.session
    # Another paired device of the store is its own count: the staff still get in there.
    other_device = pair(Client(), factories.terminal(small_store, kind=Terminal.Kind.STORE_APP))
    assert sign_in(other_device, store_staff.username, address="203.0.113.9").status_code == 302


def test_the_address_limit_bites_across_devices(store_staff, small_store):
    devices = [
        pair(Client(), factories.terminal(small_store, kind=Terminal.Kind.STORE_APP))
        for _ in range(3)
    ]
    for n in range(services.ADDRESS_MAX_FAILURES):
        sign_in(devices[n % 3], store_staff.username, "wrong", address="198.51.100.1")
    refused = sign_in(devices[0], store_staff.username, address="198.51.100.1")
    assert ADDRESS_THROTTLED in refused.content.decode()
    assert sign_in(devices[0], store_staff.username, address="198.51.100.2").status_code == 302


def test_wrong_current_passwords_count_in_the_device_limit(client, app_terminal, store_staff):
    pair(client, app_terminal)
    sign_in(client, store_staff.username)
    new = {"new_password1": "Counter-2026-ok", "new_password2": "Counter-2026-ok"}
    for n in range(services.STORE_SIGN_IN_DEVICE_MAX_FAILURES):
        response = client.post(
            "/store/password/",
            {"current_password": "wrong", **new},
            REMOTE_ADDR=f"198.51.100.{n}",
        )
        assert "現在のパスワードが正しくありません" in response.content.decode()
    response = client.post("/store/password/", {"current_password": PASSWORD, **new})
    assert DEVICE_THROTTLED in response.content.decode()
    store_staff.refresh_from_db()
    assert store_staff.check_password(PASSWORD)


def test_the_new_password_must_differ_from_the_current_one(client, app_terminal, store_staff):
    pair(client, app_terminal)
    sign_in(client, store_staff.username)
    same = "Counter-2026-ok"
    store_staff.set_password(same)
    store_staff.save()
    client.force_login(store_staff)
    response = client.post(
        "/store/password/",
        {"current_password": same, "new_password1": same, "new_password2": same},
    )
    assert "現在のパスワードとは別のパスワードにしてください" in response.content.decode()


# --- Terminal set-up -----------------------------------------------------------------------


def test_terminal_set_up_locks_at_its_number_from_many_addresses(app_terminal):
    for n in range(services.TERMINAL_SETUP_MAX_FAILURES - 1):
        response = set_up(app_terminal.terminal_id, f"{n:08d}", address=f"198.51.100.{n}")
        assert SETUP_FAILED in response.content.decode()
    last = set_up(app_terminal.terminal_id, "99999999", address="198.51.100.99")
    assert SETUP_LOCKED in last.content.decode()
    right = set_up(app_terminal.terminal_id, "52825282", address="203.0.113.1")
    assert SETUP_LOCKED in right.content.decode() and "店舗情報の確認" not in right.content.decode()
    app_terminal.refresh_from_db()
    assert app_terminal.setup_locked_at is not None


def test_a_right_password_starts_the_count_again(app_terminal):
    for n in range(services.TERMINAL_SETUP_MAX_FAILURES - 1):
        set_up(app_terminal.terminal_id, "00000000", address=f"198.51.100.{n}")
    assert "店舗情報の確認" in set_up(app_terminal.terminal_id, "52825282").content.decode()
    assert SETUP_FAILED in set_up(app_terminal.terminal_id, "00000000").content.decode()


def test_an_unknown_terminal_id_locks_alike(app_terminal):
    unknown = "000000000001"
    answers = [
        set_up(unknown, "00000000", address=f"198.51.100.{n}").content.decode()
        for n in range(services.TERMINAL_SETUP_MAX_FAILURES)
    ]
    assert all(SETUP_FAILED in answer for answer in answers[:-1])
    assert SETUP_LOCKED in answers[-1]


def lock(terminal):
    terminal.failed_setup_attempts = services.TERMINAL_SETUP_MAX_FAILURES
    terminal.setup_locked_at = terminal.created_at
    terminal.save()


def test_the_store_manager_sees_and_lifts_the_lock(
    client, merchant_login, app_terminal, store_manager
):
    lock(app_terminal)
    merchant_login(client, store_manager)
    page = client.get("/merchant/terminals/").content.decode()
    assert "端末パスワードの誤りにより設定ロック中" in page and "設定のロックを解除" in page
    response = client.post(f"/merchant/terminals/{app_terminal.pk}/unlock/")
    assert response["Location"] == "/merchant/terminals/"
    app_terminal.refresh_from_db()
    assert app_terminal.setup_locked_at is None and app_terminal.failed_setup_attempts == 0
    entry = AuditLog.objects.get(action="merchants.terminal.setup_unlocked")
    assert entry.actor == store_manager and entry.company == app_terminal.store.company
    assert "店舗情報の確認" in set_up(app_terminal.terminal_id, "52825282").content.decode()
    unlock_url = f"/merchant/terminals/{app_terminal.pk}/unlock/"
    assert unlock_url not in client.get("/merchant/terminals/").content.decode()


def test_only_admins_of_that_company_can_lift_the_lock(
    client, merchant_login, app_terminal, other_company_admin, store_staff
):
    lock(app_terminal)
    for user, refused in ((other_company_admin, 404), (store_staff, 403)):
        merchant_login(client, user)
        assert client.post(f"/merchant/terminals/{app_terminal.pk}/unlock/").status_code == refused
    app_terminal.refresh_from_db()
    assert app_terminal.setup_locked_at is not None
    assert not AuditLog.objects.filter(action="merchants.terminal.setup_unlocked").exists()
