"""The POS API's OpenAPI 3 document, written by hand; tests check every path resolves and
schemathesis checks the API keeps to it."""

from django.conf import settings

from payments.exceptions import (
    API_ERRORS,
    ApiKeyThrottled,
    ApiValidationError,
    CardBlocked,
    CardLocked,
    CardUnknown,
    CodeExpired,
    CodeInvalid,
    CodeUsed,
    NotFound,
    PinWrong,
    TooManyAttempts,
    Unauthorized,
)
from payments.models import PAYMENT_NUMBER_PATTERN, Payment
from payments.services import ADDRESS_MAX_FAILURES, ATTEMPT_WINDOW
from payments.validators import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    MAX_KEY_LENGTH,
    MAX_LIST_DAYS,
    MAX_PAGE_SIZE,
    PAGE_SIZE,
)
from wallets.exceptions import (
    AlreadyCancelled,
    IdempotencyConflict,
    InsufficientBalance,
    OutsideCancelWindow,
    ProgrammeNotActive,
    StoreNotEligible,
)

ERROR_CODES = sorted({error.code for error in API_ERRORS})

# from/to as the API reads them: a day, or a day and a time with an optional offset. The API
# refuses any other form first (BOUND_FORM), then years outside validators.EARLIEST_YEAR..
# LATEST_YEAR with their own message; the document states both in one pattern.
_DAY = r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?"
BOUND_FORM = f"^[0-9]{{4}}{_DAY}{_TIME}$"
BOUND_PATTERN = f"^20[0-9]{{2}}{_DAY}{_TIME}$"
# Keys are used as sent: none starts or ends with a space, none holds a NUL (PostgreSQL text
# cannot).
KEY_PATTERN = r"^[^\s\x00]([^\x00\n]*[^\s\x00])?$"
# A PIN as the customer types it on the POS: old notices print 4 digits, new ones 6.
PIN_PATTERN = r"^[0-9]{4,8}$"

# What each operation can refuse; its 4xx responses, their statuses and codes derive from these.
CREATE_ERRORS = (
    ApiValidationError,
    CodeInvalid,
    Unauthorized,
    ApiKeyThrottled,
    IdempotencyConflict,
    CodeUsed,
    CodeExpired,
    CardUnknown,
    PinWrong,
    CardLocked,
    CardBlocked,
    TooManyAttempts,
    InsufficientBalance,
    StoreNotEligible,
    ProgrammeNotActive,
)
LIST_ERRORS = (ApiValidationError, Unauthorized, ApiKeyThrottled)
GET_ERRORS = (Unauthorized, ApiKeyThrottled, NotFound)
CANCEL_ERRORS = (Unauthorized, ApiKeyThrottled, NotFound, AlreadyCancelled, OutsideCancelWindow)


def _error_schema(codes: list[str]) -> dict:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": codes},
                    "message": {"type": "string"},
                },
            }
        },
    }


def _errors(errors) -> dict:
    """One response per status, whose schema allows exactly the codes answered with it."""
    codes: dict[str, list[str]] = {}
    for error in errors:
        codes.setdefault(str(error.status), []).append(error.code)
    responses = {
        status: {
            "description": " or ".join(names),
            "content": {"application/json": {"schema": _error_schema(sorted(names))}},
        }
        for status, names in sorted(codes.items())
    }
    if throttled := responses.get(str(ApiKeyThrottled.status)):
        throttled["headers"] = {
            "Retry-After": {
                "description": "Seconds, at most, until the address's limit ends",
                "schema": {"type": "integer"},
            }
        }
    return responses


def _payment(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Payment"}}},
    }


NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "description": "決済番号 (16 letters and digits); any other text is not_found",
    "schema": {"type": "string", "pattern": f"^{PAYMENT_NUMBER_PATTERN}$"},
}
KEY = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN}


def openapi_document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Electronic voucher POS API",
            "version": "1.0.0",
            "description": (
                "External terminal integration (外部端末連携): a POS scans the resident's QR code "
                "(CPM), or the resident's printed card and the PIN the customer types, and "
                "creates the payment. Each POS terminal has its own API key, created "
                "and revoked by city staff in the admin. Amounts are integer yen; times are "
                "ISO 8601 in Asia/Tokyo."
            ),
        },
        "servers": [{"url": settings.SITE_URL + "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/payments": {
                "post": {
                    "operationId": "createPayment",
                    "summary": "Create a payment from a scanned resident code or card + PIN",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": True,
                            "description": (
                                f"Any unique string per payment attempt (1-{MAX_KEY_LENGTH} characters). "
                                "A retry with the same key and body returns the first result; "
                                "the same key with a different body is idempotency_conflict."
                            ),
                            "schema": KEY,
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "description": "Either code (the resident's phone) or "
                                    "card_token and pin (the resident's printed card, the PIN "
                                    "typed by the customer on the POS), never both.",
                                    "required": ["amount"],
                                    "oneOf": [
                                        {
                                            "required": ["code"],
                                            "not": {
                                                "anyOf": [
                                                    {"required": ["card_token"]},
                                                    {"required": ["pin"]},
                                                ]
                                            },
                                        },
                                        {
                                            "required": ["card_token", "pin"],
                                            "not": {"required": ["code"]},
                                        },
                                    ],
                                    "properties": {
                                        "code": {
                                            "type": "string",
                                            "minLength": 1,
                                            "description": "Text of the resident's QR code "
                                            "(valid 60 seconds, single use); text that is not "
                                            "a code this city signed is code_invalid.",
                                        },
                                        "card_token": {
                                            "type": "string",
                                            "minLength": 1,
                                            "description": "Text of the card's QR code "
                                            "(CARD-...); a card that was reissued, or text that "
                                            "is no card, is card_unknown.",
                                        },
                                        "pin": {
                                            "type": "string",
                                            "pattern": PIN_PATTERN,
                                            "description": "The PIN on the resident's notice, "
                                            "typed by the customer. A wrong one is pin_wrong "
                                            "(with the tries left); the fifth wrong one in a row "
                                            "locks card and ticket for 15 minutes (card_locked), "
                                            "the tenth until city staff lift it (card_blocked). "
                                            "Wrong PINs and unknown cards also count per terminal "
                                            "and per address (too_many_attempts).",
                                        },
                                        "amount": {
                                            "type": "integer",
                                            "minimum": 1,
                                            "maximum": Payment.MAX_AMOUNT,
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _payment("The payment (also for a retry with the same key)."),
                        **_errors(CREATE_ERRORS),
                    },
                },
                "get": {
                    "operationId": "listPayments",
                    "summary": "List this store's payments in a date range, newest first, "
                    "a page at a time; or find the payment made under an Idempotency-Key",
                    "parameters": [
                        *(
                            {
                                "name": name,
                                "in": "query",
                                "required": False,
                                "description": "A date (YYYY-MM-DD, whole day, inclusive) or an "
                                "ISO date-time (YYYY-MM-DDThh:mm[:ss[.ffffff]], an optional "
                                f"Z or ±hh:mm) in the years {EARLIEST_YEAR}-{LATEST_YEAR}; "
                                "`to` is inclusive as written (…T23:59 takes in the whole "
                                "minute, …T23:59:30 the whole second); "
                                "default today. A day that does not exist (2026-02-30) and a "
                                f"range that is not positive or longer than {MAX_LIST_DAYS} "
                                "days are validation_error.",
                                "schema": {"type": "string", "pattern": BOUND_PATTERN},
                            }
                            for name in ("from", "to")
                        ),
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "description": "Payments per page.",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_PAGE_SIZE,
                                "default": PAGE_SIZE,
                            },
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "required": False,
                            "description": "Opaque: where the page starts. Follow `next` "
                            "rather than building it; a cursor that is not from `next` is "
                            "validation_error.",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "idempotency_key",
                            "in": "query",
                            "required": False,
                            "description": "For a POS that lost the answer to a POST (a timeout, "
                            "a dropped connection): the Idempotency-Key it sent. The answer lists "
                            "the payment this terminal made under that key, or none if the "
                            "payment was not made; the other parameters are then checked but not applied.",
                            "schema": KEY,
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of payments",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["payments", "next"],
                                        "properties": {
                                            "payments": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Payment"},
                                            },
                                            "next": {
                                                "type": "string",
                                                "nullable": True,
                                                "description": "Path of the next page (same "
                                                "filters, with today written out when the "
                                                "range was the default), or null on the last.",
                                            },
                                        },
                                    }
                                }
                            },
                        },
                        **_errors(LIST_ERRORS),
                    },
                },
            },
            "/payments/{number}": {
                "get": {
                    "operationId": "getPayment",
                    "summary": "Get one payment of this store",
                    "parameters": [NUMBER],
                    "responses": {
                        "200": _payment("The payment"),
                        **_errors(GET_ERRORS),
                    },
                }
            },
            "/payments/{number}/cancel": {
                "post": {
                    "operationId": "cancelPayment",
                    "summary": "Cancel a payment inside the programme's cancel window",
                    "parameters": [NUMBER],
                    "responses": {
                        "200": _payment("The cancelled payment"),
                        **_errors(CANCEL_ERRORS),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "The terminal's API key. Wrong keys count per client address: after "
                        f"{ADDRESS_MAX_FAILURES} in {ATTEMPT_WINDOW.seconds // 60} minutes the "
                        "address's wrong keys are api_key_throttled until the window ends. A "
                        "right key is always served."
                    ),
                }
            },
            "schemas": {
                "Error": _error_schema(ERROR_CODES),
                "Payment": {
                    "type": "object",
                    "properties": {
                        "number": {"type": "string"},
                        "status": {"type": "string", "enum": ["completed", "cancelled"]},
                        "mode": {"type": "string", "enum": list(Payment.Mode.values)},
                        "amount": {"type": "integer"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "store_code": {"type": "string"},
                        "terminal_id": {"type": "string", "nullable": True},
                        "splits": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "value_type": {"type": "string"},
                                    "amount": {"type": "integer"},
                                },
                            },
                        },
                        "cancelled_at": {
                            "type": "string",
                            "format": "date-time",
                            "nullable": True,
                        },
                        "cancel_deadline": {"type": "string", "format": "date-time"},
                        "url": {"type": "string"},
                        "remaining_balance": {
                            "type": "integer",
                            "description": "Only in the answer to a card payment: the yen "
                            "left on the card, for the POS to print (the resident has no phone).",
                        },
                    },
                },
            },
        },
    }
