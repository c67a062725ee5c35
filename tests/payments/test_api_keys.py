"""POS API keys: bearer authentication, revocation, other stores, hashes, CSRF."""

import json

from payments import services
from payments.models import ApiKey
from tests import factories
from tests.payments.conftest import assert_error, code_for


def test_unauthorized_revoked_and_other_stores(
    api, client, wallet, pos_terminal, company, programme
):
    assert_error(api("get", "/payments", auth=None), 401, "unauthorized")
    assert_error(api("get", "/payments", auth="vk_wrong"), 401, "unauthorized")
    other_terminal = factories.terminal(factories.store(company, programme), kind="pos")
    _key, other_raw = services.api_key_create(terminal=other_terminal)
    payment = services.payment_create_cpm(
        terminal=pos_terminal, code=code_for(wallet), amount=100, idempotency_key="p", mode="pos"
    )
    assert_error(api("get", f"/payments/{payment.number}", auth=other_raw), 404, "not_found")
    assert_error(
        api("post", f"/payments/{payment.number}/cancel", auth=other_raw), 404, "not_found"
    )
    assert api("get", "/payments", auth=other_raw).json() == {"payments": [], "next": None}
    services.api_key_revoke(api_key=ApiKey.objects.get(terminal=other_terminal))
    assert_error(api("get", "/payments", auth=other_raw), 401, "unauthorized")
    assert_error(api("delete", "/payments"), 405, "method_not_allowed")


def test_only_a_hash_of_the_key_is_stored(pos_terminal):
    api_key, raw = services.api_key_create(terminal=pos_terminal)
    assert raw not in {api_key.key_hash, api_key.prefix}
    assert api_key.key_hash == services.api_key_hash(raw)


def test_api_is_csrf_exempt_only_because_it_needs_a_key(api_key, wallet):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        "/api/v1/payments",
        data=json.dumps({"code": code_for(wallet), "amount": 100}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": "csrf"},
    )
    assert response.status_code == 201
