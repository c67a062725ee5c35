"""A persistent connection's health check (core.postgresql): no `SELECT 1` while the server has
said nothing, and a connection the server ended is still closed before it is used."""

import time

import pytest
from django.db import connection, connections


@pytest.fixture
def own_connection(db):
    """A second connection to the test database, persistent and health-checked as in requests."""
    wrapper = connections.create_connection("default")
    wrapper.settings_dict["CONN_HEALTH_CHECKS"] = True
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def backend_state(pid):
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row[0] if row else None


def test_a_live_connection_is_reused_without_a_round_trip(own_connection):
    with own_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), 'marker'")
        pid = cursor.fetchone()[0]
    own_connection.health_check_done = False  # as at the start of the next request
    own_connection.close_if_health_check_failed()
    assert own_connection.connection is not None
    assert own_connection.health_check_done
    # The backend's last statement is still ours: no SELECT 1 reached it.
    assert backend_state(pid) == "SELECT pg_backend_pid(), 'marker'"


def test_a_connection_the_server_ended_is_closed_before_it_is_used(own_connection):
    with own_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0]
    deadline = time.monotonic() + 10
    while not own_connection._server_has_spoken() and time.monotonic() < deadline:
        time.sleep(0.05)
    own_connection.health_check_done = False
    own_connection.close_if_health_check_failed()
    assert own_connection.connection is None
    # The next query opens a new connection instead of failing.
    with own_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
