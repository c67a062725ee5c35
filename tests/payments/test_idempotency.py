"""One key, one answer: concurrent requests under one Idempotency-Key, on real connections.

Each thread is its own POS (its own test client and database connection); every request
starts at the same moment. Exactly one payment is made; every other request gets a true
answer: the same payment for the same request, a 409 for a different one, never a 500.
"""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from merchants.models import Terminal
from payments import services
from payments.models import CpmCode, Payment
from tests import factories
from tests.payments.conftest import code_for
from wallets.models import Account

pytestmark = pytest.mark.django_db(transaction=True)


def post_at_once(requests):
    """requests: [(raw api key, body)]; all sent with Idempotency-Key "same" at one moment."""
    barrier = threading.Barrier(len(requests))

    def send(request):
        raw_key, body = request
        client = Client()
        barrier.wait()
        try:
            response = client.post(
                "/api/v1/payments",
                data=json.dumps(body),
                content_type="application/json",
                headers={"Authorization": f"Bearer {raw_key}", "Idempotency-Key": "same"},
            )
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


def pos_key(store):
    terminal = factories.terminal(store, kind=Terminal.Kind.POS)
    return services.api_key_create(terminal=terminal)[1]


def assert_one_payment_and_conflicts(results, *, conflict="idempotency_conflict"):
    statuses = sorted(status for status, _body in results)
    assert statuses.count(201) >= 1, results
    numbers = {body["number"] for status, body in results if status == 201}
    assert len(numbers) == 1, results  # every 201 is the one payment
    assert all(body["error"]["code"] == conflict for status, body in results if status != 201), (
        results
    )
    assert all(status in (201, 409) for status in statuses), results
    assert Payment.objects.count() == 1
    call_command("check_ledger")


def test_same_key_same_wallet_and_amount_different_codes(wallet, small_store):
    raw = pos_key(small_store)
    results = post_at_once([(raw, {"code": code_for(wallet), "amount": 500}) for _ in range(8)])

    assert_one_payment_and_conflicts(results)
    assert [status for status, _ in results].count(201) == 1
    # The winner's code is the one consumed; the seven others can still be used.
    assert CpmCode.objects.filter(payment__isnull=False).count() == 1


def test_same_key_different_amounts(wallet, small_store):
    raw = pos_key(small_store)
    shared = code_for(wallet)
    results = post_at_once([(raw, {"code": shared, "amount": 100 + n}) for n in range(6)])

    assert_one_payment_and_conflicts(results)
    payment = Payment.objects.get()
    # Only the request that matches the payment made may be answered with it.
    assert all(body["amount"] == payment.amount for status, body in results if status == 201), (
        results
    )


def test_same_key_different_wallets(programme, common, small_store):
    raw = pos_key(small_store)
    wallets = [factories.funded_wallet(programme, {common: 1_000}) for _ in range(6)]
    results = post_at_once([(raw, {"code": code_for(w), "amount": 300}) for w in wallets])

    assert_one_payment_and_conflicts(results)
    paid = Payment.objects.get().wallet
    spent = {
        w.pk: 1_000 - Account.objects.get(wallet=w).balance for w in wallets
    }  # one wallet paid 300, the five others nothing
    assert spent == {w.pk: 300 if w.pk == paid.pk else 0 for w in wallets}


def test_same_key_and_code_from_different_terminals(wallet, small_store):
    # Keys are per terminal, so these are different requests: the code decides, once.
    shared = code_for(wallet)
    results = post_at_once(
        [(pos_key(small_store), {"code": shared, "amount": 400}) for _ in range(4)]
    )

    assert_one_payment_and_conflicts(results, conflict="code_used")
    assert [status for status, _ in results].count(201) == 1


def test_exact_retries_all_get_the_payment(wallet, small_store):
    raw = pos_key(small_store)
    body = {"code": code_for(wallet), "amount": 900}
    results = post_at_once([(raw, body)] * 6)

    assert [status for status, _ in results] == [201] * 6
    assert len({body["number"] for _, body in results}) == 1
    assert Payment.objects.count() == 1
