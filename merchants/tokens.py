"""One-time links: the first password of a new merchant user (72 hours), beside Django's
password-reset links (settings.PASSWORD_RESET_TIMEOUT, 24 hours)."""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator


class WelcomeTokenGenerator(PasswordResetTokenGenerator):
    """Like a reset link, it stops working once a password is set. Django checks a token's age
    against PASSWORD_RESET_TIMEOUT, so a welcome token is stamped WELCOME_LINK_TIMEOUT minus
    that later than now: the same check then lets it live the longer time."""

    key_salt = "merchants.tokens.WelcomeTokenGenerator"

    def make_token(self, user):
        ahead = settings.WELCOME_LINK_TIMEOUT - settings.PASSWORD_RESET_TIMEOUT
        return self._make_token_with_timestamp(
            user, self._num_seconds(self._now()) + ahead, self.secret
        )


welcome_token_generator = WelcomeTokenGenerator()
