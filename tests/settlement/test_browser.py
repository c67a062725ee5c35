"""A company admin opens 支払一覧 in Chromium, chooses the year and downloads a statement."""

from datetime import date

import pytest
from django.conf import settings
from django.urls import reverse

from payments import services as payment_services
from settlement import services
from tests import factories
from tests.conftest import ARTIFACTS
from tests.settlement.conftest import at


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_payout_list_and_statement_download(
    live_server,
    client,
    merchant_login,
    company_admin,
    company,
    autumn,
    desktop,
    screenshot,
):
    vt = factories.value_type(autumn)
    wallet = factories.funded_wallet(autumn, {vt: 30_000})
    store = factories.store(company, autumn, is_small_local=True)
    paid = [
        factories.payment(wallet, store, amount, key=f"b{n}", mode="mpm", now=at(day))
        for n, (amount, day) in enumerate(
            [(4_000, date(2026, 10, 2)), (2_500, date(2026, 10, 12)), (6_000, date(2026, 10, 20))]
        )
    ]
    services.settlement_run(programme=autumn, period_end=date(2026, 10, 15))
    payment_services.payment_cancel(
        payment=paid[0], memo="返品", enforce_window=False, now=at(date(2026, 10, 21))
    )
    services.settlement_run(programme=autumn, period_end=date(2026, 10, 31))

    merchant_login(client, company_admin)
    desktop.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    desktop.goto(live_server.url + reverse("settlement:payouts"))
    desktop.select_option("#id_year", "2026")
    desktop.get_by_role("button", name="表示").click()
    rows = desktop.locator("table.payouts tbody tr")
    assert rows.count() == 2
    assert "2026/10/01〜2026/10/15" in rows.nth(0).inner_text()
    assert "6,403 円" in rows.nth(0).inner_text()  # 6,500 − 97 (97.5 rounded down)
    second = rows.nth(1).inner_text()
    assert "2026/11/16" in second  # 15 Nov is a Sunday
    assert "-4,000 円" in second  # the late cancellation, shown as such
    assert "1,970 円" in second  # (6,000 − 4,000) − 30
    link = rows.nth(0).get_by_role("link", name="2026/10/01〜2026/10/15", exact=True)
    assert (
        link.get_attribute("href")
        == f"/merchant/history/?start=2026-10-01T00:00&end=2026-10-15T23:59&programme={autumn.pk}"
    )
    screenshot(desktop, "payouts")

    with desktop.expect_download() as download_info:
        rows.nth(1).get_by_role(
            "link", name="PDF テスト市プレミアム商品券 2026/10/16〜2026/10/31"
        ).click()
    download = download_info.value
    target = ARTIFACTS / "test_payout_list_and_statement_download" / "statement.pdf"
    download.save_as(target)
    assert download.suggested_filename == "支払明細書_autumn_20261016-20261031.pdf"
    assert target.read_bytes().startswith(b"%PDF")

    desktop.goto(live_server.url + reverse("settlement:cycle"))
    assert "精算サイクル：半月ごと" in desktop.locator("main").inner_text()
    screenshot(desktop, "cycle")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_city_dashboard_draws_its_charts(
    live_server, client, city_staff, company, autumn, desktop, screenshot
):
    vt = factories.value_type(autumn)
    wallet = factories.funded_wallet(autumn, {vt: 90_000})
    small = factories.store(company, autumn, is_small_local=True)
    large = factories.store(factories.company(name="大型店"), autumn)
    for n in range(20):
        factories.payment(
            wallet,
            small if n % 3 else large,
            500 + 250 * n,
            key=f"d{n}",
            mode="mpm",
            now=at(date(2026, 10, 1 + n)),
        )
    services.settlement_run(programme=autumn, period_end=date(2026, 10, 15))

    factories.staff_login(client, city_staff)
    desktop.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    errors = []
    desktop.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    desktop.goto(live_server.url + reverse("admin:settlement_dashboard", args=[autumn.pk]))
    assert desktop.locator("[data-figure=granted]").inner_text() == "90,000 円"
    assert desktop.locator("svg.dash-chart").first.locator("rect").count() >= 50
    assert desktop.locator("svg.dash-chart").first.bounding_box()["height"] > 150
    assert not [e for e in errors if "Content Security Policy" in e]
    screenshot(desktop, "dashboard")
