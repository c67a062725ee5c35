#!/usr/bin/env bash
# Serve the demo: gunicorn in the foreground, the background-task worker beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
bind=${1:-127.0.0.1:8000}
.venv/bin/python manage.py db_worker --queue-name '*' &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo "Serving on http://$bind (admin: http://$bind/admin/); Ctrl-C stops."
.venv/bin/gunicorn config.wsgi --bind "$bind" --workers "${WEB_CONCURRENCY:-3}" --access-logfile -
