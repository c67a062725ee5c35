import uuid
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.validators import MinValueValidator
from django.db import transaction
from django.db.models import Sum
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.admin import AutocompleteAdmin, ReadOnlyAdmin, ReadOnlyInline
from core.audit import audit_log
from core.checkdigit import damm_valid
from core.csv import SafeWriter
from core.exceptions import DomainError
from core.formatting import grouped, yen
from core.verification import fresh_verification_required, reverify_redirect, verified_recently
from wallets import imports, ledger, services, tasks
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

# A run that has not moved for this long has stopped (its worker was killed or is down).
IMPORT_STALLED_AFTER = timedelta(minutes=2)


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

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Turning four eyes on payouts off or on needs a fresh second-factor check."""
        if request.method == "POST" and object_id:
            programme = self.get_object(request, object_id)
            wanted = bool(request.POST.get("payout_four_eyes"))
            if (
                programme
                and wanted != programme.payout_four_eyes
                and not verified_recently(request)
            ):
                return reverify_redirect(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "payout_four_eyes" in form.changed_data:
            audit_log(
                action="wallets.programme.payout_four_eyes_changed",
                actor=request.user,
                obj=obj,
                payout_four_eyes=obj.payout_four_eyes,
            )

    @admin.action(description=_("Expire remaining balances (失効)"), permissions=["change"])
    @fresh_verification_required
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
    paid = forms.IntegerField(
        label=_("purchase price (yen)"),
        required=False,
        min_value=0,
        help_text=_(
            "What the resident paid for a premium voucher (購入額); empty for a free grant."
        ),
    )
    memo = forms.CharField(label=_("memo / reason"), max_length=200, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, wallet, adjustment=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value_type"].queryset = wallet.programme.value_types.all()
        if adjustment:
            self.fields["amount"].help_text = _("Positive to add, negative to subtract.")
            self.fields["memo"].required = True
            del self.fields["paid"]
        else:
            self.fields["amount"].validators.append(MinValueValidator(1))
            self.fields["amount"].widget.attrs["min"] = 1


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

    @admin.action(description=_("Lift the PIN lock (wrong PINs)"), permissions=["reissue_pin"])
    @fresh_verification_required
    def unlock_pin(self, request, queryset):
        for wallet in queryset:
            services.wallet_pin_unlock(wallet=wallet, actor=request.user)
        self.message_user(
            request,
            _("PIN lock lifted for %(count)s tickets.") % {"count": grouped(len(queryset))},
        )

    @admin.action(description=_("Create notices (交付通知書)"), permissions=["reissue_pin"])
    @fresh_verification_required
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

    @admin.action(
        description=_("Reissue the notice (交付通知書を再発行)"), permissions=["reissue_pin"]
    )
    @fresh_verification_required
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

    def has_reissue_pin_permission(self, request):
        return request.user.has_perm("wallets.reissue_pin")

    def has_grant_permission(self, request):
        return request.user.has_perm("wallets.grant_wallet")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Setting a PIN is a reissue: the role's permission and a fresh check."""
        if request.method == "POST" and request.POST.get("pin"):
            if not self.has_reissue_pin_permission(request):
                raise PermissionDenied
            if not verified_recently(request):
                return reverify_redirect(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

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
            *super().get_urls(),
        ]

    def grant_view(self, request, pk):
        return self._money_view(request, pk, adjustment=False)

    def adjust_view(self, request, pk):
        return self._money_view(request, pk, adjustment=True)

    @fresh_verification_required
    def _money_view(self, request, pk, *, adjustment):
        if not self.has_grant_permission(request):
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
                        paid=data["paid"] or 0,
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


class ImportForm(forms.Form):
    programme = forms.ModelChoiceField(label=_("programme"), queryset=Programme.objects.all())
    kind = forms.ChoiceField(label=_("kind"), choices=ImportRun.Kind, initial="residents")
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8 (with or without BOM) or Shift_JIS. Residents: external_id,name,name_kana,"
            "postal_code,address and optionally value_type,amount,paid_amount. Grants:"
            " ticket_number,value_type,amount and optionally memo,paid_amount."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB: split it into several files.")
                % {"limit": imports.MAX_FILE_BYTES // (1024 * 1024)}
            )
        return upload


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """取込: upload, then watch the worker check and apply the file (the page refreshes itself)."""

    list_display = [
        "created_at",
        "programme",
        "kind",
        "dry_run",
        "status",
        "progress",
        "rejected_count",
        "filename",
        "created_by",
    ]
    list_filter = ["programme", "kind", "status", "dry_run"]
    list_select_related = ["programme", "created_by"]
    search_fields = ["filename", "digest"]

    def has_add_permission(self, request):
        """An import creates tickets and grants money: the role that grants does it."""
        return request.user.has_perm("wallets.grant_wallet")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail points at it; tickets it made keep a link to it

    @admin.display(description=_("progress"))
    def progress(self, run):
        return f"{grouped(run.rows_done)} / {grouped(run.rows_total)}"

    @admin.display(description=_("rejected rows"))
    def rejected_count(self, run):
        return grouped(len(run.rejected))

    def get_urls(self):
        return [
            path(
                "<int:pk>/apply/",
                self.admin_site.admin_view(self.apply_view),
                name="wallets_importrun_apply",
            ),
            path(
                "<int:pk>/notices/",
                self.admin_site.admin_view(self.notices_view),
                name="wallets_importrun_notices",
            ),
            path(
                "<int:pk>/rejected.csv",
                self.admin_site.admin_view(self.rejected_csv_view),
                name="wallets_importrun_rejected",
            ),
            *super().get_urls(),
        ]

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def _queue(self, request, run):
        language = translation.get_language()
        transaction.on_commit(lambda: tasks.run_import.enqueue(import_id=run.pk, language=language))

    @fresh_verification_required
    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None, initial=request.GET.dict())
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                run = imports.import_start(
                    programme=form.cleaned_data["programme"],
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                    dry_run="apply" not in request.POST,
                    actor=request.user,
                )
                self._queue(request, run)
            return redirect("admin:wallets_importrun_change", run.pk)
        return TemplateResponse(
            request,
            "admin/wallets/importrun/upload.html",
            self._context(request, form=form, title=_("Import from CSV")),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = get_object_or_404(ImportRun.objects.select_related("programme"), pk=object_id)
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        stalled = run.status == ImportRun.Status.FAILED or (
            not run.finished and timezone.now() - run.updated_at > IMPORT_STALLED_AFTER
        )
        return TemplateResponse(
            request,
            "admin/wallets/importrun/progress.html",
            self._context(
                request,
                run=run,
                title=str(run),
                rejected=run.rejected[:200],
                stalled=stalled,
                can_apply=run.dry_run
                and run.status == ImportRun.Status.DONE
                and not (run.kind == ImportRun.Kind.GRANTS and run.rejected)
                and self.has_add_permission(request),
                can_print=not run.dry_run
                and run.status == ImportRun.Status.DONE
                and run.kind == ImportRun.Kind.RESIDENTS
                and request.user.has_perm("wallets.reissue_pin"),
            ),
        )

    @method_decorator(require_POST)
    @fresh_verification_required
    def apply_view(self, request, pk):
        """Apply a checked file (a new run of the same stored file), or run a stopped one again."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        run = get_object_or_404(ImportRun, pk=pk)
        with transaction.atomic():
            if run.dry_run:
                run = ImportRun.objects.create(
                    programme=run.programme,
                    kind=run.kind,
                    file=run.file.name,
                    filename=run.filename,
                    digest=run.digest,
                    created_by=request.user,
                )
            else:
                if run.status == ImportRun.Status.FAILED:
                    ImportRun.objects.filter(pk=run.pk).update(
                        status=ImportRun.Status.PENDING, error="", finished_at=None
                    )
                audit_log(action="wallets.import.restarted", actor=request.user, obj=run)
            self._queue(request, run)
        return redirect("admin:wallets_importrun_change", run.pk)

    @method_decorator(require_POST)
    @fresh_verification_required
    def notices_view(self, request, pk):
        """交付通知書 for every ticket the import created (each gets its PIN and card now)."""
        if not request.user.has_perm("wallets.reissue_pin"):
            raise PermissionDenied
        run = get_object_or_404(ImportRun.objects.select_related("programme"), pk=pk)
        try:
            batch = services.notice_batch_create(
                programme=run.programme, actor=request.user, import_run=run
            )
        except DomainError as error:
            self.message_user(request, str(error), messages.ERROR)
            return redirect("admin:wallets_importrun_change", run.pk)
        return redirect("admin:wallets_noticebatch_change", batch.pk)

    def rejected_csv_view(self, request, pk):
        run = get_object_or_404(ImportRun, pk=pk)
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="rejected_{run.pk}.csv"'
        response.write("\ufeff")
        writer = SafeWriter(response)
        writer.writerow([_("Line"), _("Key"), _("Reason")])
        for row in run.rejected:
            writer.writerow([row["line"], row["key"], row["reason"]])
        return response


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

    @fresh_verification_required
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
