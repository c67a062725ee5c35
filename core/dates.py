"""Tokyo days and months: dates are what people read, moments what payments are stamped with."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def midnight(day: date) -> datetime:
    """The moment the day begins in the current time zone (Asia/Tokyo)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_range(first: date, last: date | None = None) -> tuple[datetime, datetime]:
    """[the start of `first`, the start of the day after `last`): whole days, end exclusive."""
    return midnight(first), midnight((last or first) + timedelta(days=1))


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def end_of(moment: datetime, text: str) -> datetime:
    """The exclusive end of what a person means by `text` as an end: "23:59" is the whole
    minute, "23:59:30" the whole second, so a payment at 23:59:45 is inside "to 23:59"."""
    time_part = text.partition("T")[2]
    clock = time_part.rstrip("Z").split("+")[0].split("-")[0]
    if clock.count(":") == 1:
        return moment + timedelta(minutes=1)
    if "." not in clock:
        return moment + timedelta(seconds=1)
    return moment + timedelta(microseconds=1)
