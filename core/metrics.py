"""Prometheus metrics (prometheus-client), correct across gunicorn's worker processes.

Counters and histograms live in each process; with PROMETHEUS_MULTIPROC_DIR set (before the
process starts, as config/gunicorn.py and docs/operations.md say) prometheus-client keeps them in
files there and /metrics sums every process's. The task queue is read from the database at scrape
time, so it is one number whichever server answers.
"""

import hmac
import os

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponse
from django.tasks import TaskResultStatus
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

PAYMENTS = Counter("voucher_payments_total", "Payments recorded, by mode.", ["mode"])
PAYMENT_YEN = Counter("voucher_payment_amount_yen_total", "Yen paid, by mode.", ["mode"])
PAYMENT_SECONDS = Histogram(
    "voucher_payment_duration_seconds",
    "Time to record a payment (lock, split, insert, commit), by mode.",
    ["mode"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DOMAIN_ERRORS = Counter(
    "voucher_domain_errors_total", "Domain errors raised (DomainError), by code.", ["code"]
)


def payment_recorded(mode: str, amount: int, seconds: float) -> None:
    PAYMENTS.labels(mode).inc()
    PAYMENT_YEN.labels(mode).inc(amount)
    PAYMENT_SECONDS.labels(mode).observe(seconds)


def domain_error_raised(code: str) -> None:
    DOMAIN_ERRORS.labels(code).inc()


class TaskQueueCollector:
    """Background tasks waiting and the age of the oldest, per queue, from django-tasks-db."""

    def collect(self):
        from django_tasks_db.models import DBTaskResult  # core.exceptions imports this module early

        depth = GaugeMetricFamily(
            "voucher_task_queue_depth", "Background tasks waiting to run.", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "voucher_task_queue_oldest_age_seconds",
            "Seconds the oldest waiting background task has waited.",
            labels=["queue"],
        )
        running = GaugeMetricFamily(
            "voucher_task_running", "Background tasks running now.", labels=["queue"]
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT queue_name,
                           count(*) FILTER (WHERE status = %(ready)s),
                           coalesce(extract(epoch FROM now() - min(enqueued_at)
                                    FILTER (WHERE status = %(ready)s)), 0),
                           count(*) FILTER (WHERE status = %(running)s)
                    FROM {DBTaskResult._meta.db_table}
                    WHERE status IN (%(ready)s, %(running)s) GROUP BY queue_name""",
                {"ready": TaskResultStatus.READY, "running": TaskResultStatus.RUNNING},
            )
            rows = cursor.fetchall()
        for queue, waiting, oldest, busy in rows or [("default", 0, 0, 0)]:
            depth.add_metric([queue], waiting)
            age.add_metric([queue], float(oldest))
            running.add_metric([queue], busy)
        yield from (depth, age, running)


def _registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in (PAYMENTS, PAYMENT_YEN, PAYMENT_SECONDS, DOMAIN_ERRORS):
            registry.register(collector)
    registry.register(TaskQueueCollector())
    return registry


@never_cache
def metrics_view(request):
    """/metrics for Prometheus: 404 unless METRICS_TOKEN is set, then only with that bearer token."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return HttpResponse("bearer token required\n", status=401, content_type="text/plain")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
