from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from core.admin import AutocompleteAdmin, ReadOnlyAdmin, ReadOnlyInline
from core.verification import fresh_verification_required
from merchants.models import (
    BANK_FIELDS,
    BankAccountChange,
    Company,
    ExportFile,
    Store,
    Terminal,
    TerminalDevice,
    User,
)
from merchants.services import (
    bank_account_change_decide,
    locked_usernames,
    merchant_user_unlock,
    merchant_welcome_send,
    terminal_create,
    terminal_device_end,
    terminal_password_regenerate,
    terminal_unpair,
)


class StoreInline(admin.TabularInline):
    model = Store
    fields = ["code", "name", "programme", "passcode", "is_small_local", "is_active"]
    extra = 0
    show_change_link = True


@admin.register(Company)
class CompanyAdmin(AutocompleteAdmin):
    list_display = ["code", "name", "phone", "email"]
    search_fields = ["code", "name", "name_kana"]
    inlines = [StoreInline]
    fieldsets = [
        (
            None,
            {"fields": ["code", "name", "name_kana", "postal_code", "address", "phone", "email"]},
        ),
        (
            _("Bank account for payouts"),
            {"fields": BANK_FIELDS},
        ),
    ]


class TerminalDeviceInline(ReadOnlyInline):
    """The devices set up for a terminal. Part of the terminal: seen with its view permission;
    ticking delete and saving disconnects one (terminal_device_end, audited), for whoever may
    change the terminal."""

    model = TerminalDevice
    fields = ["label", "client_address", "paired_at", "last_seen_at"]
    can_delete = True

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("merchants.view_terminal")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("merchants.change_terminal")


@admin.register(Terminal)
class TerminalAdmin(AutocompleteAdmin):
    """A terminal's password is shown once, in the message after it is issued (on creation or by
    the reissue action); only its hash is stored."""

    list_display = ["terminal_id", "name", "kind", "store", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["terminal_id", "name", "store__name", "store__code", "external_id"]
    list_select_related = ["store"]
    autocomplete_fields = ["store"]
    inlines = [TerminalDeviceInline]
    actions = ["reissue_password", "unpair"]
    add_fields = ["store", "terminal_id", "name", "kind", "external_id"]
    readonly_fields = ["setup_password_issued_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.add_fields
        return [
            *self.add_fields,
            "is_active",
            "setup_password_issued_at",
            "failed_setup_attempts",
            "setup_locked_at",
        ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def _password_issued(self, request, terminal, password):
        self.message_user(
            request,
            _(
                "The terminal password for %(terminal)s (%(terminal_id)s) is %(password)s — note"
                " it now, it will not be shown again."
            )
            % {"terminal": terminal, "terminal_id": terminal.terminal_id, "password": password},
            messages.WARNING,
        )

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        terminal, password = terminal_create(
            actor=request.user, **{name: form.cleaned_data[name] for name in self.add_fields}
        )
        obj.pk = terminal.pk
        obj.refresh_from_db()
        self._password_issued(request, terminal, password)
        return None

    def save_formset(self, request, form, formset, change):
        if formset.model is not TerminalDevice:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # nothing to save, the deleted ones are ended below
        for device in formset.deleted_objects:
            terminal_device_end(actor=request.user, device=device)
        return None

    @admin.action(
        description=_("Issue new terminal passwords (set-up devices are disconnected)"),
        permissions=["change"],
    )
    def reissue_password(self, request, queryset):
        for terminal in queryset.select_related("store__company").order_by("terminal_id"):
            password = terminal_password_regenerate(actor=request.user, terminal=terminal)
            self._password_issued(request, terminal, password)

    @admin.action(description=_("Disconnect every set-up device"), permissions=["change"])
    def unpair(self, request, queryset):
        ended = sum(
            terminal_unpair(actor=request.user, terminal=terminal)
            for terminal in queryset.select_related("store__company")
        )
        self.message_user(request, _("%(count)s devices disconnected.") % {"count": ended})


@admin.register(User)
class UserAdmin(AutocompleteAdmin, BaseUserAdmin):
    list_display = [
        "username",
        "name",
        "email",
        "role",
        "company",
        "store",
        "is_staff",
        "is_active",
        "lock_state",
    ]
    list_filter = ["role", "is_staff", "is_active"]
    actions = ["unlock"]
    search_fields = ["username", "name", "email"]
    list_select_related = ["company", "store"]
    autocomplete_fields = ["company", "store"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal info"), {"fields": ["name", "email"]}),
        (_("Merchant role"), {"fields": ["role", "company", "store", "must_change_password"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "name",
                    "email",
                    "role",
                    "company",
                    "store",
                    "usable_password",
                    "password1",
                    "password2",
                ],
                "description": _(
                    "For a merchant user, choose password-based authentication “disabled”: the"
                    " registration mail (加盟店登録完了のお知らせ for a company admin) then carries a"
                    " one-time link with which they set their own password."
                ),
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.is_merchant:
            merchant_welcome_send(user=obj, actor=request.user)

    def get_fieldsets(self, request, obj=None):
        """Only superusers give staff status, roles or permissions (no one raises their own)."""
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or obj is None:
            return fieldsets
        return [
            (name, {**opts, "fields": ["is_active"]}) if name == _("Permissions") else (name, opts)
            for name, opts in fieldsets
        ]

    def has_change_permission(self, request, obj=None):
        """City staff accounts are managed by superusers; 加盟店担当 manage merchant users."""
        if obj is not None and (obj.is_staff or obj.is_superuser) and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=_("Account lock"))
    def lock_state(self, obj):
        return _("Locked") if obj.username in locked_usernames([obj.username]) else "—"

    @admin.action(description=_("Unlock the selected accounts"), permissions=["change"])
    def unlock(self, request, queryset):
        for user in queryset:
            merchant_user_unlock(actor=request.user, user=user)
        self.message_user(request, _("The selected accounts have been unlocked."))


@admin.register(ExportFile)
class ExportFileAdmin(admin.ModelAdmin):
    list_display = ["created_at", "company", "requested_by", "status", "row_count", "size"]
    list_filter = ["status"]
    list_select_related = ["company", "requested_by"]
    readonly_fields = [f.name for f in ExportFile._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(BankAccountChange)
class BankAccountChangeAdmin(ReadOnlyAdmin):
    """口座変更の承認: a merchant's new payout account is used only once approved here."""

    list_display = ["requested_at", "company", "status", "account", "requested_by", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["company", "requested_by", "decided_by"]
    search_fields = ["company__code", "company__name"]
    fields = [
        "company",
        "status",
        *BANK_FIELDS,
        "current",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "reason",
    ]
    readonly_fields = fields
    actions = ["approve", "reject"]

    @admin.display(description=_("requested account"))
    def account(self, change):
        return f"{change.bank_code}-{change.branch_code} {change.account_number} {change.account_holder_kana}"

    @admin.display(description=_("current account"))
    def current(self, change):
        company = change.company
        return f"{company.bank_code}-{company.branch_code} {company.account_number} {company.account_holder_kana}"

    def has_approve_permission(self, request):
        return request.user.has_perm("merchants.approve_bankaccountchange")

    def _decide(self, request, queryset, *, approve):
        pending = list(queryset.filter(status=BankAccountChange.Status.PENDING))
        for change in pending:
            bank_account_change_decide(change=change, actor=request.user, approve=approve)
        self.message_user(
            request,
            (
                _("Approved %(count)s bank account changes.")
                if approve
                else _("Rejected %(count)s bank account changes.")
            )
            % {"count": len(pending)},
            messages.SUCCESS if pending else messages.WARNING,
        )

    @admin.action(description=_("Approve the new bank accounts"), permissions=["approve"])
    @fresh_verification_required
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject the new bank accounts"), permissions=["approve"])
    @fresh_verification_required
    def reject(self, request, queryset):
        self._decide(request, queryset, approve=False)
