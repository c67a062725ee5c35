"""Late cancellations are recovered from the next payouts, oldest first, however long it takes:
what does not fit is carried forward on the payout and owed by the merchant meanwhile."""

from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from payments import services as payment_services
from settlement import services, zengin
from settlement.models import Payout, PayoutLine
from tests import factories
from tests.pdftools import pdf_pages, pdf_text
from tests.settlement.conftest import at, dashboard, dashboard_figures, pay
from wallets.models import Account, JournalEntry

pytestmark = pytest.mark.django_db


def close(programme, period_end: date) -> Payout | None:
    run = services.settlement_run(programme=programme, period_end=period_end)
    return run.payouts.first()


def payable(company) -> int:
    return Account.objects.get(kind=Account.Kind.MERCHANT_PAYABLE, company=company).balance


def payouts_page(client) -> str:
    return client.get(reverse("settlement:payouts"), {"year": 2026}).content.decode()


def reconciles(html: str) -> dict[str, int]:
    figures = dashboard_figures(html)
    assert figures["merchant_payable"] == figures["unsettled"] - figures["receivable"]
    return figures


def test_late_cancellation_without_later_payments_is_carried_then_absorbed(
    autumn, shop, company, staff, admin_client
):
    wallet, store = shop
    bread = pay(wallet, store, 3_000, date(2026, 10, 2), "bread")
    assert close(autumn, date(2026, 10, 15)).net == 3_000 - 45
    # Paid for on the first payout, cancelled after the close; nothing sold in late October.
    payment_services.payment_cancel(payment=bread, enforce_window=False, now=at(date(2026, 10, 20)))
    assert payable(company) == -3_000

    october = close(autumn, date(2026, 10, 31))
    assert (october.company, october.payment_count, october.gross) == (company, 0, 0)
    assert (october.adjustment_count, october.adjustment, october.fee, october.net) == (0, 0, 0, 0)
    assert october.carried_forward == 3_000
    assert not PayoutLine.objects.filter(payment=bread).exists()
    assert payable(company) == -3_000

    # The city sees what the merchant owes back, in total and per company.
    html = dashboard(staff, autumn)
    assert reconciles(html)["receivable"] == 3_000
    assert f'data-receivable="{company.pk}"><td>{company.code}</td>' in html
    # The merchant sees it too: on the live notice and on the payout row.
    page = payouts_page(admin_client)
    assert f'data-receivable="{autumn.pk}"' in page
    assert "未回収の取消額：3,000 円" in page
    assert 'data-carried-forward="3000">繰越 3,000 円' in page
    assert "次回の支払から差し引きます" in page
    changelist = staff.get(reverse("admin:settlement_payout_changelist")).content.decode()
    assert '<td class="field-carried_forward">3000</td>' in changelist
    assert "繰越額（円）" in changelist

    # Nothing to transfer: the bank file skips it and marking it paid posts nothing.
    account = factories.paying_account(autumn)
    data = zengin.transfer_file(
        paying_account=account, payouts=[october], transfer_date=date(2026, 11, 16)
    )
    assert [r[:1] for r in data[:-2].split(b"\r\n")] == [b"1", b"8", b"9"]
    entries = JournalEntry.objects.count()
    services.payout_approve(payouts=[october], actor=factories.user("approver01", is_staff=True))
    assert services.payout_mark_paid(payouts=[october], paid_on=date(2026, 11, 16), actor=None)
    assert JournalEntry.objects.count() == entries

    # A bigger sale in November absorbs the whole cancellation.
    pay(wallet, store, 5_000, date(2026, 11, 3), "cake")
    november = close(autumn, date(2026, 11, 15))
    assert (november.gross, november.adjustment_count, november.adjustment) == (5_000, 1, -3_000)
    assert (november.fee, november.net, november.carried_forward) == (30, 1_970, 0)
    line = PayoutLine.objects.get(payment=bread)
    assert (line.payout, line.kind, line.amount) == (november, PayoutLine.Kind.LATE, 3_000)
    assert payable(company) == 0

    html = dashboard(staff, autumn)
    assert reconciles(html)["receivable"] == 0
    assert "data-receivable" not in html
    page = payouts_page(admin_client)
    assert "data-receivable" not in page
    assert "未回収の取消額" not in page
    # The October row still says what was carried forward then: it is that payout's record.
    assert 'data-carried-forward="3000"' in page
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_only_the_oldest_late_cancellations_that_fit_are_absorbed(autumn, shop, company, staff):
    wallet, store = shop
    older = pay(wallet, store, 1_000, date(2026, 10, 2), "older")
    newer = pay(wallet, store, 4_000, date(2026, 10, 3), "newer")
    small = pay(wallet, store, 500, date(2026, 10, 4), "small")
    close(autumn, date(2026, 10, 15))
    # Cancelled newest first: the order that counts is the payments', not the cancellations'.
    for payment in (small, newer, older):
        payment_services.payment_cancel(
            payment=payment, enforce_window=False, now=at(date(2026, 10, 20))
        )
    pay(wallet, store, 2_500, date(2026, 10, 21), "room")

    october = close(autumn, date(2026, 10, 31))
    # 1,000 fits in 2,500; 4,000 does not, and the 500 after it waits its turn too.
    assert (october.adjustment_count, october.adjustment) == (1, -1_000)
    assert (october.fee, october.net, october.carried_forward) == (22, 1_478, 4_500)
    assert set(PayoutLine.objects.values_list("payment", "kind")) == {
        (older.pk, PayoutLine.Kind.LATE)
    }
    assert payable(company) == -4_500
    assert reconciles(dashboard(staff, autumn))["receivable"] == 4_500

    pay(wallet, store, 10_000, date(2026, 11, 2), "plenty")
    november = close(autumn, date(2026, 11, 15))
    assert (november.adjustment_count, november.adjustment, november.carried_forward) == (
        2,
        -4_500,
        0,
    )
    assert november.net == 5_500 - 82
    assert PayoutLine.objects.filter(payout=november).count() == 2
    assert payable(company) == 0
    assert reconciles(dashboard(staff, autumn))["receivable"] == 0
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_a_payout_never_goes_negative_nor_absorbs_another_companys_cancellation(
    autumn, shop, company, other_company
):
    wallet, store = shop
    theirs = pay(wallet, factories.store(other_company, autumn), 800, date(2026, 10, 2), "t")
    close(autumn, date(2026, 10, 15))
    payment_services.payment_cancel(
        payment=theirs, enforce_window=False, now=at(date(2026, 10, 20))
    )
    pay(wallet, store, 5_000, date(2026, 10, 21), "ours")
    close(autumn, date(2026, 10, 31))
    ours = Payout.objects.get(company=company, period_end=date(2026, 10, 31))
    their_payout = Payout.objects.get(company=other_company, period_end=date(2026, 10, 31))
    assert (ours.adjustment, ours.carried_forward) == (0, 0)
    assert (their_payout.gross, their_payout.net, their_payout.carried_forward) == (0, 0, 800)


def test_statement_shows_what_is_carried_forward(autumn, shop):
    wallet, store = shop
    bread = pay(wallet, store, 3_000, date(2026, 10, 2), "bread")
    close(autumn, date(2026, 10, 15))
    payment_services.payment_cancel(payment=bread, enforce_window=False, now=at(date(2026, 10, 20)))
    pay(wallet, store, 1_000, date(2026, 10, 21), "small")
    payout = close(autumn, date(2026, 10, 31))
    services.payout_statement_issue(payout=payout)
    payout.refresh_from_db()
    # The statement's text layer is what the merchant reads (and what a screen reader reads).
    lines = [" ".join(line.split()) for line in pdf_text(payout.statement.read()).splitlines()]
    assert "繰越（未回収の取消額） 3,000 円" in lines
    assert any(line.startswith("支払金額") and line.endswith("985 円") for line in lines)


def test_statement_lists_every_late_cancellation_over_as_many_pages_as_needed(autumn, shop):
    wallet, store = shop
    early = [pay(wallet, store, 100 + i, date(2026, 10, 2), f"early-{i}") for i in range(70)]
    close(autumn, date(2026, 10, 15))
    for payment in early:
        payment_services.payment_cancel(
            payment=payment, enforce_window=False, now=at(date(2026, 10, 20))
        )
    pay(wallet, store, 50_000, date(2026, 10, 21), "big")
    payout = close(autumn, date(2026, 10, 31))
    assert payout.adjustment_count == 70
    services.payout_statement_issue(payout=payout)
    payout.refresh_from_db()
    data = payout.statement.read()
    assert pdf_pages(data) == 3
    text = pdf_text(data)
    assert all(payment.number in text for payment in early)
    assert "この支払で調整した締め後の取消（続き）" in pdf_text(data, page=2)


def test_the_worked_example_in_the_docs(autumn, shop, company):
    """docs/settlement.md, "Worked example", row by row."""
    wallet, store = shop
    a = pay(wallet, store, 1_000, date(2026, 10, 2), "a")
    b = pay(wallet, store, 3_000, date(2026, 10, 5), "b")
    rows = [close(autumn, date(2026, 10, 15))]
    for payment in (a, b):
        payment_services.payment_cancel(
            payment=payment, enforce_window=False, now=at(date(2026, 10, 20))
        )
    rows.append(close(autumn, date(2026, 10, 31)))
    pay(wallet, store, 2_000, date(2026, 11, 2), "c")
    rows.append(close(autumn, date(2026, 11, 15)))
    pay(wallet, store, 5_000, date(2026, 11, 20), "d")
    rows.append(close(autumn, date(2026, 11, 30)))
    assert [(p.gross, p.adjustment, p.fee, p.net, p.carried_forward) for p in rows] == [
        (4_000, 0, 60, 3_940, 0),
        (0, 0, 0, 0, 4_000),
        (2_000, -1_000, 15, 985, 3_000),
        (5_000, -3_000, 30, 1_970, 0),
    ]
    assert payable(company) == 0


def test_statement_names_the_account_paid_to_and_the_issuers_contact(autumn, shop):
    wallet, store = shop
    company = store.company
    company.bank_code, company.bank_name_kana, company.branch_code = "0005", "ﾐﾂﾋﾞｼ", "123"
    company.branch_name_kana, company.account_number = "ﾎﾝﾃﾝ", "7654321"
    company.account_holder_kana = "ｶ)ﾃｽﾄ"
    company.save()
    autumn.contact = "テスト市 商工観光課\n電話 022-000-0000"
    autumn.save()
    pay(wallet, store, 2_000, date(2026, 10, 2), "one")
    payout = close(autumn, date(2026, 10, 15))
    services.payout_statement_issue(payout=payout)
    payout.refresh_from_db()
    text = " ".join(pdf_text(payout.statement.read()).split())
    assert "振込先" in text and "7654321" in text and "ﾐﾂﾋﾞｼ" in text
    assert "022-000-0000" in text
