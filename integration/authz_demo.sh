#!/usr/bin/env bash
# make demo's Docker-host step: `docker-vouch authz` as the authorization plugin of a second engine (its own
# data root, exec root and socket, so the engine the demo built with is left alone), named through a spec
# file in /etc/docker/plugins. The example image and an unattested one are pulled from the demo registry into
# that engine; `docker run` of the first succeeds, of the second is refused by the engine with vouch's reason,
# and so is the first with --privileged (the policy's runtime rule).
#
#   integration/authz_demo.sh IMAGE UNSIGNED_IMAGE COSIGN_PUB ATTESTATIONS_DIR POLICY
set -euo pipefail
IMAGE=$1 UNSIGNED=$2 KEY=$3 SETS=$4 POLICY=$(realpath "$5")
VOUCH=${VOUCH:-${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins/docker-vouch}
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}
DIR=$(mktemp -d /tmp/vouch-demo-authz.XXXXXX)
NAME=vouch-demo-$$
HOST="unix://$DIR/docker.sock"
SPEC=/etc/docker/plugins/$NAME.spec
cleanup() {
  [ -f "$DIR/dockerd.pid" ] && as_root kill "$(cat "$DIR/dockerd.pid")" 2>/dev/null || true
  for _ in $(seq 1 40); do [ -S "$DIR/docker.sock" ] || break; sleep 0.5; done
  [ -f "$DIR/plugin.pid" ] && as_root kill "$(cat "$DIR/plugin.pid")" 2>/dev/null || true
  as_root rm -f "$SPEC"
  as_root rm -rf "$DIR" 2>/dev/null || true
}
trap cleanup EXIT
d() { docker --host "$HOST" "$@"; }

as_root mkdir -p /etc/docker/plugins
echo "unix://$DIR/plugin.sock" | as_root tee "$SPEC" >/dev/null
# The plugin listens first: the engine activates its authorization plugins when it starts.
as_root bash -c "DOCKER_HOST='$HOST' nohup '$VOUCH' authz --key '$KEY' --attestations '$SETS' --require-pass --policy '$POLICY' \
  --socket '$DIR/plugin.sock' >'$DIR/plugin.log' 2>&1 </dev/null & echo \$! >'$DIR/plugin.pid'"
for _ in $(seq 1 40); do grep -q 'listening on' "$DIR/plugin.log" 2>/dev/null && break; sleep 0.25; done
as_root bash -c "nohup dockerd --data-root '$DIR/root' --exec-root '$DIR/exec' --pidfile '$DIR/dockerd.pid' \
  --host '$HOST' --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none \
  --authorization-plugin=$NAME >'$DIR/dockerd.log' 2>&1 </dev/null &"
for _ in $(seq 1 60); do d version >/dev/null 2>&1 && break; sleep 0.5; done
d version >/dev/null 2>&1 || { tail -20 "$DIR/dockerd.log" >&2; echo "authz_demo: the second engine did not start" >&2; exit 1; }
echo "a second engine: dockerd --authorization-plugin=$NAME (spec file $SPEC -> $DIR/plugin.sock)"
d pull -q "$IMAGE" >/dev/null
d pull -q "$UNSIGNED" >/dev/null
echo "\$ docker run --rm $IMAGE"
d run --rm --network none "$IMAGE"
echo "\$ docker run --rm $UNSIGNED"
if d run --rm --network none "$UNSIGNED"; then
  echo "authz_demo: the unattested image ran" >&2
  exit 1
fi
echo "(refused by the engine, as expected)"
echo "\$ docker run --rm --privileged $IMAGE"
if d run --rm --network none --privileged "$IMAGE"; then
  echo "authz_demo: a privileged container ran" >&2
  exit 1
fi
echo "(refused by the policy's runtime rule, as expected)"
echo "The plugin's log:"
cat "$DIR/plugin.log"
