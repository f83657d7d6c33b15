#!/usr/bin/env bash
# Starts OCI registries on 127.0.0.1 for the tests and the demo (Debian's `docker-registry`, the CNCF
# distribution registry 2.8), and stops only what it started.
#
#   integration/registry.sh start    # idempotent; installs docker-registry when missing
#   integration/registry.sh stop     # stops the registries this script started
#   integration/registry.sh status   # exit 0 when both registries answer
#
# Two registries, each with its own storage under $VOUCH_REGISTRY_STATE (default /tmp/vouch-registry):
#   - open:  127.0.0.1:$VOUCH_REGISTRY_PORT (default 5000), anonymous push and pull;
#   - auth:  127.0.0.1:$VOUCH_REGISTRY_AUTH_PORT (default 5001), htpasswd basic auth, user `vouch`,
#            password `vouch-test` (the tests put them in a docker config.json).
# The docker engine treats 127.0.0.0/8 as an insecure registry, so `docker push` works without TLS.
set -euo pipefail

STATE=${VOUCH_REGISTRY_STATE:-/tmp/vouch-registry}
PORT=${VOUCH_REGISTRY_PORT:-5000}
AUTH_PORT=${VOUCH_REGISTRY_AUTH_PORT:-5001}
AUTH_USER=vouch
AUTH_PASSWORD=vouch-test
WAIT_SECONDS=${VOUCH_REGISTRY_WAIT:-30}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 200 or 401 from /v2/ means a registry answers.
answers() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1/v2/" || true)
  [ "$code" = 200 ] || [ "$code" = 401 ]
}

install_registry() {
  command -v docker-registry >/dev/null 2>&1 && return
  echo "registry.sh: docker-registry not found; installing Debian's docker-registry" >&2
  as_root apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends docker-registry >/dev/null
}

# htpasswd needs bcrypt; Python's bcrypt (PyPI) or Debian's python3-bcrypt.
write_htpasswd() {
  python3 -c 'import bcrypt' 2>/dev/null || python3 -m pip install -q bcrypt ||
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q python3-bcrypt >/dev/null
  python3 - "$1" "$AUTH_USER" "$AUTH_PASSWORD" <<'PY'
import bcrypt, sys
path, user, password = sys.argv[1:]
with open(path, "w") as f:
    f.write(f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()}\n")
PY
}

# start_one NAME PORT [htpasswd]
start_one() {
  local name=$1 port=$2 auth=${3:-}
  if answers "$port"; then
    echo "registry.sh: a registry already answers on 127.0.0.1:$port; not starting one" >&2
    return 0
  fi
  local dir="$STATE/$name"
  mkdir -p "$dir/storage"
  local auth_config=""
  if [ -n "$auth" ]; then
    write_htpasswd "$dir/htpasswd"
    auth_config="auth:
  htpasswd:
    realm: vouch-test
    path: $dir/htpasswd"
  fi
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$auth_config
EOF
  echo "registry.sh: starting the $name registry on 127.0.0.1:$port; log in $dir/registry.log" >&2
  nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  local i=0
  while ! answers "$port"; do
    i=$((i + 1))
    if [ "$i" -ge "$WAIT_SECONDS" ]; then
      echo "registry.sh: the $name registry did not answer within ${WAIT_SECONDS}s; last log lines:" >&2
      tail -n 20 "$dir/registry.log" >&2 || true
      exit 1
    fi
    sleep 1
  done
}

start() {
  install_registry
  start_one open "$PORT"
  start_one auth "$AUTH_PORT" htpasswd
}

stop() {
  local name pid
  for name in open auth; do
    [ -f "$STATE/$name/pid" ] || continue
    pid=$(cat "$STATE/$name/pid")
    kill "$pid" 2>/dev/null || true
    rm -f "$STATE/$name/pid"
    echo "registry.sh: stopped the $name registry it had started" >&2
  done
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) answers "$PORT" && answers "$AUTH_PORT" ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
