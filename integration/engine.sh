#!/usr/bin/env bash
# Starts a Docker engine for the tests when none answers, and stops only what it started.
#
#   integration/engine.sh start   # idempotent; installs Debian's docker.io when dockerd is missing
#   integration/engine.sh stop    # stops the engine only if this script started it
#   integration/engine.sh status  # exit 0 when an engine answers
#
# The engine runs with the vfs storage driver, no iptables and no bridge, which works inside
# unprivileged-ish CI containers. State (pid, log) lives in $VOUCH_ENGINE_STATE (default /tmp/vouch-engine).
set -euo pipefail

STATE=${VOUCH_ENGINE_STATE:-/tmp/vouch-engine}
SOCK=${VOUCH_ENGINE_SOCK:-/var/run/docker.sock}
WAIT_SECONDS=${VOUCH_ENGINE_WAIT:-90}

answers() {
  # The client on PATH may be newer than the engine; `docker version` exits non-zero when no server answers.
  timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_engine() {
  if command -v dockerd >/dev/null 2>&1; then return; fi
  echo "engine.sh: dockerd not found; installing Debian's docker.io" >&2
  as_root apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q docker.io >/dev/null
}

start() {
  if answers; then
    echo "engine.sh: an engine already answers; not starting one" >&2
    return 0
  fi
  install_engine
  mkdir -p "$STATE"
  # No engine answers, so a pidfile left by an engine that was killed is stale: dockerd refuses to
  # start over one whose pid a new process happens to have.
  rm -f "$STATE/dockerd.pid"
  echo "engine.sh: starting dockerd (vfs, no iptables, no bridge); log in $STATE/dockerd.log" >&2
  as_root bash -c "nohup dockerd --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none \
      --host=unix://$SOCK --pidfile=$STATE/dockerd.pid >'$STATE/dockerd.log' 2>&1 </dev/null &"
  echo started >"$STATE/started-by-us"
  local i=0
  while ! answers; do
    i=$((i + 1))
    if [ "$i" -ge "$WAIT_SECONDS" ]; then
      echo "engine.sh: dockerd did not answer within ${WAIT_SECONDS}s; last log lines:" >&2
      tail -n 20 "$STATE/dockerd.log" >&2 || true
      exit 1
    fi
    sleep 1
  done
  echo "engine.sh: engine answers ($(docker version --format '{{.Server.Version}}'))" >&2
}

stop() {
  if [ ! -f "$STATE/started-by-us" ]; then
    echo "engine.sh: engine was not started by this script; leaving it" >&2
    return 0
  fi
  if [ -f "$STATE/dockerd.pid" ]; then
    local pid
    pid=$(cat "$STATE/dockerd.pid")
    as_root kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
  fi
  rm -f "$STATE/started-by-us"
  echo "engine.sh: stopped the engine it had started" >&2
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
