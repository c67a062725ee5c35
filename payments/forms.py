import unicodedata
import uuid

from django import forms
from django.contrib.auth import password_validation
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.checkdigit import damm_valid
from core.formatting import grouped
from core.forms import YenField
from merchants.validators import STORE_STAFF_MIN_LENGTH
from payments.models import PAYMENT_NUMBER_LENGTH, Payment
from payments.validators import validate_date_in_range, validate_payment_number
from wallets.exceptions import InsufficientBalance
from wallets.models import TICKET_DIGITS

six_digits = RegexValidator(r"^[0-9]{6}$", _("Enter the 6-digit passcode."))


class SignInForm(forms.Form):
    ticket = forms.CharField(
        label=_("Ticket number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "username"}),
    )
    pin = forms.CharField(
        label=_("PIN"),
        max_length=20,
        widget=forms.PasswordInput(
            attrs={"inputmode": "numeric", "autocomplete": "current-password"}
        ),
    )

    def clean_ticket(self):
        # The notice prints the number in groups; people type it with spaces, hyphens or
        # full-width digits. The check digit catches a typo before anything is looked up or counted.
        typed = unicodedata.normalize("NFKC", self.cleaned_data["ticket"])
        ticket = "".join(ch for ch in typed if ch.isdigit())
        if len(ticket) != TICKET_DIGITS or not damm_valid(ticket):
            raise forms.ValidationError(
                _("This is not a ticket number. Check the 12 digits on your notice."),
                code="ticket_number",
            )
        return ticket


class PasscodeField(forms.CharField):
    """Six digits as people type them: full-width digits, or with the space the sheet prints."""

    def to_python(self, value):
        return "".join(unicodedata.normalize("NFKC", super().to_python(value)).split())


class PasscodeForm(forms.Form):
    passcode = PasscodeField(
        label=_("Passcode"),
        validators=[six_digits],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class AmountForm(forms.Form):
    """An amount in whole yen; the key makes a double tap or a retry one payment."""

    amount = YenField(
        label=_("Amount (yen)"),
        max_value=Payment.MAX_AMOUNT,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={
            "invalid": _("Enter the amount as a whole number of yen."),
            "min_value": _("The amount must be at least 1 yen."),
            "max_value": _("The amount is too large."),
            "required": _("Enter the amount."),
        },
    )
    key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, available: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.available = available
        if not self.is_bound:
            self.initial.setdefault("key", uuid.uuid4())

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if self.available is not None and amount > self.available:
            raise forms.ValidationError(
                InsufficientBalance.message,
                params={"available": grouped(self.available)},
            )
        return amount

    def clean_key(self):
        return str(self.cleaned_data["key"] or uuid.uuid4())


class ConfirmForm(forms.Form):
    amount = forms.IntegerField(min_value=1, max_value=Payment.MAX_AMOUNT, widget=forms.HiddenInput)
    key = forms.UUIDField(widget=forms.HiddenInput)


class ScanForm(forms.Form):
    """What the store app posts once the camera has read the resident's code."""

    amount = forms.IntegerField(min_value=1, max_value=Payment.MAX_AMOUNT, widget=forms.HiddenInput)
    key = forms.UUIDField(widget=forms.HiddenInput)
    code = forms.CharField(label=_("Code"), max_length=200)


class CardPinForm(forms.Form):
    """The PIN the resident types on the store device after staff scanned the card."""

    key = forms.UUIDField(widget=forms.HiddenInput)
    pin = forms.CharField(
        label=_("PIN"),
        max_length=8,
        validators=[RegexValidator(r"^[0-9]{4,8}$", _("Enter the PIN printed on the notice."))],
        widget=forms.PasswordInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "data-pin-input": ""}
        ),
        error_messages={"required": _("Enter the PIN printed on the notice.")},
    )


class StoreHistoryForm(forms.Form):
    """取引履歴 search as in manual 004: a range of days (?date= from the page's own day links
    is one day), the payment number and the payment method; none means today."""

    MAX_DAYS = 31

    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        validators=[validate_date_in_range],
        widget=forms.HiddenInput,
    )
    start = forms.DateField(
        label=_("From"),
        required=False,
        validators=[validate_date_in_range],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        validators=[validate_date_in_range],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    number = forms.CharField(
        label=_("Payment number"),
        required=False,
        max_length=PAYMENT_NUMBER_LENGTH,
        validators=[validate_payment_number],
    )
    mode = forms.ChoiceField(
        label=_("Payment method"),
        required=False,
        choices=[("", _("All")), *Payment.Mode.choices],
    )

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        day = data.get("date")
        start = day or data.get("start") or data.get("end") or today
        end = day or data.get("end") or (data.get("start") and max(data["start"], today)) or today
        if end < start:
            raise forms.ValidationError(_("The end must be after the start."))
        if (end - start).days + 1 > self.MAX_DAYS:
            raise forms.ValidationError(
                _("Up to %(days)d days can be shown at once."), params={"days": self.MAX_DAYS}
            )
        data["start"], data["end"] = start, end
        return data


class TerminalSetupForm(forms.Form):
    terminal_id = forms.CharField(
        label=_("Terminal ID"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    password = forms.CharField(
        label=_("Terminal password"),
        max_length=16,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )


class TerminalConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)


class StaffSignInForm(forms.Form):
    username = forms.CharField(
        label=_("Login ID"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class StorePasswordForm(forms.Form):
    current_password = forms.CharField(
        label=_("Current password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters, with a digit, an upper-case and a lower-case letter."),
    )
    new_password2 = forms.CharField(
        label=_("New password (again)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        current = cleaned.get("current_password")
        p1, p2 = cleaned.get("new_password1"), cleaned.get("new_password2")
        if p1 and p2 and p1 != p2:
            raise forms.ValidationError(_("The two passwords do not match."))
        if p1:
            if len(p1) < STORE_STAFF_MIN_LENGTH:  # the store app's rule, whoever signs in
                self.add_error(
                    "new_password1", _("The password must be at least 12 characters long.")
                )
            # Compared with what was typed, not the stored hash: that would test passwords unthrottled.
            if p1 in (self.user.username, current):
                self.add_error(
                    "new_password1", _("Choose a new password different from the current one.")
                )
            try:
                password_validation.validate_password(p1, self.user)
            except forms.ValidationError as error:
                self.add_error("new_password1", error)
        return cleaned


class CancelForm(forms.Form):
    memo = forms.CharField(label=_("Memo"), max_length=200, required=False)
