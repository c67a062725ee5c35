"""Settlement told as a story: grant, pay, cancel, close, late cancel, adjust, pay out, expire.

After every step the ledger check passes and the city's figures reconcile.
"""

from datetime import date

import pytest
from django.core.management import call_command

from payments import services as payment_services
from payments.models import Payment
from settlement import selectors, services
from settlement.models import Payout, PayoutLine, SettlementRun
from tests import factories
from tests.settlement.conftest import at
from wallets import ledger
from wallets.models import Account, JournalEntry

pytestmark = pytest.mark.django_db


def balance(programme, kind, company=None) -> int:
    return Account.objects.get(programme=programme, kind=kind, company=company).balance


def check(programme):
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115
    f = selectors.programme_figures(programme)
    assert f.granted == f.spent - f.cancelled + f.outstanding + f.expired
    assert f.spent - f.cancelled == f.paid_out + f.payables + f.fees
    assert f.merchant_payable == f.unsettled - f.receivable
    return f


def test_a_season_of_settlement(autumn, city_staff):
    programme = autumn
    common = factories.value_type(programme, code="common", name="共通券")
    local = factories.value_type(programme, code="local", name="専用券", small_local_only=True)
    bakery, grocer = factories.company(name="パン屋"), factories.company(name="八百屋")
    bakery_store = factories.store(bakery, programme, is_small_local=True)
    grocer_store = factories.store(grocer, programme)
    payable = Account.Kind.MERCHANT_PAYABLE

    # Hanako is granted 5,000 yen 共通券 and 3,000 yen 専用券.
    hanako = factories.funded_wallet(programme, {common: 5_000, local: 3_000})
    assert check(programme).granted == 8_000

    def pay(store, amount, when, key):
        return factories.payment(hanako, store, amount, key=key, mode="mpm", now=when)

    # In the first half of October she buys bread twice and vegetables once.
    bread = pay(bakery_store, 1_000, at(date(2026, 10, 3)), "p1")
    mistake = pay(bakery_store, 500, at(date(2026, 10, 5)), "p2")
    pay(grocer_store, 2_000, at(date(2026, 10, 10)), "p3")
    # The baker cancels the mistaken 500 yen inside the 24-hour window.
    payment_services.payment_cancel(payment=mistake, now=at(date(2026, 10, 5), 11))
    assert balance(programme, payable, bakery) == 1_000
    check(programme)

    # City staff close 1-15 October.
    run = services.settlement_run(
        programme=programme, period_end=date(2026, 10, 15), actor=city_staff
    )
    baker_oct1 = Payout.objects.get(run=run, company=bakery)
    assert (baker_oct1.payment_count, baker_oct1.gross) == (2, 1_500)
    assert (baker_oct1.cancelled_count, baker_oct1.cancelled) == (1, 500)
    assert baker_oct1.adjustment == 0
    assert baker_oct1.fee == 15  # 1,000 × 1.5 %
    assert baker_oct1.net == 985
    # 30 Oct is the 15th day after; a Friday and a business day.
    assert baker_oct1.scheduled_on == date(2026, 10, 30)
    grocer_oct1 = Payout.objects.get(run=run, company=grocer)
    assert (grocer_oct1.fee, grocer_oct1.net) == (30, 1_970)
    # The payables are settled; what is owed now waits in payout clearing.
    assert balance(programme, payable, bakery) == 0
    assert balance(programme, Account.Kind.PAYOUT_CLEARING, bakery) == 985
    assert balance(programme, Account.Kind.FEE_INCOME) == 45
    check(programme)

    # Running the close again changes nothing.
    entries = JournalEntry.objects.count()
    assert services.settlement_run(programme=programme, period_end=date(2026, 10, 15)) == run
    assert JournalEntry.objects.count() == entries
    assert Payout.objects.filter(run=run).count() == 2

    # On 20 October city staff cancel the 1,000 yen bread, long after the baker's window.
    payment_services.payment_cancel(
        payment=bread,
        actor=city_staff,
        memo="二重計上",
        enforce_window=False,
        now=at(date(2026, 10, 20)),
    )
    baker_oct1.refresh_from_db()
    assert (baker_oct1.cancelled, baker_oct1.net) == (500, 985)  # the closed payout stands
    assert balance(programme, payable, bakery) == -1_000  # owed back by the baker
    check(programme)

    # Later that day she spends 3,000 yen at the bakery.
    pay(bakery_store, 3_000, at(date(2026, 10, 20), 15), "p4")
    run2 = services.settlement_run(programme=programme, period_end=date(2026, 10, 31))
    baker_oct2 = Payout.objects.get(run=run2, company=bakery)
    assert (baker_oct2.gross, baker_oct2.cancelled) == (3_000, 0)
    assert (baker_oct2.adjustment_count, baker_oct2.adjustment) == (1, -1_000)
    assert baker_oct2.fee == 30  # 2,000 × 1.5 %
    assert baker_oct2.net == 1_970
    line = PayoutLine.objects.get(payment=bread)
    assert (line.payout, line.kind, line.amount) == (baker_oct2, PayoutLine.Kind.LATE, 1_000)
    # 31 Oct + 15 = 15 Nov, a Sunday: paid on Monday 16 Nov.
    assert baker_oct2.scheduled_on == date(2026, 11, 16)
    assert balance(programme, payable, bakery) == 0
    assert not Payout.objects.filter(run=run2, company=grocer).exists()
    check(programme)

    # A second staff member approves (four eyes), then the city transfers them on 30 October.
    approver = factories.user("approver01", is_staff=True)
    services.payout_approve(payouts=[baker_oct1, grocer_oct1], actor=approver)
    assert (
        services.payout_mark_paid(
            payouts=[baker_oct1, grocer_oct1], paid_on=date(2026, 10, 30), actor=city_staff
        )
        == 2
    )
    baker_oct1.refresh_from_db()
    assert (baker_oct1.status, baker_oct1.paid_by) == (Payout.Status.PAID, city_staff)
    assert balance(programme, Account.Kind.PAID_OUT, bakery) == 985
    assert balance(programme, Account.Kind.PAYOUT_CLEARING, bakery) == 1_970
    # Marking again does nothing.
    assert (
        services.payout_mark_paid(
            payouts=[baker_oct1], paid_on=date(2026, 10, 31), actor=city_staff
        )
        == 0
    )
    figures = check(programme)
    assert (figures.spent, figures.cancelled) == (6_500, 1_500)
    assert figures.paid_out == 985 + 1_970
    assert figures.fees == 15 + 30 + 30
    assert figures.payables == 1_970

    # After the programme ends, what Hanako did not spend expires.
    report = ledger.expire(programme=programme, actor=city_staff, today=date(2027, 4, 1))
    assert (report.wallets, report.total) == (1, 8_000 - 6_500 + 1_500)
    figures = check(programme)
    assert (figures.outstanding, figures.expired) == (0, 3_000)
    assert SettlementRun.objects.filter(programme=programme).count() == 2
    assert Payment.objects.filter(status="cancelled").count() == 2
