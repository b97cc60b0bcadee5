#!/usr/bin/env bash
# Starts throwaway PostgreSQL and MariaDB servers on loopback for the test suite, and
# prints the environment to use them. Source-safe: `eval "$(scripts/start-databases.sh)"`.
#
# PostgreSQL refuses to run as root, so it runs as the `postgres` user. Data lives in
# fresh temporary directories; nothing is read from or written to the system clusters.
set -euo pipefail

PG_PORT="${LATCHKEY_PG_PORT:-55432}"
MY_PORT="${LATCHKEY_MYSQL_PORT:-53306}"
log() { echo "start-databases: $*" >&2; }

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pg_bin" ] || { log "PostgreSQL is not installed"; exit 1; }
pg_data=$(mktemp -d /tmp/latchkey-pg.XXXXXX)
chown postgres:postgres "$pg_data"
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
as_postgres "'$pg_bin/initdb' -D '$pg_data' -A trust -U postgres --no-sync >/dev/null"
# Settings live in the cluster's own config, so a plain `pg_ctl start` (the restart tests) finds them.
cat >>"$pg_data/postgresql.conf" <<CONF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$pg_data'
fsync = off
max_connections = 300
CONF
as_postgres "'$pg_bin/pg_ctl' -D '$pg_data' -l '$pg_data/server.log' -w -t 60 start >/dev/null"
as_postgres "'$pg_bin/psql' -h 127.0.0.1 -p $PG_PORT -U postgres -qc 'create database latchkey_test' >/dev/null"
log "PostgreSQL on 127.0.0.1:$PG_PORT (data $pg_data)"

my_bin=$(command -v mariadbd || command -v mysqld || true)
[ -n "$my_bin" ] || { log "MariaDB is not installed"; exit 1; }
my_data=$(mktemp -d /tmp/latchkey-mariadb.XXXXXX)
mariadb-install-db --no-defaults --datadir="$my_data" --user="$(id -un)" --auth-root-authentication-method=socket \
  --skip-test-db >"$my_data/install.log" 2>&1 || { cat "$my_data/install.log" >&2; exit 1; }
# The command line is kept beside the data, so scripts/restart-database.sh can start it again.
cat >"$my_data/start.sh" <<START
#!/bin/sh
exec '$my_bin' --no-defaults --datadir='$my_data' --socket='$my_data/mysqld.sock' --pid-file='$my_data/mysqld.pid' \\
  --port='$MY_PORT' --bind-address=127.0.0.1 --user='$(id -un)' --innodb-flush-log-at-trx-commit=2 \\
  --max-connections=300 --log-error='$my_data/server.log'
START
chmod +x "$my_data/start.sh"
nohup "$my_data/start.sh" >/dev/null 2>&1 &
for _ in $(seq 1 120); do
  mariadb --no-defaults --socket="$my_data/mysqld.sock" -uroot -e 'select 1' >/dev/null 2>&1 && break
  sleep 0.5
done
mariadb --no-defaults --socket="$my_data/mysqld.sock" -uroot -e "
  create database latchkey_test;
  create user 'latchkey'@'%' identified by 'latchkey';
  grant all on *.* to 'latchkey'@'%' with grant option;" || { cat "$my_data/server.log" >&2; exit 1; }
log "MariaDB on 127.0.0.1:$MY_PORT (data $my_data)"

cat <<ENV
export LATCHKEY_PG_URL='postgres://postgres@127.0.0.1:$PG_PORT/latchkey_test'
export LATCHKEY_MYSQL_URL='mysql://latchkey:latchkey@127.0.0.1:$MY_PORT/latchkey_test'
export LATCHKEY_PG_DATA='$pg_data'
export LATCHKEY_PG_BIN='$pg_bin'
export LATCHKEY_MYSQL_DATA='$my_data'
export LATCHKEY_MYSQL_BIN='$my_bin'
ENV
