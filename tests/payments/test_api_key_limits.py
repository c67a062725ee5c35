"""Wrong POS keys count per client address: past the budget the address's wrong keys are
api_key_throttled (429), while right keys, and other addresses, are served as before."""

import json

from core.models import RateLimit
from payments.models import Payment
from payments.services import ADDRESS_MAX_FAILURES, ATTEMPT_WINDOW
from tests.payments.conftest import assert_error, code_for

ATTACKER, NEIGHBOUR = "192.0.2.10", "192.0.2.20"


def call(client, key, address=ATTACKER, language="ja"):
    return client.get(
        "/api/v1/payments",
        headers={"Authorization": f"Bearer {key}", "Accept-Language": language},
        REMOTE_ADDR=address,
    )


def spend_budget(client):
    for n in range(ADDRESS_MAX_FAILURES):
        assert_error(call(client, f"vk_guess-{n}"), 401, "unauthorized")


def test_wrong_keys_from_one_address_are_throttled_in_the_error_format(client, db):
    spend_budget(client)
    response = call(client, "vk_guess-next")
    assert_error(response, 429, "api_key_throttled")
    assert response["Retry-After"] == str(int(ATTEMPT_WINDOW.total_seconds()))
    assert "15分" in response.json()["error"]["message"]
    english = call(client, "vk_guess-more", language="en")
    assert_error(english, 429, "api_key_throttled")
    assert "15 minutes" in english.json()["error"]["message"]
    # Refused tries write nothing: the counter stays where the budget ended.
    assert RateLimit.objects.get(key=f"pos-key:addr:{ATTACKER}").count == ADDRESS_MAX_FAILURES


def test_a_right_key_is_still_served_from_a_limited_address(client, api_key, wallet):
    spend_budget(client)
    response = client.post(
        "/api/v1/payments",
        data=json.dumps({"code": code_for(wallet), "amount": 100}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": "after-limit"},
        REMOTE_ADDR=ATTACKER,
    )
    assert response.status_code == 201, response.content
    assert Payment.objects.count() == 1


def test_another_address_is_not_limited_by_these_failures(client, db):
    spend_budget(client)
    assert_error(call(client, "vk_typo", address=NEIGHBOUR), 401, "unauthorized")
    assert RateLimit.objects.get(key=f"pos-key:addr:{NEIGHBOUR}").count == 1


def test_a_call_without_a_key_is_not_counted(client, db):
    for _ in range(ADDRESS_MAX_FAILURES + 1):
        assert_error(client.get("/api/v1/payments", REMOTE_ADDR=ATTACKER), 401, "unauthorized")
    assert not RateLimit.objects.exists()
