"""Heavy reads on the streaming replica, everything else on the primary (docs/operations.md).

Code marks a heavy read (利用実績, aggregates, CSV exports, the city dashboard) with
`heavy_reads()` or `@heavy_read`; inside it `ReplicaRouter` sends reads to the "replica" alias
while the replica is reachable and its replay lag is within REPLICA_MAX_LAG_SECONDS (checked at
most every REPLICA_CHECK_SECONDS per process), else to the primary. Writes always go to the
primary. Without DATABASE_REPLICA_URL there is no router and nothing changes.
"""

import contextvars
import functools
import logging
import threading
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
logger = logging.getLogger(__name__)
_heavy = contextvars.ContextVar("heavy_reads", default=False)
_state = {"checked": 0.0, "fresh": False, "lag": None}
_lock = threading.Lock()


@contextmanager
def heavy_reads():
    token = _heavy.set(True)
    try:
        yield
    finally:
        _heavy.reset(token)


def heavy_read(view):
    """A view whose queries may run on the replica (render inside it: not a TemplateResponse)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with heavy_reads():
            return view(*args, **kwargs)

    return wrapper


def replica_lag() -> float:
    """Seconds the replica's replay is behind (0 when it has replayed all it received)."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(
            """SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0
                           WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                           ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)
                      END"""
        )
        return float(cursor.fetchone()[0])


def replica_fresh() -> bool:
    now = time.monotonic()
    if now - _state["checked"] < settings.REPLICA_CHECK_SECONDS:
        return _state["fresh"]
    with _lock:
        if now - _state["checked"] < settings.REPLICA_CHECK_SECONDS:
            return _state["fresh"]
        try:
            lag = replica_lag()
            fresh = lag <= settings.REPLICA_MAX_LAG_SECONDS
        except Exception as error:
            connections[REPLICA].close()
            lag, fresh = None, False
            logger.warning("replica unreachable, heavy reads go to the primary: %s", error)
        if not fresh and _state["fresh"]:
            logger.warning("replica lag %s s over the bound: heavy reads go to the primary", lag)
        _state.update(checked=time.monotonic(), fresh=fresh, lag=lag)
        return fresh


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _heavy.get() and replica_fresh():
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
