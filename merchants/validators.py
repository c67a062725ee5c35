import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class MixedCharactersValidator:
    """The manuals' rule: a digit, an upper-case and a lower-case letter."""

    def validate(self, password, user=None):
        if not (
            re.search(r"\d", password)
            and re.search(r"[A-Z]", password)
            and re.search(r"[a-z]", password)
        ):
            raise ValidationError(self.get_help_text(), code="password_not_mixed")
        if user is not None and getattr(user, "username", None) and password == user.username:
            raise ValidationError(
                _("The password must not be the login ID."), code="password_is_login_id"
            )

    def get_help_text(self):
        return _("Use at least one digit, one upper-case letter and one lower-case letter.")


class NotRecentPasswordValidator:
    """A new password must differ from the current one and the last few (merchants.PasswordHistory),
    in the merchant admin as in the store app: a forced change is a change."""

    def validate(self, password, user=None):
        from django.contrib.auth.hashers import check_password

        if user is None or not getattr(user, "pk", None):
            return
        hashes = [user.password, *user.password_history.values_list("password", flat=True)]
        if any(h and check_password(password, h) for h in hashes):
            raise ValidationError(
                _("Choose a password you have not used recently."), code="password_recently_used"
            )

    def get_help_text(self):
        return _("Not one of your recent passwords.")


STORE_STAFF_MIN_LENGTH = 12


def password_validators_for(user):
    """The project's validators, with the store app's 12-character minimum for store staff.

    Every form that sets a merchant password uses this, so the admin and the store app agree.
    """
    from django.contrib.auth.password_validation import (
        MinimumLengthValidator,
        get_default_password_validators,
    )

    validators = get_default_password_validators()
    if getattr(user, "role", "") == "store_staff":
        validators = [v for v in validators if not isinstance(v, MinimumLengthValidator)] + [
            MinimumLengthValidator(STORE_STAFF_MIN_LENGTH)
        ]
    return validators
