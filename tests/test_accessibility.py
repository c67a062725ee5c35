"""axe-core (vendored, pinned: static/vendor/README.md) in Chromium on every resident, store-app
and merchant page and on our own admin pages: no critical or serious WCAG 2.2 A/AA violation."""

from pathlib import Path

import pytest
from django.conf import settings

from payments import services
from tests import factories
from tests.conftest import PHONE
from tests.payments.test_browser import _signed_in_store_page, scene, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "static/vendor/axe-core/axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations
    .filter(v => v.impact === 'critical' || v.impact === 'serious')
    .map(v => [v.id, v.impact, v.nodes.slice(0, 3).map(n => n.target.join(' '))]);
}"""


def violations(page, url):
    page.goto(url)
    page.add_script_tag(path=str(AXE))  # the context bypasses CSP for this test tool only
    return page.evaluate(RUN, TAGS)


@pytest.fixture
def context(browser):
    contexts = []

    def make(**options):
        contexts.append(browser.new_context(bypass_csp=True, **(PHONE | options)))
        return contexts[-1]

    yield make
    for c in contexts:
        c.close()


def session_cookie(client, url):
    return [
        {
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": url,
        }
    ]


def test_resident_and_store_app_pages(context, scene):  # noqa: F811
    payment = services.payment_create_mpm(
        wallet=scene["wallet"], store=scene["store"], amount=1_120, idempotency_key="axe"
    )
    page = context().new_page()
    found = {"/login/": violations(page, scene["url"] + "/login/")}
    sign_in(page, scene)
    page.wait_for_url("**/")
    for path in ["/", "/pay/", "/code/", "/history/", f"/pay/done/{payment.number}/", "/offline/"]:
        found[path] = violations(page, scene["url"] + path)
    staff = factories.user(
        "axe-staff", role="store_staff", company=scene["store"].company, store=scene["store"]
    )
    store = _signed_in_store_page(context(), scene, staff)
    for path in [
        "/store/",
        "/store/pay/",
        "/store/payments/",
        "/store/feed/",
        f"/store/payments/{payment.number}/",
    ]:
        found[path] = violations(store, scene["url"] + path)
    assert not {path: v for path, v in found.items() if v}


def test_merchant_admin_pages(
    context, live_server, client, merchant_login, company_admin, small_store, programme, common
):
    wallet = factories.funded_wallet(programme, {common: 10_000})
    factories.terminal(small_store, name="レジ1")
    factories.payment(wallet, small_store, 1_000)
    merchant_login(client, company_admin)
    ctx = context(viewport={"width": 1366, "height": 900}, is_mobile=False, has_touch=False)
    ctx.add_cookies(session_cookie(client, live_server.url))
    page = ctx.new_page()
    found = {}
    for path in [
        "/merchant/",
        "/merchant/history/",
        "/merchant/monthly/",
        "/merchant/daily/",
        "/merchant/settlement/cycle/",
        "/merchant/settlement/payouts/",
        "/merchant/stores/",
        "/merchant/terminals/",
        "/merchant/users/",
        "/merchant/users/new/",
        "/merchant/downloads/",
        "/merchant/company/",
        "/merchant/password/change/",
    ]:
        found[path] = violations(page, live_server.url + path)
    anonymous = context().new_page()
    found["/merchant/login/"] = violations(anonymous, live_server.url + "/merchant/login/")
    assert not {path: v for path, v in found.items() if v}


def test_our_own_admin_pages(context, live_server, client, city_staff, programme, common):
    factories.wallet(programme)
    factories.staff_login(client, city_staff)
    ctx = context(viewport={"width": 1366, "height": 900}, is_mobile=False, has_touch=False)
    ctx.add_cookies(session_cookie(client, live_server.url))
    page = ctx.new_page()
    found = {}
    for path in [
        "/admin/",
        "/admin/wallets/importrun/add/",
        "/admin/wallets/wallet/",
        f"/admin/settlement/settlementrun/dashboard/{programme.pk}/",
        "/admin/wallets/programme/add/",
        "/admin/merchants/company/add/",
        "/admin/merchants/store/add/",
    ]:
        found[path] = violations(page, live_server.url + path)
    assert not {path: v for path, v in found.items() if v}
