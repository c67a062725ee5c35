"""/healthz and /readyz: what a load balancer, a container runtime and an operator poll.

/healthz says the process answers (no database: a database outage must not restart every app
server). /readyz says this instance can do its work: the database answers, every migration is
applied, a background worker beat recently, and generated files can be written. It answers 200
with {"ok": true} or 503 with one reason per failed check, e.g. {"worker": "no heartbeat for 93 s"}.
"""

import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from core.heartbeat import seconds_since_last_beat

# Once every migration is applied in this process it stays so (a release that adds migrations
# starts new processes), so the migration graph is read once rather than on every probe.
_migrations_applied = False


def check_database() -> str | None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return None


def check_migrations() -> str | None:
    global _migrations_applied
    if _migrations_applied:
        return None
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        return f"{len(plan)} migration(s) not applied: {names}"
    _migrations_applied = True
    return None


def check_worker() -> str | None:
    age = seconds_since_last_beat()
    if age is None:
        return "no worker heartbeat recorded (is `manage.py run_worker` running?)"
    if age > settings.WORKER_MAX_SILENCE_SECONDS:
        return f"no heartbeat for {age:.0f} s"
    return None


def check_storage() -> str | None:
    name = default_storage.save(f"readyz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        if default_storage.open(name).read() != b"ok":
            return "storage returned other content than written"
    finally:
        default_storage.delete(name)
    return None


CHECKS = {
    "database": check_database,
    "migrations": check_migrations,
    "worker": check_worker,
    "storage": check_storage,
}
NEEDS_DATABASE = {"migrations", "worker"}


def run_checks() -> dict[str, str]:
    """Failed checks and why; empty when ready. A check that raises fails with the error."""
    failed = {}
    for name, check in CHECKS.items():
        if name in NEEDS_DATABASE and "database" in failed:
            failed[name] = "not checked: database unreachable"
            continue
        try:
            reason = check()
        except Exception as error:
            reason = f"{type(error).__name__}: {error}".strip()[:300]
        if reason:
            failed[name] = reason
    return failed


@never_cache
def healthz(request):
    """The process answers. No database, no session."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def readyz(request):
    failed = run_checks()
    if failed:
        return JsonResponse(failed, status=503)
    return JsonResponse({"ok": True})
