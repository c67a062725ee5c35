#!/usr/bin/env bash
# scripts/cluster.sh up|test|down: the site past one machine, on this machine (docs/operations.md):
#   nginx :8110 (http) and :8114 (https, self-signed) round robin over two gunicorn app servers
#   (:8111, :8112), static files from nginx, X-Forwarded-For/Proto set by nginx and trusted by
#   Django (AXES_PROXY_COUNT=1, SECURE_PROXY_SSL_HEADER);
#   PgBouncer :5443 in transaction pooling between the app servers and the primary;
#   PostgreSQL primary :5441 (WAL archived to $CLUSTER_DIR/wal) and a streaming replica :5442
#   made by pg_basebackup, serving heavy reads through core.db.ReplicaRouter;
#   the worker (manage.py run_worker) connected directly; one shared MEDIA_ROOT.
# Debian packages only (nginx, pgbouncer, postgresql), loopback only, everything under
# CLUSTER_DIR (default /tmp/voucher-cluster). `test` brings it up, drives real payments through
# nginx while a CSV export runs on the replica, kills one app server mid-run, and checks
# check_ledger and that every acknowledged payment is there once. `down` stops and removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
C=${CLUSTER_DIR:-/tmp/voucher-cluster}
PG_PRIMARY=5441 PG_REPLICA=5442 BOUNCER=5443 HTTP=8110 APP1=8111 APP2=8112 HTTPS=8114

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi; }
APT_UPDATED=
apt_install() {  # apt_install PACKAGE... : installs only what is missing (as scripts/setup.sh)
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing ${missing[*]}: install them with your package manager"
  say "Installing ${missing[*]} from Debian's packages"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "could not install ${missing[*]} (try: apt-get install ${missing[*]})"
}

PGBIN=
find_pgbin() { PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1); [ -x "$PGBIN/initdb" ] || die "no PostgreSQL server binaries"; }
# PostgreSQL and PgBouncer refuse to run as root: they run as the postgres user when we are root.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pidof_file() { [ -f "$1" ] && kill -0 "$(head -n 1 "$1")" 2>/dev/null && head -n 1 "$1"; }
wait_http() {  # wait_http URL SECONDS
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.3
  done
}

write_env() {
  local key pin
  key=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
  pin=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
  cat > "$C/env" <<ENV
SECRET_KEY=$key
PIN_HASH_KEY=$pin
DEBUG=false
SECURE_COOKIES=false
SECURE_HSTS_SECONDS=0
ALLOWED_HOSTS=127.0.0.1,localhost
CSRF_TRUSTED_ORIGINS=https://127.0.0.1:$HTTPS
SITE_URL=http://127.0.0.1:$HTTP
# App servers: through PgBouncer (transaction pooling: no server-side cursors).
DATABASE_URL=postgres://voucher@127.0.0.1:$BOUNCER/voucher
DB_DISABLE_SERVER_SIDE_CURSORS=true
DB_CONN_MAX_AGE=0
DATABASE_REPLICA_URL=postgres://voucher@127.0.0.1:$PG_REPLICA/voucher
REPLICA_MAX_LAG_SECONDS=10
MEDIA_ROOT=$C/media
STATIC_ROOT=$C/static
EMAIL_BACKEND=filebased
EMAIL_FILE_PATH=$C/media/outbox
AXES_PROXY_COUNT=1
FORWARDED_ALLOW_IPS=127.0.0.1
LOG_FORMAT=json
WEB_CONCURRENCY=2
WEB_THREADS=4
WORKER_HEARTBEAT_SECONDS=2
METRICS_TOKEN=cluster-metrics
ENV
  # The worker and manage.py connect straight to the primary: their .iterator() loops keep
  # server-side cursors, and migrations need a session of their own.
  sed -e "s|^DATABASE_URL=.*|DATABASE_URL=postgres://voucher@127.0.0.1:$PG_PRIMARY/voucher|" \
      -e "s|^DB_DISABLE_SERVER_SIDE_CURSORS=.*|DB_DISABLE_SERVER_SIDE_CURSORS=false|" "$C/env" > "$C/env.direct"
}
with_env() { (set -a; . "$1"; set +a; shift; "$@"); }

pg_conf() {  # pg_conf DATADIR PORT
  cat >> "$1/postgresql.conf" <<CONF
port = $2
listen_addresses = '127.0.0.1'
unix_socket_directories = '$C/run'
max_connections = 100
shared_buffers = 128MB
wal_level = replica
max_wal_senders = 5
hot_standby = on
hot_standby_feedback = on
archive_mode = on
archive_command = 'test ! -f $C/wal/%f && cp %p $C/wal/%f'
logging_collector = off
CONF
}

up() {
  apt_install postgresql pgbouncer nginx-light curl openssl
  find_pgbin
  [ -x .venv/bin/python ] || die "no .venv: run make setup first"
  if [ -f "$C/up" ]; then
    say "Cluster already up in $C"
    # An app server killed by an earlier test run comes back.
    pidof_file "$C/run/app1.pid" >/dev/null || start_app 1 $APP1
    pidof_file "$C/run/app2.pid" >/dev/null || start_app 2 $APP2
    return 0
  fi
  mkdir -p "$C"/{run,wal,media,logs,nginx}
  chmod 755 "$C"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$C/run" "$C/wal"
  write_env

  say "PostgreSQL primary on :$PG_PRIMARY"
  if [ ! -d "$C/primary" ]; then
    mkdir -p "$C/primary"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$C/primary"
    as_pg "$PGBIN/initdb" -D "$C/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    pg_conf "$C/primary" $PG_PRIMARY
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n' > "$C/primary/pg_hba.conf"
  fi
  as_pg "$PGBIN/pg_ctl" -D "$C/primary" -l "$C/run/primary.log" -w start >/dev/null
  as_pg "$PGBIN/psql" -qX -h 127.0.0.1 -p $PG_PRIMARY -U postgres -d postgres -c "CREATE ROLE voucher LOGIN CREATEDB" 2>/dev/null || true
  as_pg "$PGBIN/psql" -qX -h 127.0.0.1 -p $PG_PRIMARY -U postgres -d postgres -c "CREATE DATABASE voucher OWNER voucher" 2>/dev/null || true

  say "Streaming replica on :$PG_REPLICA (pg_basebackup)"
  if [ ! -d "$C/replica" ]; then
    mkdir -p "$C/replica"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$C/replica"; chmod 700 "$C/replica"
    as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p $PG_PRIMARY -U postgres -D "$C/replica" -R -X stream -c fast
    as_pg sh -c "echo 'port = $PG_REPLICA' >> '$C/replica/postgresql.auto.conf'; echo \"archive_mode = off\" >> '$C/replica/postgresql.auto.conf'"
  fi
  as_pg "$PGBIN/pg_ctl" -D "$C/replica" -l "$C/run/replica.log" -w start >/dev/null

  say "PgBouncer on :$BOUNCER (transaction pooling)"
  cat > "$C/pgbouncer.ini" <<INI
[databases]
voucher = host=127.0.0.1 port=$PG_PRIMARY dbname=voucher
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER
unix_socket_dir = $C/run
auth_type = trust
auth_file = $C/userlist.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 400
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = $C/run/pgbouncer.log
pidfile = $C/run/pgbouncer.pid
INI
  echo '"voucher" ""' > "$C/userlist.txt"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$C/pgbouncer.ini" "$C/userlist.txt"
  as_pg pgbouncer -q -d "$C/pgbouncer.ini"

  say "Migrations, static files, compiled messages"
  with_env "$C/env.direct" .venv/bin/python manage.py migrate -v 0 --no-input
  with_env "$C/env.direct" .venv/bin/python manage.py collectstatic -v 0 --no-input
  with_env "$C/env.direct" .venv/bin/python manage.py compilemessages -v 0 --ignore=.venv --ignore=.venv-own >/dev/null

  say "Two app servers (:$APP1, :$APP2) and the worker"
  start_app 1 $APP1
  start_app 2 $APP2
  (with_env "$C/env.direct" setsid .venv/bin/python manage.py run_worker --queue-name '*' --no-reload --no-startup-delay \
     >"$C/logs/worker.log" 2>&1 & echo $! > "$C/run/worker.pid")

  say "nginx on :$HTTP and :$HTTPS"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=127.0.0.1 \
    -keyout "$C/nginx/key.pem" -out "$C/nginx/cert.pem" 2>/dev/null
  write_nginx
  nginx -p "$C/nginx" -c "$C/nginx/nginx.conf" -t 2>/dev/null || nginx -p "$C/nginx" -c "$C/nginx/nginx.conf" -t
  nginx -p "$C/nginx" -c "$C/nginx/nginx.conf"
  wait_http "http://127.0.0.1:$HTTP/healthz" 60 || die "nginx does not answer /healthz"
  wait_http "http://127.0.0.1:$HTTP/readyz" 60 || die "not ready: $(curl -s http://127.0.0.1:$HTTP/readyz)"
  touch "$C/up"
  say "Up: http://127.0.0.1:$HTTP/ https://127.0.0.1:$HTTPS/ (state in $C)"
}

start_app() {  # start_app N PORT
  (with_env "$C/env" env BIND="127.0.0.1:$2" PROMETHEUS_MULTIPROC_DIR="$C/run/prom$1" \
     setsid .venv/bin/gunicorn -c config/gunicorn.py config.wsgi --pid "$C/run/app$1.pid" \
     >"$C/logs/app$1.log" 2>&1 &)
  wait_http "http://127.0.0.1:$2/healthz" 60 || die "app server $1 did not start: $(tail -n 5 "$C/logs/app$1.log")"
}

write_nginx() {
  cat > "$C/nginx/nginx.conf" <<NGINX
worker_processes 2;
pid $C/nginx/nginx.pid;
error_log $C/logs/nginx-error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log $C/logs/nginx-access.log;
  client_body_temp_path $C/nginx/body;
  proxy_temp_path $C/nginx/proxy;
  fastcgi_temp_path $C/nginx/fastcgi;
  uwsgi_temp_path $C/nginx/uwsgi;
  scgi_temp_path $C/nginx/scgi;
  upstream voucher_app {
    server 127.0.0.1:$APP1 max_fails=3 fail_timeout=10s;
    server 127.0.0.1:$APP2 max_fails=3 fail_timeout=10s;
    keepalive 32;
    keepalive_timeout 60s;
  }
  map \$http_x_request_id \$req_id { default \$http_x_request_id; "" \$request_id; }
  server {
    listen 127.0.0.1:$HTTP;
    listen 127.0.0.1:$HTTPS ssl;
    ssl_certificate $C/nginx/cert.pem;
    ssl_certificate_key $C/nginx/key.pem;
    client_max_body_size 20m;
    location /static/ { alias $C/static/; expires 1y; add_header X-Served-By nginx; }
    location / {
      proxy_pass http://voucher_app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Request-ID \$req_id;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 2;
      proxy_connect_timeout 2s;
      add_header X-Upstream \$upstream_addr always;
    }
  }
}
NGINX
}

down() {
  find_pgbin
  [ -d "$C" ] || { say "Nothing to stop in $C"; return 0; }
  say "Stopping the cluster in $C"
  if [ -f "$C/nginx/nginx.pid" ]; then nginx -p "$C/nginx" -c "$C/nginx/nginx.conf" -s quit 2>/dev/null || true; fi
  for name in app1 app2 worker; do
    if pid=$(pidof_file "$C/run/$name.pid"); then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  if pid=$(pidof_file "$C/run/pgbouncer.pid"); then kill -TERM "$pid" 2>/dev/null || true; fi
  for node in replica primary; do
    [ -f "$C/$node/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$C/$node" -m fast -w stop >/dev/null 2>&1 || true
  done
  sleep 1
  for name in app1 app2 worker; do
    if pid=$(pidof_file "$C/run/$name.pid"); then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$C"
}

test_cluster() {
  up
  say "Driving payments through nginx (scripts/cluster_drive.py)"
  with_env "$C/env.direct" env CLUSTER_DIR="$C" HTTP_PORT=$HTTP APP1_PID_FILE="$C/run/app1.pid" \
    REPLICA_PORT=$PG_REPLICA PRIMARY_PORT=$PG_PRIMARY .venv/bin/python scripts/cluster_drive.py
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  test) test_cluster ;;
  *) die "usage: scripts/cluster.sh up|test|down" ;;
esac
