from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from payments.models import Payment, PaymentSplit
from wallets import ledger
from wallets.exceptions import DomainError


class PaymentSplitInline(admin.TabularInline):
    model = PaymentSplit
    fields = ["value_type", "amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


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
    def cancel_late(self, request, queryset):
        """Past the merchant window too; settlement nets a late one on the next payout."""
        form = CancelForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for payment in queryset.order_by("pk"):
                try:
                    ledger.cancel(
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
