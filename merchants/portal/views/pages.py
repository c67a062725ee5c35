"""Merchant admin pages. Every object is looked up inside the user's scope (404 otherwise)."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import charts
from core.dates import add_months
from core.db import heavy_read
from core.exceptions import DomainError
from merchants import services
from merchants.models import BankAccountChange, ExportFile, User
from merchants.portal import exports as csv_exports
from merchants.portal import selectors
from merchants.portal.access import (
    can_manage_users,
    merchant_required,
    scope_exports,
    scope_payments,
    scope_programmes,
    scope_stores,
    scope_terminal_devices,
    scope_terminals,
    scope_users,
)
from merchants.portal.forms import (
    DAILY_MAX_DAYS,
    PAGE_SIZES,
    CancelForm,
    CompanyForm,
    DailyForm,
    ExportForm,
    HistoryForm,
    MonthlyForm,
    UserCreateForm,
    UserSearchForm,
)
from merchants.portal.selectors import HistoryFilters
from payments import services as payment_services
from payments.qr_sheet import render_pdf, render_png


@merchant_required
@heavy_read
def home(request):
    """トップページ"""
    return render(
        request,
        "merchants/home.html",
        {
            "today": selectors.today_totals(scope=request.scope),
            "recent": selectors.recent_payments(scope=request.scope),
            "now": timezone.now(),
            "programmes": scope_programmes(request.scope),
        },
    )


@merchant_required
@heavy_read
def history(request):
    """利用実績: today by default; a payment shows up the moment it is committed."""
    form = HistoryForm(request.GET or None, user=request.user)
    page = export_form = None
    if form.is_bound and not form.is_valid():
        filters = None
    elif form.is_bound:
        filters, per_page = form.filters(), form.cleaned_data["per_page"]
    else:
        filters, per_page = HistoryFilters.today(), PAGE_SIZES[0]
    if filters is not None:
        payments = selectors.payment_history_page(scope=request.scope, filters=filters)
        page = Paginator(payments, per_page).get_page(request.GET.get("page"))
        export_form = ExportForm(initial=filters.as_initial(), user=request.user)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "merchants/history.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "now": timezone.now(),
            "export_form": export_form,
            "programmes": scope_programmes(request.scope),
        },
        status=400 if filters is None else 200,
    )


@merchant_required
def payment_cancel(request, number):
    """取消: POST from the dialog; GET is the confirmation page for browsers without JS."""
    payment = get_object_or_404(
        scope_payments(request.scope).select_related("store", "programme"), number=number
    )
    form = CancelForm(request.POST or None)
    back = request.POST.get("back") or request.GET.get("back") or ""
    if not back.startswith("/merchant/"):
        back = "/merchant/history/"
    if request.method == "POST" and form.is_valid():
        try:
            payment_services.payment_cancel(
                payment=payment, actor=request.user, memo=form.cleaned_data["memo"]
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, _("Payment %(number)s has been cancelled.") % {"number": payment.number}
            )
        return redirect(back)
    return render(
        request,
        "merchants/payment_cancel.html",
        {
            "payment": payment,
            "form": form,
            "back": back,
            "cancellable": payment.can_be_cancelled(timezone.now()),
        },
    )


def _aggregate_page(request, form_class, template, initial, compute, *, by_month):
    form = form_class(request.GET or None, initial=initial)
    result = chart = None
    data = form.cleaned_data if form.is_bound and form.is_valid() else None
    if not form.is_bound:
        data = {**initial, "store_code": ""}
    if data is not None:
        result = compute(
            scope=request.scope,
            first=data["first"],
            last=data["last"],
            store_code=data["store_code"],
        )
        chart = charts.bar_chart(
            selectors.period_points(result, data["first"], data["last"], by_month=by_month)
        )
    return render(
        request,
        template,
        {"form": form, "result": result, "chart": chart},
        status=400 if data is None else 200,
    )


@merchant_required
@heavy_read
def monthly(request):
    """月別利用実績"""
    today = timezone.localdate()
    return _aggregate_page(
        request,
        MonthlyForm,
        "merchants/monthly.html",
        {"first": add_months(today.replace(day=1), -2), "last": today.replace(day=1)},
        selectors.monthly_totals,
        by_month=True,
    )


@merchant_required
@heavy_read
def daily(request):
    """日別利用実績"""
    today = timezone.localdate()
    return _aggregate_page(
        request,
        DailyForm,
        "merchants/daily.html",
        {"first": today - timedelta(days=DAILY_MAX_DAYS - 1), "last": today},
        selectors.daily_totals,
        by_month=False,
    )


@merchant_required
def stores(request):
    """店舗一覧"""
    return render(
        request,
        "merchants/stores.html",
        {"stores": scope_stores(request.scope).select_related("programme")},
    )


@merchant_required
def terminals(request):
    """端末: terminal IDs for setting up the store app, and the devices set up with them. A
    password is shown once, in the message after it is issued."""
    return render(
        request,
        "merchants/terminals.html",
        {
            "terminals": scope_terminals(request.scope)
            .select_related("store__programme")
            .order_by("store__code", "pk"),
            "devices": scope_terminal_devices(request.scope)
            .select_related("terminal__store")
            .order_by("terminal__store__code", "terminal__pk", "-last_seen_at", "pk"),
        },
    )


def _managed_terminal(request, pk):
    """A terminal of the user's scope that they may manage: new password, unlock (not store staff)."""
    terminal = get_object_or_404(scope_terminals(request.scope).select_related("store"), pk=pk)
    if request.user.role == User.Role.STORE_STAFF:
        raise Http404
    return terminal


def password_issued_message(request, terminal, password: str) -> None:
    """The one time a terminal password is shown: the message lives until the next page."""
    messages.warning(
        request,
        _(
            "The terminal password for %(terminal)s is %(password)s. Note it now: it will not be"
            " shown again. Devices set up with an earlier password are disconnected."
        )
        % {"terminal": terminal, "password": password},
    )


@merchant_required
@require_POST
def terminal_password(request, pk):
    terminal = _managed_terminal(request, pk)
    password = services.terminal_password_regenerate(actor=request.user, terminal=terminal)
    password_issued_message(request, terminal, password)
    return redirect("merchants:terminals")


@merchant_required
@require_POST
def terminal_unpair(request, pk):
    """接続解除: a lost or replaced device stops working, signed-in staff and all."""
    terminal = _managed_terminal(request, pk)
    services.terminal_unpair(actor=request.user, terminal=terminal)
    messages.success(
        request,
        _("Every device set up for %(terminal)s has been disconnected.") % {"terminal": terminal},
    )
    return redirect("merchants:terminals")


@merchant_required
@require_POST
def terminal_device_end(request, pk):
    """One device disconnected (a lost phone); the terminal's other devices keep working."""
    device = get_object_or_404(
        scope_terminal_devices(request.scope).select_related("terminal__store__company"), pk=pk
    )
    _managed_terminal(request, device.terminal_id)
    services.terminal_device_end(actor=request.user, device=device)
    messages.success(
        request,
        _("The device %(device)s of %(terminal)s has been disconnected.")
        % {"device": device, "terminal": device.terminal},
    )
    return redirect("merchants:terminals")


@merchant_required
@require_POST
def terminal_unlock(request, pk):
    """Lifts a set-up lock."""
    terminal = _managed_terminal(request, pk)
    services.terminal_setup_unlock(actor=request.user, terminal=terminal)
    messages.success(request, _("Set-up of %(terminal)s is unlocked.") % {"terminal": terminal})
    return redirect("merchants:terminals")


def _user_admin(request):
    if not can_manage_users(request.user):
        raise Http404
    return scope_users(request.user)


@merchant_required
def users(request):
    """管理ユーザ一覧: search by name, login ID or e-mail; lock state from django-axes."""
    people = _user_admin(request).select_related("store").order_by("username")
    form = UserSearchForm(request.GET or None)
    if form.is_valid() and form.cleaned_data["q"]:
        q = form.cleaned_data["q"]
        people = (
            people.filter(username__icontains=q)
            | people.filter(name__icontains=q)
            | people.filter(email__icontains=q)
        )
    page = Paginator(people, 25).get_page(request.GET.get("page"))
    locked = services.locked_usernames(u.username for u in page)
    for person in page:
        person.locked = person.username in locked
    return render(request, "merchants/users.html", {"form": form, "page": page})


@merchant_required
def user_create(request):
    """管理ユーザ登録"""
    _user_admin(request)
    form = UserCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = services.merchant_user_create(
            actor=request.user,
            name=data["name"],
            username=data["username"],
            email=data["email"],
            role=data["role"],
            store=data["store"],
        )
        messages.success(
            request,
            _("%(name)s has been registered and e-mailed a link to set a password.")
            % {"name": user},
        )
        return redirect("merchants:users")
    return render(request, "merchants/user_form.html", {"form": form})


@merchant_required
@require_POST
def user_deactivate(request, pk):
    person = get_object_or_404(_user_admin(request).exclude(pk=request.user.pk), pk=pk)
    services.merchant_user_deactivate(actor=request.user, user=person)
    messages.success(request, _("%(name)s can no longer sign in.") % {"name": person})
    return redirect("merchants:users")


@merchant_required
@require_POST
def user_welcome_resend(request, pk):
    """登録メール再送: a new one-time link for a user who has not set a password yet."""
    person = get_object_or_404(_user_admin(request), pk=pk)
    services.merchant_welcome_send(user=person, actor=request.user)
    messages.success(
        request, _("The registration mail was sent again to %(name)s.") % {"name": person}
    )
    return redirect("merchants:users")


@merchant_required
@require_POST
def user_unlock(request, pk):
    if request.user.role != User.Role.COMPANY_ADMIN:
        raise Http404
    person = get_object_or_404(_user_admin(request), pk=pk)
    services.merchant_user_unlock(actor=request.user, user=person)
    messages.success(request, _("The lock on %(name)s has been lifted.") % {"name": person})
    return redirect("merchants:users")


@merchant_required
def company(request):
    """加盟店情報: company admins edit contact details and the payout bank account."""
    company = request.user.company
    form = None
    if request.user.role == User.Role.COMPANY_ADMIN:
        form = CompanyForm(request.POST or None, instance=company)
        if request.method == "POST" and form.is_valid():
            requested = services.company_update(
                actor=request.user,
                company=company,
                changes={f: form.cleaned_data[f] for f in CompanyForm.Meta.fields},
            )
            messages.success(request, _("The merchant information has been saved."))
            if requested:
                messages.info(
                    request,
                    _(
                        "The new bank account is waiting for the city's approval; payouts go to"
                        " the current account until then. Every company admin has been e-mailed."
                    ),
                )
            return redirect("merchants:company")
    pending = company.bank_changes.filter(status=BankAccountChange.Status.PENDING).first()
    return render(
        request, "merchants/company.html", {"company": company, "form": form, "pending": pending}
    )


@merchant_required
@require_POST
def export_create(request):
    """データ出力: reserve the CSV of the current 利用実績 search."""
    form = ExportForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(
            request,
            " ".join(form.non_field_errors()) or _("The search conditions are not valid."),
        )
        return redirect("merchants:history")
    csv_exports.export_request(
        actor=request.user, filters=form.filters(), encoding=form.cleaned_data["encoding"]
    )
    messages.success(
        request, _("The CSV export has been reserved. It appears below when it is ready.")
    )
    return redirect("merchants:exports")


@merchant_required
def exports(request):
    """ファイルダウンロード"""
    files = list(scope_exports(request.scope).filter(expires_at__gt=timezone.now())[:100])
    names = selectors.search_names(scope=request.scope)
    for export in files:
        export.search = HistoryFilters.from_json(export.filters)
        export.value_type_name = names["value_types"].get(export.search.value_type, "")
        export.programme_name = names["programmes"].get(export.search.programme, "")
    waiting = {ExportFile.Status.PENDING, ExportFile.Status.RUNNING}
    return render(
        request,
        "merchants/exports.html",
        # The list reloads itself while a file is being made (no script needed).
        {"exports": files, "refresh": any(f.status in waiting for f in files)},
    )


@merchant_required
def export_download(request, pk):
    export = get_object_or_404(
        scope_exports(request.scope),
        pk=pk,
        status=ExportFile.Status.DONE,
        expires_at__gt=timezone.now(),
    )
    try:
        handle = export.file.open("rb")
    except FileNotFoundError:  # restored without its files, or a lost disk: say so, never a 500
        messages.error(
            request,
            _("This file is no longer on the server. Please request the CSV export again."),
        )
        return redirect("merchants:exports")
    services.audit_log(
        action="merchants.export.downloaded",
        actor=request.user,
        obj=export,
        company=export.company,
    )
    return FileResponse(
        handle,
        as_attachment=True,
        filename=export.filename,
        content_type=f"text/csv; charset={'shift_jis' if export.encoding == 'cp932' else 'utf-8'}",
    )


@merchant_required
def store_qr_sheet(request, pk, fmt):
    """QR台紙 of one of the user's stores, to print."""
    store = get_object_or_404(scope_stores(request.scope).select_related("programme"), pk=pk)
    render_sheet, content_type = (
        (render_pdf, "application/pdf") if fmt == "pdf" else (render_png, "image/png")
    )
    return FileResponse(
        render_sheet([store]),
        as_attachment=True,
        filename=f"qr-sheet-{store.code}.{fmt}",
        content_type=content_type,
    )
