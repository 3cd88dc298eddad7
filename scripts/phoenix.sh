#!/usr/bin/env bash
# Arize Phoenix as a local OTLP tracing backend, for the e2e tests and for trying things out.
#
#   scripts/phoenix.sh install   # once: a virtualenv outside the repo (idempotent, cached)
#   scripts/phoenix.sh start     # a server on free loopback ports; prints `export ...` lines
#   scripts/phoenix.sh stop      # stops the server started by `start` (by its PID)
#   scripts/phoenix.sh env       # prints the `export ...` lines of the running server again
#
# Typical use:
#   scripts/phoenix.sh install && eval "$(scripts/phoenix.sh start)"
#   python -m pytest tests/e2e/test_phoenix.py
#   scripts/phoenix.sh stop
#
# Environment:
#   PHOENIX_VENV        virtualenv location (default ~/.cache/otel-runnables/phoenix-venv)
#   PHOENIX_PYTHON      interpreter for the virtualenv (default: newest pyenv 3.12, else python3.12)
#   PHOENIX_VERSION     pip requirement for arize-phoenix (default: arize-phoenix==20.26.1, the version CI verified)
#   PHOENIX_STATE       state file with pid/ports (default ~/.cache/otel-runnables/phoenix.state)
#   PHOENIX_START_TIMEOUT  seconds to wait for GET /healthz (default 180)
set -euo pipefail

CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/otel-runnables
VENV=${PHOENIX_VENV:-$CACHE/phoenix-venv}
STATE=${PHOENIX_STATE:-$CACHE/phoenix.state}
REQ=${PHOENIX_VERSION:-arize-phoenix==20.26.1}
START_TIMEOUT=${PHOENIX_START_TIMEOUT:-180}

log() { echo "phoenix.sh: $*" >&2; }

python312() {
  if [ -n "${PHOENIX_PYTHON:-}" ]; then echo "$PHOENIX_PYTHON"; return; fi
  local root found
  root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
  found=$(ls -d "$root"/versions/3.12.* 2>/dev/null | grep -E '/3\.12\.[0-9]+$' | sort -V | tail -1 || true)
  if [ -n "$found" ]; then echo "$found/bin/python"; return; fi
  command -v python3.12 || { log "no Python 3.12 found (set PHOENIX_PYTHON)"; exit 1; }
}

free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cmd_install() {
  local start=$SECONDS
  if [ -f "$VENV/.otel-runnables-complete" ] && [ -x "$VENV/bin/phoenix" ]; then
    log "already installed in $VENV"
    return 0
  fi
  mkdir -p "$(dirname "$VENV")"
  rm -rf "$VENV"   # an interrupted install leaves no marker: start over
  "$(python312)" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$REQ"
  "$VENV/bin/python" -c 'import phoenix'
  touch "$VENV/.otel-runnables-complete"
  log "installed arize-phoenix $("$VENV/bin/python" -m pip show arize-phoenix | sed -n 's/^Version: //p') in $VENV in $((SECONDS - start)) s"
}

print_env() {
  # shellcheck disable=SC1090
  . "$STATE"
  echo "export PHOENIX_URL=http://127.0.0.1:$PHOENIX_PORT"
  echo "export PHOENIX_GRPC_ENDPOINT=http://127.0.0.1:$PHOENIX_GRPC_PORT"
  echo "export PHOENIX_PID=$PHOENIX_PID"
}

is_running() {
  [ -f "$STATE" ] || return 1
  # shellcheck disable=SC1090
  . "$STATE"
  kill -0 "$PHOENIX_PID" 2>/dev/null
}

cmd_start() {
  local start=$SECONDS
  [ -f "$VENV/.otel-runnables-complete" ] || { log "not installed: run '$0 install' first"; exit 1; }
  if is_running; then
    log "already running (pid $PHOENIX_PID)"
    print_env
    return 0
  fi
  mkdir -p "$(dirname "$STATE")"
  local workdir http grpc pid
  workdir=$(mktemp -d /tmp/otel-runnables-phoenix.XXXXXX)
  http=$(free_port)
  grpc=$(free_port)
  while [ "$grpc" = "$http" ]; do grpc=$(free_port); done
  (
    export PHOENIX_WORKING_DIR="$workdir" PHOENIX_HOST=127.0.0.1 PHOENIX_PORT="$http" \
      PHOENIX_GRPC_PORT="$grpc" PHOENIX_TELEMETRY_ENABLED=false
    exec "$VENV/bin/phoenix" serve </dev/null >"$workdir/phoenix.log" 2>&1
  ) &
  pid=$!
  cat >"$STATE" <<EOF
PHOENIX_PID=$pid
PHOENIX_PORT=$http
PHOENIX_GRPC_PORT=$grpc
PHOENIX_WORKING_DIR=$workdir
EOF
  local deadline=$((SECONDS + START_TIMEOUT))
  until "$VENV/bin/python" - "$http" <<'EOF' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
  do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "phoenix exited during start-up; log:"; tail -30 "$workdir/phoenix.log" >&2
      rm -f "$STATE"; exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "GET /healthz not ready after ${START_TIMEOUT}s; log:"; tail -30 "$workdir/phoenix.log" >&2
      kill "$pid" 2>/dev/null || true; rm -f "$STATE"; exit 1
    fi
    sleep 0.5
  done
  log "ready in $((SECONDS - start)) s: http://127.0.0.1:$http (gRPC $grpc, pid $pid, log $workdir/phoenix.log)"
  print_env
}

cmd_stop() {
  if ! [ -f "$STATE" ]; then log "not running (no $STATE)"; return 0; fi
  # shellcheck disable=SC1090
  . "$STATE"
  if kill -0 "$PHOENIX_PID" 2>/dev/null; then
    kill "$PHOENIX_PID"
    for _ in $(seq 1 40); do kill -0 "$PHOENIX_PID" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$PHOENIX_PID" 2>/dev/null; then kill -9 "$PHOENIX_PID" 2>/dev/null || true; fi
    log "stopped pid $PHOENIX_PID"
  fi
  rm -rf "${PHOENIX_WORKING_DIR:?}"
  rm -f "$STATE"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) is_running && print_env || { log "not running"; exit 1; } ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
