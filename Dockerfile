# Mirrors the Makefile: the same lock file, compiled Japanese catalogue, collected static files.
# One image, two processes (docs/operations.md, "Containers"):
#   docker run IMAGE              the web app (gunicorn on :8000)
#   docker run IMAGE worker       the background worker with its heartbeat
#   docker run IMAGE migrate      once per release, before the new web containers
#   docker run IMAGE housekeeping nightly (cron / a scheduled job)
#   docker run IMAGE manage ...   any other manage.py command
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext fonts-noto-cjk fonts-ipaexfont poppler-utils postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 voucher
WORKDIR /app

COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY --chown=voucher:voucher . .
# Build-time settings only: the real SECRET_KEY and DATABASE_URL come from the environment at run time.
RUN SECRET_KEY=build DATABASE_URL=postgres://build@localhost/build python manage.py compilemessages -v 0 \
    && SECRET_KEY=build DATABASE_URL=postgres://build@localhost/build python manage.py collectstatic -v 0 --no-input

# Generated files (CSV exports, statements, QR sheets): a volume the non-root user can write.
# Every web and worker container of a site mounts the same one (or uses S3 through STORAGES).
RUN mkdir -p /app/media /tmp/prometheus && chown voucher:voucher /app/media /tmp/prometheus
VOLUME ["/app/media"]
ENV MEDIA_ROOT=/app/media \
    EMAIL_FILE_PATH=/app/media/outbox \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    BIND=0.0.0.0:8000 \
    LOG_FORMAT=json

USER voucher
EXPOSE 8000
# Ready = database, migrations, a fresh worker heartbeat and a writable volume (/readyz); the
# worker container checks its heartbeat instead. Host 127.0.0.1 must stay in ALLOWED_HOSTS.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["/app/scripts/docker-entrypoint.sh", "healthcheck"]
ENTRYPOINT ["/app/scripts/docker-entrypoint.sh"]
CMD ["web"]
