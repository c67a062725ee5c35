"""A database connection ended under a running server (PostgreSQL restarted, PgBouncer
recycled, a backend terminated) costs the next POS request nothing: the health check sees it
before use, without the `SELECT 1` it used to send (core.postgresql)."""

import json

import pytest
from django.db import connection

from payments import services
from payments.models import Payment
from tests.subprocesses import gunicorn, request_json, wait_until


@pytest.fixture
def server(tmp_path):
    """config.wsgi with one thread, its database connection kept between requests."""
    with gunicorn(
        tmp_path, "config.wsgi:application", "--threads", "1", DB_CONN_MAX_AGE="600"
    ) as port:
        yield port


def pay(port, raw_key, code, key):
    body = json.dumps({"code": code, "amount": 300})
    headers = {"Authorization": f"Bearer {raw_key}", "Idempotency-Key": key}
    return request_json(port, "POST", "/api/v1/payments", body, headers)


def server_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_the_request_after_the_servers_connection_ended_is_served(server, wallet, pos_terminal):
    _key, raw = services.api_key_create(terminal=pos_terminal)
    first = pay(server, raw, services.cpm_code_issue(wallet=wallet)[1], "till-1")
    assert first[0] == 201, first
    ended = server_backends()
    assert ended, "the server keeps its connection between requests"
    with connection.cursor() as cursor:
        for pid in ended:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_until(lambda: not set(ended) & set(server_backends()), seconds=10)

    second = pay(server, raw, services.cpm_code_issue(wallet=wallet)[1], "till-2")
    assert second[0] == 201, second
    assert second[1]["amount"] == 300
    assert Payment.objects.filter(store=pos_terminal.store).count() == 2
    # On a connection of its own, not the one that was ended.
    assert set(server_backends()).isdisjoint(ended)
