"""Admin bases for rows that only a service writes (ledger rows, payment splits, payout lines)."""

from django.contrib import admin

from core.models import AuditLog


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown to city staff, written by a service only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows a service writes elsewhere, shown beside their parent."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "action",
        "actor",
        "actor_label",
        "company",
        "object_type",
        "object_id",
    ]
    list_filter = ["action"]
    search_fields = ["action", "actor_label", "object_id"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "company"]
