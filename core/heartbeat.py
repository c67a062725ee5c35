"""The background worker's heartbeat: a row per worker process that /readyz reads."""

import os
import socket
import threading

from django.db import close_old_connections, connection
from django.db.models.functions import Now

from core.models import WorkerHeartbeat


def beat(worker_id: str) -> None:
    """Record that this worker process is alive, now (the database's clock)."""
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(beat_at=Now())
    if not updated:
        WorkerHeartbeat.objects.create(
            worker_id=worker_id,
            hostname=socket.gethostname()[:255],
            pid=os.getpid(),
            started_at=Now(),
            beat_at=Now(),
        )


def forget(worker_id: str) -> None:
    """A worker that stops cleanly says so at once instead of waiting to go stale."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def seconds_since_last_beat() -> float | None:
    """Age of the freshest heartbeat of any worker, by the database's clock; None if none."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT extract(epoch FROM now() - max(beat_at)) FROM {WorkerHeartbeat._meta.db_table}"
        )
        (age,) = cursor.fetchone()
    return None if age is None else float(age)


class HeartbeatThread(threading.Thread):
    """Beats every `interval` seconds on its own connection while the worker runs its tasks.

    A thread rather than a step of the worker's loop: a task that runs for ten minutes (a 1M-row
    export) is a busy worker, not a dead one. If the process dies, the beats stop with it.
    """

    def __init__(self, worker_id: str, interval: float):
        super().__init__(name="heartbeat", daemon=True)
        self.worker_id = worker_id
        self.interval = interval
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                close_old_connections()
                beat(self.worker_id)
            except Exception:  # the database is away: readyz will say so; keep trying
                connection.close()
            self.stopped.wait(self.interval)
        connection.close()

    def stop(self):
        self.stopped.set()
        self.join(timeout=self.interval + 5)
