"""Settlement periods and payment dates: cycles, weekends, holidays and the year-end."""

from datetime import date

import pytest

from settlement import periods
from tests import factories

pytestmark = pytest.mark.django_db


def test_year_end_bank_holidays_push_payment_into_january():
    # 31 Dec 2026 is a Thursday, but banks close 12/31-1/3; 1/2-1/3 2027 are a weekend anyway.
    assert not periods.is_business_day(date(2026, 12, 31))
    assert periods.next_business_day(date(2026, 12, 31)) == date(2027, 1, 4)
    programme = factories.programme(settlement_cycle="monthly", payment_offset_days=0)
    assert periods.period_containing(programme, date(2026, 12, 5)) == periods.Period(
        date(2026, 12, 1), date(2026, 12, 31), date(2027, 1, 4)
    )


def test_public_holidays_and_weekends_are_not_business_days():
    assert not periods.is_business_day(date(2026, 11, 23))  # 勤労感謝の日, a Monday
    assert periods.next_business_day(date(2026, 11, 23)) == date(2026, 11, 24)
    assert periods.next_business_day(date(2026, 11, 21)) == date(2026, 11, 24)  # Sat → Tue
    assert periods.next_business_day(date(2027, 1, 11)) == date(2027, 1, 12)  # 成人の日
    assert periods.is_business_day(date(2026, 11, 25))


def test_semimonthly_periods_as_in_manual_002():
    programme = factories.programme(payment_offset_days=15)
    first = periods.period_containing(programme, date(2027, 1, 15))
    second = periods.period_containing(programme, date(2027, 1, 16))
    assert (first.start, first.end) == (date(2027, 1, 1), date(2027, 1, 15))
    assert first.payment_date == date(2027, 2, 1)  # 1/30 is a Saturday
    assert (second.start, second.end) == (date(2027, 1, 16), date(2027, 1, 31))
    assert second.payment_date == date(2027, 2, 15)
    feb = periods.period_containing(programme, date(2028, 2, 20))
    assert feb.end == date(2028, 2, 29)  # leap year


def test_weekly_periods_run_monday_to_sunday():
    programme = factories.programme(settlement_cycle="weekly", payment_offset_days=3)
    week = periods.period_containing(programme, date(2026, 11, 26))
    assert (week.start, week.end) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week.payment_date == date(2026, 12, 2)
