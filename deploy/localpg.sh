#!/usr/bin/env bash
# localpg.sh — a private PostgreSQL 15 cluster for development and tests.
#
#   deploy/localpg.sh env     ensure the cluster runs; print `export DATABASE_URL=...`
#   deploy/localpg.sh start   ensure the cluster runs
#   deploy/localpg.sh stop    stop it
#   deploy/localpg.sh status  say whether it runs, and where its data is
#   deploy/localpg.sh destroy stop it and delete its data
#
# When DATABASE_URL is already set, `env` prints it back unchanged and starts
# nothing: an operator-provided database is used as is.
#
# The cluster lives in .data/pg (gitignored), listens on 127.0.0.1:$SERVICENET_PGPORT
# (default 55432) and on a socket in .data/pg-run, and is reused on the next call.
# initdb refuses to run as root, so as root the cluster belongs to the
# `postgres` OS user. When that user cannot enter the clone (a clone under
# /root or in a `mktemp -d` folder), the data, socket and log live instead in
# the postgres user's home (else /tmp), in servicenet-<hash of the clone path>;
# .data/pg-location records where, so stop, status and destroy find it again.
# The roles it creates:
#   postgres           superuser, local socket only
#   servicenet_owner   owns the schema and runs migrations (CREATEDB for test clones)
# The application role (servicenet_app) is created by `servicenet migrate`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCATION="$ROOT/.data/pg-location"
PORT="${SERVICENET_PGPORT:-55432}"
OWNER_PASSWORD="${SERVICENET_OWNER_PASSWORD:-servicenet_owner}"

pgbin() {
  local dir
  for dir in /usr/lib/postgresql/15/bin /usr/local/pgsql/bin; do
    if [[ -x "$dir/$1" ]]; then echo "$dir/$1"; return; fi
  done
  command -v "$1" || { echo "localpg: $1 (PostgreSQL 15) not found" >&2; exit 1; }
}

# as_pg runs a command as the cluster's OS user (from /: it may not be
# allowed into the current directory).
as_pg() {
  if [[ "$(id -u)" == 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# base picks the directory holding the cluster (pg), its socket (pg-run) and
# its log (pg.log): the recorded one, else .data when the cluster's OS user
# can reach it, else a directory derived from the clone path that it can.
base() {
  if [[ -f "$LOCATION" ]]; then cat "$LOCATION"; return; fi
  if [[ "$(id -u)" != 0 ]]; then echo "$ROOT/.data"; return; fi
  local probe="$ROOT"
  [[ -d "$ROOT/.data" ]] && probe="$ROOT/.data"
  if runuser -u postgres -- test -x "$probe" 2>/dev/null; then echo "$ROOT/.data"; return; fi
  local hash parent
  hash="$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
  parent="$(getent passwd postgres | cut -d: -f6)"
  if [[ -z "$parent" ]] || ! runuser -u postgres -- test -d "$parent" -a -w "$parent" -a -x "$parent" 2>/dev/null; then
    parent=/tmp
  fi
  echo "$parent/servicenet-$hash"
}

BASE="$(base)"
DATA="$BASE/pg"
RUN="$BASE/pg-run"
LOG="$BASE/pg.log"

running() {
  [[ -f "$DATA/PG_VERSION" ]] && as_pg "$(pgbin pg_ctl)" -D "$DATA" status >/dev/null 2>&1
}

psql_super() {
  as_pg "$(pgbin psql)" -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$PORT" -U postgres -d postgres "$@"
}

init_cluster() {
  mkdir -p "$ROOT/.data" "$BASE" "$RUN"
  if [[ "$BASE" != "$ROOT/.data" ]]; then
    chown postgres:postgres "$BASE" && chmod 700 "$BASE"
    echo "$BASE" >"$LOCATION"
    echo "localpg: the postgres user cannot enter $ROOT; the cluster lives in $BASE (recorded in $LOCATION)" >&2
  fi
  if [[ "$(id -u)" == 0 ]]; then
    chmod 755 "$ROOT/.data"
    mkdir -p "$DATA"
    chown postgres:postgres "$DATA" "$RUN"
    touch "$LOG" && chown postgres:postgres "$LOG"
  fi
  as_pg "$(pgbin initdb)" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >/dev/null
  # Durability is off (fsync, synchronous_commit, full_page_writes): a
  # cluster for development, tests and benchmarks, where a crash of the
  # machine or of Postgres may lose its last commits. A deployment's
  # database keeps all three on: the server answers 2xx after COMMIT and
  # counts on it being durable. The benchmarks' raw insert runs on the same
  # settings as the requests it is compared with.
  cat >>"$DATA/postgresql.conf" <<EOF
# servicenet local cluster
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$RUN'
max_connections = 300
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
EOF
}

start() {
  if running; then return; fi
  if [[ ! -f "$DATA/PG_VERSION" ]]; then init_cluster; fi
  mkdir -p "$RUN"
  if [[ "$(id -u)" == 0 ]]; then chown postgres:postgres "$RUN"; touch "$LOG"; chown postgres:postgres "$LOG"; fi
  as_pg "$(pgbin pg_ctl)" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null 2>&1 || { cat "$LOG" >&2; exit 1; }
  psql_super <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'servicenet_owner') THEN
    CREATE ROLE servicenet_owner LOGIN CREATEDB CREATEROLE PASSWORD '$OWNER_PASSWORD';
  END IF;
END \$\$;
SQL
  if [[ -z "$(psql_super -tA -c "SELECT 1 FROM pg_database WHERE datname = 'servicenet'")" ]]; then
    psql_super -c "CREATE DATABASE servicenet OWNER servicenet_owner"
  fi
  # ltree and friends are trusted extensions but we create them once as superuser in
  # template1 so every database (and every test clone) has them available.
  psql_super -d template1 -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS ltree; CREATE EXTENSION IF NOT EXISTS pg_trgm;"
  psql_super -d servicenet -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS ltree; CREATE EXTENSION IF NOT EXISTS pg_trgm;"
}

case "${1:-env}" in
  env)
    if [[ -n "${DATABASE_URL:-}" ]]; then
      printf "export DATABASE_URL=%q\n" "$DATABASE_URL"
      exit 0
    fi
    start >&2
    printf "export DATABASE_URL=%q\n" "postgres://servicenet_owner:${OWNER_PASSWORD}@127.0.0.1:${PORT}/servicenet?sslmode=disable"
    ;;
  start) start ;;
  stop)
    if running; then as_pg "$(pgbin pg_ctl)" -D "$DATA" -m fast -w stop >/dev/null; fi
    ;;
  status)
    if running; then echo "running on 127.0.0.1:$PORT ($DATA)"; else echo "not running ($DATA)"; exit 3; fi
    ;;
  destroy)
    if running; then as_pg "$(pgbin pg_ctl)" -D "$DATA" -m fast -w stop >/dev/null; fi
    rm -rf "$DATA" "$RUN" "$LOG"
    if [[ "$BASE" != "$ROOT/.data" ]]; then rm -rf "$BASE"; fi
    rm -f "$LOCATION"
    ;;
  *) echo "usage: $0 env|start|stop|status|destroy" >&2; exit 2 ;;
esac
