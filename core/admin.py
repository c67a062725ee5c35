"""Admin bases: rows that only a service writes (ledger rows, payment splits, payout lines), and
autocomplete fields that answer junk with a form error instead of a 500."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError

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


class _AutocompleteSelect(AutocompleteSelect):
    """Django's widget looks the posted id up to redraw the form; an id the key cannot hold
    (`1.5`, a NUL) is dropped first, and the field already says it is invalid."""

    def optgroups(self, name, value, attr=None):
        key = self.field.target_field

        def valid(raw):
            try:
                key.to_python(raw)
            except ValidationError:
                return False
            return True

        return super().optgroups(name, [v for v in value if valid(v)], attr)

    @property
    def media(self):
        # Select2's box gets the field's label as its name (axe: aria-input-field-name).
        return super().media + forms.Media(js=["admin/js/autocomplete-labels.js"])


class AutocompleteAdmin(admin.ModelAdmin):
    """For admins with autocomplete fields, and the admins those fields search."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault(
                "widget", _AutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        # PostgreSQL text cannot hold a NUL: nothing can match it.
        if "\x00" in search_term:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)


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
