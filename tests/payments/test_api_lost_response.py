"""A POS whose POST committed but never got its answer (the worker killed with SIGKILL between
commit and response) finds the payment by its Idempotency-Key, under a real gunicorn."""

import http.client
import json
import os
import signal
import threading

import pytest

from payments import services
from payments.models import Payment
from tests.subprocesses import gunicorn, request_json, wait_until


@pytest.fixture
def server(tmp_path):
    marker = tmp_path / "worker.pid"
    app = "tests.payments.wsgi_killed_after_commit:application"
    with gunicorn(tmp_path, app, DB_CONN_MAX_AGE="0", KILL_ME_MARKER=str(marker)) as port:
        yield port, marker


@pytest.mark.django_db(transaction=True)
def test_a_payment_whose_answer_was_lost_is_found_by_its_key(server, wallet, pos_terminal):
    port, marker = server
    _key, raw = services.api_key_create(terminal=pos_terminal)
    earlier = services.cpm_code_issue(wallet=wallet)[1]
    services.payment_create_cpm(
        terminal=pos_terminal, code=earlier, amount=500, idempotency_key="till-6", mode="pos"
    )
    auth = {"Authorization": f"Bearer {raw}"}
    body = json.dumps({"code": services.cpm_code_issue(wallet=wallet)[1], "amount": 1_200})
    outcome = {}

    def post():
        try:
            outcome["answer"] = request_json(
                port,
                "POST",
                "/api/v1/payments",
                body,
                {**auth, "Idempotency-Key": "till-7", "Content-Type": "application/json"},
                timeout=60,
            )
        except (http.client.HTTPException, OSError) as exc:
            outcome["lost"] = exc

    pos = threading.Thread(target=post)
    pos.start()
    worker = int(wait_until(lambda: marker.exists() and marker.read_text()))
    os.kill(worker, signal.SIGKILL)
    pos.join(timeout=30)
    assert "answer" not in outcome and isinstance(outcome["lost"], Exception)

    payment = Payment.objects.get(amount=1_200)  # committed before the worker died
    assert payment.amount == 1_200
    # The master starts a new worker; the POS asks instead of paying again.
    status, found = wait_until(
        lambda: request_json(port, "GET", "/api/v1/payments?idempotency_key=till-7", headers=auth)
    )
    assert status == 200 and found["next"] is None
    assert [(p["number"], p["amount"]) for p in found["payments"]] == [(payment.number, 1_200)]
