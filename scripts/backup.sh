#!/usr/bin/env bash
# scripts/backup.sh DIR: a backup that restores (docs/operations.md, "Backups").
#   DIR/database.dump   pg_dump custom format of the database named by DATABASE_URL
#   DIR/media.tar       every generated file under MEDIA_ROOT (exports, statements, QR sheets)
#   DIR/totals.json     ledger totals read in the very snapshot that was dumped
#   DIR/manifest.json   sizes and sha256 of the above, versions, timings
# The dump is one consistent snapshot taken while payments go on (no lock beyond ACCESS SHARE).
# DATABASE_URL and MEDIA_ROOT come from the environment, else from .env (the real env wins).
# Connect directly to PostgreSQL, not through PgBouncer in transaction mode (a snapshot is
# exported from one session and used by pg_dump's).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
die() { printf 'backup: %s\n' "$*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: scripts/backup.sh DIR (a new or empty directory)"
DIR=$1

env_or_dotenv() {  # env_or_dotenv NAME DEFAULT
  local value=${!1:-}
  if [ -z "$value" ] && [ -f "$ROOT/.env" ]; then
    value=$(sed -n "s/^$1=//p" "$ROOT/.env" | tail -n 1)
  fi
  printf '%s' "${value:-$2}"
}
DATABASE_URL=$(env_or_dotenv DATABASE_URL "")
[ -n "$DATABASE_URL" ] || die "set DATABASE_URL (or put it in .env)"
MEDIA_ROOT=$(env_or_dotenv MEDIA_ROOT media)
case "$MEDIA_ROOT" in /*) ;; *) MEDIA_ROOT="$ROOT/$MEDIA_ROOT" ;; esac
for tool in pg_dump psql sha256sum tar; do command -v $tool >/dev/null || die "$tool is missing (apt-get install postgresql-client coreutils tar)"; done

if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR")" ]; then die "$DIR is not empty: give a new directory"; fi
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
started=$(date +%s%N)
secs() { local ns=$(( $2 - $1 )); printf '%d.%02d' $(( ns / 1000000000 )) $(( ns / 10000000 % 100 )); }

# One REPEATABLE READ session exports its snapshot; pg_dump dumps exactly that snapshot, and the
# totals are read in it too, so restore.sh can compare like with like.
coproc SNAP { psql -qtAX -v ON_ERROR_STOP=1 -d "$DATABASE_URL" 2>&1; }
exec {snap_in}>&"${SNAP[1]}" {snap_out}<&"${SNAP[0]}"
snap_pid=$SNAP_PID  # bash unsets SNAP_PID once the coprocess has exited
ask() { printf '%s\n' "$1" >&$snap_in; IFS= read -r -t 60 line <&$snap_out || die "no answer from PostgreSQL to: $1"; printf '%s' "$line"; }
ask "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_export_snapshot();" > "$DIR/.snapshot"
snapshot=$(cat "$DIR/.snapshot"); rm -f "$DIR/.snapshot"
[[ "$snapshot" =~ ^[0-9A-F-]+$ ]] || die "could not export a snapshot: $snapshot"
totals=$(ask "$(grep -v "^--" "$ROOT/scripts/ledger_totals.sql" | tr "\n" " ")")
[[ "$totals" == \{* ]] || die "could not read the ledger totals: $totals"
printf '%s\n' "$totals" > "$DIR/totals.json"

pg_dump --format=custom --compress=6 --snapshot="$snapshot" --file="$DIR/database.dump" -d "$DATABASE_URL" \
  || die "pg_dump failed"
ask "COMMIT; SELECT 'done';" >/dev/null
printf '\\q\n' >&$snap_in
exec {snap_in}>&- {snap_out}<&-
wait "$snap_pid" 2>/dev/null || true
dumped=$(date +%s%N)

# Files after the database: a file newer than the dump is harmless; a row whose file is missing
# is answered with a clear message and can be generated again.
if [ -d "$MEDIA_ROOT" ]; then
  tar --create --file="$DIR/media.tar" --directory="$MEDIA_ROOT" --exclude=./readyz .
else
  tar --create --file="$DIR/media.tar" --files-from=/dev/null
fi
finished=$(date +%s%N)

server=$(psql -qtAX -d "$DATABASE_URL" -c "SHOW server_version")
database=$(psql -qtAX -d "$DATABASE_URL" -c "SELECT current_database()")
{
  printf '{\n  "format": 1,\n  "created_at": "%s",\n  "database": "%s",\n  "server_version": "%s",\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$database" "$server"
  printf '  "pg_dump": "%s",\n  "snapshot": "%s",\n' "$(pg_dump --version)" "$snapshot"
  printf '  "seconds": {"database": %s, "files": %s},\n  "files": [\n' \
    "$(secs "$started" "$dumped")" "$(secs "$dumped" "$finished")"
  first=1
  for f in database.dump media.tar totals.json; do
    [ $first = 1 ] || printf ',\n'; first=0
    printf '    {"name": "%s", "bytes": %d, "sha256": "%s"}' "$f" "$(stat -c %s "$DIR/$f")" \
      "$(sha256sum "$DIR/$f" | cut -d' ' -f1)"
  done
  printf '\n  ]\n}\n'
} > "$DIR/manifest.json"
(cd "$DIR" && sha256sum database.dump media.tar totals.json > SHA256SUMS)
printf 'backup: %s written in %s s (database %s s, %s bytes)\n' "$DIR" \
  "$(secs "$started" "$finished")" "$(secs "$started" "$dumped")" "$(stat -c %s "$DIR/database.dump")"
