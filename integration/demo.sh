#!/usr/bin/env bash
# The demo: install the plugin, start an engine and a registry on 127.0.0.1 if none answers, make a
# demo key once (~/.cache/vouch-demo, password from VOUCH_PASSWORD, default `vouch-demo`), then
# `docker vouch build --push` the example app (on a Debian 12 base made with debootstrap): build, SBOM,
# policy (examples/policy.yaml, the example OSV database and VEX), sign, push, attach; show its SBOM, its
# verdict under the built-in default policy and its vulnerabilities; and verify it from the registry as a
# deployment would, and as the admission webhook (docker-vouch serve) does for a Pod; then build vouch's
# own image (Dockerfile), attest it under the default policy and verify it from the registry.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "installing dependencies"
integration/deps.sh demo
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

SELF="$REGISTRY/vouch/docker-vouch:$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
step "vouch's own image ($SELF: Dockerfile, no shell, user 65532), attested by vouch under its default policy, and verified"
integration/image.sh target/release/docker-vouch "$SELF" >/dev/null
docker push -q "$SELF" >/dev/null
docker vouch attest "registry:$SELF" --key "$KEYS/cosign.key" --push --output-dir "$KEYS/attestations"
docker vouch verify "registry:$SELF" --key "$KEYS/cosign.pub" --require-pass

step "docker-vouch serve: the Kubernetes admission webhook, asked about a Pod running $IMAGE and one running an unattested image"
WEBHOOK=$(mktemp -d)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=vouch-demo-webhook \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$WEBHOOK/tls.key" -out "$WEBHOOK/tls.crt" 2>/dev/null
UNSIGNED="$REGISTRY/vouch-example/unsigned:1"
tar -c -T /dev/null | docker import -c 'CMD ["/app"]' - "$UNSIGNED" >/dev/null
docker push -q "$UNSIGNED" >/dev/null
"${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins/docker-vouch" serve --key "$KEYS/cosign.pub" \
  --tls-cert "$WEBHOOK/tls.crt" --tls-key "$WEBHOOK/tls.key" --listen 127.0.0.1:0 --require-pass \
  2>"$WEBHOOK/log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WEBHOOK"' EXIT
ADDRESS=""
for _ in $(seq 1 30); do
  ADDRESS=$(sed -n 's|.*listening on https://\([^ ]*\).*|\1|p' "$WEBHOOK/log")
  [ -n "$ADDRESS" ] && break
  sleep 1
done
[ -n "$ADDRESS" ] || { cat "$WEBHOOK/log" >&2; echo "demo: the webhook did not start" >&2; exit 1; }
review() {
  printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"demo-%s","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"demo","object":{"metadata":{"name":"%s"},"spec":{"containers":[{"name":"app","image":"%s"}]}}}}' \
    "$1" "$1" "$2" |
    curl -sS --cacert "$WEBHOOK/tls.crt" -H 'Content-Type: application/json' --data-binary @- "https://$ADDRESS/validate" |
    python3 -c 'import json, sys; r = json.load(sys.stdin)["response"]; print("allowed" if r["allowed"] else "refused: " + r["status"]["message"])'
}
echo "Pod running $IMAGE: $(review app "$IMAGE")"
echo "Pod running $UNSIGNED: $(review unsigned "$UNSIGNED")"
echo "The webhook's log:"
cat "$WEBHOOK/log"
