#!/usr/bin/env bash
# Starts throwaway PostgreSQL and MariaDB servers on loopback for the test suite, and
# prints the environment to use them. Source-safe: `eval "$(scripts/start-databases.sh)"`.
# `scripts/stop-databases.sh` (with that environment) stops them and removes their data.
#
# Ports: LATCHKEY_PG_PORT and LATCHKEY_MYSQL_PORT when set (a taken one is an error);
# otherwise free ports are picked, and the chosen ones are printed.
#
# Both servers by default; `scripts/start-databases.sh mariadb` (or `postgres`) starts only
# the one named, and prints only its variables (examples/migration starts its own MariaDB so).
#
# PostgreSQL refuses to run as root, so it runs as the `postgres` user. Data lives in
# fresh temporary directories; nothing is read from or written to the system clusters.
set -euo pipefail

log() { echo "start-databases: $*" >&2; }
fail() { log "$*"; exit 1; }

# Whether something listens on a loopback port (bash's /dev/tcp: no extra tool needed).
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nobody listens on now. Another process may still take it before our server
# binds, so each server start retries with a fresh port when its bind fails.
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    listening "$port" || { echo "$port"; return 0; }
  done
  fail "no free port found on 127.0.0.1"
}

# The port to try: the one asked for (which must be free), or a free one.
port_for() {
  local wanted="$1" variable="$2"
  if [ -n "$wanted" ]; then
    listening "$wanted" && fail "port $wanted ($variable) is taken; free it, or unset $variable to pick a free port"
    echo "$wanted"
  else
    free_port
  fi
}

# Which servers to start: both, or those named on the command line.
want_pg=1
want_my=1
if [ "$#" -gt 0 ]; then
  want_pg=0
  want_my=0
  for server in "$@"; do
    case "$server" in
      postgres) want_pg=1 ;;
      mariadb) want_my=1 ;;
      *) fail "unknown server '$server': name postgres, mariadb or both (or none, for both)" ;;
    esac
  done
fi

# A taken port that was asked for fails before anything is created.
variables=()
if [ "$want_pg" = 1 ]; then variables+=(LATCHKEY_PG_PORT); fi
if [ "$want_my" = 1 ]; then variables+=(LATCHKEY_MYSQL_PORT); fi
for variable in "${variables[@]}"; do
  wanted="${!variable:-}"
  if [ -n "$wanted" ]; then port_for "$wanted" "$variable" >/dev/null; fi
done

if [ "$want_pg" = 1 ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$pg_bin" ] || fail "PostgreSQL is not installed (apt-get install postgresql)"
fi
if [ "$want_my" = 1 ]; then
  my_bin=$(command -v mariadbd || command -v mysqld || true)
  [ -n "$my_bin" ] || fail "MariaDB is not installed (apt-get install mariadb-server)"
fi

# ---- PostgreSQL ----------------------------------------------------------------------
start_postgres() {
  pg_data=$(mktemp -d /tmp/latchkey-pg.XXXXXX)
  chown postgres:postgres "$pg_data"
  as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
  as_postgres "'$pg_bin/initdb' -D '$pg_data' -A trust -U postgres --no-sync >/dev/null"
  # Settings live in the cluster's own config, so a plain `pg_ctl start` (the restart tests) finds them.
  cat >>"$pg_data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$pg_data'
fsync = off
max_connections = 300
CONF
  for attempt in 1 2 3 4 5; do
    PG_PORT=$(port_for "${LATCHKEY_PG_PORT:-}" LATCHKEY_PG_PORT)
    echo "port = $PG_PORT" >>"$pg_data/postgresql.conf" # the last setting wins
    as_postgres "'$pg_bin/pg_ctl' -D '$pg_data' -l '$pg_data/server.log' -w -t 60 start >/dev/null" && break
    if [ -z "${LATCHKEY_PG_PORT:-}" ] && [ "$attempt" -lt 5 ] && grep -q 'could not bind\|could not create any TCP' "$pg_data/server.log"; then
      log "port $PG_PORT was taken meanwhile; trying another"
      continue
    fi
    tail -n 5 "$pg_data/server.log" >&2
    fail "PostgreSQL did not start on port $PG_PORT"
  done
  as_postgres "'$pg_bin/psql' -h 127.0.0.1 -p $PG_PORT -U postgres -qc 'create database latchkey_test' >/dev/null"
  log "PostgreSQL on 127.0.0.1:$PG_PORT (data $pg_data)"
}

# ---- MariaDB -------------------------------------------------------------------------
start_mariadb() {
  my_data=$(mktemp -d /tmp/latchkey-mariadb.XXXXXX)
  mariadb-install-db --no-defaults --datadir="$my_data" --user="$(id -un)" --auth-root-authentication-method=socket \
    --skip-test-db >"$my_data/install.log" 2>&1 || { cat "$my_data/install.log" >&2; exit 1; }
  my_ready() { mariadb --no-defaults --socket="$my_data/mysqld.sock" -uroot -e 'select 1' >/dev/null 2>&1; }
  for attempt in 1 2 3 4 5; do
    MY_PORT=$(port_for "${LATCHKEY_MYSQL_PORT:-}" LATCHKEY_MYSQL_PORT)
    # The command line is kept beside the data, so scripts/restart-database.sh can start it again.
    cat >"$my_data/start.sh" <<START
#!/bin/sh
exec '$my_bin' --no-defaults --datadir='$my_data' --socket='$my_data/mysqld.sock' --pid-file='$my_data/mysqld.pid' \\
  --port='$MY_PORT' --bind-address=127.0.0.1 --user='$(id -un)' --innodb-flush-log-at-trx-commit=2 \\
  --max-connections=300 --log-error='$my_data/server.log'
START
    chmod +x "$my_data/start.sh"
    nohup "$my_data/start.sh" >/dev/null 2>&1 &
    server=$!
    for _ in $(seq 1 120); do
      my_ready && break
      kill -0 "$server" 2>/dev/null || break # it exited: no point in waiting
      sleep 0.5
    done
    my_ready && break
    if [ -z "${LATCHKEY_MYSQL_PORT:-}" ] && [ "$attempt" -lt 5 ] && grep -q 'Bind on TCP/IP port' "$my_data/server.log" 2>/dev/null; then
      log "port $MY_PORT was taken meanwhile; trying another"
      continue
    fi
    tail -n 5 "$my_data/server.log" >&2 || true
    fail "MariaDB did not start on port $MY_PORT"
  done
  mariadb --no-defaults --socket="$my_data/mysqld.sock" -uroot -e "
    create database latchkey_test;
    create user 'latchkey'@'%' identified by 'latchkey';
    grant all on *.* to 'latchkey'@'%' with grant option;" || { cat "$my_data/server.log" >&2; exit 1; }
  log "MariaDB on 127.0.0.1:$MY_PORT (data $my_data)"
}

# Start what was asked for, then print its environment (nothing is printed if a start fails).
if [ "$want_pg" = 1 ]; then start_postgres; fi
if [ "$want_my" = 1 ]; then start_mariadb; fi
if [ "$want_pg" = 1 ]; then
  cat <<ENV
export LATCHKEY_PG_URL='postgres://postgres@127.0.0.1:$PG_PORT/latchkey_test'
export LATCHKEY_PG_PORT='$PG_PORT'
export LATCHKEY_PG_DATA='$pg_data'
export LATCHKEY_PG_BIN='$pg_bin'
ENV
fi
if [ "$want_my" = 1 ]; then
  cat <<ENV
export LATCHKEY_MYSQL_URL='mysql://latchkey:latchkey@127.0.0.1:$MY_PORT/latchkey_test'
export LATCHKEY_MYSQL_PORT='$MY_PORT'
export LATCHKEY_MYSQL_DATA='$my_data'
export LATCHKEY_MYSQL_BIN='$my_bin'
ENV
fi
