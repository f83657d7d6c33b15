#!/usr/bin/env bash
# The demo: install the plugin, start an engine and a registry on 127.0.0.1 if none answers, make a
# demo key once (~/.cache/vouch-demo, password from VOUCH_PASSWORD, default `vouch-demo`), then
# `docker vouch build --push` the example app (on a Debian 12 base made with debootstrap): build, SBOM,
# policy (examples/policy.yaml, the example OSV database and VEX), sign, push, attach; show its SBOM, its
# verdict under the built-in default policy and its vulnerabilities; and verify it from the registry as a
# deployment would.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "installing dependencies"
integration/deps.sh
step "building and installing the plugin"
plugin/install.sh
step "starting a Docker engine and a registry on 127.0.0.1 if none answers"
integration/engine.sh start
integration/registry.sh start
step "making the Debian 12 base image (debootstrap, cached)"
ROOT=$(integration/rootfs.sh)
if ! docker image inspect vouch-example/debian:12 >/dev/null 2>&1; then
  tar -C "$ROOT" -c . | docker import - vouch-example/debian:12 >/dev/null
fi
KEYS="$HOME/.cache/vouch-demo"
export VOUCH_PASSWORD="${VOUCH_PASSWORD:-vouch-demo}"
if [ ! -f "$KEYS/cosign.key" ]; then
  step "docker vouch keygen (demo key in $KEYS)"
  mkdir -p "$KEYS"
  (cd "$KEYS" && docker vouch keygen)
fi
REGISTRY="127.0.0.1:${VOUCH_REGISTRY_PORT:-5000}"
IMAGE="$REGISTRY/vouch-example/app:latest"
step "docker vouch build -t $IMAGE --key $KEYS/cosign.key --policy examples/policy.yaml ... --push examples/app"
docker vouch build -t "$IMAGE" --key "$KEYS/cosign.key" --policy examples/policy.yaml \
  --base-image vouch-example/debian:12 --vuln-db examples/osv --vex examples/app.openvex.json \
  --output-dir "$KEYS/attestations" --push examples/app
step "docker vouch sbom --format table $IMAGE"
docker vouch sbom --format table "$IMAGE"
step "docker vouch check $IMAGE (the built-in default policy)"
docker vouch check "$IMAGE"
step "docker vouch scan --vuln-db examples/osv --vex examples/app.openvex.json $IMAGE"
docker vouch scan --vuln-db examples/osv --vex examples/app.openvex.json "$IMAGE"
step "docker vouch verify registry:$IMAGE --key $KEYS/cosign.pub --require-pass --max-age 24h (as a deployment would)"
docker vouch verify "registry:$IMAGE" --key "$KEYS/cosign.pub" --require-pass --max-age 24h
