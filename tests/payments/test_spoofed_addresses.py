"""Behind one proxy (AXES_PROXY_COUNT=1), a client that writes its own X-Forwarded-For entries
cannot reset an address limit: on every credential path the attempts count against the address
the proxy saw, and no counter is made for the addresses the client made up."""

import uuid

import pytest
from axes.models import AccessAttempt

from core.checkdigit import damm_digit
from core.models import RateLimit
from payments.access import RESIDENT_SESSION_KEY
from payments.services import ADDRESS_MAX_FAILURES
from tests.payments.conftest import assert_error, pair
from tests.payments.test_store_card import other_pin

REAL = "203.0.113.7"
PROXY = "10.0.0.2"


def spoofed(n: int) -> dict:
    """What the proxy forwards: the client's made-up entry, then the address it saw."""
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"198.51.100.{n}, {REAL}"}


def ticket(n: int) -> str:
    body = f"{70000000000 + n}"
    return body + damm_digit(body)


def resident_sign_in(client, n, **_):
    client.post("/login/", {"ticket": ticket(n), "pin": "000000"}, **spoofed(n))


def passcode(client, n, wallet, **_):
    session = client.session
    session[RESIDENT_SESSION_KEY] = wallet.pk
    session.save()
    client.post("/pay/passcode/", {"passcode": f"{900000 + n}"}, **spoofed(n))


def terminal_setup(client, n, **_):
    client.post("/store/setup/", {"terminal_id": f"{n:012d}", "password": "nope"}, **spoofed(n))


def store_staff_sign_in(client, n, app_terminal, **_):
    pair(client, app_terminal)
    client.post("/store/login/", {"username": f"nobody{n}", "password": "nope"}, **spoofed(n))


def card_pin(client, n, request, **_):
    """A wrong PIN for a card scanned at the store app (this client: paired, staff signed in)."""
    request.getfixturevalue("store_app")
    token, pin = request.getfixturevalue("card")
    key = str(uuid.uuid4())
    client.post("/store/pay/scan/", {"amount": 500, "key": key, "code": token}, **spoofed(n))
    client.post("/store/pay/pin/", {"key": key, "pin": other_pin(pin)}, **spoofed(n))


def merchant_sign_in(client, n, **_):
    client.post("/merchant/login/", {"username": f"nobody{n}", "password": "nope"}, **spoofed(n))


def admin_sign_in(client, n, **_):
    client.post("/admin/login/", {"username": f"nobody{n}", "password": "nope"}, **spoofed(n))


def pos_key(client, n, **_):
    return client.get("/api/v1/payments", HTTP_AUTHORIZATION=f"Bearer vk_nope{n}", **spoofed(n))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "attempt",
    [
        resident_sign_in,
        passcode,
        terminal_setup,
        store_staff_sign_in,
        card_pin,
        merchant_sign_in,
        admin_sign_in,
        pos_key,
    ],
)
def test_a_made_up_forwarded_for_does_not_reset_the_count(
    client, settings, request, attempt, wallet, app_terminal
):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    for n in range(5):
        attempt(client, n, wallet=wallet, app_terminal=app_terminal, request=request)
    keys = list(RateLimit.objects.values_list("key", flat=True))
    ips = list(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert not [k for k in keys if "198.51.100." in k] and "198.51.100." not in "".join(ips)
    counted = [k for k in keys if REAL in k] + [ip for ip in ips if ip == REAL]
    assert counted, (keys, ips)  # the real address carries the attempts


@pytest.mark.django_db
def test_a_made_up_forwarded_for_neither_resets_nor_dodges_the_limit_on_pos_keys(client, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    for n in range(ADDRESS_MAX_FAILURES):
        assert pos_key(client, n).status_code == 401
    # A new made-up entry is the same client to the proxy: still limited.
    assert_error(pos_key(client, 99), 429, "api_key_throttled")
    # Another client behind the same proxy is not.
    other = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.99, 203.0.113.8"}
    response = client.get("/api/v1/payments", HTTP_AUTHORIZATION="Bearer vk_typo", **other)
    assert_error(response, 401, "unauthorized")
