#!/usr/bin/env bash
# Stops the servers scripts/start-databases.sh started and removes their data, reading the
# environment it printed: `eval "$(scripts/start-databases.sh)"` … `scripts/stop-databases.sh`.
set -euo pipefail
log() { echo "stop-databases: $*" >&2; }
stopped=0

# Only directories start-databases.sh made are ever removed.
ours() { case "$1" in /tmp/latchkey-pg.*|/tmp/latchkey-mariadb.*) [ -d "$1" ] ;; *) return 1 ;; esac; }

if [ -n "${LATCHKEY_PG_DATA:-}" ] && ours "$LATCHKEY_PG_DATA"; then
  : "${LATCHKEY_PG_BIN:?LATCHKEY_PG_BIN is not set}"
  run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
  if [ -f "$LATCHKEY_PG_DATA/postmaster.pid" ]; then
    run "'$LATCHKEY_PG_BIN/pg_ctl' -D '$LATCHKEY_PG_DATA' -m fast -w stop >/dev/null"
  fi
  rm -rf "$LATCHKEY_PG_DATA"
  log "PostgreSQL stopped, $LATCHKEY_PG_DATA removed"
  stopped=1
fi

if [ -n "${LATCHKEY_MYSQL_DATA:-}" ] && ours "$LATCHKEY_MYSQL_DATA"; then
  if [ -f "$LATCHKEY_MYSQL_DATA/mysqld.pid" ]; then
    pid=$(cat "$LATCHKEY_MYSQL_DATA/mysqld.pid")
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -rf "$LATCHKEY_MYSQL_DATA"
  log "MariaDB stopped, $LATCHKEY_MYSQL_DATA removed"
  stopped=1
fi

if [ "$stopped" = 0 ]; then
  log "nothing to stop: set LATCHKEY_PG_DATA and LATCHKEY_MYSQL_DATA as scripts/start-databases.sh printed them"
  exit 1
fi
