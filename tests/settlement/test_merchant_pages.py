"""精算管理 for the company admin: scoped to the company, statements frozen once issued."""

import re
from datetime import date
from urllib.parse import unquote

import pytest
from django.urls import reverse

from settlement import services
from settlement.models import Payout
from tests import factories
from tests.settlement.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(autumn, company, other_company):
    vt = factories.value_type(autumn)
    wallet = factories.funded_wallet(autumn, {vt: 50_000})
    ours = factories.store(company, autumn, is_small_local=True)
    theirs = factories.store(other_company, autumn)
    for n, (store, amount) in enumerate([(ours, 1_200), (ours, 800), (theirs, 9_999)]):
        factories.payment(
            wallet, store, amount, key=f"m{n}", mode="mpm", now=at(date(2026, 10, 3 + n))
        )
    services.settlement_run(programme=autumn, period_end=date(2026, 10, 15))
    return Payout.objects.get(company=company), Payout.objects.get(company=other_company)


def test_payout_list_shows_own_company_only_with_history_links(admin_client, closed):
    ours, theirs = closed
    response = admin_client.get(reverse("settlement:payouts"), {"year": 2026})
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026/10/01〜2026/10/15" in html
    assert "2026/10/30" in html
    assert "1,970 円" in html  # 2,000 − 1.5 % fee (30)
    assert "9," not in html.split("<tbody>")[1]
    link = f"/merchant/history/?start=2026-10-01T00:00&amp;end=2026-10-15T23:59&amp;programme={ours.programme_id}"
    assert f'href="{link}"' in html
    assert reverse("settlement:statement", args=[ours.pk]) in html
    assert reverse("settlement:statement", args=[theirs.pk]) not in html


def test_other_years_are_empty_and_bad_years_fall_back(admin_client, closed):
    response = admin_client.get(reverse("settlement:payouts"), {"year": "x"})
    assert response.status_code == 200
    assert "2026/10/01" in response.content.decode()


def test_statement_of_another_company_is_not_found(admin_client, closed):
    _ours, theirs = closed
    response = admin_client.get(reverse("settlement:statement", args=[theirs.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("role_user", ["store_manager", "store_staff"])
def test_store_users_may_not_see_settlement(client, merchant_login, request, role_user, closed):
    merchant_login(client, request.getfixturevalue(role_user))
    for name in ["settlement:cycle", "settlement:payouts"]:
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("settlement:statement", args=[closed[0].pk])).status_code == 403


def test_signed_out_or_city_staff_are_sent_to_merchant_login(client, city_staff, closed):
    assert client.get(reverse("settlement:payouts"))["Location"].startswith("/merchant/login/")
    client.force_login(city_staff)
    assert client.get(reverse("settlement:payouts"))["Location"].startswith("/merchant/login/")


def test_statement_is_a_pdf_issued_once_and_never_changed(admin_client, closed, autumn):
    ours, _theirs = closed
    url = reverse("settlement:statement", args=[ours.pk])
    first = admin_client.get(url)
    assert first.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    pdf = b"".join(first.streaming_content)
    assert pdf.startswith(b"%PDF")
    # Even if the fee rate changes afterwards, the issued statement stays as it was.
    autumn.fee_rate = 0
    autumn.save()
    again = b"".join(admin_client.get(url).streaming_content)
    assert again == pdf
    ours.refresh_from_db()
    assert ours.statement.name.endswith(".pdf")


def test_cycle_page_states_cycle_dates_and_fee_rule(admin_client, closed):
    response = admin_client.get(reverse("settlement:cycle"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "テスト市プレミアム商品券" in html
    assert "1.5%" in html
    assert "15 日後" in html
    # Today (real date) lies in some period; its payment date is listed as a business day.
    assert "現在の対象期間" in html


def test_two_programmes_payouts_are_told_apart_and_link_to_their_own_breakdown(
    admin_client, autumn, company
):
    """A company in two programmes: each row names its programme, its PDF is named with it,
    and its link lists that programme's payments only, including one at 23:59:30."""
    winter = factories.programme(
        code="winter",
        name="冬の子育て応援券",
        starts_on=date(2026, 10, 1),
        ends_on=date(2027, 3, 31),
    )
    numbers = {}
    for programme, amounts in ((autumn, [1_000, 2_000]), (winter, [500])):
        vt = factories.value_type(programme)
        wallet = factories.funded_wallet(programme, {vt: 50_000})
        store = factories.store(company, programme)
        numbers[programme.code] = {
            factories.payment(
                wallet,
                store,
                amount,
                key=f"{programme.code}{n}",
                mode="mpm",
                now=at(date(2026, 10, 15), 23, 59, 30) if n == 0 else at(date(2026, 10, 3)),
            ).number
            for n, amount in enumerate(amounts)
        }
        services.settlement_run(programme=programme, period_end=date(2026, 10, 15))

    html = admin_client.get(reverse("settlement:payouts"), {"year": 2026}).content.decode()
    assert "テスト市プレミアム商品券" in html and "冬の子育て応援券" in html
    for programme in (autumn, winter):
        payout = Payout.objects.get(programme=programme)
        link = re.search(rf'<tr data-payout="{payout.pk}">.*?href="([^"]+)"', html, re.S).group(1)
        listed = admin_client.get(link.replace("&amp;", "&")).context["page"].object_list
        assert {p.number for p in listed} == numbers[programme.code]
        pdf = admin_client.get(reverse("settlement:statement", args=[payout.pk]))
        assert f"支払明細書_{programme.code}_20261001-20261015.pdf" in unquote(
            pdf["Content-Disposition"]
        )


def test_a_statement_whose_file_is_gone_is_rendered_again(admin_client, closed):
    """After a restore without the media files: a PDF again, never a 500, and the log says so."""
    from core.models import AuditLog

    ours, _theirs = closed
    url = reverse("settlement:statement", args=[ours.pk])
    assert admin_client.get(url).status_code == 200
    ours.refresh_from_db()
    ours.statement.storage.delete(ours.statement.name)
    again = admin_client.get(url)
    assert again.status_code == 200
    assert b"".join(again.streaming_content).startswith(b"%PDF")
    ours.refresh_from_db()
    assert ours.statement.storage.exists(ours.statement.name)
    assert AuditLog.objects.filter(action="settlement.statement.regenerated").count() == 1
