"""Domain errors: each has a stable code (for the API) and a translated message (for pages)."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError


class ValidationFailed(DomainError):
    code = "validation_error"
    message = _("The amount must be a whole number of yen greater than zero.")


class InsufficientBalance(DomainError):
    code = "insufficient_balance"
    status = 422
    message = _(
        "Your balance is not enough. The balance you can use at this store is %(available)s yen."
    )


class StoreNotEligible(DomainError):
    code = "store_not_eligible"
    status = 422
    message = _("This ticket cannot be used at this store.")


class ProgrammeNotActive(DomainError):
    code = "programme_not_active"
    status = 422
    message = _("This programme is not in its usage period.")


class OutsideCancelWindow(DomainError):
    code = "outside_cancel_window"
    status = 422
    message = _("The cancellation period for this payment has ended. Please contact the city.")


class AlreadyCancelled(DomainError):
    code = "already_cancelled"
    status = 409
    message = _("This payment has already been cancelled.")


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    status = 409
    message = _("This request key was already used for a different request.")


class ExpiryTooEarly(DomainError):
    code = "expiry_too_early"
    message = _("No value type of this programme has expired yet.")


class NoticeSetInvalid(DomainError):
    code = "notice_set_invalid"
    message = _("Choose tickets of one programme to print notices for.")
