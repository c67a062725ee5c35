import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class MixedCharactersValidator:
    """The manuals' rule (002): a digit, an upper-case and a lower-case letter."""

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
