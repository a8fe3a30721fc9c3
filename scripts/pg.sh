#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: installed from apt when missing,
# initialised in a temporary folder, listening on a free port of 127.0.0.1 with
# trust authentication, run as the postgres user when we are root (PostgreSQL
# refuses to run as root), and removed at exit.
#
#   scripts/pg.sh CMD [ARGS...]   run CMD with BACKLOT_TEST_POSTGRES_URL set
#   . scripts/pg.sh; pg_start     start it and export BACKLOT_TEST_POSTGRES_URL
#                                 (stopped by an EXIT trap, or by pg_stop)
#
# When BACKLOT_TEST_POSTGRES_URL is already set, that server is used instead.

# pg_bin_dir prints the folder holding initdb, pg_ctl and postgres, if any.
pg_bin_dir() {
  local initdb dir
  if initdb=$(command -v initdb 2>/dev/null); then
    dir=$(dirname "$(readlink -f "$initdb")")
    if [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return
    fi
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return
    fi
  done
}

# pg_free_port prints a TCP port of 127.0.0.1 that nothing listens on.
pg_free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "pg.sh: no free port found" >&2
  return 1
}

# pg_as_owner runs a command as the cluster's owner: postgres when we are root.
pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_start() {
  if [ -n "${BACKLOT_TEST_POSTGRES_URL:-}" ]; then
    echo "== postgres: using the server in BACKLOT_TEST_POSTGRES_URL"
    return 0
  fi
  local bin
  bin=$(pg_bin_dir)
  if [ -z "$bin" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "pg.sh: PostgreSQL is not installed (no initdb) and installing it needs root: apt-get install postgresql" >&2
      return 1
    fi
    echo "== apt: installing postgresql (the PostgreSQL read-model and lease tests run against a real server)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(pg_bin_dir)
    if [ -z "$bin" ]; then
      echo "pg.sh: postgresql installed but initdb is still not found under /usr/lib/postgresql/*/bin" >&2
      return 1
    fi
  fi
  PG_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/backlot-pg.XXXXXX")
  chmod 755 "$PG_TEST_DIR"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PG_TEST_DIR"
  fi
  PG_TEST_BIN=$bin
  trap pg_stop EXIT
  if ! pg_as_owner "$bin/initdb" -D "$PG_TEST_DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$PG_TEST_DIR/initdb.log" 2>&1; then
    cat "$PG_TEST_DIR/initdb.log" >&2
    echo "pg.sh: initdb failed" >&2
    return 1
  fi
  local port started=
  for _ in 1 2 3; do
    port=$(pg_free_port) || return 1
    if pg_as_owner "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 60 start \
      -o "-p $port -k $PG_TEST_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null; then
      started=1
      break
    fi
  done
  if [ -z "$started" ]; then
    tail -n 20 "$PG_TEST_DIR/server.log" >&2
    echo "pg.sh: the PostgreSQL server did not start" >&2
    return 1
  fi
  export BACKLOT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  echo "== postgres: throwaway cluster on 127.0.0.1:$port ($("$bin/postgres" --version))"
}

pg_stop() {
  if [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR" ]; then
    if [ -f "$PG_TEST_DIR/data/postmaster.pid" ]; then
      pg_as_owner "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_TEST_DIR"
  fi
  PG_TEST_DIR=
}

# Run as a script: start, run the command, stop.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  if [ $# -eq 0 ]; then
    echo "usage: scripts/pg.sh CMD [ARGS...]  (or source it and call pg_start)" >&2
    exit 2
  fi
  pg_start
  status=0
  "$@" || status=$?
  exit "$status"
fi
