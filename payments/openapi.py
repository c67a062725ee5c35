"""The POS API's OpenAPI 3 document, written by hand; tests check every path resolves."""

from django.conf import settings

from payments.exceptions import API_ERRORS
from payments.models import PAYMENT_NUMBER_PATTERN
from payments.validators import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    MAX_KEY_LENGTH,
    MAX_LIST_DAYS,
    MAX_PAGE_SIZE,
    PAGE_SIZE,
)

ERROR_CODES = sorted({error.code for error in API_ERRORS})


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


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


def openapi_document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Electronic voucher POS API",
            "version": "1.0.0",
            "description": (
                "External terminal integration (外部端末連携): a POS scans the resident's QR code "
                "(CPM) and creates the payment. Each POS terminal has its own API key, created "
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
                    "summary": "Create a payment from a scanned resident code",
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
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": MAX_KEY_LENGTH,
                            },
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["code", "amount"],
                                    "properties": {
                                        "code": {
                                            "type": "string",
                                            "description": "Text of the resident's QR code "
                                            "(valid 60 seconds, single use).",
                                        },
                                        "amount": {"type": "integer", "minimum": 1},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _payment("The payment (also for a retry with the same key)."),
                        "400": _error("validation_error or code_invalid"),
                        "401": _error("unauthorized"),
                        "409": _error("idempotency_conflict or code_used"),
                        "410": _error("code_expired"),
                        "422": _error(
                            "insufficient_balance, store_not_eligible or programme_not_active"
                        ),
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
                                f"ISO date-time in the years {EARLIEST_YEAR}-{LATEST_YEAR}; "
                                f"default today. At most {MAX_LIST_DAYS} days.",
                                "schema": {"type": "string"},
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
                            "payment was not made; the other parameters are then ignored.",
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": MAX_KEY_LENGTH,
                            },
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
                        "400": _error("validation_error"),
                        "401": _error("unauthorized"),
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
                        "401": _error("unauthorized"),
                        "404": _error("not_found"),
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
                        "401": _error("unauthorized"),
                        "404": _error("not_found"),
                        "409": _error("already_cancelled"),
                        "422": _error("outside_cancel_window"),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string", "enum": ERROR_CODES},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "Payment": {
                    "type": "object",
                    "properties": {
                        "number": {"type": "string"},
                        "status": {"type": "string", "enum": ["completed", "cancelled"]},
                        "mode": {"type": "string", "enum": ["mpm", "cpm", "pos"]},
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
                    },
                },
            },
        },
    }
