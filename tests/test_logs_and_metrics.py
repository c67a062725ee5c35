"""Logs and metrics as an operator gets them: JSON lines from a real gunicorn with the request id
echoed and no secret in any line; /metrics summed over gunicorn workers and behind its token."""

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from core.logs import scrub
from merchants.models import Terminal
from payments.services import api_key_create, cpm_code_issue
from tests import factories
from tests.subprocesses import HOST, ROOT, database_url

PORT = 8106
SECRETS = [
    "4321",
    "135790",
    "tok-abcdef",
    "sekrit-bearer-value",
    "Hunter2-pass",
    "K3Y-9f8e7d",
    "SGVsbG8tc2Vrcml0",
]


def start_gunicorn(tmp_path, **env):
    environment = dict(
        os.environ,
        DATABASE_URL=database_url(),
        SECRET_KEY=settings.SECRET_KEY,
        MEDIA_ROOT=str(tmp_path / "media"),
        LOG_FORMAT="json",
        DB_CONN_MAX_AGE="0",
        BIND=f"{HOST}:{PORT}",
        **env,
    )
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=environment,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://{HOST}:{PORT}/healthz", timeout=2)
            return process, log
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"gunicorn did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)


def stop(process):
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def request(path, *, data=None, headers=None):
    req = urllib.request.Request(f"http://{HOST}:{PORT}{path}", data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.django_db(transaction=True)
def test_json_logs_carry_the_request_id_and_no_secret(tmp_path):
    process, log = start_gunicorn(tmp_path)
    try:
        status, headers, _ = request(
            "/api/v1/payments?pin=4321&code=135790&token=tok-abcdef&page=2",
            headers={
                "X-Request-ID": "req-abc-123",
                "Authorization": "Bearer sekrit-bearer-value",
                "X-Api-Key": "K3Y-9f8e7d",
            },
        )
        assert status == 401  # no such key
        assert headers["X-Request-ID"] == "req-abc-123"
        # A post carrying a password and a PIN in its body and query, with a wrong key.
        status, headers, _ = request(
            "/api/v1/payments?password=Hunter2-pass",
            data=b'{"ticket_number": "12345678901", "pin": "4321", "password": "Hunter2-pass"}',
            headers={"Content-Type": "application/json", "Authorization": "Basic SGVsbG8tc2Vrcml0"},
        )
        assert status == 401
        made_up = headers["X-Request-ID"]
        assert len(made_up) == 32
        # A forged id (a newline would start a fake log line) is replaced.
        _, headers, _ = request("/healthz", headers={"X-Request-ID": "x" * 65})
        assert headers["X-Request-ID"] != "x" * 65
    finally:
        stop(process)
    text = log.read_text()
    for secret in SECRETS:
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "voucher.request"]
    first = next(line for line in access if line["request_id"] == "req-abc-123")
    assert first["level"] == "INFO"
    assert first["method"] == "GET"
    assert first["path"].startswith("/api/v1/payments?pin=[scrubbed]&code=[scrubbed]")
    assert first["path"].endswith("&page=2")
    assert first["status"] == 401
    assert isinstance(first["duration_ms"], float)
    assert first["time"].endswith("+00:00")
    second = next(line for line in access if line["request_id"] == made_up)
    assert second["method"] == "POST"
    assert second["path"] == "/api/v1/payments?password=[scrubbed]"


@pytest.mark.parametrize(
    "line",
    [
        "<QueryDict: {'ticket_number': ['12345678901'], 'pin': ['4321']}>",
        "{'password': 'Hunter2-pass', 'new_password1': 'Hunter2-pass'}",
        '{"code": "135790", "passcode": "135790"}',
        "HTTP_AUTHORIZATION='Bearer sekrit-bearer-value'",
        "Authorization: Bearer sekrit-bearer-value",
        "POST /api/v1/payments api_key=K3Y-9f8e7d card_token=tok-abcdef",
        "otp_token=135790&csrfmiddlewaretoken=tok-abcdef",
    ],
)
def test_scrub_removes_secrets_in_every_shape(line):
    scrubbed = scrub(line)
    assert "[scrubbed]" in scrubbed
    for secret in SECRETS:
        assert secret not in scrubbed


def test_scrub_keeps_what_is_not_secret():
    line = "GET /merchant/history/?page=2 200 status_code=200 error_code=insufficient_funds"
    assert scrub(line) == line


def metric(text, name):
    for row in text.splitlines():
        if row.startswith(name + " ") or row.startswith(name + "{"):
            return float(row.rsplit(" ", 1)[1])
    return None


@pytest.mark.django_db(transaction=True)
def test_metrics_add_up_over_gunicorn_workers_behind_a_token(
    tmp_path, programme, common, small_store
):
    wallets = [factories.funded_wallet(programme, {common: 5_000}) for _ in range(4)]
    process, _log = start_gunicorn(
        tmp_path,
        METRICS_TOKEN="m-token-123",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"),
        WEB_CONCURRENCY="2",
        WEB_THREADS="1",
    )
    try:
        assert request("/metrics")[0] == 401
        assert request("/metrics", headers={"Authorization": "Bearer wrong"})[0] == 401
        terminal = factories.terminal(small_store, kind=Terminal.Kind.POS)
        _, raw_key = api_key_create(terminal=terminal, name="レジ1")

        for n, wallet in enumerate(wallets):
            _, code = cpm_code_issue(wallet=wallet)
            status, _, body = request(
                "/api/v1/payments",
                data=json.dumps({"code": code, "amount": 100 + n}).encode(),
                headers={
                    "Authorization": f"Bearer {raw_key}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": f"metrics-{n}",
                },
            )
            assert status == 201, body
        # A refused payment: the code was used already.
        status, _, _ = request(
            "/api/v1/payments",
            data=json.dumps({"code": code, "amount": 100}).encode(),
            headers={
                "Authorization": f"Bearer {raw_key}",
                "Content-Type": "application/json",
                "Idempotency-Key": "metrics-again",
            },
        )
        assert status == 409
        status, _, body = request("/metrics", headers={"Authorization": "Bearer m-token-123"})
        assert status == 200
        text = body.decode()
    finally:
        stop(process)
    assert metric(text, 'voucher_payments_total{mode="pos"}') == 4
    assert metric(text, 'voucher_payment_amount_yen_total{mode="pos"}') == 406
    assert metric(text, 'voucher_payment_duration_seconds_count{mode="pos"}') == 4
    assert metric(text, 'voucher_domain_errors_total{code="code_used"}') == 1
    assert metric(text, 'voucher_task_queue_depth{queue="default"}') == 0
    assert metric(text, "voucher_task_queue_oldest_age_seconds") == 0


def test_metrics_are_not_there_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer x").status_code == 404


def test_sentry_events_are_scrubbed_too():
    from core.logs import sentry_before_send

    event = {
        "request": {
            "url": "https://voucher.example.jp/login/?pin=4321",
            "headers": {"Authorization": "Bearer sekrit-bearer-value", "User-Agent": "Safari"},
            "data": {"ticket_number": "12345678901", "pin": "4321", "password": "Hunter2-pass"},
        },
        "logentry": {"message": "card_token=tok-abcdef failed"},
    }
    sent = sentry_before_send(event, {})
    text = json.dumps(sent)
    for secret in SECRETS:
        assert secret not in text
    assert sent["request"]["headers"]["User-Agent"] == "Safari"
    assert sent["request"]["data"]["ticket_number"] == "12345678901"
