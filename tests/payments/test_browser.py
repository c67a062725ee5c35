"""Real-browser tests: Debian's Chromium, phone viewport, the pages people use at a counter.

Screenshots of every screen go to test-artifacts/<test>/ (git-ignored) for a person to look at.
"""

import re

import pytest
from PIL import Image

from merchants.models import Terminal
from payments import services
from payments.access import TERMINAL_COOKIE
from payments.models import Payment
from payments.qr_sheet import render_png
from tests import factories
from tests.conftest import PHONE, launch_chromium
from tests.fake_camera import qr_image, write_y4m
from tests.payments.conftest import device_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAKE_CAMERA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@pytest.fixture
def scene(settings, live_server):
    """A programme, a small store with its QR sheet terminal and store app, a funded wallet."""
    settings.SITE_URL = live_server.url
    programme = factories.programme(name="プレミアム付き電子商品券")
    common = factories.value_type(programme, code="common", name="共通券")
    local = factories.value_type(programme, code="local", name="専用券", small_local_only=True)
    store = factories.store(
        factories.company(name="エーナ食堂"), programme, name="エーナ食堂 本店", is_small_local=True
    )
    factories.terminal(store, kind=Terminal.Kind.QR_SHEET)
    app = factories.terminal(store, kind=Terminal.Kind.STORE_APP, setup_password="52825282")
    wallet = factories.funded_wallet(programme, {common: 5_000, local: 3_000}, pin="2468")
    return {"url": live_server.url, "store": store, "app": app, "wallet": wallet}


def sign_in(page, scene, pin="2468"):
    page.goto(f"{scene['url']}/login/?ticket={scene['wallet'].ticket_number}")
    page.get_by_label("暗証番号").fill(pin)
    page.get_by_role("button", name="ログイン").click()


def pay_amount_and_confirm(page, screenshot, amount):
    page.get_by_label("金額（円）").fill(str(amount))
    screenshot(page, "3-amount")
    page.get_by_role("button", name="次へ").click()
    page.get_by_text("お支払い内容の確認").wait_for()
    screenshot(page, "4-confirm")
    page.get_by_role("button", name="支払う").click()


def assert_live_completion(page, amount_text, store_name):
    page.get_by_text("お支払いが完了しました").wait_for()
    assert page.locator(".done-amount").inner_text() == amount_text
    assert store_name in page.locator(".done").inner_text()
    clock = page.locator("[data-live-clock]")
    first = clock.inner_text()
    page.wait_for_function(
        "t => document.querySelector('[data-live-clock]').textContent !== t", arg=first
    )
    assert re.fullmatch(r"\d\d:\d\d:\d\d", clock.inner_text())


@pytest.fixture
def store_app_page(browser):
    """store_app_page(scene, user): a paired device with `user` signed in at the login screen."""
    contexts = []

    def open_page(scene, user):
        context = browser.new_context(**PHONE)
        contexts.append(context)
        return _signed_in_store_page(context, scene, user)

    yield open_page
    for context in contexts:
        context.close()


def _signed_in_store_page(context, scene, user):
    context.add_cookies(
        [{"name": TERMINAL_COOKIE, "value": device_cookie(scene["app"]), "url": scene["url"]}]
    )
    page = context.new_page()
    page.goto(f"{scene['url']}/store/login/")
    page.get_by_label("ログインID").fill(user.username)
    page.get_by_label("パスワード").fill("Passw0rd-test")
    page.get_by_role("button", name="ログイン").click()
    page.get_by_role("heading", name="メニュー").wait_for()
    return page


def test_mpm_by_passcode_shows_up_on_the_store_feed(scene, phone, store_app_page, screenshot):
    staff = factories.user(
        "counter-staff", role="store_staff", company=scene["store"].company, store=scene["store"]
    )
    feed = store_app_page(scene, staff)
    feed.get_by_role("link", name="入金").first.click()
    feed.get_by_text("本日の決済はまだありません。").wait_for()

    sign_in(phone, scene)
    phone.get_by_text("8,000 円").first.wait_for()
    screenshot(phone, "1-home")
    phone.get_by_role("link", name="支払う").first.click()
    phone.get_by_text("パスコードを入力する").click()
    phone.get_by_label("パスコード").fill(scene["store"].passcode)
    screenshot(phone, "2-passcode")
    phone.get_by_role("button", name="次へ").click()
    phone.get_by_text("エーナ食堂 本店").wait_for()
    pay_amount_and_confirm(phone, screenshot, 1_200)
    assert_live_completion(phone, "1,200 円", "エーナ食堂 本店")
    assert "6,800 円" in phone.locator(".done-meta").inner_text()
    screenshot(phone, "5-done")

    payment = Payment.objects.get()
    row = feed.locator(f"[data-number='{payment.number}']")
    row.wait_for(timeout=5_000)
    assert "1,200 円" in row.inner_text()
    screenshot(feed, "6-store-feed")


def test_wrong_amount_and_passcode_messages(scene, phone, screenshot):
    sign_in(phone, scene)
    phone.goto(f"{scene['url']}/pay/")
    phone.get_by_text("パスコードを入力する").click()
    phone.get_by_label("パスコード").fill(
        "000000" if scene["store"].passcode != "000000" else "111111"
    )
    phone.get_by_role("button", name="次へ").click()
    phone.get_by_text("このパスコードのお店はありません").wait_for()
    screenshot(phone, "1-wrong-passcode")
    phone.get_by_label("パスコード").fill(scene["store"].passcode)
    phone.get_by_role("button", name="次へ").click()
    phone.get_by_label("金額（円）").fill("9000")
    phone.get_by_role("button", name="次へ").click()
    phone.get_by_text("残高が不足しています。このお店で使える残高は 8,000 円です。").wait_for()
    screenshot(phone, "2-over-balance")
    assert Payment.objects.count() == 0


def test_mpm_by_the_qr_sheet_url(scene, playwright_instance, tmp_path, screenshot):
    # The phone's own camera app: the sheet's QR is a URL that opens our pay page.
    sheet = Image.open(render_png([scene["store"]]))  # the printed sheet, at 200 dpi
    chromium = launch_chromium(
        playwright_instance,
        [*FAKE_CAMERA, f"--use-file-for-fake-video-capture={tmp_path / 'sheet.y4m'}"],
    )
    # What the in-page camera sees: the sheet held up close, QR in the middle.
    write_y4m(sheet.crop((300, 440, 1354, 1490)), tmp_path / "sheet.y4m")
    try:
        context = chromium.new_context(**PHONE)
        context.grant_permissions(["camera"], origin=scene["url"])
        page = context.new_page()
        sign_in(page, scene)
        page.get_by_role("link", name="支払う").first.click()
        screenshot(page, "1-scanner")
        page.get_by_role("button", name="カメラを起動する").click()
        page.wait_for_url(re.compile(r".*/pay/s/.+/$"), timeout=15_000)
        page.get_by_text("エーナ食堂 本店").wait_for()
        screenshot(page, "2-store-from-qr")
        pay_amount_and_confirm(page, screenshot, 2_500)
        assert_live_completion(page, "2,500 円", "エーナ食堂 本店")
        screenshot(page, "5-done")

        # A signed-out phone opening the URL (the camera app) signs in first, then lands there.
        stranger = chromium.new_context(**PHONE).new_page()
        from payments.selectors import store_pay_url

        stranger.goto(store_pay_url(scene["store"]))
        assert "/login/?next=/pay/s/" in stranger.url
        stranger.get_by_label("チケット番号").fill(scene["wallet"].ticket_number)
        sign_in_button = stranger.get_by_role("button", name="ログイン")
        stranger.get_by_label("暗証番号").fill("2468")
        sign_in_button.click()
        stranger.get_by_label("金額（円）").wait_for()
        assert "エーナ食堂 本店" in stranger.content()
    finally:
        chromium.close()
    assert Payment.objects.get().mode == "mpm"


def test_cpm_store_app_scans_the_residents_qr(
    scene, phone, playwright_instance, tmp_path, screenshot
):
    store = scene["store"]
    factories.user(
        "firstday01", password="firstday01", role="store_staff", company=store.company, store=store
    )
    from merchants.models import User

    User.objects.filter(username="firstday01").update(must_change_password=True)

    sign_in(phone, scene)
    phone.get_by_role("link", name="QRコード表示").first.click()
    image = phone.locator("[data-cpm-image]")
    image.wait_for()
    screenshot(phone, "1-resident-code")
    code = image.get_attribute("data-code")
    assert scene["wallet"].ticket_number not in code
    write_y4m(qr_image(code), tmp_path / "code.y4m")

    chromium = launch_chromium(
        playwright_instance,
        [*FAKE_CAMERA, f"--use-file-for-fake-video-capture={tmp_path / 'code.y4m'}"],
    )
    try:
        context = chromium.new_context(**PHONE)
        context.grant_permissions(["camera"], origin=scene["url"])
        app = context.new_page()
        app.goto(f"{scene['url']}/store/")
        assert app.url.endswith("/store/setup/")
        app.get_by_label("端末ID").fill(scene["app"].terminal_id)
        app.get_by_label("端末パスワード").fill("52825282")
        screenshot(app, "2-store-setup")
        app.get_by_role("button", name="OK").click()
        app.get_by_text("店舗情報の確認").wait_for()
        assert "エーナ食堂 本店" in app.locator("[data-store-name]").inner_text()
        screenshot(app, "3-store-confirm")
        app.get_by_role("button", name="登録する").click()
        app.get_by_label("ログインID").fill("firstday01")
        app.get_by_label("パスワード").fill("firstday01")
        screenshot(app, "4-store-login")
        app.get_by_role("button", name="ログイン").click()
        app.locator("#id_current_password").fill("firstday01")
        app.locator("#id_new_password1").fill("Counter-2026-ok")
        app.locator("#id_new_password2").fill("Counter-2026-ok")
        screenshot(app, "5-store-password")
        app.get_by_role("button", name="パスワード変更").click()
        app.get_by_role("link", name="QRコード決済").first.click()
        app.get_by_label("金額（円）").fill("3500")
        app.get_by_role("button", name="確認").click()
        app.get_by_text("お客様に金額をご確認ください").wait_for()
        screenshot(app, "6-store-confirm-amount")
        app.get_by_role("button", name="QRコードを読み取る").click()
        app.get_by_text("お支払いが完了しました").wait_for(timeout=15_000)
        assert app.locator(".done-amount").inner_text() == "3,500 円"
        screenshot(app, "7-store-done")
    finally:
        chromium.close()

    # The resident's page turns into the completion screen by itself.
    assert_live_completion(phone, "3,500 円", "エーナ食堂 本店")
    assert "4,500 円" in phone.locator(".done-meta").inner_text()
    screenshot(phone, "8-resident-done")
    payment = Payment.objects.get()
    assert (payment.mode, payment.amount, payment.terminal) == ("cpm", 3_500, scene["app"])


def test_store_cancellation_shows_on_the_residents_page(scene, phone, store_app_page, screenshot):
    staff = factories.user(
        "cancel-staff", role="store_manager", company=scene["store"].company, store=scene["store"]
    )
    payment = services.payment_create_mpm(
        wallet=scene["wallet"], store=scene["store"], amount=1_800, idempotency_key="b1"
    )
    app = store_app_page(scene, staff)
    app.get_by_role("link", name="取引履歴").first.click()
    screenshot(app, "1-history")
    app.get_by_role("link", name=re.compile("1,800 円")).click()
    screenshot(app, "2-detail")
    app.get_by_role("link", name="この取引を取り消す").click()
    app.get_by_text("この決済を取り消しますか").wait_for()
    app.get_by_label("メモ").fill("金額の打ち間違い")
    screenshot(app, "3-cancel-confirm")
    app.get_by_role("button", name="取り消す").click()
    app.get_by_text("取消済").first.wait_for()
    screenshot(app, "4-cancelled")
    payment.refresh_from_db()
    assert payment.is_cancelled and payment.cancelled_by == staff

    sign_in(phone, scene)
    phone.get_by_role("link", name="利用履歴").first.click()
    phone.get_by_text("返金（決済取消）").wait_for()
    rows = phone.locator(".r-history-row")
    assert "取消済" in rows.nth(1).inner_text() and "-1,800 円" in rows.nth(1).inner_text()
    assert "+1,800 円" in rows.nth(0).inner_text()
    screenshot(phone, "5-resident-history")
    phone.get_by_role("link", name="ホーム").first.click()
    assert "8,000 円" in phone.locator("[data-total]").inner_text()


def test_lockout_message_after_wrong_pins(scene, phone, screenshot):
    for _ in range(services.PIN_MAX_FAILURES):
        sign_in(phone, scene, pin="0000")
    message = phone.locator(".errorlist").inner_text()
    assert "このチケットは一時的にロックされました" in message
    assert "新しい暗証番号を発行できます" in message  # says how to get a new PIN
    screenshot(phone, "locked")
    sign_in(phone, scene)  # the right PIN waits for the lock too
    assert "このチケットは一時的にロックされました" in phone.locator(".errorlist").inner_text()


@pytest.fixture
def card_app(scene, playwright_instance, tmp_path):
    """A store device whose camera sees the wallet's card; returns (page, pin)."""
    from wallets.services import wallet_credentials_issue

    credentials = wallet_credentials_issue([scene["wallet"]])[0]
    write_y4m(qr_image(credentials.card_token), tmp_path / "card.y4m")
    chromium = launch_chromium(
        playwright_instance,
        [*FAKE_CAMERA, f"--use-file-for-fake-video-capture={tmp_path / 'card.y4m'}"],
    )
    staff = factories.user(
        "card-staff", role="store_staff", company=scene["store"].company, store=scene["store"]
    )
    context = chromium.new_context(**PHONE)
    context.grant_permissions(["camera"], origin=scene["url"])
    yield _signed_in_store_page(context, scene, staff), credentials.pin
    chromium.close()


def scan_card(app, amount):
    app.get_by_role("link", name="QRコード決済").first.click()
    app.get_by_label("金額（円）").fill(str(amount))
    app.get_by_role("button", name="確認").click()
    app.get_by_role("button", name="QRコードを読み取る").click()
    app.get_by_role("heading", name="お客様がPINを入力してください").wait_for(timeout=15_000)


def type_pin(app, pin):
    for digit in pin:
        app.get_by_role("button", name=digit, exact=True).click()
    assert app.locator("[data-pin-input]").get_attribute("type") == "password"
    assert app.locator("[data-pin-input]").input_value() == pin
    app.get_by_role("button", name="支払う").click()


def test_card_payment_wrong_pin_then_right_one_and_the_receipt(card_app, scene, screenshot):
    app, pin = card_app
    scan_card(app, 2_300)
    assert "2,300 円" in app.locator("[data-amount]").inner_text()
    screenshot(app, "1-pin-pad")
    type_pin(app, "000000" if pin != "000000" else "111111")
    error = app.locator("[data-pin-error]")
    error.wait_for()
    assert "あと4回" in error.inner_text()
    screenshot(app, "2-wrong-pin")
    type_pin(app, pin)
    app.get_by_text("お支払いが完了しました").wait_for()
    assert app.locator(".done-amount").inner_text() == "2,300 円"
    assert app.locator("[data-remaining]").inner_text() == "5,700 円"
    screenshot(app, "3-done-with-balance")

    # レシート印刷: in print, only the slip, on paper 80 mm (or 58 mm) wide.
    app.emulate_media(media="print")
    assert app.locator("[data-receipt]").is_visible()
    assert not app.locator(".done").is_visible() and not app.locator(".s-nav").is_visible()
    receipt = app.locator("[data-receipt]").inner_text()
    payment = Payment.objects.get()
    assert payment.number in receipt and "5,700 円" in receipt
    assert scene["wallet"].ticket_number not in receipt and pin not in receipt
    screenshot(app, "4-receipt-print")
    widths = {}
    for paper in ("80", "58"):
        app.evaluate(f"document.documentElement.setAttribute('data-receipt-width', '{paper}')")
        pdf = app.pdf(prefer_css_page_size=True)
        box = re.search(rb"/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)", pdf)
        widths[paper] = round(float(box.group(1)) / 72 * 25.4)
    assert widths == {"80": 80, "58": 58}
    assert (payment.mode, payment.amount) == ("card", 2_300)


def test_five_wrong_pins_lock_the_card(card_app, screenshot):
    app, pin = card_app
    scan_card(app, 500)
    wrong = "000000" if pin != "000000" else "111111"
    for _ in range(services.PIN_MAX_FAILURES - 1):
        type_pin(app, wrong)
        app.locator("[data-pin-error]").wait_for()
    type_pin(app, wrong)
    refused = app.locator("[data-card-refused]")
    refused.wait_for()
    assert "15分間ロックされました" in refused.inner_text()
    screenshot(app, "1-locked")
    app.get_by_role("link", name="最初からやり直す").click()
    app.get_by_label("金額（円）").wait_for()
    assert not Payment.objects.exists()
