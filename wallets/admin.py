import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.validators import MinValueValidator
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from core.admin import AutocompleteAdmin, ReadOnlyAdmin, ReadOnlyInline
from core.audit import audit_log
from core.checkdigit import damm_valid
from core.exceptions import DomainError
from core.formatting import grouped, yen
from core.verification import fresh_verification_required, reverify_redirect, verified_recently
from wallets import ledger, services
from wallets.exceptions import IdempotencyConflict
from wallets.models import (
    NEW_PIN_DIGITS,
    TICKET_DIGITS,
    Account,
    JournalEntry,
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
    list_filter = ["programme"]
    search_fields = ["ticket_number", "resident__name", "resident__name_kana"]
    autocomplete_fields = ["resident"]
    inlines = [BalanceInline]
    actions = ["unlock_pin"]
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

    @fresh_verification_required
    def bulk_grant_view(self, request):
        if not self.has_grant_permission(request):
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
