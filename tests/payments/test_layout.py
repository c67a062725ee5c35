"""Resident pages and the store app at phone, tablet and desktop widths, and at 200% text on a
phone, in Chromium: nothing wider than the window; each page says in its title what it is; the
language switch; reduced motion stops the pulse but not the clock."""

import pytest

from payments import services
from payments.models import Payment
from payments.selectors import store_pay_url
from tests import factories
from tests.conftest import PHONE
from tests.payments.test_browser import scene, sign_in, store_app_page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def test_resident_pages_fit_every_width_and_200_percent_text(browser, scene):  # noqa: F811
    payment = services.payment_create_mpm(
        wallet=scene["wallet"], store=scene["store"], amount=1_120, idempotency_key="layout"
    )
    paths = ["/", "/pay/", "/code/", "/history/", f"/pay/done/{payment.number}/"]
    problems, titles = {}, set()
    for width, text_zoom in ((390, 1), (390, 2), (820, 1), (1366, 1)):
        context = browser.new_context(**(PHONE | {"viewport": {"width": width, "height": 844}}))
        page = context.new_page()
        sign_in(page, scene)
        page.wait_for_url("**/")
        for path in paths:
            page.goto(scene["url"] + path)
            if text_zoom > 1:  # the phone's text size at 200%
                page.evaluate("document.documentElement.style.fontSize = '200%'")
            if (extra := page.evaluate(OVERFLOW)) > 0:
                problems[(width, text_zoom, path)] = extra
            logout = page.get_by_role("button", name="ログアウト")
            assert logout.evaluate("b => b.getClientRects().length") == 1
            assert logout.bounding_box()["height"] < 60 * text_zoom  # one line
            titles.add(page.title())
        context.close()
    assert not problems, problems
    assert len(titles) == len(paths)  # every page names itself in the tab
    assert all("プレミアム付き電子商品券" in t for t in titles)


def test_language_switch_and_yen_stay_right_in_english(phone, scene):  # noqa: F811
    sign_in(phone, scene)
    phone.wait_for_url("**/")
    phone.get_by_role("button", name="English").click()
    phone.get_by_role("button", name="Sign out").wait_for()
    assert "8,000 円" in phone.content()  # one money format in both languages
    phone.get_by_role("button", name="日本語").click()
    phone.get_by_role("button", name="ログアウト").wait_for()


def test_reduced_motion_keeps_the_clock_and_stops_the_pulse(browser, scene):  # noqa: F811
    context = browser.new_context(**PHONE, reduced_motion="reduce")
    page = context.new_page()
    sign_in(page, scene)
    page.wait_for_url("**/")
    payment = services.payment_create_mpm(
        wallet=scene["wallet"], store=scene["store"], amount=500, idempotency_key="motion"
    )
    page.goto(f"{scene['url']}/pay/done/{payment.number}/")
    dot = page.locator(".live-dot")
    assert dot.evaluate("d => getComputedStyle(d).animationName") == "none"
    clock = page.locator("[data-live-clock]")
    first = clock.inner_text()
    page.wait_for_function(
        "t => document.querySelector('[data-live-clock]').textContent !== t", arg=first
    )
    context.close()


def test_store_app_fits_a_phone_and_a_tablet(browser, scene, store_app_page):  # noqa: F811
    staff = factories.user(
        "layout-staff", role="store_staff", company=scene["store"].company, store=scene["store"]
    )
    page = store_app_page(scene, staff)
    for width in (390, 820):
        page.set_viewport_size({"width": width, "height": 900})
        for path in ("/store/", "/store/pay/", "/store/payments/", "/store/feed/"):
            page.goto(scene["url"] + path)
            assert page.evaluate(OVERFLOW) <= 0, (width, path)


def test_when_the_camera_fails_the_passcode_opens_by_itself(phone, scene):  # noqa: F811
    """No camera on this browser: the message says so and the passcode entry opens, focused."""
    sign_in(phone, scene)
    phone.wait_for_url("**/")
    phone.goto(scene["url"] + "/pay/")
    passcode = phone.get_by_label("パスコード")
    assert not passcode.is_visible()
    phone.get_by_role("button", name="カメラを起動").click()
    phone.locator("[data-qr-state=error]").wait_for()
    assert passcode.is_visible()
    assert passcode.evaluate("el => el === document.activeElement")


def test_installable_with_icons_and_an_offline_page_that_pays_nothing(browser, scene):  # noqa: F811
    """Add to Home Screen: a manifest per app with our icons, full screen; offline, a page
    says the network is down, and a payment form sent offline is not kept for later."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    sign_in(page, scene)
    page.wait_for_url("**/")
    for path, start in (("/manifest.webmanifest", "/"), ("/store/manifest.webmanifest", "/store/")):
        manifest = page.request.get(scene["url"] + path).json()
        assert (manifest["display"], manifest["start_url"]) == ("standalone", start)
        for icon in manifest["icons"]:
            assert (
                page.request.get(scene["url"] + icon["src"]).headers["content-type"] == "image/png"
            )
    assert page.locator('link[rel="manifest"]').count() == 1
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the worker
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    page.goto(store_pay_url(scene["store"]))
    page.get_by_label("金額（円）").fill("700")
    page.get_by_role("button", name="次へ").click()
    page.get_by_text("お支払い内容の確認").wait_for()
    context.set_offline(True)
    page.get_by_role("button", name="支払う").click()  # fails: there is no network
    page.wait_for_url(lambda url: url.startswith("chrome-error:"))
    page.goto(scene["url"] + "/history/")
    assert "ネットワークに接続できません" in page.content()
    assert page.evaluate("getComputedStyle(document.querySelector('.r-header')).display") == "flex"
    context.set_offline(False)
    page.goto(scene["url"] + "/")
    assert "ネットワークに接続できません" not in page.content()
    context.close()
    assert not Payment.objects.exists()  # nothing was kept and sent once back online
