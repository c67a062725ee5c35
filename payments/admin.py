from django.contrib import admin

from payments.models import Payment, PaymentSplit


class PaymentSplitInline(admin.TabularInline):
    model = PaymentSplit
    fields = ["value_type", "amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


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

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
