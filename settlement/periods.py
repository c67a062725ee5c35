"""Settlement calendar: the periods of a programme's cycle and the payment date of each.

Business days follow Japanese banks (全銀): no weekends, no public holidays (jpholiday), and
no year-end holidays 12/31-1/3 (1/1 is also a public holiday).
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import jpholiday

from wallets.models import Programme

Cycle = Programme.SettlementCycle
BANK_HOLIDAYS = {(12, 31), (1, 1), (1, 2), (1, 3)}


def is_business_day(day: date) -> bool:
    return (
        day.weekday() < 5
        and (day.month, day.day) not in BANK_HOLIDAYS
        and not jpholiday.is_holiday(day)
    )


def next_business_day(day: date) -> date:
    """The day itself when it is a business day, else the first business day after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    payment_date: date

    def __str__(self):
        return f"{self.start:%Y/%m/%d}-{self.end:%Y/%m/%d}"


def period_containing(programme: Programme, day: date) -> Period:
    cycle = programme.settlement_cycle
    if cycle == Cycle.WEEKLY:
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=6)
    else:
        last = calendar.monthrange(day.year, day.month)[1]
        if cycle == Cycle.MONTHLY:
            start, end = day.replace(day=1), day.replace(day=last)
        elif day.day <= 15:
            start, end = day.replace(day=1), day.replace(day=15)
        else:
            start, end = day.replace(day=16), day.replace(day=last)
    payment = next_business_day(end + timedelta(days=programme.payment_offset_days))
    return Period(start, end, payment)
