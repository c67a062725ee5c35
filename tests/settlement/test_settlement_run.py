"""Closing periods: the rules around the run itself (order, timing, races, deferral, fees)."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from payments import services as payment_services
from settlement import services
from settlement.models import Payout, PayoutLine, SettlementRun
from tests.settlement.conftest import at, pay
from wallets.models import JournalEntry


@pytest.mark.django_db
def test_fee_is_rounded_down_per_payout():
    assert services.fee_for(6_500, Decimal("0.0150")) == 97  # 97.5
    assert services.fee_for(66, Decimal("0.0150")) == 0  # 0.99
    assert services.fee_for(0, Decimal("0.0150")) == 0
    assert services.fee_for(1_000, Decimal("0")) == 0


@pytest.mark.django_db
def test_periods_close_only_when_over_in_order_and_at_their_end(autumn):
    with pytest.raises(services.PeriodNotOver):
        services.settlement_run(
            programme=autumn, period_end=date(2026, 10, 15), today=date(2026, 10, 15)
        )
    with pytest.raises(services.NotAPeriodEnd):
        services.settlement_run(programme=autumn, period_end=date(2026, 10, 16))
    with pytest.raises(services.EarlierPeriodOpen):
        services.settlement_run(programme=autumn, period_end=date(2026, 10, 31))
    with pytest.raises(services.PeriodOutsideProgramme):
        services.settlement_run(programme=autumn, period_end=date(2026, 9, 30))
    assert not SettlementRun.objects.exists()


@pytest.mark.django_db
def test_payment_belongs_to_the_period_of_its_tokyo_date(autumn, shop):
    wallet, store = shop
    pay(wallet, store, 700, date(2026, 10, 15), "late-night", hour=23)  # 23:00 JST = 14:00 UTC
    pay(wallet, store, 300, date(2026, 10, 16), "past-midnight", hour=0)  # 15:00 UTC on the 15th
    run = services.settlement_run(programme=autumn, period_end=date(2026, 10, 15))
    assert run.payouts.get().gross == 700


@pytest.mark.django_db
def test_late_cancellation_waits_when_it_would_make_a_payout_negative(autumn, shop, company):
    wallet, store = shop
    big = pay(wallet, store, 5_000, date(2026, 10, 2), "big")
    services.settlement_run(programme=autumn, period_end=date(2026, 10, 15))
    payment_services.payment_cancel(payment=big, enforce_window=False, now=at(date(2026, 10, 20)))
    pay(wallet, store, 1_000, date(2026, 10, 21), "small")
    run = services.settlement_run(programme=autumn, period_end=date(2026, 10, 31))
    october = run.payouts.get()
    assert (october.adjustment, october.net) == (0, 1_000 - 15)
    pay(wallet, store, 8_000, date(2026, 11, 3), "later")
    november = services.settlement_run(
        programme=autumn, period_end=date(2026, 11, 15)
    ).payouts.get()
    assert (november.adjustment, november.fee, november.net) == (-5_000, 45, 2_955)
    assert PayoutLine.objects.get(payment=big).payout == november
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.django_db(transaction=True)
def test_two_runs_racing_close_the_period_once(autumn, shop):
    wallet, store = shop
    for n in range(5):
        pay(wallet, store, 1_000 + n, date(2026, 10, 3 + n), f"race{n}")
    barrier, errors = threading.Barrier(2), []

    def close():
        try:
            barrier.wait()
            services.settlement_run(programme=autumn, period_end=date(2026, 10, 15))
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=close) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert SettlementRun.objects.count() == 1
    assert Payout.objects.get().net == 5_010 - 75
    assert JournalEntry.objects.filter(kind="settlement").count() == 1
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115


def unsettled(company) -> int:
    """Payments − cancellations that no payout has accounted for yet, from the payments side."""
    from django.db.models import Max, Sum

    from payments.models import Payment
    from settlement.models import SettlementRun as Run

    closed_end = Run.objects.filter(status="done").aggregate(end=Max("period_end"))["end"]
    payments = Payment.objects.filter(company=company)
    if closed_end:
        payments = payments.filter(created_at__gte=at(closed_end, 0) + timedelta(days=1))
    open_gross = payments.aggregate(t=Sum("amount"))["t"] or 0
    unclaimed = (
        Payment.objects.filter(
            company=company, status="cancelled", payout_line__isnull=True
        ).aggregate(t=Sum("amount"))["t"]
        or 0
    )
    return open_gross - unclaimed


@pytest.mark.django_db(transaction=True)
def test_cancellations_racing_the_close_are_accounted_exactly_once(autumn, shop, company):
    from wallets.models import Account

    wallet, store = shop
    first_half = [pay(wallet, store, 100 + n, date(2026, 10, 2), f"r{n}") for n in range(20)]
    barrier, errors = threading.Barrier(2), []

    def close():
        try:
            barrier.wait()
            services.settlement_run(programme=autumn, period_end=date(2026, 10, 15))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    def cancel_some():
        try:
            barrier.wait()
            for payment in first_half[::2]:
                payment_services.payment_cancel(payment=payment, enforce_window=False)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=close), threading.Thread(target=cancel_some)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    payable = Account.objects.get(kind="merchant_payable", company=company)
    assert payable.balance == unsettled(company)
    pay(wallet, store, 5_000, date(2026, 10, 20), "cover")
    services.settlement_run(programme=autumn, period_end=date(2026, 10, 31))
    payable.refresh_from_db()
    assert payable.balance == unsettled(company) == 0
    cancelled_total = sum(p.amount for p in first_half[::2])
    lines = PayoutLine.objects.filter(payment__in=first_half[::2])
    assert lines.count() == 10
    assert sum(line.amount for line in lines) == cancelled_total
    payouts = Payout.objects.filter(company=company)
    assert sum(p.cancelled - p.adjustment for p in payouts) == cancelled_total
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115
