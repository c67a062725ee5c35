# Mirrors the Makefile: the same lock file, compiled Japanese catalogue, collected static files.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext fonts-noto-cjk fonts-ipaexfont poppler-utils \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 voucher
WORKDIR /app

COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY --chown=voucher:voucher . .
# Build-time settings only: the real SECRET_KEY and DATABASE_URL come from the environment at run time.
RUN SECRET_KEY=build DATABASE_URL=postgres://build@localhost/build python manage.py compilemessages -v 0 \
    && SECRET_KEY=build DATABASE_URL=postgres://build@localhost/build python manage.py collectstatic -v 0 --no-input

USER voucher
EXPOSE 8000
# Run `python manage.py migrate` once per release, and `python manage.py db_worker` beside this.
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--worker-class", "gthread", "--threads", "4", "--access-logfile", "-"]
