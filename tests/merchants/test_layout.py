"""Every merchant admin page at phone, tablet and desktop widths in Chromium: nothing wider than
the window, no table wider than its card, 取消 on screen, dates never broken inside a word."""

import pytest
from django.conf import settings

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [390, 820, 1024, 1280, 1366]
PAGES = [
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
]
# What overflows, measured in the page: the document, and each table against its wrapper.
MEASURE = """() => {
  const out = {page: document.documentElement.scrollWidth - window.innerWidth, tables: []};
  for (const wrap of document.querySelectorAll('.m-table-wrap')) {
    const table = wrap.querySelector('table');
    if (table && table.scrollWidth > wrap.clientWidth + 1)
      out.tables.push([table.className, table.scrollWidth, wrap.clientWidth]);
  }
  for (const el of document.querySelectorAll('td, th, button, .button, a')) {
    if (el.closest('.m-stackable thead, .visually-hidden')) continue;  // read by screen readers only
    const r = el.getBoundingClientRect();
    if (r.width && (r.right > window.innerWidth + 1)) out.tables.push(['off-screen', el.textContent.trim().slice(0, 20)]);
  }
  // A date may break before its time, never inside "2026年11月24日".
  const range = document.createRange();
  for (const el of document.querySelectorAll('td.m-when')) {
    const text = el.firstChild;
    if (!text || text.nodeType !== 3) continue;
    const day = text.textContent.indexOf('日') + 1;
    range.setStart(text, 0); range.setEnd(text, day);
    if (range.getClientRects().length > 1) out.tables.push(['date broken', el.textContent.trim()]);
  }
  return out;
}"""


@pytest.fixture
def busy_company(company, programme, common, local, small_store, large_store):
    """A company with long names, several terminals and a full page of payments."""
    twin = factories.store(company, programme, name="エーナ食堂 駅前通り商店街本店")
    factories.terminal(small_store, name="レジ1（カウンター）")
    factories.terminal(twin, name="QR台紙")
    wallet = factories.funded_wallet(programme, {common: 1_000_000, local: 100_000})
    for n in range(25):
        factories.payment(
            wallet, twin if n % 2 else small_store, 1_000 + n * 1_111, key=f"l{n}", mode="mpm"
        )
    return company


def test_no_merchant_page_overflows_at_any_width(
    browser, live_server, client, merchant_login, company_admin, busy_company, screenshot
):
    merchant_login(client, company_admin)
    problems = {}
    for width in WIDTHS:
        context = browser.new_context(
            viewport={"width": width, "height": 900}, locale="ja-JP", timezone_id="Asia/Tokyo"
        )
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        page = context.new_page()
        for path in PAGES:
            page.goto(live_server.url + path)
            assert page.locator("h1").count() == 1, path
            found = page.evaluate(MEASURE)
            if found["page"] > 0 or found["tables"]:
                problems[(width, path)] = found
            if path == "/merchant/history/":
                screenshot(page, f"history-{width}")
        context.close()
    assert not problems, problems


def test_the_menu_folds_on_tablets_and_printing_leaves_only_the_figures(
    browser, live_server, client, merchant_login, company_admin, busy_company
):
    merchant_login(client, company_admin)
    context = browser.new_context(viewport={"width": 820, "height": 1180}, locale="ja-JP")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(live_server.url + "/merchant/monthly/")
    monthly_link = page.get_by_role("navigation").get_by_role("link", name="日別利用実績")
    assert not monthly_link.is_visible()
    assert page.locator("nav.m-sidebar").bounding_box()["height"] < 80
    page.get_by_role("button", name="メニュー").click()
    assert monthly_link.is_visible()
    monthly_link.click()
    page.wait_for_url("**/merchant/daily/")
    page.emulate_media(media="print")
    assert not page.locator("nav.m-sidebar").is_visible()
    assert not page.locator("form.m-search").is_visible()
    assert (
        page.locator("svg.m-chart").is_visible() and page.locator("table.m-aggregate").is_visible()
    )
    context.close()
