"""POS API errors: every refusal is a stable code with a message, never a 500."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from payments import services
from payments.models import Payment
from tests import factories
from tests.payments.conftest import assert_error, code_for


def test_code_errors(api, wallet):
    code = code_for(wallet)
    api("post", "/payments", {"code": code, "amount": 100}, key="a")
    assert_error(api("post", "/payments", {"code": code, "amount": 100}, key="b"), 409, "code_used")
    old = code_for(wallet, now=timezone.now() - timedelta(seconds=61))
    assert_error(
        api("post", "/payments", {"code": old, "amount": 100}, key="c"), 410, "code_expired"
    )
    assert_error(
        api("post", "/payments", {"code": "garbage", "amount": 100}, key="d"), 400, "code_invalid"
    )
    assert_error(
        api("post", "/payments", {"code": wallet.ticket_number, "amount": 100}, key="e"),
        400,
        "code_invalid",
    )


def test_money_errors(api, wallet, programme, local, company):
    assert_error(
        api("post", "/payments", {"code": code_for(wallet), "amount": 8_001}, key="a"),
        422,
        "insufficient_balance",
    )
    # The terminal's store is small/local; a store of another programme is not eligible.
    other_programme = factories.programme()
    other_vt = factories.value_type(other_programme)
    stranger = factories.funded_wallet(other_programme, {other_vt: 1_000})
    assert_error(
        api("post", "/payments", {"code": code_for(stranger), "amount": 100}, key="b"),
        422,
        "store_not_eligible",
    )
    programme.starts_on = timezone.localdate() + timedelta(days=1)
    programme.ends_on = programme.starts_on + timedelta(days=10)
    programme.save()
    assert_error(
        api("post", "/payments", {"code": code_for(wallet), "amount": 100}, key="c"),
        422,
        "programme_not_active",
    )
    assert Payment.objects.count() == 0


def test_store_not_eligible_for_the_value_types(client, programme, local, company):
    large = factories.store(company, programme, is_small_local=False)
    terminal = factories.terminal(large, kind="pos")
    _key, raw = services.api_key_create(terminal=terminal)
    only_local = factories.funded_wallet(programme, {local: 1_000})
    response = client.post(
        "/api/v1/payments",
        data=json.dumps({"code": code_for(only_local), "amount": 100}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": "x"},
    )
    assert_error(response, 422, "store_not_eligible")


@pytest.mark.parametrize(
    "body",
    [
        {"code": "x", "amount": 0},
        {"code": "x", "amount": -5},
        {"code": "x", "amount": "100"},
        {"code": "x", "amount": 1.5},
        {"code": "x", "amount": True},
        {"amount": 100},
        [1, 2],
    ],
)
def test_validation_errors(api, body):
    assert_error(api("post", "/payments", body), 400, "validation_error")


def test_validation_of_headers_and_ranges(api, client, api_key):
    assert_error(
        api("post", "/payments", {"code": "x", "amount": 1}, key=None), 400, "validation_error"
    )
    response = client.post(
        "/api/v1/payments",
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": "z"},
    )
    assert_error(response, 400, "validation_error")
    assert_error(api("get", "/payments?from=yesterday"), 400, "validation_error")
    assert_error(api("get", "/payments?from=2026-02-30"), 400, "validation_error")
    assert_error(api("get", "/payments?to=2026-02-10T25:00"), 400, "validation_error")
    assert_error(api("get", "/payments?from=2026-01-01&to=2026-12-31"), 400, "validation_error")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("get", "/payments/%00abc", None, 404, "not_found"),
        ("post", "/payments/%00abc/cancel", None, 404, "not_found"),
        ("get", "/payments/AbCd", None, 404, "not_found"),
        ("post", "/nothing-here", None, 404, "not_found"),
        ("get", "/payments?from=9999-12-30&to=9999-12-31", None, 400, "validation_error"),
        ("get", "/payments?from=0001-01-01", None, 400, "validation_error"),
        ("get", "/payments?to=9999-12-31T23:59:59-12:00", None, 400, "validation_error"),
        ("get", "/payments?limit=0", None, 400, "validation_error"),
        ("get", "/payments?limit=1001", None, 400, "validation_error"),
        ("get", "/payments?limit=%C2%B2", None, 400, "validation_error"),
        ("get", "/payments?cursor=junk", None, 400, "validation_error"),
        ("get", "/payments?idempotency_key=%00", None, 400, "validation_error"),
        ("get", "/payments?idempotency_key=", None, 400, "validation_error"),
        ("get", "/payments?idempotency_key=%20k", None, 400, "validation_error"),
        ("get", "/payments?from=20260101", None, 400, "validation_error"),
        ("get", "/payments?to=", None, 400, "validation_error"),
        ("get", "/payments?limit=", None, 400, "validation_error"),
        ("get", "/payments?idempotency_key=k&from=junk", None, 400, "validation_error"),
        ("get", "/payments?from=2026-01-01T10", None, 400, "validation_error"),
        ("post", "/payments", "[" * 100_000 + "]" * 100_000, 400, "validation_error"),
        ("post", "/payments", '{"a": ' * 100_000, 400, "validation_error"),
    ],
)
def test_junk_input_is_a_json_error_not_a_500(client, api_key, method, path, body, status, code):
    response = getattr(client, method)(
        "/api/v1" + path,
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": "junk"},
    )
    assert_error(response, status, code)


@pytest.mark.parametrize("key", ["a\x00b", " k", "k "])
def test_an_idempotency_key_the_document_does_not_allow_is_refused(api, wallet, key):
    response = api("post", "/payments", {"code": code_for(wallet), "amount": 100}, key=key)
    assert_error(response, 400, "validation_error")


def test_out_of_range_dates_say_so_in_japanese(api):
    response = api("get", "/payments?from=9999-12-30&to=9999-12-31")
    assert response.json()["error"]["message"] == "2000年から2099年までの日付を入力してください。"


def test_a_body_over_the_upload_limit_is_the_json_error(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = api("post", "/payments", {"code": "x" * 2_000, "amount": 1})
    assert_error(response, 400, "validation_error")
    assert "1000" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("delete", "/payments", "GET, POST"),
        ("put", "/payments/AbCdEfGh12345678", "GET"),
        ("get", "/payments/AbCdEfGh12345678/cancel", "POST"),
    ],
)
def test_a_wrong_method_says_which_are_allowed(api, method, path, allow):
    response = api(method, path)
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == allow
