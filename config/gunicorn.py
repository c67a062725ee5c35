"""gunicorn settings for production (`gunicorn -c config/gunicorn.py config.wsgi`).

Prometheus multiprocess mode: set PROMETHEUS_MULTIPROC_DIR to an empty directory writable by
the service user before gunicorn starts (the systemd unit and the Dockerfile do); each worker
writes its counters there and /metrics adds them up. A dead worker's live gauges are dropped here.
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# One process per CPU, and threads to overlap one request's database waits with another's Python
# work: on 2 CPUs, 2x4 served a quarter more payments than 3x4, at a lower p99, with the same
# floor (scripts/bench_pos_api.py, docs/performance.md); more processes only contend for the CPUs.
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
# Django writes one access line per request (core.logs); gunicorn's would repeat it unscrubbed.
accesslog = None
errorlog = "-"
graceful_timeout = 30
# Longer than nginx's upstream keepalive (60 s): otherwise gunicorn closes an idle connection just
# as nginx reuses it, the request fails with "connection reset" and nginx marks the server down.
keepalive = int(os.environ.get("WEB_KEEPALIVE", "75"))
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        # Files of a previous run would be counted again.
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
