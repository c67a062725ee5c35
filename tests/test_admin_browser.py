"""Chromium: a city staff member's first sign-in enrols the authenticator app (QR, first code,
backup codes), then a later sign-in asks for the app's code. No CSP violation on the way."""

import base64
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Passw0rd-test"


def totp_code(secret: str, after_step: int | None = None) -> str:
    """The app's code now, or the first one after `after_step` (a used step is refused)."""
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time = time.time()
    if after_step is not None and totp.t() <= after_step:
        totp.time = (after_step + 1) * totp.step
    return f"{totp.token():06d}"


def password_sign_in(page, url, user):
    page.goto(f"{url}/admin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit]").click()


def test_enrolment_then_sign_in_with_a_totp_code(live_server, city_staff, desktop, screenshot):
    errors, missing = [], []
    desktop.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    desktop.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    password_sign_in(desktop, live_server.url, city_staff)
    desktop.get_by_role("heading", name="認証アプリの設定").wait_for()
    assert desktop.locator(".otp-qr svg").bounding_box()["width"] >= 200
    screenshot(desktop, "1-enrol")
    secret = desktop.locator("[data-secret]").inner_text()
    desktop.get_by_role("textbox", name="コード").fill(totp_code(secret))
    desktop.get_by_role("button", name="認証する").click()

    desktop.get_by_role("heading", name="バックアップコード").wait_for()
    codes = desktop.locator("[data-backup-codes] li").all_inner_texts()
    assert len(codes) == 10
    screenshot(desktop, "2-backup-codes")
    with desktop.expect_download() as download_info:
        desktop.get_by_role("link", name="テキストファイルでダウンロード").click()
    target = ARTIFACTS / "test_enrolment_then_sign_in_with_a_totp_code" / "backup-codes.txt"
    download_info.value.save_as(target)
    assert all(code in target.read_text() for code in codes)
    desktop.get_by_role("button", name="コードを保管しました").click()
    desktop.wait_for_url(f"{live_server.url}/admin/")
    desktop.locator("#content-main").wait_for()
    screenshot(desktop, "3-admin")

    desktop.get_by_role("button", name="ログアウト").click()
    password_sign_in(desktop, live_server.url, city_staff)
    desktop.get_by_role("heading", name="二段階認証").wait_for()
    screenshot(desktop, "4-verify")
    # The first code's time step is used: the app's next one, within django-otp's tolerance.
    used = TOTPDevice.objects.get(user=city_staff).last_t
    desktop.get_by_role("textbox", name="コード").fill(totp_code(secret, after_step=used))
    desktop.get_by_role("button", name="認証する").click()
    desktop.wait_for_url(f"{live_server.url}/admin/")
    assert desktop.locator("#content-main").get_by_role("link", name="支払").count() >= 1
    assert not [e for e in errors if "Content Security Policy" in e]
    assert [u for u in missing if not u.endswith("/favicon.ico")] == []
