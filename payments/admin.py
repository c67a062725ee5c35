from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import FileResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from core.admin import AutocompleteAdmin, ReadOnlyInline
from core.exceptions import DomainError
from core.verification import fresh_verification_required
from merchants import services as merchant_services
from merchants.models import Store, Terminal
from payments import services
from payments.models import ApiKey, CpmCode, Payment, PaymentSplit
from payments.qr_sheet import render_pdf


class PaymentSplitInline(ReadOnlyInline):
    model = PaymentSplit
    fields = ["value_type", "amount"]


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=200)


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Payments are made and cancelled through the payment services, never edited here."""

    list_display = ["number", "created_at", "store", "amount", "mode", "status", "cancelled_at"]
    list_filter = ["programme", "status", "mode"]
    search_fields = ["number", "wallet__ticket_number", "store__name", "store__code"]
    date_hierarchy = "created_at"
    list_select_related = ["store"]
    inlines = [PaymentSplitInline]
    readonly_fields = [f.name for f in Payment._meta.fields]
    actions = ["cancel_late"]

    @admin.action(
        description=_("Cancel selected payments (city staff, with reason)"), permissions=["change"]
    )
    @fresh_verification_required
    def cancel_late(self, request, queryset):
        """Past the merchant window too; settlement nets a late one on the next payout."""
        form = CancelForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for payment in queryset.order_by("pk"):
                try:
                    services.payment_cancel(
                        payment=payment,
                        actor=request.user,
                        memo=form.cleaned_data["reason"],
                        enforce_window=False,
                    )
                    done += 1
                except DomainError as error:
                    self.message_user(request, f"{payment.number}: {error}", messages.WARNING)
            self.message_user(request, _("%(count)s payments cancelled.") % {"count": done})
            return None
        return TemplateResponse(
            request,
            "admin/settlement/payment_cancel.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Cancel payments"),
                "form": form,
                "payments": queryset.select_related("store"),
                "selected": ACTION_CHECKBOX_NAME,
            },
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(description=_("Download QR sheets (PDF)"), permissions=["view"])
def download_qr_sheets(modeladmin, request, queryset):
    """The printable QR台紙 of the selected stores, one A4 page each."""
    stores = list(queryset.select_related("programme").order_by("code")[:200])
    return FileResponse(
        render_pdf(stores),
        as_attachment=True,
        filename="qr-sheets.pdf" if len(stores) > 1 else f"qr-sheet-{stores[0].code}.pdf",
        content_type="application/pdf",
    )


class TerminalInline(admin.TabularInline):
    """Added on the terminal page, which shows the first terminal password once."""

    model = Terminal
    fields = ["terminal_id", "name", "kind", "external_id", "is_active"]
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Store)
class StoreAdmin(AutocompleteAdmin):
    """Stores are registered here, beside their QR sheets (the pay URL is a payments route)."""

    list_display = [
        "code",
        "name",
        "company",
        "programme",
        "passcode",
        "is_small_local",
        "is_active",
    ]
    list_filter = ["programme", "is_small_local", "is_active"]
    search_fields = ["code", "name", "company__name"]
    list_select_related = ["company", "programme"]
    autocomplete_fields = ["company"]
    inlines = [TerminalInline]
    actions = [download_qr_sheets, "new_sheet_token"]

    @admin.action(description=_("Issue a new QR sheet token (the old sheets stop working)"))
    @fresh_verification_required
    def new_sheet_token(self, request, queryset):
        stores = list(queryset)
        for store in stores:
            merchant_services.store_sheet_token_rotate(store=store, actor=request.user)
        self.message_user(
            request,
            _(
                "New QR sheet tokens for %(count)s stores: their printed sheets no longer work."
                " Print the new sheets and replace them in the shops."
            )
            % {"count": len(stores)},
            messages.WARNING,
        )


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["terminal", "name"]


@admin.register(ApiKey)
class ApiKeyAdmin(AutocompleteAdmin):
    """POS keys: the key is shown once, on creation; only its hash is stored. Revoke, never edit."""

    form = ApiKeyForm
    list_display = ["prefix", "name", "terminal", "created_at", "created_by", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "terminal__terminal_id", "terminal__store__name"]
    list_select_related = ["terminal", "created_by"]
    autocomplete_fields = ["terminal"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["terminal", "name", "prefix", "created_at", "created_by", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        api_key, raw_key = services.api_key_create(
            terminal=form.cleaned_data["terminal"],
            name=form.cleaned_data["name"],
            actor=request.user,
        )
        obj.pk = api_key.pk
        obj.refresh_from_db()
        self.message_user(
            request,
            _("The API key for %(terminal)s is %(key)s — copy it now, it will not be shown again.")
            % {"terminal": api_key.terminal, "key": raw_key},
            messages.WARNING,
        )

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected API keys"), permissions=["change"])
    def revoke(self, request, queryset):
        for api_key in queryset.select_related("terminal__store__company"):
            services.api_key_revoke(api_key=api_key, actor=request.user)
        self.message_user(request, _("The selected API keys were revoked."), messages.SUCCESS)


@admin.register(CpmCode)
class CpmCodeAdmin(admin.ModelAdmin):
    """Read-only: for answering 'why was this code refused?'."""

    list_display = ["nonce", "wallet", "created_at", "expires_at", "payment"]
    search_fields = ["nonce", "wallet__ticket_number", "payment__number"]
    list_select_related = ["wallet", "payment"]
    readonly_fields = ["wallet", "nonce", "created_at", "expires_at", "payment"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
