"""POS API: bearer keys, idempotency, and every stable error code."""

import json
from datetime import timedelta

import pytest
from django.http import QueryDict
from django.urls import Resolver404, resolve
from django.utils import timezone

from merchants.portal import selectors as merchant_selectors
from merchants.scope import Scope
from payments import services
from payments.exceptions import API_ERRORS
from payments.models import ApiKey, Payment
from payments.openapi import openapi_document
from tests import factories


@pytest.fixture
def api_key(pos_terminal):
    _key, raw = services.api_key_create(terminal=pos_terminal, name="レジ1")
    return raw


@pytest.fixture
def api(client, api_key):
    def call(method, path, body=None, key="k-1", auth=api_key):
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        if key:
            headers["Idempotency-Key"] = key
        return getattr(client, method)(
            "/api/v1" + path,
            data=json.dumps(body) if body is not None else None,
            content_type="application/json",
            headers=headers,
        )

    return call


def code_for(wallet, **kw):
    return services.cpm_code_issue(wallet=wallet, **kw)[1]


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_create_get_list_cancel(api, wallet, pos_terminal):
    response = api("post", "/payments", {"code": code_for(wallet), "amount": 1_000})
    assert response.status_code == 201
    created = response.json()
    assert created["amount"] == 1_000 and created["mode"] == "pos"
    assert created["terminal_id"] == pos_terminal.terminal_id
    assert sum(s["amount"] for s in created["splits"]) == 1_000

    assert api("get", f"/payments/{created['number']}").json() == created
    listed = api("get", "/payments").json()["payments"]
    assert [p["number"] for p in listed] == [created["number"]]
    today = timezone.localdate()
    assert api(
        "get", f"/payments?from={today - timedelta(days=3)}&to={today - timedelta(days=1)}"
    ).json() == {"payments": [], "next": None}

    cancelled = api("post", f"/payments/{created['number']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert_error(api("post", f"/payments/{created['number']}/cancel"), 409, "already_cancelled")


def test_a_retry_returns_the_first_result(api, wallet):
    body = {"code": code_for(wallet), "amount": 700}
    first = api("post", "/payments", body, key="retry-1")
    second = api("post", "/payments", body, key="retry-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Payment.objects.count() == 1


def test_same_key_different_parameters_is_a_conflict(api, wallet):
    code = code_for(wallet)
    api("post", "/payments", {"code": code, "amount": 700}, key="k")
    assert_error(
        api("post", "/payments", {"code": code, "amount": 701}, key="k"),
        409,
        "idempotency_conflict",
    )
    other_code = code_for(wallet)
    assert_error(
        api("post", "/payments", {"code": other_code, "amount": 700}, key="k"),
        409,
        "idempotency_conflict",
    )
    assert Payment.objects.count() == 1


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


def test_outside_cancel_window(api, wallet, pos_terminal, programme):
    payment = services.payment_create_cpm(
        terminal=pos_terminal, code=code_for(wallet), amount=100, idempotency_key="w", mode="pos"
    )
    Payment.objects.filter(pk=payment.pk).update(
        created_at=timezone.now() - programme.cancel_window - timedelta(seconds=1)
    )
    assert_error(api("post", f"/payments/{payment.number}/cancel"), 422, "outside_cancel_window")


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


def test_openapi_document_is_served_and_every_path_exists(client):
    served = client.get("/api/v1/openapi.json").json()
    assert served["openapi"].startswith("3.")
    assert served["paths"] == openapi_document()["paths"]
    for path, operations in served["paths"].items():
        concrete = "/api/v1" + path.replace("{number}", "AbCdEfGh12345678")
        try:
            match = resolve(concrete)
        except Resolver404:
            pytest.fail(f"{path} in the OpenAPI document has no view")
        assert match.view_name.startswith("payments:api_")
        assert match.url_name != "api_not_found"
        for method in operations:
            response = getattr(client, method)(concrete)
            assert response.status_code == 401  # exists, allows the method, needs a key
    listing = served["paths"]["/payments"]["get"]
    assert [p["name"] for p in listing["parameters"]] == [
        "from",
        "to",
        "limit",
        "cursor",
        "idempotency_key",
    ]
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["properties"]["next"]["nullable"]
    # The document lists exactly the codes of the errors the API answers (payments.exceptions).
    error = served["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
    assert error["code"]["enum"] == sorted({e.code for e in API_ERRORS})


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


def test_a_nul_in_the_idempotency_key_is_a_validation_error(api, wallet):
    response = api("post", "/payments", {"code": code_for(wallet), "amount": 100}, key="a\x00b")
    assert_error(response, 400, "validation_error")


def test_out_of_range_dates_say_so_in_japanese(api):
    response = api("get", "/payments?from=9999-12-30&to=9999-12-31")
    assert response.json()["error"]["message"] == "2000年から2099年までの日付を入力してください。"


def _walk(api, path):
    """Every page from `path` on, following `next`; the pages' payments in order."""
    payments, pages = [], 0
    while path:
        body = api("get", path.removeprefix("/api/v1")).json()
        payments += body["payments"]
        path, pages = body["next"], pages + 1
    return payments, pages


@pytest.mark.django_db(transaction=True)
def test_pages_list_every_payment_once_and_add_up_to_the_daily_figure(
    api, wallet, pos_terminal, app_terminal, small_store, company_admin, programme, common
):
    pos = [
        services.payment_create_cpm(
            terminal=pos_terminal, code=code_for(wallet), amount=amount, idempotency_key=f"p{n}"
        )
        for n, amount in enumerate([100, 200, 300, 400, 500])
    ]
    # The store's other terminal counts too; another store's payment does not.
    by_app = services.payment_create_cpm(
        terminal=app_terminal, code=code_for(wallet), amount=600, idempotency_key="a"
    )
    elsewhere = factories.terminal(factories.store(small_store.company, programme), kind="pos")
    services.payment_create_cpm(
        terminal=elsewhere, code=code_for(wallet), amount=700, idempotency_key="e"
    )
    services.payment_cancel(payment=pos[1])
    # Equal time stamps across a page boundary: the id breaks the tie.
    Payment.objects.filter(pk__in=[pos[2].pk, pos[3].pk, pos[4].pk]).update(
        created_at=pos[2].created_at
    )
    day = timezone.localtime(pos[0].created_at).date()

    listed, pages = _walk(api, f"/payments?from={day}&to={day}&limit=2")

    numbers = [p["number"] for p in listed]
    assert pages == 3 and len(numbers) == len(set(numbers)) == 6
    assert set(numbers) == {p.number for p in [*pos, by_app]}
    stored = {p.number: (p.created_at, p.pk) for p in Payment.objects.all()}
    assert [stored[n] for n in numbers] == sorted((stored[n] for n in numbers), reverse=True)
    # 日別 counts completed payments only: a cancellation takes the payment out again.
    daily = merchant_selectors.daily_totals(
        scope=Scope.of(company_admin), first=day, last=day, store_code=small_store.code
    )
    completed = [p for p in listed if p["status"] == "completed"]
    assert [p["number"] for p in listed if p["status"] == "cancelled"] == [pos[1].number]
    assert sum(p["amount"] for p in completed) == daily["amount"] == 1_900
    assert len(completed) == daily["count"]


def test_next_keeps_the_filters_and_a_tampered_cursor_is_refused(api, wallet, pos_terminal):
    for n in range(3):
        services.payment_create_cpm(
            terminal=pos_terminal, code=code_for(wallet), amount=100, idempotency_key=f"n{n}"
        )
    first = api("get", "/payments?limit=2").json()
    assert len(first["payments"]) == 2
    query = QueryDict(first["next"].partition("?")[2])
    today = timezone.localdate().isoformat()
    assert (query["from"], query["to"], query["limit"]) == (today, today, "2")
    last = api("get", first["next"].removeprefix("/api/v1")).json()
    assert len(last["payments"]) == 1 and last["next"] is None
    tampered = first["next"].replace("cursor=", "cursor=x").removeprefix("/api/v1")
    assert_error(api("get", tampered), 400, "validation_error")


def test_a_pos_that_lost_the_answer_finds_its_payment_by_key(
    api, wallet, pos_terminal, small_store
):
    # The payment committed, but the answer never reached the POS (no retry is sent).
    payment = services.payment_create_cpm(
        terminal=pos_terminal,
        code=code_for(wallet),
        amount=300,
        idempotency_key="lost-1",
        mode=Payment.Mode.POS,
    )
    # Found whatever day it is now: the key is enough.
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(days=2))
    expected = api("get", f"/payments/{payment.number}").json()
    assert api("get", "/payments?idempotency_key=lost-1").json() == {
        "payments": [expected],
        "next": None,
    }
    assert api("get", "/payments?idempotency_key=never-sent").json() == {
        "payments": [],
        "next": None,
    }
    # The same key from the store's other POS terminal is another payment (not made).
    _key, other_raw = services.api_key_create(terminal=factories.terminal(small_store, kind="pos"))
    assert api("get", "/payments?idempotency_key=lost-1", auth=other_raw).json() == {
        "payments": [],
        "next": None,
    }
