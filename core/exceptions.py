"""Domain errors: a stable code (for the API), an HTTP status, and a translated message."""

from django.utils.translation import gettext_lazy as _

from core import metrics


class DomainError(Exception):
    code = "error"
    status = 400
    message = _("The request could not be completed.")

    def __init__(self, message=None, **params):
        self.params = params
        if message is not None:
            self.message = message
        super().__init__(str(self))
        metrics.domain_error_raised(self.code)

    def __str__(self):
        return str(self.message) % self.params if self.params else str(self.message)
