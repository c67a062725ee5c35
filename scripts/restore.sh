#!/usr/bin/env bash
# scripts/restore.sh DIR: a backup made by scripts/backup.sh into the EMPTY database named by
# DATABASE_URL, and its files into MEDIA_ROOT (docs/operations.md, "Restore").
#   1. checks every file against the backup's SHA256SUMS;
#   2. refuses a database that has any table, sequence or view (restore into a new database,
#      then point the app at it), and a MEDIA_ROOT that has files;
#   3. restores in one transaction (nothing half-written if it fails; RESTORE_JOBS=N instead
#      restores N tables at a time, faster on big databases, and then a failure needs a fresh db);
#   4. compares the ledger totals with those read in the dumped snapshot and runs check_ledger.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
die() { printf 'restore: %s\n' "$*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: scripts/restore.sh DIR (made by scripts/backup.sh)"
DIR=$(cd "$1" 2>/dev/null && pwd) || die "no directory $1"

env_or_dotenv() {  # env_or_dotenv NAME DEFAULT
  local value=${!1:-}
  if [ -z "$value" ] && [ -f "$ROOT/.env" ]; then
    value=$(sed -n "s/^$1=//p" "$ROOT/.env" | tail -n 1)
  fi
  printf '%s' "${value:-$2}"
}
DATABASE_URL=$(env_or_dotenv DATABASE_URL "")
[ -n "$DATABASE_URL" ] || die "set DATABASE_URL (or put it in .env) to the new, empty database"
MEDIA_ROOT=$(env_or_dotenv MEDIA_ROOT media)
case "$MEDIA_ROOT" in /*) ;; *) MEDIA_ROOT="$ROOT/$MEDIA_ROOT" ;; esac
for tool in pg_restore psql sha256sum tar; do command -v $tool >/dev/null || die "$tool is missing (apt-get install postgresql-client)"; done
started=$(date +%s%N)
secs() { local ns=$(( $2 - $1 )); printf '%d.%02d' $(( ns / 1000000000 )) $(( ns / 10000000 % 100 )); }

[ -f "$DIR/SHA256SUMS" ] || die "$DIR has no SHA256SUMS: not a backup made by scripts/backup.sh"
(cd "$DIR" && sha256sum --quiet --check SHA256SUMS) || die "a file of the backup is damaged (sha256 differs)"

psql_q() { psql -qtAX -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "$1"; }
objects=$(psql_q "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
                    AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')") || die "cannot connect to the database of DATABASE_URL"
[ "$objects" = 0 ] || die "the database is not empty ($objects tables, views or sequences): restore into a new database (createdb), never over a live one"
if [ -d "$MEDIA_ROOT" ] && [ -n "$(find "$MEDIA_ROOT" -type f -print -quit)" ]; then
  die "MEDIA_ROOT ($MEDIA_ROOT) has files: restore into an empty directory"
fi

if [ "${RESTORE_JOBS:-1}" -gt 1 ]; then
  pg_restore --no-owner --no-acl --exit-on-error --jobs="$RESTORE_JOBS" -d "$DATABASE_URL" "$DIR/database.dump" \
    || die "pg_restore failed: drop this database, create it again and retry"
else
  pg_restore --no-owner --no-acl --exit-on-error --single-transaction -d "$DATABASE_URL" "$DIR/database.dump" \
    || die "pg_restore failed; nothing was written"
fi
restored=$(date +%s%N)
mkdir -p "$MEDIA_ROOT"
tar --extract --file="$DIR/media.tar" --directory="$MEDIA_ROOT" --no-same-owner
psql_q "SET client_min_messages = error; ANALYZE" >/dev/null

expected=$(tr -d ' \n' < "$DIR/totals.json")
actual=$(psql_q "$(grep -v '^--' "$ROOT/scripts/ledger_totals.sql" | tr '\n' ' ')" | tr -d ' \n')
[ "$expected" = "$actual" ] || die "totals differ from the backup's snapshot: expected $expected, got $actual"
echo "restore: totals match the backup: $actual"

if [ "${RESTORE_CHECK_LEDGER:-1}" = 1 ] && [ -x "$ROOT/.venv/bin/python" ]; then
  DATABASE_URL="$DATABASE_URL" MEDIA_ROOT="$MEDIA_ROOT" "$ROOT/.venv/bin/python" "$ROOT/manage.py" check_ledger \
    || die "check_ledger failed on the restored database"
fi
finished=$(date +%s%N)
printf 'restore: done in %s s (database %s s)\n' "$(secs "$started" "$finished")" "$(secs "$started" "$restored")"
