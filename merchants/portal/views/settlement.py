"""精算管理 for company admins: the cycle, the payout list and the payout statements.

Settlement belongs to the company, so only company admins see these pages; store managers
and staff get 403 (their pages are the usage history of their store).
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from merchants.models import User
from merchants.portal.access import merchant_required
from settlement import selectors, services
from settlement.models import Payout


def company_admin_required(view):
    @merchant_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.role != User.Role.COMPANY_ADMIN:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@company_admin_required
def cycle(request):
    return render(
        request,
        "settlement/cycle.html",
        {"cycles": selectors.company_cycles(request.user), "today": timezone.localdate()},
    )


@company_admin_required
def payouts(request):
    years = selectors.company_payout_years(request.user)
    try:
        year = int(request.GET.get("year", years[0]))
    except ValueError:
        year = years[0]
    if year not in years:
        year = years[0]
    rows = [
        (
            payout,
            f"{reverse('merchants:history')}?start={payout.period_start:%Y-%m-%d}T00:00"
            f"&end={payout.period_end:%Y-%m-%d}T23:59&programme={payout.programme_id}",
        )
        for payout in selectors.company_payouts(request.user, year=year)
    ]
    return render(
        request,
        "settlement/payouts.html",
        {
            "years": years,
            "year": year,
            "rows": rows,
            "receivables": selectors.company_receivables(request.user),
        },
    )


@company_admin_required
def statement(request, pk):
    try:
        payout = selectors.company_payout(request.user, pk)
    except Payout.DoesNotExist:
        raise Http404 from None
    payout = services.payout_statement_issue(payout=payout)
    return FileResponse(
        payout.statement.open("rb"),
        as_attachment=True,
        filename=f"支払明細書_{payout.programme.code}_{payout.period_start:%Y%m%d}-{payout.period_end:%Y%m%d}.pdf",
        content_type="application/pdf",
    )
