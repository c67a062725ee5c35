from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import charts
from core.admin import ReadOnlyInline
from core.audit import audit_log
from core.db import heavy_reads
from core.exceptions import DomainError
from core.verification import fresh_verification_required
from settlement import selectors, services, zengin
from settlement.models import PayingAccount, Payout, PayoutLine, SettlementRun
from wallets.models import Programme


class RunForm(forms.Form):
    programme = forms.ModelChoiceField(label=_("programme"), queryset=Programme.objects.all())
    period_end = forms.DateField(
        label=_("period end"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The last day of the period to close, e.g. 2026-11-15 or 2026-11-30."),
    )


class PaidForm(forms.Form):
    paid_on = forms.DateField(label=_("paid on"), widget=forms.DateInput(attrs={"type": "date"}))


class TransferForm(forms.Form):
    transfer_date = forms.DateField(
        label=_("transfer date"), widget=forms.DateInput(attrs={"type": "date"})
    )


@admin.register(SettlementRun)
class SettlementRunAdmin(admin.ModelAdmin):
    list_display = [
        "programme",
        "period_start",
        "period_end",
        "status",
        "started_by",
        "finished_at",
    ]
    list_filter = ["programme", "status"]
    change_list_template = "admin/settlement/settlementrun/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        extra_context = {"programmes": Programme.objects.all(), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "start/", self.admin_site.admin_view(self.start_view), name="settlement_run_start"
            ),
            path(
                "dashboard/<int:programme_id>/",
                self.admin_site.admin_view(self.dashboard_view),
                name="settlement_dashboard",
            ),
            *super().get_urls(),
        ]

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def start_view(self, request):
        if not request.user.has_perm("settlement.add_settlementrun"):
            raise PermissionDenied
        form = RunForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = services.settlement_run_request(
                    programme=form.cleaned_data["programme"],
                    period_end=form.cleaned_data["period_end"],
                    actor=request.user,
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    _("Settlement of %(run)s started in the background; refresh to see it done.")
                    % {"run": run},
                )
                return redirect("admin:settlement_settlementrun_changelist")
        return TemplateResponse(
            request,
            "admin/settlement/settlementrun/start.html",
            self._context(request, form=form, title=_("Close a settlement period")),
        )

    def dashboard_view(self, request, programme_id):
        if not request.user.has_perm("settlement.view_payout"):
            raise PermissionDenied
        programme = get_object_or_404(Programme, pk=programme_id)
        with heavy_reads():
            figures = selectors.programme_figures(programme)
        return TemplateResponse(
            request,
            "admin/settlement/dashboard.html",
            self._context(
                request,
                title=_("Programme dashboard: %(name)s") % {"name": programme.name},
                programme=programme,
                programmes=Programme.objects.all(),
                f=figures,
                daily=charts.bar_chart([(f"{day:%m/%d}", v) for day, v in figures.daily]),
                shares=charts.share_bars(
                    [
                        (_("Small/local stores"), figures.by_category["small_local"]),
                        (_("Large stores"), figures.by_category["large"]),
                    ]
                ),
            ),
        )


class PayoutLineInline(ReadOnlyInline):
    model = PayoutLine
    fields = ["payment", "kind", "amount"]


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin):
    list_display = [
        "company",
        "programme",
        "period_start",
        "period_end",
        "scheduled_on",
        "gross",
        "cancelled",
        "adjustment",
        "fee",
        "net",
        "carried_forward",
        "status",
        "approved_by",
        "paid_on",
        "paid_by",
    ]
    list_filter = ["programme", "status", "period_end", "scheduled_on"]
    search_fields = ["company__name", "company__code"]
    list_select_related = ["company", "programme", "paid_by", "approved_by"]
    readonly_fields = [f.name for f in Payout._meta.fields]
    inlines = [PayoutLineInline]
    actions = ["approve", "mark_paid", "download_transfer_file"]

    def has_add_permission(self, request):
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm("settlement.approve_payout")

    def has_download_transfer_file_permission(self, request):
        return request.user.has_perm("settlement.download_transfer_file")

    @admin.action(
        description=_("Approve selected payouts (second staff member)"), permissions=["approve"]
    )
    @fresh_verification_required
    def approve(self, request, queryset):
        try:
            count = services.payout_approve(payouts=list(queryset), actor=request.user)
        except DomainError as error:
            self.message_user(request, str(error), messages.ERROR)
            return None
        self.message_user(request, _("%(count)s payouts approved.") % {"count": count})
        return None

    def has_delete_permission(self, request, obj=None):
        return False

    def _action_page(self, request, queryset, form, action, title):
        return TemplateResponse(
            request,
            "admin/settlement/payout/action.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "form": form,
                "action": action,
                "payouts": queryset,
                "total": sum(p.net for p in queryset),
                "selected": ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Mark selected payouts as paid"), permissions=["change"])
    @fresh_verification_required
    def mark_paid(self, request, queryset):
        form = PaidForm(
            request.POST if "apply" in request.POST else None,
            initial={"paid_on": timezone.localdate()},
        )
        if form.is_bound and form.is_valid():
            try:
                count = services.payout_mark_paid(
                    payouts=list(queryset),
                    paid_on=form.cleaned_data["paid_on"],
                    actor=request.user,
                )
            except DomainError as error:
                self.message_user(request, str(error), messages.ERROR)
                return None
            self.message_user(request, _("%(count)s payouts marked as paid.") % {"count": count})
            return None
        return self._action_page(
            request, queryset.select_related("company"), form, "mark_paid", _("Mark as paid")
        )

    @admin.action(
        description=_("Download the Zengin transfer file"),
        permissions=["download_transfer_file"],
    )
    @fresh_verification_required
    def download_transfer_file(self, request, queryset):
        queryset = queryset.select_related("company", "programme", "run").order_by("company__code")
        form = TransferForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            programmes = {p.programme for p in queryset}
            if len(programmes) != 1:
                self.message_user(
                    request, _("Choose payouts of one programme only."), messages.ERROR
                )
                return None
            programme = programmes.pop()
            account = PayingAccount.objects.filter(programme=programme).first()
            if account is None:
                self.message_user(
                    request,
                    _("Register the paying account of %(programme)s first.")
                    % {"programme": programme},
                    messages.ERROR,
                )
                return None
            try:
                services.payouts_check_approved(queryset)
                data = zengin.transfer_file(
                    paying_account=account,
                    payouts=queryset,
                    transfer_date=form.cleaned_data["transfer_date"],
                )
            except DomainError as error:
                self.message_user(request, str(error), messages.ERROR)
                return None
            audit_log(
                action="settlement.transfer_file.downloaded",
                actor=request.user,
                obj=programme,
                payouts=[p.pk for p in queryset],
                transfer_date=form.cleaned_data["transfer_date"].isoformat(),
            )
            response = HttpResponse(data, content_type="text/plain; charset=shift_jis")
            name = f"sogofurikomi-{form.cleaned_data['transfer_date']:%Y%m%d}.txt"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return self._action_page(
            request, queryset, form, "download_transfer_file", _("Zengin transfer file")
        )


@admin.register(PayingAccount)
class PayingAccountAdmin(admin.ModelAdmin):
    list_display = [
        "programme",
        "requester_code",
        "requester_name_kana",
        "bank_code",
        "branch_code",
    ]
