import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.validators import MinValueValidator
from django.db.models import Sum
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import AutocompleteAdmin, ReadOnlyAdmin, ReadOnlyInline
from core.audit import audit_log
from core.checkdigit import damm_valid
from core.exceptions import DomainError
from core.formatting import grouped, yen
from wallets import ledger, services
from wallets.exceptions import IdempotencyConflict, NoticeSetInvalid
from wallets.models import (
    NEW_PIN_DIGITS,
    TICKET_DIGITS,
    Account,
    ImportRun,
    JournalEntry,
    NoticeBatch,
    Posting,
    Programme,
    Resident,
    ValueType,
    Wallet,
)


class ValueTypeInline(admin.TabularInline):
    model = ValueType
    extra = 0


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "issuer",
        "starts_on",
        "ends_on",
        "cancel_window",
        "settlement_cycle",
    ]
    search_fields = ["name", "code", "issuer"]
    inlines = [ValueTypeInline]
    actions = ["expire_balances"]

    @admin.action(description=_("Expire remaining balances (失効)"), permissions=["change"])
    def expire_balances(self, request, queryset):
        for programme in queryset:
            try:
                report = ledger.expire(programme=programme, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"{programme}: {error}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(programme)s: %(wallets)s wallets expired, %(total)s yen in all.")
                % {
                    "programme": programme,
                    "wallets": grouped(report.wallets),
                    "total": grouped(report.total),
                },
            )


@admin.register(ValueType)
class ValueTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "programme", "small_local_only", "expires_on"]
    list_filter = ["programme", "small_local_only"]


class WalletInline(ReadOnlyInline):
    model = Wallet
    fields = ["ticket_number", "programme"]
    show_change_link = True


@admin.register(Resident)
class ResidentAdmin(AutocompleteAdmin):
    list_display = ["name", "name_kana", "email", "created_at"]
    search_fields = ["name", "name_kana", "email", "wallets__ticket_number"]
    inlines = [WalletInline]


class BalanceInline(ReadOnlyInline):
    model = Account
    fields = ["value_type", "expires_on", "balance_yen"]

    @admin.display(description=_("expires on"))
    def expires_on(self, account):
        return account.value_type.expires_on

    @admin.display(description=_("balance (yen)"))
    def balance_yen(self, account):
        return yen(account.balance)


class WalletForm(forms.ModelForm):
    pin = forms.RegexField(
        label=_("PIN"),
        regex=rf"^\d{{{NEW_PIN_DIGITS},8}}$",
        required=False,
        help_text=_("6 to 8 digits; leave empty to keep the current PIN."),
    )

    class Meta:
        model = Wallet
        fields = ["programme", "resident", "ticket_number", "pin"]

    def clean_ticket_number(self):
        number = self.cleaned_data["ticket_number"]
        if not damm_valid(number) or len(number) != TICKET_DIGITS:
            raise forms.ValidationError(
                _("12 digits whose last is the check digit; leave the generated number as it is.")
            )
        return number

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pin_hash and not cleaned.get("pin"):
            self.add_error("pin", _("Set a PIN for a new wallet."))
        return cleaned

    def save(self, commit=True):
        if self.cleaned_data.get("pin"):
            self.instance.set_pin(self.cleaned_data["pin"])
        return super().save(commit)


class GrantForm(forms.Form):
    """A single grant or adjustment; the key makes a double submit grant once."""

    value_type = forms.ModelChoiceField(label=_("value type"), queryset=ValueType.objects.none())
    amount = forms.IntegerField(label=_("amount (yen)"))
    memo = forms.CharField(label=_("memo / reason"), max_length=200, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, wallet, adjustment=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value_type"].queryset = wallet.programme.value_types.all()
        if adjustment:
            self.fields["amount"].help_text = _("Positive to add, negative to subtract.")
            self.fields["memo"].required = True
        else:
            self.fields["amount"].validators.append(MinValueValidator(1))
            self.fields["amount"].widget.attrs["min"] = 1


class BulkGrantForm(forms.Form):
    programme = forms.ModelChoiceField(label=_("programme"), queryset=Programme.objects.all())
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Columns: ticket_number,value_type,amount,memo (UTF-8 or Shift_JIS)."),
        required=False,
    )
    text = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("file"):
            try:
                cleaned["text"] = services.decode_csv(cleaned["file"].read())
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    _("The file is neither UTF-8 nor Shift_JIS text.")
                ) from None
        if not cleaned.get("text"):
            raise forms.ValidationError(_("Choose a CSV file."))
        return cleaned


@admin.register(Wallet)
class WalletAdmin(AutocompleteAdmin):
    form = WalletForm
    list_display = ["ticket_number", "resident", "programme", "total_balance"]
    list_filter = ["programme", "imported_by"]
    search_fields = ["ticket_number", "resident__name", "resident__name_kana"]
    autocomplete_fields = ["resident"]
    inlines = [BalanceInline]
    actions = ["unlock_pin", "print_notices", "reissue_notices"]
    change_form_template = "admin/wallets/wallet/change_form.html"
    change_list_template = "admin/wallets/wallet/change_list.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("resident", "programme")
            .annotate(total=Sum("accounts__balance"))
        )

    @admin.display(description=_("balance (yen)"), ordering="total")
    def total_balance(self, obj):
        return yen(obj.total or 0)

    @admin.action(description=_("Lift the PIN lock (wrong PINs)"), permissions=["change"])
    def unlock_pin(self, request, queryset):
        for wallet in queryset:
            services.wallet_pin_unlock(wallet=wallet, actor=request.user)
        self.message_user(
            request,
            _("PIN lock lifted for %(count)s tickets.") % {"count": grouped(len(queryset))},
        )

    @admin.action(description=_("Create notices (交付通知書)"), permissions=["change"])
    def print_notices(self, request, queryset):
        """The selected tickets (all of an import when it is filtered and all are selected)."""
        programmes = set(queryset.values_list("programme_id", flat=True))
        if len(programmes) != 1:
            self.message_user(request, NoticeSetInvalid.message, messages.ERROR)
            return None
        imports = set(queryset.values_list("imported_by_id", flat=True))
        run = None
        if len(imports) == 1 and None not in imports:
            candidate = ImportRun.objects.get(pk=imports.pop())
            if candidate.wallets.count() == queryset.count():
                run = candidate
        batch = services.notice_batch_create(
            programme=Programme.objects.get(pk=programmes.pop()),
            actor=request.user,
            import_run=run,
            wallet_ids=None if run else list(queryset.values_list("pk", flat=True)),
        )
        self.message_user(
            request,
            _(
                "Notices for %(count)s tickets are being created; they can be downloaded here when ready. Writing them gives each ticket a new PIN and card."
            )
            % {"count": grouped(batch.pages_total)},
        )
        return redirect("admin:wallets_noticebatch_change", batch.pk)

    @admin.action(description=_("Reissue the notice (交付通知書を再発行)"), permissions=["change"])
    def reissue_notices(self, request, queryset):
        """A lost notice: its PIN and card stop working now; a new notice is written."""
        batches = [
            services.wallet_notice_reissue(wallet=wallet, actor=request.user)
            for wallet in queryset.select_related("programme")
        ]
        self.message_user(
            request,
            _(
                "Reissued %(count)s notices: the old PINs and cards no longer work. Download the new notices from 交付通知書."
            )
            % {"count": grouped(len(batches))},
        )
        if len(batches) == 1:
            return redirect("admin:wallets_noticebatch_change", batches[0].pk)
        return redirect("admin:wallets_noticebatch_changelist")

    def has_delete_permission(self, request, obj=None):
        return False  # a ticket with history is kept; its balance can be adjusted or expired

    def get_urls(self):
        return [
            path(
                "<int:pk>/grant/",
                self.admin_site.admin_view(self.grant_view),
                name="wallets_wallet_grant",
            ),
            path(
                "<int:pk>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="wallets_wallet_adjust",
            ),
            path(
                "bulk-grant/",
                self.admin_site.admin_view(self.bulk_grant_view),
                name="wallets_wallet_bulk_grant",
            ),
            *super().get_urls(),
        ]

    def grant_view(self, request, pk):
        return self._money_view(request, pk, adjustment=False)

    def adjust_view(self, request, pk):
        return self._money_view(request, pk, adjustment=True)

    def _money_view(self, request, pk, *, adjustment):
        if not self.has_change_permission(request):
            raise PermissionDenied
        wallet = get_object_or_404(Wallet.objects.select_related("programme"), pk=pk)
        form = GrantForm(
            request.POST or None,
            wallet=wallet,
            adjustment=adjustment,
            initial={"idempotency_key": uuid.uuid4().hex},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            key = f"admin:{data['idempotency_key']}"
            try:
                if adjustment:
                    ledger.adjust(
                        wallet=wallet,
                        value_type=data["value_type"],
                        amount=data["amount"],
                        actor=request.user,
                        reason=data["memo"],
                        idempotency_key=key,
                    )
                else:
                    ledger.grant(
                        wallet=wallet,
                        value_type=data["value_type"],
                        amount=data["amount"],
                        actor=request.user,
                        memo=data["memo"],
                        idempotency_key=key,
                    )
            except IdempotencyConflict:
                form.add_error(
                    None,
                    _(
                        "This form was already submitted with other values, so nothing was"
                        " done now. Open the form again to make a new entry."
                    ),
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request, _("Done: %(amount)s yen.") % {"amount": grouped(data["amount"])}
                )
                return redirect("admin:wallets_wallet_change", wallet.pk)
        return TemplateResponse(
            request,
            "admin/wallets/wallet/grant.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "wallet": wallet,
                "form": form,
                "title": _("Balance adjustment") if adjustment else _("Grant"),
            },
        )

    def bulk_grant_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = BulkGrantForm(request.POST or None, request.FILES or None)
        plan = None
        if request.method == "POST" and form.is_valid():
            plan = services.grant_csv_plan(
                programme=form.cleaned_data["programme"], text=form.cleaned_data["text"]
            )
            if "apply" in request.POST and not plan.rejected and plan.rows:
                count = services.grant_csv_apply(plan=plan, actor=request.user)
                self.message_user(
                    request,
                    _("Granted %(count)s rows, %(total)s yen in all.")
                    % {"count": count, "total": grouped(plan.total)},
                )
                return redirect(reverse("admin:wallets_wallet_changelist"))
            if "apply" in request.POST:
                self.message_user(
                    request, _("Nothing was granted: fix the rejected rows first."), messages.ERROR
                )
        return TemplateResponse(
            request,
            "admin/wallets/wallet/bulk_grant.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "form": form,
                "plan": plan,
                "text": form.cleaned_data.get("text", "")
                if form.is_bound and form.is_valid()
                else "",
                "title": _("Bulk grant from CSV"),
            },
        )


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "programme", "balance"]
    list_filter = ["programme", "kind"]
    search_fields = ["wallet__ticket_number", "company__name"]
    list_select_related = ["programme", "wallet", "company", "value_type"]


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = ["account", "amount"]


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["pk", "created_at", "kind", "programme", "created_by", "memo"]
    list_filter = ["programme", "kind"]
    search_fields = ["memo", "idempotency_key"]
    date_hierarchy = "created_at"
    inlines = [PostingInline]
    list_select_related = ["programme", "created_by"]


@admin.register(NoticeBatch)
class NoticeBatchAdmin(ReadOnlyAdmin):
    """Written by the worker (Wallet actions, manage.py print_notices); the files hold PINs, so
    every download is in the audit trail."""

    list_display = [
        "pk",
        "programme",
        "kind",
        "status",
        "progress",
        "created_by",
        "created_at",
        "downloads",
    ]
    list_filter = ["programme", "kind", "status"]
    list_select_related = ["programme", "created_by"]
    fields = [
        "programme",
        "kind",
        "import_run",
        "status",
        "progress",
        "downloads",
        "pdf_size",
        "error",
        "created_by",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields
    change_form_template = "admin/wallets/noticebatch/change_form.html"
    change_list_template = "admin/wallets/noticebatch/change_list.html"
    actions = ["write_again", "delete_files"]

    def has_files_permission(self, request):
        return request.user.has_perm("wallets.change_wallet")

    @admin.action(description=_("Write again (failed batches)"), permissions=["files"])
    def write_again(self, request, queryset):
        batches = list(queryset.exclude(status=NoticeBatch.Status.DONE))
        for batch in batches:
            services.notice_batch_retry(batch=batch, actor=request.user)
        self.message_user(
            request,
            _("%(count)s notice batches will be written again.") % {"count": grouped(len(batches))},
        )

    @admin.action(description=_("Delete the files (printing is done)"), permissions=["files"])
    def delete_files(self, request, queryset):
        batches = [batch for batch in queryset if batch.pdf or batch.csv]
        for batch in batches:
            services.notice_batch_files_delete(batch=batch, actor=request.user)
        self.message_user(
            request,
            _("Deleted the files of %(count)s notice batches.") % {"count": grouped(len(batches))},
        )

    @admin.display(description=_("progress"))
    def progress(self, batch):
        return _("%(done)s / %(total)s pages") % {
            "done": grouped(batch.pages_done),
            "total": grouped(batch.pages_total),
        }

    @admin.display(description=_("files"))
    def downloads(self, batch):
        if batch.status != NoticeBatch.Status.DONE or not batch.pdf:
            return "—"
        return format_html(
            '<a href="{}">PDF</a> · <a href="{}">CSV</a>',
            reverse("admin:wallets_noticebatch_file", args=[batch.pk, "pdf"]),
            reverse("admin:wallets_noticebatch_file", args=[batch.pk, "csv"]),
        )

    def changelist_view(self, request, extra_context=None):
        running = NoticeBatch.objects.exclude(
            status__in=[NoticeBatch.Status.DONE, NoticeBatch.Status.FAILED]
        ).exists()
        return super().changelist_view(request, {"refresh": running, **(extra_context or {})})

    def get_urls(self):
        return [
            path(
                "<int:pk>/file/<str:kind>/",
                self.admin_site.admin_view(self.file_view),
                name="wallets_noticebatch_file",
            ),
            *super().get_urls(),
        ]

    def file_view(self, request, pk, kind):
        if not self.has_view_permission(request) or not request.user.has_perm(
            "wallets.change_wallet"
        ):
            raise PermissionDenied
        batch = get_object_or_404(NoticeBatch.objects.select_related("programme"), pk=pk)
        field = {"pdf": batch.pdf, "csv": batch.csv}.get(kind)
        if not field or batch.status != NoticeBatch.Status.DONE:
            raise Http404
        audit_log(
            action="wallets.notice_batch.downloaded", actor=request.user, obj=batch, file=kind
        )
        return FileResponse(
            field.open("rb"),
            as_attachment=True,
            filename=f"notices-{batch.programme.code}-{batch.pk}.{kind}",
            content_type="application/pdf" if kind == "pdf" else "text/csv; charset=utf-8",
        )
