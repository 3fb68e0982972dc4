#!/usr/bin/env bash
# Start a private PostgreSQL cluster on 127.0.0.1 for the test suite and
# print its URL. Uses Debian's postgresql binaries; prints nothing and
# exits 0 when they are not installed, so `make test` can skip PostgreSQL
# on machines without it (CI installs it).
set -euo pipefail

PG_PORT="${PG_TEST_PORT:-54329}"
PG_DIR="${PG_TEST_DIR:-/tmp/wxapp-test-postgres}"
BIN_DIR="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$BIN_DIR" ] || [ ! -x "$BIN_DIR/initdb" ]; then
  exit 0
fi

# initdb and postgres refuse to run as root: run them as the postgres user
# when we are root, as ourselves otherwise.
as_owner() {
  if [ "$(id -u)" = "0" ]; then
    su postgres -s /bin/bash -c "$*"
  else
    bash -c "$*"
  fi
}

if ! "$BIN_DIR/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
  if [ ! -s "$PG_DIR/PG_VERSION" ]; then
    mkdir -p "$PG_DIR"
    [ "$(id -u)" = "0" ] && chown postgres:postgres "$PG_DIR"
    as_owner "'$BIN_DIR/initdb' -D '$PG_DIR' -U postgres -A trust -E UTF8 --locale=C.UTF-8" >/dev/null
  fi
  as_owner "'$BIN_DIR/pg_ctl' -D '$PG_DIR' -l '$PG_DIR/server.log' -w \
    -o \"-c listen_addresses=127.0.0.1 -p $PG_PORT -k /tmp -c fsync=off \
    -c synchronous_commit=off -c full_page_writes=off -c max_connections=200\" start" >/dev/null
fi
for name in wxapp_test wxapp_bench; do
  "$BIN_DIR/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1 \
    || "$BIN_DIR/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$name"
done
echo "postgresql://postgres@127.0.0.1:$PG_PORT/wxapp_test"
