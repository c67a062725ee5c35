#!/bin/sh
# The container's one entry point: web (default), worker, migrate, housekeeping, healthcheck,
# manage ARGS..., or any other command as given.
set -e
cd /app
case "${1:-web}" in
  web)
    shift || true
    exec gunicorn -c config/gunicorn.py config.wsgi "$@" ;;
  worker)
    shift
    echo worker > /tmp/voucher-role
    exec python manage.py run_worker --queue-name '*' --no-reload "$@" ;;
  migrate)
    exec python manage.py migrate --no-input ;;
  housekeeping)
    exec python manage.py housekeeping ;;
  manage)
    shift
    exec python manage.py "$@" ;;
  healthcheck)
    if [ -f /tmp/voucher-role ]; then
      # The worker: its heartbeat is fresh (the web containers' /readyz says the same).
      exec python manage.py shell -v 0 -c "import sys; from django.conf import settings; from core.heartbeat import seconds_since_last_beat as age; a = age(); sys.exit(0 if a is not None and a < settings.WORKER_MAX_SILENCE_SECONDS else 1)"
    fi
    exec python -c "import sys, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + '${BIND##*:}' + '/readyz', timeout=4)" ;;
  *)
    exec "$@" ;;
esac
