"""POS API payments: create, read, list, cancel, and retries under one Idempotency-Key."""

from datetime import timedelta

from django.utils import timezone

from payments import services
from payments.models import Payment
from tests.payments.conftest import assert_error, code_for


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


def test_outside_cancel_window(api, wallet, pos_terminal, programme):
    payment = services.payment_create_cpm(
        terminal=pos_terminal, code=code_for(wallet), amount=100, idempotency_key="w", mode="pos"
    )
    Payment.objects.filter(pk=payment.pk).update(
        created_at=timezone.now() - programme.cancel_window - timedelta(seconds=1)
    )
    assert_error(api("post", f"/payments/{payment.number}/cancel"), 422, "outside_cancel_window")


def test_an_amount_written_as_a_whole_float_is_that_integer(api, wallet):
    # 100.0 is an integer to JSON Schema, and so to the OpenAPI document.
    response = api("post", "/payments", {"code": code_for(wallet), "amount": 100.0})
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == 100
