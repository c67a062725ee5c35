"""Settlement: closing a period into payouts, marking them paid, issuing statements.

Accounting (signs as in the ledger: a merchant payable account is positive when owed):
- a payment puts +amount on the company's merchant payable, a cancellation −amount;
- closing a period moves base = gross − cancelled + adjustment off the merchant payable:
  (merchant_payable, −base), (payout_clearing, +net), (fee_income, +fee);
- marking paid: (payout_clearing, −net), (paid_out, +net).
So the merchant payable of a company always equals its payments minus cancellations that no
payout has accounted for yet, and payout clearing what is scheduled but not yet transferred.

Which payout accounts for a cancellation is recorded once per payment (PayoutLine, unique),
so a cancellation after its period closed is found by the next run as a late cancellation.
One that does not fit in that payout stays without a line, owed by the company (a receivable,
the payout's carried_forward) until a later payout absorbs it. The rules: docs/settlement.md.
"""

from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from core.dates import midnight
from core.exceptions import DomainError
from payments import services as payment_services
from settlement import periods, sql
from settlement.models import Payout, PayoutLine, SettlementRun
from wallets import ledger
from wallets.models import Account, JournalEntry, Programme


class NotAPeriodEnd(DomainError):
    code = "not_a_period_end"
    message = _("%(day)s is not the last day of a settlement period; the period ends on %(end)s.")


class PeriodNotOver(DomainError):
    code = "period_not_over"
    message = _("This settlement period has not ended yet.")


class PeriodOutsideProgramme(DomainError):
    code = "period_outside_programme"
    message = _("This period is outside the programme's usage period.")


class EarlierPeriodOpen(DomainError):
    code = "earlier_period_open"
    message = _("Close the earlier period %(period)s first.")


class PayoutNotApproved(DomainError):
    code = "payout_not_approved"
    status = 409
    message = _(
        "%(payout)s has not been approved yet: a second staff member must approve it before a "
        "transfer file is made or it is marked paid."
    )


class SameStaffMember(DomainError):
    code = "four_eyes"
    status = 403
    message = _(
        "%(payout)s needs a second staff member: the one who ran the settlement (or, for an "
        "automatic run, the one who approved it) cannot also approve it or mark it paid."
    )


def fee_for(base: int, rate: Decimal) -> int:
    """換金手数料: rate × (gross − cancelled + adjustment), rounded down to the yen, per payout."""
    if base <= 0:
        return 0
    return int((Decimal(base) * rate).to_integral_value(rounding=ROUND_FLOOR))


def _checked_period(programme: Programme, period_end: date, today: date) -> periods.Period:
    period = periods.period_containing(programme, period_end)
    if period.end != period_end:
        raise NotAPeriodEnd(day=f"{period_end:%Y/%m/%d}", end=f"{period.end:%Y/%m/%d}")
    if period.end >= today:
        raise PeriodNotOver()
    if period.end < programme.starts_on or period.start > programme.ends_on:
        raise PeriodOutsideProgramme()
    return period


def settlement_run_request(
    *, programme: Programme, period_end: date, actor=None, today: date | None = None
) -> SettlementRun:
    """Record the run and start it in the background worker (admin); twice gives the same run."""
    from settlement.tasks import settle_period

    period = _checked_period(programme, period_end, today or timezone.localdate())
    _check_previous_closed(programme, period)
    with transaction.atomic():
        run, created = SettlementRun.objects.get_or_create(
            programme=programme,
            period_start=period.start,
            defaults={"period_end": period.end, "started_by": _user(actor)},
        )
        if created:
            audit_log(action="settlement.run.requested", actor=actor, obj=run, period=str(period))
        if run.status == SettlementRun.Status.QUEUED:
            # Also a retry after a failed attempt: the run itself is idempotent.
            transaction.on_commit(
                lambda: settle_period.enqueue(
                    programme_id=programme.pk,
                    period_end=period.end.isoformat(),
                    actor_id=getattr(actor, "pk", None),
                )
            )
    return run


def _check_previous_closed(programme: Programme, period: periods.Period) -> None:
    """Periods close in order, so every cancellation before this one is already accounted."""
    previous_end = period.start - timedelta(days=1)
    if (
        previous_end >= programme.starts_on
        and not SettlementRun.objects.filter(
            programme=programme, period_end=previous_end, status=SettlementRun.Status.DONE
        ).exists()
    ):
        raise EarlierPeriodOpen(period=str(periods.period_containing(programme, previous_end)))


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def settlement_run(
    *, programme: Programme, period_end: date, actor=None, today: date | None = None
) -> SettlementRun:
    """Close one period: a payout per company with anything to settle; twice changes nothing.

    Aggregation is set-based in SQL (GROUP BY company), so memory stays flat however many
    payments the period holds. Late cancellations are netted on this payout, oldest first, as
    far as they fit without making it negative; the rest are carried forward to the next one.

    First it waits for the payments in flight, outside any transaction so that it holds no
    lock while it waits (called inside one, as by the demo data, the programme's payments wait
    until that one commits). Then three steps, each safe to repeat after a crash: freeze the
    payouts (one transaction), post each company's settlement entry in its own short
    transaction (so payments to that company wait milliseconds, not the whole run, for its
    payable account), then mark the run done.
    """
    period = _checked_period(programme, period_end, today or timezone.localdate())
    # The period has ended, so a payment that begins after this returns is stamped after it,
    # and every payment stamped inside it has committed or rolled back by then.
    payment_services.payments_in_flight_wait(programme_id=programme.pk)
    with transaction.atomic():
        # NO KEY UPDATE: serialises runs of the programme, yet payments and cancellations,
        # whose foreign keys take KEY SHARE on the programme row, never wait for it.
        programme = Programme.objects.select_for_update(no_key=True).get(pk=programme.pk)
        run, _created = SettlementRun.objects.get_or_create(
            programme=programme,
            period_start=period.start,
            defaults={"period_end": period.end, "started_by": _user(actor)},
        )
        if run.status == SettlementRun.Status.DONE:
            return run
        _check_previous_closed(programme, period)
        if not run.payouts.exists():
            _freeze_payouts(run, programme, period)
    for payout_id in run.payouts.order_by("pk").values_list("pk", flat=True):
        _post_settlement(payout_id, actor=actor, memo=f"settlement {period}")
    with transaction.atomic():
        run = SettlementRun.objects.select_for_update().get(pk=run.pk)
        if run.status == SettlementRun.Status.DONE:
            return run
        run.status = SettlementRun.Status.DONE
        run.finished_at = timezone.now()
        run.started_by = run.started_by or _user(actor)
        run.save(update_fields=["status", "finished_at", "started_by"])
        totals = run.payouts.aggregate(count=Count("pk"), total=Sum("net"))
        audit_log(
            action="settlement.run.done",
            actor=actor,
            obj=run,
            period=str(period),
            payouts=totals["count"],
            total=totals["total"] or 0,
        )
        transaction.on_commit(lambda: _enqueue_statements(run.pk))
    return run


def _freeze_payouts(run: SettlementRun, programme: Programme, period: periods.Period) -> None:
    params = {
        "programme": programme.pk,
        "start": midnight(period.start),
        "end": midnight(period.end + timedelta(days=1)),
    }
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS settlement_claims")
        cursor.execute(sql.CLAIMS_TABLE)
        cursor.execute(sql.FREEZE, params)
        rows = cursor.fetchall()
    payouts = []
    for company_id, n, gross, cancelled_n, cancelled, late_n, late, pending in rows:
        base = gross - cancelled - late
        fee = fee_for(base, programme.fee_rate)
        payouts.append(
            Payout(
                run=run,
                programme=programme,
                company_id=company_id,
                period_start=period.start,
                period_end=period.end,
                scheduled_on=period.payment_date,
                payment_count=n,
                gross=gross,
                cancelled_count=cancelled_n,
                cancelled=cancelled,
                adjustment_count=late_n,
                adjustment=-late,
                fee=fee,
                net=base - fee,
                carried_forward=pending,
            )
        )
    Payout.objects.bulk_create(payouts, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute(sql.LINES, {"run": run.pk})


def _post_settlement(payout_id: int, *, actor, memo: str) -> None:
    """The payout's entry: merchant payable −(net + fee), payout clearing +net, fee income +fee."""
    with transaction.atomic():
        # The payout row lock makes a racing second runner find the entry by its key.
        payout = (
            Payout.objects.select_for_update(of=("self",))
            .select_related("company", "programme")
            .get(pk=payout_id)
        )
        base = payout.net + payout.fee
        if not base:
            return
        programme, company = payout.programme, payout.company
        ledger.transfer(
            programme=programme,
            kind=JournalEntry.Kind.SETTLEMENT,
            lines=[
                (
                    ledger.account_for(programme, Account.Kind.MERCHANT_PAYABLE, company=company),
                    -base,
                ),
                (
                    ledger.account_for(programme, Account.Kind.PAYOUT_CLEARING, company=company),
                    payout.net,
                ),
                (ledger.account_for(programme, Account.Kind.FEE_INCOME), payout.fee),
            ],
            actor=actor,
            memo=memo,
            idempotency_key=f"settlement:{payout.run_id}:{company.pk}",
        )


def _enqueue_statements(run_id: int) -> None:
    from settlement.tasks import issue_statements

    issue_statements.enqueue(run_id=run_id)


def payout_approve(*, payouts, actor) -> int:
    """Four eyes: a second staff member approves scheduled payouts; the one who ran their
    settlement cannot. All or nothing; already approved or paid ones are left alone."""
    count = 0
    with transaction.atomic():
        for payout in (
            Payout.objects.select_for_update(of=("self",))
            .filter(
                pk__in=[p.pk for p in payouts],
                status=Payout.Status.SCHEDULED,
                approved_at__isnull=True,
            )
            .select_related("run", "company")
            .order_by("pk")
        ):
            if payout.run.started_by_id is not None and payout.run.started_by_id == actor.pk:
                raise SameStaffMember(payout=str(payout))
            payout.approved_by = actor
            payout.approved_at = timezone.now()
            payout.save(update_fields=["approved_by", "approved_at"])
            audit_log(
                action="settlement.payout.approved",
                actor=actor,
                obj=payout,
                company=payout.company,
                net=payout.net,
                run_started_by=payout.run.started_by_id,
            )
            count += 1
    return count


def payouts_check_approved(payouts, *, actor=None) -> None:
    """Before a transfer file or marking paid: every payout of a four-eyes programme is approved,
    and (for an automatic run, which no one started) not approved by `actor` themself."""
    for payout in payouts:
        if not payout.programme.payout_four_eyes or payout.status != Payout.Status.SCHEDULED:
            continue
        if payout.approved_at is None:
            raise PayoutNotApproved(payout=str(payout))
        if (
            actor is not None
            and payout.run.started_by_id is None
            and payout.approved_by_id == getattr(actor, "pk", None)
        ):
            raise SameStaffMember(payout=str(payout))


def payout_mark_paid(*, payouts, paid_on: date, actor) -> int:
    """Record the transfer of scheduled payouts (date, who); already paid ones are left alone.
    Four eyes (Programme.payout_four_eyes): only approved payouts, or nothing at all."""
    count = 0
    with transaction.atomic():
        locked = list(
            Payout.objects.select_for_update(of=("self",))
            .filter(pk__in=[p.pk for p in payouts], status=Payout.Status.SCHEDULED)
            .select_related("programme", "company", "run")
            .order_by("pk")
        )
        payouts_check_approved(locked, actor=actor)
        for payout in locked:
            if payout.net:
                programme = payout.programme
                ledger.transfer(
                    programme=programme,
                    kind=JournalEntry.Kind.PAYOUT,
                    lines=[
                        (
                            ledger.account_for(
                                programme, Account.Kind.PAYOUT_CLEARING, company=payout.company
                            ),
                            -payout.net,
                        ),
                        (
                            ledger.account_for(
                                programme, Account.Kind.PAID_OUT, company=payout.company
                            ),
                            payout.net,
                        ),
                    ],
                    actor=actor,
                    memo=f"payout {payout}",
                    idempotency_key=f"payout:{payout.pk}",
                )
            payout.status = Payout.Status.PAID
            payout.paid_on = paid_on
            payout.paid_by = _user(actor)
            payout.save(update_fields=["status", "paid_on", "paid_by"])
            audit_log(
                action="settlement.payout.paid",
                actor=actor,
                obj=payout,
                company=payout.company,
                paid_on=paid_on.isoformat(),
                net=payout.net,
            )
            count += 1
    return count


def payout_statement_issue(*, payout: Payout) -> Payout:
    """Render and store the 支払明細書 once; an issued statement is never rendered again, unless
    its file is gone (a restore without the media files, a lost disk): then it is rendered again
    from the same payout and lines, and the audit log says so."""
    from settlement.statement import render_statement

    with transaction.atomic():
        payout = (
            Payout.objects.select_for_update(of=("self",))
            .select_related("company", "programme")
            .get(pk=payout.pk)
        )
        lost = bool(payout.statement) and not payout.statement.storage.exists(payout.statement.name)
        if lost:
            audit_log(
                action="settlement.statement.regenerated",
                obj=payout,
                company=payout.company,
                missing=payout.statement.name,
            )
            payout.statement = None
        if not payout.statement:
            late = list(
                PayoutLine.objects.filter(payout=payout, kind=PayoutLine.Kind.LATE)
                .select_related("payment")
                .order_by("payment__created_at")
            )
            pdf = render_statement(payout, late_lines=late)
            payout.statement.save(
                f"payout-{payout.pk}-{payout.company.code}-{payout.period_end:%Y%m%d}.pdf",
                pdf,
                save=False,
            )
            payout.save(update_fields=["statement"])
    return payout
