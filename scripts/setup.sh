#!/usr/bin/env bash
# Idempotent set-up shared by `make demo`, `make test` and CI: a second run only checks.
# Each step says in one line what is missing and how to fix it, never a stack trace.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $* (run as root or install sudo)"; fi; }

APT_UPDATED=
apt_install() {  # apt_install PACKAGE... : installs only what is missing
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing ${missing[*]}: install them with your package manager"
  say "Installing ${missing[*]} from Debian's packages"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "could not install ${missing[*]} (apt-get failed; try: apt-get install ${missing[*]})"
}

# 1. System packages: gettext compiles the Japanese catalogue; CJK fonts draw the QR sheets; Chromium for browser tests.
apt_install gettext fonts-noto-cjk fonts-ipaexfont poppler-utils zbar-tools
if [ "${WITH_BROWSER:-0}" = 1 ]; then apt_install chromium; fi

# 2. Python 3.13 virtualenv from the lock file (pyenv's when present, as .python-version asks).
if [ ! -x .venv/bin/python ]; then
  PY=""
  if command -v pyenv >/dev/null; then PY=$(pyenv which python 2>/dev/null || true); fi
  [ -n "$PY" ] && "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null || PY=$(command -v python3.13 || true)
  [ -n "$PY" ] || die "Python 3.13 is required: install it (e.g. 'pyenv install 3.13' or 'apt-get install python3.13')"
  say "Creating .venv with $PY"
  "$PY" -m venv .venv
fi
LOCK=requirements-dev.lock
if [ ! -f .venv/.installed ] || [ "$LOCK" -nt .venv/.installed ]; then
  say "Installing Python packages from $LOCK"
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r "$LOCK" \
    || die "pip could not install $LOCK (is PyPI reachable?)"
  touch .venv/.installed
fi

# 3. Local settings: a random SECRET_KEY once, kept in the git-ignored .env.
if [ ! -f .env ]; then
  say "Writing .env with a fresh SECRET_KEY"
  key=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
  # A developer's machine serves plain http on 127.0.0.1 and keeps e-mail in files.
  printf 'SECRET_KEY=%s\nSECURE_COOKIES=false\nEMAIL_BACKEND=filebased\nEMAIL_FILE_PATH=media/outbox\n' "$key" > .env
fi
if ! grep -q '^PIN_HASH_KEY=' .env; then
  echo "PIN_HASH_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')" >> .env
fi

# 4. PostgreSQL: DATABASE_URL wins and nothing else is touched; otherwise the local server.
LOCAL_DB=postgres://voucher:voucher@127.0.0.1:5432/voucher
grep -q '^DATABASE_URL=' .env || echo "DATABASE_URL=$LOCAL_DB" >> .env
if [ -z "${DATABASE_URL:-}" ] && grep -qx "DATABASE_URL=$LOCAL_DB" .env; then
  if ! command -v pg_lsclusters >/dev/null; then apt_install postgresql; fi
  cluster=$(pg_lsclusters --no-header 2>/dev/null | awk 'NR==1 {print $1" "$2" "$4}')
  [ -n "$cluster" ] || die "PostgreSQL is installed but has no cluster: run 'pg_createcluster 15 main'"
  set -- $cluster
  if [ "$3" != online ]; then
    say "Starting PostgreSQL $1/$2"
    as_root pg_ctlcluster --skip-systemctl-redirect "$1" "$2" start || die "could not start PostgreSQL $1/$2"
  fi
  psql_admin() { as_root runuser -u postgres -- psql -qtAX "$@"; }
  if [ "$(psql_admin -c "select 1 from pg_roles where rolname='voucher'")" != 1 ]; then
    say "Creating database role voucher"
    psql_admin -c "create role voucher login createdb password 'voucher'"
  fi
  if [ "$(psql_admin -c "select 1 from pg_database where datname='voucher'")" != 1 ]; then
    say "Creating database voucher"
    psql_admin -c "create database voucher owner voucher"
  fi
fi

# 5. Translations and schema.
.venv/bin/python manage.py compilemessages -v 0 --ignore=.venv
.venv/bin/python manage.py migrate -v 0 --no-input
