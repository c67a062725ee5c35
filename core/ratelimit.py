"""Fixed-window attempt counters in PostgreSQL, shared by every worker process and server."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from core.models import RateLimit

TABLE = RateLimit._meta.db_table


def rate_limit_exceeded(*, key: str, limit: int, window: timedelta) -> bool:
    """True when `key` was hit `limit` times in the current window."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count FROM {TABLE} WHERE key = %s AND window_start > %s",
            [key, timezone.now() - window],
        )
        row = cursor.fetchone()
    return bool(row) and row[0] >= limit


def rate_limit_hit(*, key: str, window: timedelta) -> int:
    """Count one attempt in a fixed window; one upsert, so concurrent workers never lose a hit."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {TABLE} (key, window_start, count, window_length) VALUES (%s, %s, 1, %s)
            ON CONFLICT (key) DO UPDATE SET
              window_length = EXCLUDED.window_length,
              count = CASE WHEN {TABLE}.window_start <= %s THEN 1 ELSE {TABLE}.count + 1 END,
              window_start = CASE WHEN {TABLE}.window_start <= %s THEN EXCLUDED.window_start
                                  ELSE {TABLE}.window_start END
            RETURNING count
            """,
            [key, now, window, now - window, now - window],
        )
        return cursor.fetchone()[0]


def rate_limit_clear(*keys: str) -> None:
    """Forget counters, e.g. the failures of a secret that was then entered right.

    The rows are locked in key order first: two clears of the same counters at once (two right
    PINs for one card) would otherwise each hold one row and wait for the other (a deadlock).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""DELETE FROM {TABLE} WHERE id IN (
                    SELECT id FROM {TABLE} WHERE key = ANY(%s) ORDER BY key FOR UPDATE)""",
            [list(keys)],
        )


def rate_limit_purge(*, now=None) -> int:
    """Delete the counters whose own window has passed; returns how many."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE window_start + window_length <= %s", [now])
        return cursor.rowcount
