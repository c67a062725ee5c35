"""`db_worker` with a heartbeat: the command to run the background worker in production."""

import logging

from django.conf import settings
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from core.heartbeat import HeartbeatThread, forget

logger = logging.getLogger(__name__)


class Command(DbWorkerCommand):
    help = (
        "Run django-tasks-db's worker (same options as db_worker) and record a heartbeat every "
        "WORKER_HEARTBEAT_SECONDS, which /readyz checks."
    )

    def handle(self, *args, **options):
        thread = HeartbeatThread(options["worker_id"], settings.WORKER_HEARTBEAT_SECONDS)
        thread.start()
        try:
            super().handle(*args, **options)
        finally:
            thread.stop()
            try:
                forget(options["worker_id"])
            except Exception:
                logger.warning("could not remove the heartbeat of worker %s", options["worker_id"])
