#!/usr/bin/env bash
# The demo: install the plugin, start an engine if none answers, build the example image (a Debian 12
# base made with debootstrap, plus the app in examples/app), print its SBOM as a table, and check it
# against the built-in default policy and against examples/policy.yaml, and list its vulnerabilities from
# the example OSV database with the example VEX applied; then sign its SBOM and verdict with a demo key
# (made once in ~/.cache/vouch-demo, password from VOUCH_PASSWORD, default `vouch-demo`) and verify them as
# a deployment would.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "installing dependencies"
integration/deps.sh
step "building and installing the plugin"
plugin/install.sh
step "starting a Docker engine if none answers"
integration/engine.sh start
step "making the Debian 12 base image (debootstrap, cached)"
ROOT=$(integration/rootfs.sh)
if ! docker image inspect vouch-example/debian:12 >/dev/null 2>&1; then
  tar -C "$ROOT" -c . | docker import - vouch-example/debian:12 >/dev/null
fi
step "docker build examples/app"
DOCKER_BUILDKIT=0 docker build -q -t vouch-example/app:latest examples/app >/dev/null
step "docker vouch sbom --format table vouch-example/app:latest"
docker vouch sbom --format table vouch-example/app:latest
step "docker vouch check vouch-example/app:latest (the built-in default policy)"
docker vouch check vouch-example/app:latest
step "docker vouch check --policy examples/policy.yaml --base-image vouch-example/debian:12 --vuln-db examples/osv --vex examples/app.openvex.json vouch-example/app:latest"
docker vouch check --policy examples/policy.yaml --base-image vouch-example/debian:12 \
  --vuln-db examples/osv --vex examples/app.openvex.json vouch-example/app:latest
step "docker vouch scan --vuln-db examples/osv --vex examples/app.openvex.json vouch-example/app:latest"
docker vouch scan --vuln-db examples/osv --vex examples/app.openvex.json vouch-example/app:latest
KEYS="$HOME/.cache/vouch-demo"
export VOUCH_PASSWORD="${VOUCH_PASSWORD:-vouch-demo}"
if [ ! -f "$KEYS/cosign.key" ]; then
  step "docker vouch keygen (demo key in $KEYS)"
  mkdir -p "$KEYS"
  (cd "$KEYS" && docker vouch keygen)
fi
step "docker vouch attest --key $KEYS/cosign.key --policy examples/policy.yaml vouch-example/app:latest"
docker vouch attest --key "$KEYS/cosign.key" --policy examples/policy.yaml --output-dir "$KEYS/attestations" \
  --vuln-db examples/osv --vex examples/app.openvex.json vouch-example/app:latest
step "docker vouch verify --key $KEYS/cosign.pub --require-pass --max-age 24h vouch-example/app:latest"
docker vouch verify --key "$KEYS/cosign.pub" --attestations "$KEYS/attestations" --require-pass --max-age 24h \
  vouch-example/app:latest
