#!/usr/bin/env bash
# The demo: install the plugin, start an engine and a registry on 127.0.0.1 if none answers, make a
# demo key once (~/.cache/vouch-demo, password from VOUCH_PASSWORD, default `vouch-demo`), then
# `docker vouch db update` a local vulnerability database from a mirror made of the example OSV records;
# `docker vouch build --push` the example app (on a Debian 12 base made with debootstrap): build, SBOM,
# policy (examples/policy.yaml, that database and the example VEX), sign, push, attach, the verdict naming
# the database snapshot; show its SBOM, its verdict under the built-in default policy and its
# vulnerabilities; verify it from the registry as a deployment would; publish a new advisory, update, and
# see `verify --rejudge` fail the same attested image; verify it as the admission webhook (docker-vouch
# serve) does for a Pod; then build vouch's own image (Dockerfile), attest it under the default policy and
# verify it from the registry; last, run the example image on a second engine whose authorization plugin is
# docker-vouch authz (integration/authz_demo.sh), and see an unattested image refused by the engine.
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

# A mirror of osv.dev's layout (<ecosystem>/all.zip) made from the example records, and the local
# vulnerability database the commands below read when no --vuln-db is given.
MIRROR="$KEYS/mirror"
export VOUCH_DB_DIR="$KEYS/db"
publish() {  # zips examples/osv/Debian (and any extra records in $MIRROR/extra) as the mirror's Debian/all.zip
  mkdir -p "$MIRROR/Debian" "$MIRROR/extra"
  python3 - "$MIRROR/Debian/all.zip" examples/osv/Debian "$MIRROR/extra" <<'PY'
import pathlib, sys, zipfile
with zipfile.ZipFile(sys.argv[1] + ".new", "w", zipfile.ZIP_DEFLATED) as z:
    for d in sys.argv[2:]:
        for p in sorted(pathlib.Path(d).glob("*.json")):
            z.write(p, p.name)
pathlib.Path(sys.argv[1] + ".new").replace(sys.argv[1])
PY
}
rm -rf "$MIRROR/extra"
publish
step "docker vouch db update --source $MIRROR --ecosystems Debian (a local mirror of osv.dev's layout)"
docker vouch db update --source "$MIRROR" --ecosystems Debian
docker vouch db status

step "docker vouch build -t $IMAGE --key $KEYS/cosign.key --policy examples/policy.yaml ... --push examples/app"
docker vouch build -t "$IMAGE" --key "$KEYS/cosign.key" --policy examples/policy.yaml \
  --base-image vouch-example/debian:12 --vex examples/app.openvex.json \
  --output-dir "$KEYS/attestations" --push examples/app
step "the signed verdict names the vulnerability database snapshot it was judged with"
VERDICT=$(ls -t "$KEYS"/attestations/sha256-*/verdict.dsse.json | head -1)
python3 - "$VERDICT" <<'PY'
import base64, json, sys
statement = json.loads(base64.b64decode(json.load(open(sys.argv[1]))["payload"]))
for source in statement["predicate"]["vouch"]["verdict"]["vulnerabilitySources"]["sources"]:
    for s in source.get("snapshot", []):
        print(f"  {s['ecosystem']}: {s['records']} records, {s['digest']}, checked {s['checked']}")
PY
step "docker vouch sbom --format table $IMAGE"
docker vouch sbom --format table "$IMAGE"
step "docker vouch check $IMAGE (the built-in default policy)"
docker vouch check "$IMAGE"
step "docker vouch scan --vex examples/app.openvex.json $IMAGE (the local database)"
docker vouch scan --vex examples/app.openvex.json "$IMAGE"
step "docker vouch verify registry:$IMAGE --key $KEYS/cosign.pub --require-pass --max-age 24h (as a deployment would)"
docker vouch verify "registry:$IMAGE" --key "$KEYS/cosign.pub" --require-pass --max-age 24h

step "a new critical advisory is published on the mirror; db update; the same attested image judged again (its layers are not read)"
cat > "$MIRROR/extra/DEBIAN-CVE-2099-0003.json" <<'JSON'
{"schema_version": "1.6.0", "id": "DEBIAN-CVE-2099-0003", "modified": "2026-11-30T00:00:00Z",
 "published": "2026-11-30T00:00:00Z", "upstream": ["CVE-2099-0003"],
 "summary": "coreutils: example remote code execution (year 2099: not a real CVE)",
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "coreutils", "purl": "pkg:deb/debian/coreutils?arch=source"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.1-1+deb12u99"}]}]}]}
JSON
publish
docker vouch db update --source "$MIRROR" --ecosystems Debian
if docker vouch verify "registry:$IMAGE" --key "$KEYS/cosign.pub" --require-pass --rejudge \
  --policy examples/policy.yaml --vex examples/app.openvex.json; then
  echo "demo: the re-judgment should have failed on DEBIAN-CVE-2099-0003" >&2
  exit 1
fi
echo "(NOT VERIFIED, as expected: the attested verdict predates DEBIAN-CVE-2099-0003)"
rm -rf "$MIRROR/extra"
publish
docker vouch db update --source "$MIRROR" --ecosystems Debian --quiet

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

step "docker-vouch authz: a Docker engine that asks vouch before it runs a container ($IMAGE runs; $UNSIGNED does not)"
VOUCH="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins/docker-vouch" \
  integration/authz_demo.sh "$IMAGE" "$UNSIGNED" "$KEYS/cosign.pub" "$KEYS/attestations" examples/policy.yaml
