#!/usr/bin/env bash
# Serve the demo: gunicorn in the foreground, the background-task worker (with its heartbeat) beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
bind=${1:-127.0.0.1:8000}
.venv/bin/python manage.py run_worker --queue-name '*' &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo "Serving on http://$bind (admin: http://$bind/admin/); Ctrl-C stops."
# One process per CPU, whose threads overlap one request's database waits with another's Python
# work (config/gunicorn.py says what was measured). Each thread keeps its own database connection
# (workers x threads of them).
.venv/bin/gunicorn config.wsgi --bind "$bind" --workers "${WEB_CONCURRENCY:-$(nproc)}" \
    --worker-class gthread --threads "${WEB_THREADS:-4}" --access-logfile -
