#!/usr/bin/env bash
# Starts OCI registries on 127.0.0.1 for the tests and the demo (Debian's `docker-registry`, the CNCF
# distribution registry 2.8), and stops only what it started.
#
#   integration/registry.sh start    # idempotent; installs docker-registry when missing
#   integration/registry.sh stop     # stops the registries this script started
#   integration/registry.sh status   # exit 0 when all three registries answer
#
# Three registries, each with its own storage under $VOUCH_REGISTRY_STATE (default /tmp/vouch-registry):
#   - open:  127.0.0.1:$VOUCH_REGISTRY_PORT (default 5000), anonymous push and pull;
#   - auth:  127.0.0.1:$VOUCH_REGISTRY_AUTH_PORT (default 5001), htpasswd basic auth, user `vouch`,
#            password `vouch-test` (the tests put them in a docker config.json);
#   - tls:   HTTPS on this machine's first non-loopback IPv4 address, port $VOUCH_REGISTRY_TLS_PORT
#            (default 5443), with a certificate from a CA made here ($STATE/tls/ca.crt; the address is
#            written to $STATE/tls/address). vouch speaks plain HTTP only to loopback registries, so
#            this is the one that exercises registries as users have them: TLS, a CA to trust.
# The docker engine treats 127.0.0.0/8 as an insecure registry, so `docker push` works without TLS.
set -euo pipefail

STATE=${VOUCH_REGISTRY_STATE:-/tmp/vouch-registry}
PORT=${VOUCH_REGISTRY_PORT:-5000}
AUTH_PORT=${VOUCH_REGISTRY_AUTH_PORT:-5001}
TLS_PORT=${VOUCH_REGISTRY_TLS_PORT:-5443}
AUTH_USER=vouch
AUTH_PASSWORD=vouch-test
WAIT_SECONDS=${VOUCH_REGISTRY_WAIT:-30}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 200 or 401 from /v2/ means a registry answers: answers PORT, or answers ADDRESS:PORT CA_FILE (HTTPS).
answers() {
  local code url="http://127.0.0.1:$1/v2/" ca=()
  if [ -n "${2:-}" ]; then
    url="https://$1/v2/"
    ca=(--cacert "$2")
  fi
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${ca[@]}" "$url" || true)
  [ "$code" = 200 ] || [ "$code" = 401 ]
}

# This machine's first non-loopback IPv4 address (empty when it has none): from iproute2's `ip`, else
# from `hostname -I` (Debian's required hostname package).
host_address() {
  local address
  address=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }' || true)
  if [ -z "$address" ]; then
    address=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}$' | grep -v '^127\.' | head -n 1 || true)
  fi
  echo "$address"
}

# A CA and a server certificate for ADDRESS (an IP SAN), in DIR.
make_certificates() {
  local dir=$1 address=$2
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=vouch test CA" -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$address" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s\n' "$address" >"$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 3650 -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
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

# start_one NAME PORT [htpasswd|tls]
start_one() {
  local name=$1 port=$2 kind=${3:-}
  local dir="$STATE/$name" host=127.0.0.1 where=$port ca="" tls_config=""
  if [ "$kind" = tls ]; then
    host=$(host_address)
    if [ -z "$host" ]; then
      echo "registry.sh: this machine has no non-loopback IPv4 address; the TLS registry is not started" >&2
      return 0
    fi
    where="$host:$port"
    ca="$dir/ca.crt"
    if [ -f "$dir/address" ] && [ "$(cat "$dir/address")" = "$where" ] && answers "$where" "$ca"; then
      echo "registry.sh: the TLS registry already answers on $where; not starting one" >&2
      return 0
    fi
    mkdir -p "$dir"
    make_certificates "$dir" "$host"
    echo "$where" >"$dir/address"
    tls_config="  tls:
    certificate: $dir/server.crt
    key: $dir/server.key"
  elif answers "$port"; then
    echo "registry.sh: a registry already answers on 127.0.0.1:$port; not starting one" >&2
    return 0
  fi
  mkdir -p "$dir/storage"
  local auth_config=""
  if [ "$kind" = htpasswd ]; then
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
  addr: $host:$port
$tls_config
$auth_config
EOF
  echo "registry.sh: starting the $name registry on $where; log in $dir/registry.log" >&2
  nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  local i=0
  while ! answers "$where" $ca; do
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
  start_one tls "$TLS_PORT" tls
}

tls_answers() {
  [ -f "$STATE/tls/address" ] && answers "$(cat "$STATE/tls/address")" "$STATE/tls/ca.crt"
}

stop() {
  local name pid
  for name in open auth tls; do
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
  status) answers "$PORT" && answers "$AUTH_PORT" && tls_answers ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
