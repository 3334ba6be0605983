#!/usr/bin/env bash
# The scale-out shape without containers: two gunicorn web nodes (2 workers each), two Celery
# workers (2 processes each) and Celery beat, on the local PostgreSQL and Redis, plus a mail catcher.
#   scripts/stack.sh start | stop | status | env
# Node 1: http://127.0.0.1:5001, node 2: http://127.0.0.1:5002. Logs, pids and the demo passwords
# are in instance/stack/. Settings can be changed through the variables below.
set -euo pipefail
cd "$(dirname "$0")/.."

STACK_DIR=${STACK_DIR:-$PWD/instance/stack}
PGURL=${STACK_PGURL:-postgresql+psycopg://postgres@127.0.0.1:5432}
DBNAME=${STACK_DB:-yuqing_stack}
REDIS=${STACK_REDIS:-redis://127.0.0.1:6379}
BIN=$PWD/.venv/bin

export YQ_ENV=${YQ_ENV:-development}
export YQ_INSTANCE_PATH=$STACK_DIR
export YQ_DATABASE_URL=$PGURL/$DBNAME
export YQ_WORKER=celery
export YQ_CELERY_BROKER_URL=$REDIS/5
export YQ_RATELIMIT_STORAGE_URI=$REDIS/6
export YQ_SMTP_HOST=127.0.0.1 YQ_SMTP_PORT=${STACK_SMTP_PORT:-2525}
export YQ_PUBLIC_URL=http://127.0.0.1:5001
export YQ_SWEEP_SECONDS=${YQ_SWEEP_SECONDS:-2}

spawn() {  # name command...
  local name=$1; shift
  nohup "$@" >"$STACK_DIR/$name.log" 2>&1 &
  echo $! >"$STACK_DIR/$name.pid"
  echo "started $name (pid $!)"
}

start() {
  mkdir -p "$STACK_DIR"
  psql "postgresql:${PGURL#postgresql+psycopg:}/postgres" -qtAc "SELECT 1 FROM pg_database WHERE datname='$DBNAME'" | grep -q 1 \
    || psql "postgresql:${PGURL#postgresql+psycopg:}/postgres" -qc "CREATE DATABASE $DBNAME"
  "$BIN/yuqing" init-db
  "$BIN/yuqing" deploy --note "scripts/stack.sh"
  "$BIN/yuqing" seed-demo | tee -a "$STACK_DIR/seed.txt"
  spawn mail "$BIN/python" -m aiosmtpd -n -l "127.0.0.1:$YQ_SMTP_PORT" -c aiosmtpd.handlers.Debugging stdout
  GUNICORN_BIND=127.0.0.1:5001 spawn web1 "$BIN/gunicorn" --config gunicorn.conf.py "app:create_app()"
  GUNICORN_BIND=127.0.0.1:5002 spawn web2 "$BIN/gunicorn" --config gunicorn.conf.py "app:create_app()"
  spawn worker1 "$BIN/yuqing" worker -c 2 -n "worker1@%h"
  spawn worker2 "$BIN/yuqing" worker -c 2 -n "worker2@%h"
  spawn beat "$BIN/yuqing" beat
  for port in 5001 5002; do
    for _ in $(seq 1 60); do curl -fsS -o /dev/null "http://127.0.0.1:$port/login" && break; sleep 0.5; done
  done
  echo "stack up: http://127.0.0.1:5001 and http://127.0.0.1:5002 (demo passwords: $STACK_DIR/seed.txt)"
}

stop() {
  for pidfile in "$STACK_DIR"/*.pid; do
    [ -e "$pidfile" ] || continue
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
  echo "stack stopped"
}

status() {
  for pidfile in "$STACK_DIR"/*.pid; do
    [ -e "$pidfile" ] || continue
    if kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "$(basename "$pidfile" .pid): running"
    else echo "$(basename "$pidfile" .pid): stopped"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) env | grep '^YQ_' ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
