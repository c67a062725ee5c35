"""Errors of the payment pages, the store app and the POS API (stable codes, translated text)."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from wallets.exceptions import (
    AlreadyCancelled,
    IdempotencyConflict,
    InsufficientBalance,
    OutsideCancelWindow,
    ProgrammeNotActive,
    StoreNotEligible,
)


class CodeInvalid(DomainError):
    code = "code_invalid"
    message = _("This QR code is not a valid ticket code. Please scan the customer's code again.")


class CodeExpired(DomainError):
    code = "code_expired"
    status = 410
    message = _("This QR code has expired. Please ask the customer to show the new code.")


class CodeUsed(DomainError):
    code = "code_used"
    status = 409
    message = _("This QR code has already been used. Please ask the customer to show the new code.")


class SignInFailed(DomainError):
    code = "sign_in_failed"
    message = _("The ticket number or PIN is not correct.")


class TicketLocked(DomainError):
    code = "ticket_locked"
    message = _(
        "The PIN was entered wrongly too many times. Please wait 15 minutes and try again. If you"
        " have forgotten the PIN, the city office named on your notice can issue a new one."
    )


class TicketBlocked(DomainError):
    code = "ticket_blocked"
    message = _(
        "The PIN was entered wrongly too many times, so this ticket is locked. Please contact the"
        " city office named on your notice to have the lock lifted or a new PIN issued."
    )


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    message = _("Too many attempts from this device. Please wait a while and try again.")


class PasscodeInvalid(DomainError):
    code = "passcode_invalid"
    message = _("No store has this passcode. Please check the 6 digits on the store's QR sheet.")


class TerminalSetupFailed(DomainError):
    code = "terminal_setup_failed"
    message = _("The terminal ID or terminal password is not correct.")


class TerminalSetupLocked(DomainError):
    code = "terminal_setup_locked"
    message = _(
        "Set-up of this terminal is locked after repeated wrong terminal passwords. Please ask "
        "your company's admin to lift the lock on the merchant admin's Terminals page."
    )


class StaffSignInFailed(DomainError):
    code = "staff_sign_in_failed"
    message = _("The login ID or password is not correct.")


class CurrentPasswordInvalid(DomainError):
    code = "current_password_invalid"
    message = _("The current password is not correct.")


class StaffSignInThrottled(DomainError):
    code = "staff_sign_in_throttled"
    message = _(
        "Too many wrong passwords on this device. Please wait 15 minutes and try again, or ask "
        "your store manager to reset your password."
    )


# --- The card (residents without a smartphone): its QR + the PIN typed on the store device ---


class CardUnknown(DomainError):
    code = "card_unknown"
    message = _("This card cannot be used (it was reissued or is not valid).")


class PinWrong(DomainError):
    code = "pin_wrong"
    message = _(
        "The PIN is not correct. %(remaining)s more wrong PINs will lock the card. Please ask the"
        " customer to enter it again."
    )


class CardLocked(DomainError):
    """The ticket's 15-minute lock, seen from the card: both share the ticket's counters."""

    code = "card_locked"
    status = 423
    message = _(
        "The PIN was entered wrongly too many times, so this card is locked for 15 minutes."
        " Please take payment another way or try again later. The city office named on the"
        " notice can issue a new PIN."
    )


class CardBlocked(DomainError):
    code = "card_blocked"
    status = 423
    message = _(
        "The PIN was entered wrongly too many times, so this card is locked. The customer should"
        " contact the city office named on the notice to have the lock lifted or a new PIN issued."
    )


# --- POS API (/api/v1/) ------------------------------------------------------------------


class ApiValidationError(DomainError):
    code = "validation_error"


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401
    message = _("A valid API key is required.")


class ApiKeyThrottled(DomainError):
    code = "api_key_throttled"
    status = 429
    message = _(
        "Too many requests with a wrong API key from this address. Please check the key set in"
        " the POS, and try again in 15 minutes."
    )


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message = _("No payment of this store has this number.")


class MethodNotAllowed(DomainError):
    code = "method_not_allowed"
    status = 405
    message = _("This method is not allowed here.")


# Every error the POS API can answer, each with its status: the OpenAPI document lists these.
API_ERRORS = (
    ApiValidationError,
    CodeInvalid,
    CardUnknown,
    PinWrong,
    CardLocked,
    CardBlocked,
    TooManyAttempts,
    Unauthorized,
    ApiKeyThrottled,
    NotFound,
    MethodNotAllowed,
    IdempotencyConflict,
    AlreadyCancelled,
    CodeUsed,
    CodeExpired,
    InsufficientBalance,
    StoreNotEligible,
    ProgrammeNotActive,
    OutsideCancelWindow,
)
