#!/usr/bin/env bash
# Serve the demo: gunicorn in the foreground, the background-task worker (with its heartbeat) beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
bind=${1:-127.0.0.1:8000}
.venv/bin/python manage.py run_worker --queue-name '*' &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo "Serving on http://$bind (admin: http://$bind/admin/); Ctrl-C stops."
# Threads overlap one request's database waits with another's Python work: on 2 cores 3x4
# gthread serves ~1.6x the payments of 4 sync workers (scripts/bench_pos_api.py). Each thread
# keeps its own database connection (workers x threads of them).
.venv/bin/gunicorn config.wsgi --bind "$bind" --workers "${WEB_CONCURRENCY:-3}" \
    --worker-class gthread --threads "${WEB_THREADS:-4}" --access-logfile -
