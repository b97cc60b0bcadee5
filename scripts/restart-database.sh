#!/usr/bin/env bash
# Restarts a test server started by scripts/start-databases.sh, with `downtime` seconds
# between stop and start. Used by the restart tests: `restart-database.sh postgres 1`.
set -euo pipefail
kind="$1"; downtime="${2:-1}"
case "$kind" in
  postgres)
    : "${LATCHKEY_PG_DATA:?}" "${LATCHKEY_PG_BIN:?}"
    run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
    run "'$LATCHKEY_PG_BIN/pg_ctl' -D '$LATCHKEY_PG_DATA' -m fast -w stop >/dev/null"
    sleep "$downtime"
    run "'$LATCHKEY_PG_BIN/pg_ctl' -D '$LATCHKEY_PG_DATA' -l '$LATCHKEY_PG_DATA/server.log' -w -t 60 start >/dev/null"
    ;;
  mysql)
    : "${LATCHKEY_MYSQL_DATA:?}"
    pid=$(cat "$LATCHKEY_MYSQL_DATA/mysqld.pid")
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    sleep "$downtime"
    nohup "$LATCHKEY_MYSQL_DATA/start.sh" >/dev/null 2>&1 &
    for _ in $(seq 1 120); do
      mariadb --no-defaults --socket="$LATCHKEY_MYSQL_DATA/mysqld.sock" -uroot -e 'select 1' >/dev/null 2>&1 && exit 0
      sleep 0.25
    done
    echo "restart-database: MariaDB did not come back" >&2; exit 1
    ;;
  *) echo "usage: restart-database.sh postgres|mysql [downtime-seconds]" >&2; exit 2 ;;
esac
