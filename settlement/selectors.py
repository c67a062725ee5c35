"""Reads for settlement pages: a company's payouts, the cycle calendar, the city's dashboard."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.dates import midnight
from merchants.models import User
from merchants.scope import Scope
from payments.models import Payment
from settlement import periods
from settlement.models import Payout, SettlementRun
from wallets.models import Account, JournalEntry, Posting, Programme


def company_payouts(user: User, *, year: int):
    """支払一覧: the signed-in company's payouts whose period ends in that year."""
    return (
        Payout.objects.filter(company_id=user.company_id, period_end__year=year)
        .select_related("programme")
        .order_by("period_start", "programme_id")
    )


def company_payout_years(user: User) -> list[int]:
    years = {
        d.year
        for d in Payout.objects.filter(company_id=user.company_id).dates("period_end", "year")
    }
    return sorted(years | {timezone.localdate().year}, reverse=True)


def company_payout(user: User, pk: int) -> Payout:
    return Payout.objects.select_related("programme", "company").get(
        pk=pk, company_id=user.company_id
    )


def closed_until(programme: Programme) -> datetime | None:
    """When the programme's closed periods end (None: none closed yet).

    Periods close in order, so a payment stamped before it lies in a closed period.
    """
    end = SettlementRun.objects.filter(
        programme=programme, status=SettlementRun.Status.DONE
    ).aggregate(end=Max("period_end"))["end"]
    return midnight(end + timedelta(days=1)) if end else None


def pending_late_cancellations(*, programme: Programme, payments):
    """加盟店への未収金: payments of closed periods cancelled later that no payout absorbed yet.

    The city paid the merchant for them; the next payouts deduct them (docs/settlement.md).
    """
    until = closed_until(programme)
    payments = payments.filter(programme=programme)
    if until is None:
        return payments.none()
    return payments.filter(
        status=Payment.Status.CANCELLED, payout_line__isnull=True, created_at__lt=until
    )


def company_receivables(user: User) -> list[dict]:
    """What the signed-in company still owes back, per programme: deducted from its next payouts."""
    receivables = []
    for programme in Programme.objects.filter(stores__company_id=user.company_id).distinct():
        totals = pending_late_cancellations(
            programme=programme, payments=Scope.of(user).filter(Payment.objects.all())
        ).aggregate(count=Count("pk"), total=Sum("amount"))
        if totals["count"]:
            receivables.append({"programme": programme, **totals})
    return receivables


@dataclass
class CycleOverview:
    programme: Programme
    current: periods.Period
    upcoming: list[periods.Period]

    @property
    def fee_percent(self) -> str:
        """0.0150 -> '1.5' for people, who read rates in percent."""
        return f"{(self.programme.fee_rate * 100).normalize():f}"


def company_cycles(user: User, *, today: date | None = None, count: int = 3) -> list[CycleOverview]:
    """精算サイクル: per programme the company takes part in, this period and the next ones."""
    today = today or timezone.localdate()
    overviews = []
    for programme in Programme.objects.filter(stores__company_id=user.company_id).distinct():
        current = periods.period_containing(programme, today)
        upcoming, day = [], current.end + timedelta(days=1)
        while len(upcoming) < count and day <= programme.ends_on:
            upcoming.append(periods.period_containing(programme, day))
            day = upcoming[-1].end + timedelta(days=1)
        overviews.append(CycleOverview(programme, current, upcoming))
    return overviews


@dataclass
class Figures:
    """The city's view of one programme, every figure read from the ledger.

    granted      value put into wallets: −(issuance + sales + adjustment account balances)
    sales        what residents paid for premium vouchers (購入額): −sales account
    premium      the value the city funds (プレミアム分, and all of a free grant): −issuance
    spent        payments, gross: what payment entries put on merchant payables
    cancelled    what cancellation entries took off merchant payables (in window or late)
    outstanding  resident wallet balances
    expired      the expiry account balance
    payables     merchant payables + payout clearing (settled, not yet transferred)
    fees         fee income kept from payouts
    paid_out     transfers marked paid
    unsettled    payments not cancelled in periods not yet closed (from the payments)
    receivable   late cancellations no payout has absorbed yet, owed back by merchants

    They reconcile: granted = sales + premium + adjustments,
    granted = (spent − cancelled) + outstanding + expired,
    spent − cancelled = paid_out + payables + fees,
    and merchant_payable = unsettled − receivable (a merchant's payable goes negative by what
    it owes back).
    """

    granted: int = 0
    sales: int = 0
    premium: int = 0
    spent: int = 0
    cancelled: int = 0
    outstanding: int = 0
    expired: int = 0
    merchant_payable: int = 0
    payout_clearing: int = 0
    fees: int = 0
    paid_out: int = 0
    unsettled: int = 0
    receivable: int = 0
    receivables: list[dict] = field(default_factory=list)
    daily: list[tuple[date, int]] = field(default_factory=list)
    by_category: dict[str, int] = field(default_factory=dict)

    @property
    def payables(self) -> int:
        return self.merchant_payable + self.payout_clearing


def programme_figures(programme: Programme) -> Figures:
    balances = dict(
        Account.objects.filter(programme=programme)
        .values_list("kind")
        .annotate(total=Sum("balance"))
        .values_list("kind", "total")
    )
    kinds = Account.Kind
    moved = Posting.objects.filter(
        account__programme=programme, account__kind=kinds.MERCHANT_PAYABLE
    ).aggregate(
        spent=Sum("amount", filter=Q(entry__kind=JournalEntry.Kind.PAYMENT)),
        cancelled=Sum("amount", filter=Q(entry__kind=JournalEntry.Kind.PAYMENT_CANCEL)),
    )
    until = closed_until(programme)
    open_payments = programme.payments.filter(status=Payment.Status.COMPLETED)
    if until is not None:
        open_payments = open_payments.filter(created_at__gte=until)
    receivables = list(
        pending_late_cancellations(programme=programme, payments=Payment.objects.all())
        .values("company_id", "company__code", "company__name")
        .annotate(count=Count("pk"), total=Sum("amount"))
        .order_by("-total", "company__code")
    )
    return Figures(
        granted=-sum(balances.get(k, 0) for k in (kinds.ISSUANCE, kinds.SALES, kinds.ADJUSTMENT)),
        sales=-balances.get(kinds.SALES, 0),
        premium=-balances.get(kinds.ISSUANCE, 0),
        spent=moved["spent"] or 0,
        cancelled=-(moved["cancelled"] or 0),
        outstanding=balances.get(kinds.WALLET, 0),
        expired=balances.get(kinds.EXPIRED, 0),
        merchant_payable=balances.get(kinds.MERCHANT_PAYABLE, 0),
        payout_clearing=balances.get(kinds.PAYOUT_CLEARING, 0),
        fees=balances.get(kinds.FEE_INCOME, 0),
        paid_out=balances.get(kinds.PAID_OUT, 0),
        unsettled=open_payments.aggregate(total=Sum("amount", default=0))["total"],
        receivable=sum(r["total"] for r in receivables),
        receivables=receivables,
        daily=_daily_spending(programme),
        by_category=_spending_by_category(programme),
    )


def _daily_spending(programme: Programme) -> list[tuple[date, int]]:
    """Payments not cancelled, per local day, over the programme's usage period so far."""
    totals = dict(
        Payment.objects.filter(programme=programme, status=Payment.Status.COMPLETED)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(total=Sum("amount"))
        .values_list("day", "total")
    )
    last = min(programme.ends_on, timezone.localdate())
    if totals:
        last = max(last, max(totals))
    days = (last - programme.starts_on).days + 1
    return [
        (day, totals.get(day, 0))
        for day in (programme.starts_on + timedelta(days=i) for i in range(max(days, 0)))
    ]


def _spending_by_category(programme: Programme) -> dict[str, int]:
    totals = dict(
        programme.payments.filter(status="completed")
        .values_list("store__is_small_local")
        .annotate(total=Sum("amount"))
        .values_list("store__is_small_local", "total")
    )
    return {"small_local": totals.get(True, 0), "large": totals.get(False, 0)}
