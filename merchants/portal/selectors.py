"""Reads for the merchant admin. Every function starts from the signed-in user's scope
(merchants.portal.access), so history, aggregates and exports can never cross a company."""

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    FilteredRelation,
    Func,
    OuterRef,
    Q,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import NullIf, TruncMonth
from django.utils import timezone

from core.csv import safe_cell_sql
from core.dates import add_months, day_range
from merchants.portal.access import scope_daily_summaries, scope_payments, scope_stores
from merchants.scope import Scope
from payments.models import Payment, PaymentSplit
from wallets.models import ValueType


@dataclass(frozen=True)
class HistoryFilters:
    """The 利用実績 search: a date-time range plus optional filters; also stored with exports."""

    start: datetime
    end: datetime
    store_code: str = ""
    store_name: str = ""
    programme: int | None = None
    terminal: str = ""
    value_type: int | None = None
    amount: int | None = None
    number: str = ""
    exclude_cancelled: bool = False

    @classmethod
    def today(cls) -> "HistoryFilters":
        start, end = day_range(timezone.localdate())
        return cls(start=start, end=end)

    @property
    def last_minute(self) -> datetime:
        """The end as the form shows it: the last minute inside the range (…23:59)."""
        return self.end - timedelta(minutes=1)

    def as_initial(self) -> dict:
        """The form's values for these filters (the end shown inclusive)."""
        return asdict(self) | {"end": self.last_minute}

    def to_json(self) -> dict:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["end"] = self.end.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict) -> "HistoryFilters":
        return cls(
            **data
            | {
                "start": datetime.fromisoformat(data["start"]),
                "end": datetime.fromisoformat(data["end"]),
            }
        )


def payment_history(*, scope: Scope, filters: HistoryFilters):
    """利用実績: newest first. The page, the CSV export and the cross-checks share this query."""
    payments = scope_payments(scope).filter(
        created_at__gte=filters.start, created_at__lt=filters.end
    )
    if filters.store_code:
        payments = payments.filter(store__code=filters.store_code)
    if filters.store_name:
        payments = payments.filter(store__name__icontains=filters.store_name)
    if filters.programme:
        payments = payments.filter(programme_id=filters.programme)
    if filters.terminal:
        payments = payments.filter(terminal__terminal_id=filters.terminal)
    if filters.amount:
        payments = payments.filter(amount=filters.amount)
    if filters.value_type:
        payments = payments.filter(
            Exists(
                PaymentSplit.objects.filter(
                    payment=OuterRef("pk"), value_type_id=filters.value_type
                )
            )
        )
    if filters.number:
        payments = payments.filter(number=filters.number)
    if filters.exclude_cancelled:
        payments = payments.filter(status=Payment.Status.COMPLETED)
    return payments.order_by("-created_at", "-pk")


def payment_history_page(*, scope: Scope, filters: HistoryFilters):
    """The rows a page shows: store, terminal, programme (for the cancel window) and splits."""
    return (
        payment_history(scope=scope, filters=filters)
        .select_related("store", "terminal", "programme", "entry__created_by")
        .prefetch_related("splits__value_type")
    )


# What Excel reads as a date and time.
EXCEL_TIME = "YYYY/MM/DD HH24:MI:SS"


def _excel_time(field: str, time_zone: str):
    local = Func(Value(time_zone), F(field), function="timezone")
    return Func(local, Value(EXCEL_TIME), function="to_char", output_field=CharField())


def _text(expression):
    """A text cell: formula-safe, and NULL when empty (COPY quotes an empty string, csv.writer
    leaves the cell bare)."""
    return NullIf(safe_cell_sql(expression), Value(""), output_field=TextField())


def payment_export_rows(
    *,
    scope: Scope,
    filters: HistoryFilters,
    value_types,
    cancelled_label: str,
    mode_labels: dict,
    time_zone: str,
):
    """The 利用実績 CSV's cells in file order, formatted by PostgreSQL so that COPY writes the file.

    A payment has at most one split per value type (split_unique), so each value type's amount
    column is one join on that index and 商品 names the value types present: no subquery per row,
    nothing to group. The amount columns let a spreadsheet rebuild the per-商品 totals of 日別 and
    月別."""
    splits = {f"split_{vt.pk}": vt for vt in value_types}
    products = Func(
        Value("/"),
        *[
            Case(When(**{f"{split}__isnull": False}, then=Value(vt.name)))
            for split, vt in sorted(splits.items(), key=lambda item: item[1].pk)
        ],
        function="concat_ws",
        output_field=TextField(),
    )
    cells = {
        "cell_time": _excel_time("created_at", time_zone),
        "cell_store_code": _text(F("store__code")),
        "cell_store_name": _text(F("store__name")),
        "cell_terminal_name": _text(F("terminal__name")),
        "cell_terminal_id": _text(F("terminal__terminal_id")),
        "cell_number": _text(F("number")),
        "cell_amount": F("amount"),
        "cell_products": _text(products),
        "cell_status": Case(
            When(status=Payment.Status.CANCELLED, then=_text(Value(cancelled_label))),
        ),
        "cell_cancelled_at": _excel_time("cancelled_at", time_zone),
        "cell_mode": Case(
            *[When(mode=mode, then=_text(Value(label))) for mode, label in mode_labels.items()],
            default=_text(F("mode")),
        ),
        "cell_staff": _text(F("entry__created_by__name")),
    } | {f"cell_{split}": F(f"{split}__amount") for split in splits}
    return (
        payment_history(scope=scope, filters=filters)
        .annotate(
            **{
                split: FilteredRelation("splits", condition=Q(splits__value_type=vt))
                for split, vt in splits.items()
            }
        )
        .annotate(**cells)
        .values_list(*cells)
    )


VALUE_TYPE_ORDER = ["programme", "-small_local_only", "expires_on", "pk"]


def value_types_for(scope: Scope):
    return ValueType.objects.filter(programme__in=scope_stores(scope).values("programme")).order_by(
        *VALUE_TYPE_ORDER
    )


def export_value_types(*, scope: Scope, filters: HistoryFilters):
    """The export's amount columns: the scope's value types, and any other that the period's
    payments drew on (a store moved to another programme keeps its earlier payments), found in
    the daily summary rather than in a million splits."""
    drawn = scope_daily_summaries(scope).filter(
        day__gte=timezone.localdate(filters.start),
        day__lte=timezone.localdate(filters.last_minute),
        value_type__isnull=False,
    )
    return ValueType.objects.filter(
        Q(programme__in=scope_stores(scope).values("programme"))
        | Q(pk__in=drawn.values("value_type"))
    ).order_by(*VALUE_TYPE_ORDER)


def search_names(*, scope: Scope) -> dict:
    """Names of the value types and programmes a stored search (an export) refers to by id."""
    value_types = value_types_for(scope).select_related("programme")
    return {
        "value_types": {vt.pk: vt.name for vt in value_types},
        "programmes": {vt.programme_id: vt.programme.name for vt in value_types},
    }


def today_totals(*, scope: Scope) -> dict:
    totals = (
        scope_daily_summaries(scope)
        .filter(day=timezone.localdate(), value_type__isnull=True)
        .aggregate(count=Sum("count"), amount=Sum("amount"))
    )
    return {"count": totals["count"] or 0, "amount": totals["amount"] or 0}


def recent_payments(*, scope: Scope, limit: int = 10):
    return (
        scope_payments(scope)
        .select_related("store", "terminal")
        .order_by("-created_at", "-pk")[:limit]
    )


@dataclass
class Period:
    """One month or day of an aggregate: a row per value type, and the whole payments' total."""

    start: date
    rows: list
    count: int = 0
    amount: int = 0


def _aggregate(*, scope: Scope, first: date, last: date, store_code: str, by_month: bool) -> dict:
    """Count and amount per period and value type from the trigger-kept daily summary.

    Cancelled payments are not in it (the triggers take them out again on cancellation).
    """
    rows = scope_daily_summaries(scope).filter(day__gte=first, day__lte=last)
    if store_code:
        rows = rows.filter(store__code=store_code)
    period = TruncMonth("day") if by_month else F("day")
    grouped = (
        rows.annotate(period=period)
        .values("period", "value_type_id")
        .annotate(n=Sum("count"), yen=Sum("amount"))
        .order_by("period", "value_type_id")
    )
    names = {vt.pk: vt.name for vt in value_types_for(scope)}
    periods: dict = {}
    for row in grouped:
        start = row["period"]
        if isinstance(start, datetime):
            start = start.date()
        bucket = periods.setdefault(start, Period(start=start, rows=[]))
        if not row["n"]:
            continue  # every payment of that value type was cancelled
        if row["value_type_id"] is None:
            bucket.count, bucket.amount = row["n"], row["yen"]
        else:
            name = names.get(row["value_type_id"], "")
            bucket.rows.append({"value_type": name, "count": row["n"], "amount": row["yen"]})
    result = [p for p in periods.values() if p.count]
    return {
        "periods": result,
        "count": sum(p.count for p in result),
        "amount": sum(p.amount for p in result),
    }


def monthly_totals(*, scope: Scope, first: date, last: date, store_code: str = "") -> dict:
    """月別利用実績 from the first day of `first`'s month to the last day of `last`'s month."""
    return _aggregate(
        scope=scope,
        first=first.replace(day=1),
        last=add_months(last.replace(day=1), 1) - timedelta(days=1),
        store_code=store_code,
        by_month=True,
    )


def daily_totals(*, scope: Scope, first: date, last: date, store_code: str = "") -> dict:
    """日別利用実績 for the days first..last (Tokyo)."""
    return _aggregate(scope=scope, first=first, last=last, store_code=store_code, by_month=False)


def period_points(result: dict, first: date, last: date, *, by_month: bool) -> list:
    """(label, yen) for every month or day of the range, empty ones at zero (for the chart)."""
    amounts = {p.start: p.amount for p in result["periods"]}
    points, day = [], first.replace(day=1) if by_month else first
    while day <= last:
        label = f"{day.year}/{day.month}" if by_month else f"{day.month}/{day.day}"
        points.append((label, amounts.get(day, 0)))
        day = add_months(day, 1) if by_month else day + timedelta(days=1)
    return points
