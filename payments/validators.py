"""Input rules shared by the resident pages, the store app, the merchant admin and the API, so
malformed numbers and dates are refused before they reach a query (PostgreSQL rejects a NUL
byte, Python overflows past year 9999)."""

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from payments.models import PAYMENT_NUMBER_PATTERN

# The POS API's limits, also written into its OpenAPI document.
MAX_LIST_DAYS = 93  # about three months, the merchant admin's longest range
PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
MAX_KEY_LENGTH = 100

validate_payment_number = RegexValidator(
    rf"\A{PAYMENT_NUMBER_PATTERN}\Z", _("A payment number is 16 half-width letters and digits.")
)


class PaymentNumberConverter:
    """`<payment_number:number>`: any other text is no page at all (404)."""

    regex = PAYMENT_NUMBER_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


# Searches and history pages add a day or three months to a date; these years leave room.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099


def validate_date_in_range(value: date) -> None:
    """For a date or a date-time (its year as written, before any time-zone conversion)."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            _("Enter a date in the years %(first)d to %(last)d."),
            code="date_out_of_range",
            params={"first": EARLIEST_YEAR, "last": LATEST_YEAR},
        )


# The nonces `services.cpm_code_issue` makes: URL-safe base64, within CpmCode.nonce's column.
CPM_NONCE = re.compile(r"[A-Za-z0-9_-]{1,40}")


def is_cpm_nonce(text: str) -> bool:
    return CPM_NONCE.fullmatch(text) is not None
