"""City staff in Django admin: close a period in the background worker, mark paid, transfer
file, late cancellation with reason, expiry, and the dashboard."""

from datetime import date

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.urls import reverse

from core.models import AuditLog
from payments import services as payment_services
from payments.models import Payment
from settlement import services
from settlement.models import Payout, PayoutLine, SettlementRun
from tests import factories
from tests.settlement.conftest import at, dashboard, dashboard_figures

pytestmark = pytest.mark.django_db


@pytest.fixture
def season(autumn, company):
    company.bank_code, company.branch_code, company.account_number = "0005", "001", "1234567"
    company.account_holder_kana = "ｶ)ﾃｽﾄ"
    company.save()
    vt = factories.value_type(autumn, expires_on=date(2027, 3, 31))
    wallet = factories.funded_wallet(autumn, {vt: 20_000})
    small = factories.store(company, autumn, is_small_local=True)
    large = factories.store(factories.company(name="大型店"), autumn)
    pays = [
        factories.payment(wallet, store, amount, key=key, mode="mpm", now=at(day))
        for key, store, amount, day in [
            ("a", small, 3_000, date(2026, 10, 2)),
            ("b", large, 5_000, date(2026, 10, 2)),
            ("c", small, 1_000, date(2026, 10, 9)),
        ]
    ]
    return autumn, wallet, pays


@pytest.mark.django_db(transaction=True)
def test_close_a_period_from_admin_runs_in_the_background_worker(staff, season):
    programme, _wallet, _pays = season
    response = staff.post(
        reverse("admin:settlement_run_start"),
        {"programme": programme.pk, "period_end": "2026-10-15"},
    )
    assert response.status_code == 302
    run = SettlementRun.objects.get(programme=programme)
    assert run.status == SettlementRun.Status.QUEUED
    # The real worker: settles the period, then issues the statements it queued.
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    run.refresh_from_db()
    assert run.status == SettlementRun.Status.DONE
    assert run.payouts.count() == 2
    assert AuditLog.objects.filter(action="settlement.run.done").exists()
    assert all(p.statement.name.endswith(".pdf") for p in run.payouts.all())


def test_admin_refuses_a_day_that_is_not_a_period_end(staff, season):
    programme, _w, _p = season
    response = staff.post(
        reverse("admin:settlement_run_start"),
        {"programme": programme.pk, "period_end": "2026-10-14"},
    )
    assert response.status_code == 200
    assert "2026/10/15" in response.content.decode()
    assert not SettlementRun.objects.exists()


def test_command_closes_periods_in_order(season, capsys):
    programme, _w, _p = season
    with pytest.raises(Exception, match="2026/10/01-2026/10/15"):
        call_command("settle_period", f"--programme={programme.code}", "--period-end=2026-10-31")
    call_command("settle_period", f"--programme={programme.code}", "--period-end=2026-10-15")
    assert "2 payouts" in capsys.readouterr().out
    call_command("settle_period", f"--programme={programme.code}", "--period-end=2026-10-15")
    assert SettlementRun.objects.count() == 1 and Payout.objects.count() == 2


def test_mark_paid_and_transfer_file_actions(staff, season, city_staff):
    programme, _w, _p = season
    call_command("settle_period", f"--programme={programme.code}", "--period-end=2026-10-15")
    payouts = list(Payout.objects.order_by("pk"))
    changelist = reverse("admin:settlement_payout_changelist")
    ids = [p.pk for p in payouts]
    # Four eyes: a second staff member approved the automatic run's payouts.
    services.payout_approve(payouts=payouts, actor=factories.user("approver01", is_staff=True))

    page = staff.post(changelist, {"action": "download_transfer_file", ACTION_CHECKBOX_NAME: ids})
    assert page.status_code == 200 and "transfer_date" in page.content.decode()
    refused = staff.post(
        changelist,
        {
            "action": "download_transfer_file",
            ACTION_CHECKBOX_NAME: ids,
            "apply": "1",
            "transfer_date": "2026-10-30",
        },
        follow=True,
    )
    assert "paying account" in refused.content.decode() or "依頼人" in refused.content.decode()
    factories.paying_account(programme, requester_name_kana="テストシ")
    # The large store's company has no bank account yet: the file is refused with its name.
    refused = staff.post(
        changelist,
        {
            "action": "download_transfer_file",
            ACTION_CHECKBOX_NAME: ids,
            "apply": "1",
            "transfer_date": "2026-10-30",
        },
        follow=True,
    )
    assert "大型店" in refused.content.decode()
    ours = Payout.objects.get(company__name__startswith="テスト企業")
    done = staff.post(
        changelist,
        {
            "action": "download_transfer_file",
            ACTION_CHECKBOX_NAME: [ours.pk],
            "apply": "1",
            "transfer_date": "2026-10-30",
        },
    )
    assert done["Content-Disposition"] == 'attachment; filename="sogofurikomi-20261030.txt"'
    assert done.content.count(b"\r\n") == 4

    staff.post(
        changelist,
        {"action": "mark_paid", ACTION_CHECKBOX_NAME: ids, "apply": "1", "paid_on": "2026-10-30"},
    )
    assert set(Payout.objects.values_list("status", "paid_on", "paid_by")) == {
        ("paid", date(2026, 10, 30), city_staff.pk)
    }
    assert AuditLog.objects.filter(action="settlement.payout.paid").count() == 2


def test_city_staff_cancel_late_with_reason_and_next_payout_adjusts(staff, season):
    programme, _w, (first, _b, _c) = season
    call_command("settle_period", f"--programme={programme.code}", "--period-end=2026-10-15")
    changelist = reverse("admin:payments_payment_changelist")
    needs_reason = staff.post(
        changelist,
        {"action": "cancel_late", ACTION_CHECKBOX_NAME: [first.pk], "apply": "1", "reason": ""},
    )
    assert needs_reason.status_code == 200
    first.refresh_from_db()
    assert first.status == Payment.Status.COMPLETED
    staff.post(
        changelist,
        {
            "action": "cancel_late",
            ACTION_CHECKBOX_NAME: [first.pk],
            "apply": "1",
            "reason": "店舗からの申し出",
        },
    )
    first.refresh_from_db()
    assert (first.status, first.cancel_memo) == (Payment.Status.CANCELLED, "店舗からの申し出")
    # No payments in the second half: the adjustment waits rather than make a negative payout.
    call_command("settle_period", f"--programme={programme.code}", "--period-end=2026-10-31")
    assert not PayoutLine.objects.filter(payment=first).exists()
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_expire_action_and_command_report_counts_and_totals(staff, season, capsys):
    programme, _wallet, _p = season
    programme.value_types.update(expires_on=date(2026, 11, 1))
    response = staff.post(
        reverse("admin:wallets_programme_changelist"),
        {"action": "expire_balances", ACTION_CHECKBOX_NAME: [programme.pk]},
        follow=True,
    )
    assert "11,000" in response.content.decode()  # 20,000 − 9,000 spent
    call_command("expire_programme", f"--programme={programme.code}")
    assert "expired 0 wallets, 0 yen" in capsys.readouterr().out


def test_dashboard_reconciles_and_draws_svg_without_inline_styles(staff, season):
    programme, _w, (first, _b, _c) = season
    payment_services.payment_cancel(payment=first, now=at(date(2026, 10, 2), 11))
    call_command("settle_period", f"--programme={programme.code}", "--period-end=2026-10-15")
    html = dashboard(staff, programme)
    figures = dashboard_figures(html)
    assert figures["granted"] == 20_000
    assert (figures["spent"], figures["cancelled"]) == (9_000, 3_000)
    assert figures["granted"] == (
        figures["spent"] - figures["cancelled"] + figures["outstanding"] + figures["expired"]
    )
    assert figures["spent"] - figures["cancelled"] == (
        figures["paid_out"]
        + figures["merchant_payable"]
        + figures["payout_clearing"]
        + figures["fees"]
    )
    assert figures["merchant_payable"] == figures["unsettled"] - figures["receivable"]
    svg = html[html.index("<svg") :]
    assert svg.count("<rect") >= 3
    assert "style=" not in html.split('id="content"')[-1]
    assert "1,000 円" in svg and "5,000 円" in svg  # small/local vs large, cancelled excluded
