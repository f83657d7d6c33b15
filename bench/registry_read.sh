#!/usr/bin/env bash
# Reading the reference image (bench/build_image.sh) straight from a registry: the image is copied to
# the open test registry (integration/registry.sh) by skopeo, with gzip layers as `docker push` writes
# them, then `docker-vouch sbom registry:REF`, `syft registry:REF` and Trivy's remote image source read
# it RUNS times each (plain HTTP on 127.0.0.1; Trivy offline with the license scanner only and jars
# skipped, as in bench/compare.py). Prints one line per tool: median seconds and peak RSS. Not a test:
# it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-5}
VOUCH=${VOUCH:-target/release/docker-vouch}
integration/registry.sh start >/dev/null 2>&1
TAR=$(bench/build_image.sh)
REF=127.0.0.1:${VOUCH_REGISTRY_PORT:-5000}/vouch-bench/reference:1
if ! skopeo inspect --tls-verify=false "docker://$REF" >/dev/null 2>&1; then
  skopeo copy -q --dest-tls-verify=false --dest-compress-format gzip "docker-archive:$TAR" "docker://$REF"
fi
PEERS=$(integration/peers.sh 2>/dev/null)
SYFT=$(echo "$PEERS" | sed -n 1p)
TRIVY=$(echo "$PEERS" | sed -n 2p)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# measure NAME COMMAND...: RUNS runs; prints "NAME: median S s, peak RSS M MiB".
measure() {
  local name=$1 times=() rss=() i
  shift
  for i in $(seq 1 "$RUNS"); do
    rm -rf "$WORK/trivy-cache"
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >"$WORK/out" 2>/dev/null
    times+=("$(cut -d' ' -f1 "$WORK/time")")
    rss+=("$(cut -d' ' -f2 "$WORK/time")")
  done
  printf '%s: median %s s, peak RSS %s MiB\n' "$name" \
    "$(printf '%s\n' "${times[@]}" | median)" \
    "$(printf '%s\n' "${rss[@]}" | sort -n | tail -1 | awk '{printf "%.0f", $1 / 1024}')"
}

measure vouch "$VOUCH" sbom -q "registry:$REF"
measure syft env SYFT_CHECK_FOR_APP_UPDATE=false SYFT_REGISTRY_INSECURE_USE_HTTP=true \
  "$SYFT" -q "registry:$REF" -o syft-json
measure trivy "$TRIVY" image --image-src remote --insecure --skip-db-update --offline-scan \
  --scanners license --cache-backend memory --cache-dir "$WORK/trivy-cache" --skip-files '**/*.jar' \
  --format cyclonedx -q "$REF"
