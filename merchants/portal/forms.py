"""Merchant admin forms: each cleans input into the values the selectors and services take."""

from datetime import timedelta

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_login_failed
from django.core.validators import MinLengthValidator, RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.dates import add_months
from core.forms import YenField
from merchants.models import BANK_FIELDS, Company, ExportFile, User
from merchants.portal.access import scope_programmes, scope_stores, scope_terminals
from merchants.portal.security import (
    sign_in_failed,
    sign_in_refused,
    sign_in_succeeded,
)
from merchants.portal.selectors import HistoryFilters, value_types_for
from merchants.scope import Scope
from merchants.validators import password_validators_for
from payments.models import PAYMENT_NUMBER_LENGTH, Payment
from payments.validators import validate_date_in_range, validate_payment_number

HISTORY_MAX_MONTHS = 3
MONTHLY_MAX_MONTHS = 3
DAILY_MAX_DAYS = 31
PAGE_SIZES = [25, 50, 100]


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Login ID"), max_length=150)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        min_length=6,
        max_length=6,
        validators=[RegexValidator(r"^\d{6}$", _("Enter the 6-digit code."))],
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )


class StaffCodeForm(forms.Form):
    """Django admin's second factor: the authenticator's 6 digits, an e-mailed code or a backup
    code; spaces and hyphens people copy along are dropped."""

    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "off"}
        ),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split()).replace("-", "").lower()
        if not code.isalnum() or not 6 <= len(code) <= 16:
            raise forms.ValidationError(_("Enter the 6-digit code or a backup code."))
        return code


def _validate_for(password: str, user) -> None:
    validate_password(password, user, password_validators=password_validators_for(user))


class MerchantPolicyMixin:
    """The merchant policy (store staff: 12+ characters) instead of the global validators only."""

    def validate_password_for_user(self, user, password_field_name="password2"):
        password = self.cleaned_data.get(password_field_name)
        if password:
            try:
                _validate_for(password, user)
            except forms.ValidationError as error:
                self.add_error(password_field_name, error)


PAUSED = _(
    "There have been too many failed sign-ins. Please wait and try again, or set a new password "
    'through the e-mail from "Forgot your password?".'
)


class CurrentPasswordLimitMixin:
    """The current password on a change form counts in the sign-in limits, so a session left open
    is not an unlimited password oracle."""

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        username = self.user.get_username()
        if sign_in_refused(self.request, username):
            raise forms.ValidationError(PAUSED, code="paused")
        old_password = self.cleaned_data["old_password"]
        if not self.user.check_password(old_password):
            user_login_failed.send(
                sender=__name__, credentials={"username": username}, request=self.request
            )
            sign_in_failed(self.request, username)
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class PasswordChangeForm(
    CurrentPasswordLimitMixin, MerchantPolicyMixin, auth_forms.PasswordChangeForm
):
    """パスワード変更, also the forced change at first sign-in: the new password must differ from
    the current one and the last few (NotRecentPasswordValidator), or a password someone else
    chose would count as "changed"."""


class AdminPasswordChange(CurrentPasswordLimitMixin, auth_forms.PasswordChangeForm):
    """Django admin's own password change, in the same limits."""


class AdminSignInForm(AdminAuthenticationForm):
    """Django admin's sign-in in the same limits as the merchant admin's (docs/security.md)."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username and sign_in_refused(self.request, username):
            raise forms.ValidationError(PAUSED, code="paused")
        try:
            return super().clean()
        except forms.ValidationError:
            if username and self.get_user() is None:
                sign_in_failed(self.request, username)
            raise


class SetPasswordForm(MerchantPolicyMixin, auth_forms.SetPasswordForm):
    """Password reset by e-mail: the new password is the user's own, so no forced change after;
    and the proof of the mailbox lifts the account's lock."""

    def save(self, commit=True):
        self.user.must_change_password = False
        user = super().save(commit)
        sign_in_succeeded(user)
        return user


class PasswordResetForm(auth_forms.PasswordResetForm):
    def get_users(self, email):
        # Merchant users only: city staff reset through their own channel.
        return (u for u in super().get_users(email) if u.is_merchant)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class HistoryForm(forms.Form):
    """利用実績 search; an empty form means today."""

    start = forms.DateTimeField(
        label=_("From"),
        required=False,
        widget=LocalDateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M"],
        validators=[validate_date_in_range],
    )
    end = forms.DateTimeField(
        label=_("To"),
        required=False,
        widget=LocalDateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M"],
        validators=[validate_date_in_range],
    )
    store_code = forms.CharField(label=_("Store code"), max_length=30, required=False)
    store_name = forms.CharField(label=_("Store name"), max_length=100, required=False)
    programme = forms.TypedChoiceField(label=_("Programme"), required=False, coerce=int)
    terminal = forms.ChoiceField(label=_("Terminal"), required=False)
    value_type = forms.ChoiceField(label=_("Product"), required=False)
    amount = YenField(label=_("Usage amount"), required=False, max_value=Payment.MAX_AMOUNT)
    number = forms.CharField(
        label=_("Payment number"),
        max_length=PAYMENT_NUMBER_LENGTH,
        required=False,
        validators=[validate_payment_number],
    )
    exclude_cancelled = forms.BooleanField(label=_("Exclude cancelled"), required=False)
    per_page = forms.TypedChoiceField(
        label=_("Rows per page"),
        choices=[(n, n) for n in PAGE_SIZES],
        coerce=int,
        required=False,
        empty_value=PAGE_SIZES[0],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial = {**HistoryFilters.today().as_initial(), **self.initial}
        scope = Scope.of(user)
        self.fields["terminal"].choices = [("", _("All"))] + [
            (t.terminal_id, f"{t.name or t.terminal_id} ({t.store.code} {t.store.name})")
            for t in scope_terminals(scope).select_related("store").order_by("store__code", "pk")
        ]
        programmes = scope_programmes(scope)
        if len(programmes) > 1:
            self.fields["programme"].choices = [("", _("All"))] + [
                (p.pk, p.name) for p in programmes
            ]
        else:
            del self.fields["programme"]
        self.fields["value_type"].choices = [("", _("All"))] + [
            (str(vt.pk), vt.name) for vt in value_types_for(Scope.of(user))
        ]

    def clean(self):
        data = super().clean()
        today = HistoryFilters.today()
        start = data.get("start") or today.start
        # The end is inclusive as people read it: "to 23:59" takes in 23:59:59.
        if data.get("end"):
            end = data["end"] + timedelta(minutes=1)
        else:
            end = start + timedelta(days=1) if data.get("start") else today.end
        if end <= start:
            raise forms.ValidationError(_("The end must be after the start."))
        if timezone.localtime(end).date() > add_months(
            timezone.localtime(start).date(), HISTORY_MAX_MONTHS
        ):
            raise forms.ValidationError(
                _("The period can be at most %(months)d months. Please narrow it down."),
                params={"months": HISTORY_MAX_MONTHS},
            )
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> HistoryFilters:
        data = self.cleaned_data
        return HistoryFilters(
            start=data["start"],
            end=data["end"],
            store_code=data["store_code"].strip(),
            store_name=data["store_name"].strip(),
            programme=data.get("programme") or None,
            terminal=data["terminal"],
            value_type=int(data["value_type"]) if data["value_type"] else None,
            amount=data["amount"],
            number=data["number"].strip(),
            exclude_cancelled=data["exclude_cancelled"],
        )


class ExportForm(HistoryForm):
    encoding = forms.ChoiceField(
        label=_("Character encoding"), choices=ExportFile.Encoding, initial=ExportFile.Encoding.UTF8
    )


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


class MonthlyForm(forms.Form):
    """月別利用実績: up to 3 months."""

    first = forms.DateField(
        label=_("From month"),
        widget=MonthInput(),
        input_formats=["%Y-%m"],
        validators=[validate_date_in_range],
    )
    last = forms.DateField(
        label=_("To month"),
        widget=MonthInput(),
        input_formats=["%Y-%m"],
        validators=[validate_date_in_range],
    )
    store_code = forms.CharField(label=_("Store code"), max_length=30, required=False)

    def clean(self):
        data = super().clean()
        first, last = data.get("first"), data.get("last")
        if first and last:
            if last < first:
                raise forms.ValidationError(_("The end must be after the start."))
            if add_months(first, MONTHLY_MAX_MONTHS) <= last:
                raise forms.ValidationError(
                    _("Up to %(months)d months can be shown at once."),
                    params={"months": MONTHLY_MAX_MONTHS},
                )
        return data


class DailyForm(forms.Form):
    """日別利用実績: up to 31 days."""

    first = forms.DateField(
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_date_in_range],
    )
    last = forms.DateField(
        label=_("To"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_date_in_range],
    )
    store_code = forms.CharField(label=_("Store code"), max_length=30, required=False)

    def clean(self):
        data = super().clean()
        first, last = data.get("first"), data.get("last")
        if first and last:
            if last < first:
                raise forms.ValidationError(_("The end must be after the start."))
            if (last - first).days + 1 > DAILY_MAX_DAYS:
                raise forms.ValidationError(
                    _("Up to %(days)d days can be shown at once."), params={"days": DAILY_MAX_DAYS}
                )
        return data


class CancelForm(forms.Form):
    memo = forms.CharField(label=_("Memo (optional)"), max_length=200, required=False)


login_id_validators = [
    MinLengthValidator(8),
    RegexValidator(
        r"^[A-Za-z0-9_.@+-]+$", _("Use half-width letters, digits and the symbols _ . @ + -.")
    ),
]


class UserCreateForm(forms.Form):
    """管理ユーザ登録: company admins register managers and staff; store managers only staff.
    No password here: the new user sets their own from the link in the registration mail."""

    role = forms.ChoiceField(label=_("Role"))
    store = forms.ModelChoiceField(label=_("Store"), queryset=None, empty_label=_("Select a store"))
    name = forms.CharField(label=_("Name"), max_length=100)
    username = forms.CharField(label=_("Login ID"), max_length=150, validators=login_id_validators)
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("The registration mail with the link to set a password goes here."),
    )

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        roles = [(User.Role.STORE_STAFF.value, User.Role.STORE_STAFF.label)]
        if actor.role == User.Role.COMPANY_ADMIN:
            roles.insert(0, (User.Role.STORE_MANAGER.value, User.Role.STORE_MANAGER.label))
        self.fields["role"].choices = roles
        self.fields["store"].queryset = scope_stores(Scope.of(actor)).filter(is_active=True)

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This login ID is already in use."))
        return username


class UserSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ["postal_code", "address", "phone", "email", *BANK_FIELDS]
