#!/usr/bin/env bash
# What `docker vouch build` adds to a build, on the reference image of bench/build_image.sh (about 600 MB
# in the engine): a one-line Dockerfile on top of it (a LABEL that changes every run, so neither build is
# a cache hit) is built RUNS times with plain `docker build` and RUNS times with `docker vouch build`
# (engine path, no push; key loading with scrypt included). Prints the medians, their difference, and the
# median time of the stages after the build (`docker vouch attest` on the result: export + SBOM + policy +
# sign + store) next to the engine's own export of the image (`docker save`), which bounds it from below.
# Not a test: it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-5}
VOUCH=${VOUCH:-target/release/docker-vouch}
TAR=$(bench/build_image.sh)
docker image inspect vouch-bench/reference:1 >/dev/null 2>&1 || docker load -q -i "$TAR" >/dev/null
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; docker images -q "vouch-bench/overhead" | xargs -r docker rmi -f >/dev/null 2>&1 || true' EXIT
mkdir -p "$WORK/ctx" "$WORK/docker-config"
printf 'FROM vouch-bench/reference:1\nARG RUN=0\nLABEL bench.run=$RUN\n' >"$WORK/ctx/Dockerfile"
(cd "$WORK" && VOUCH_PASSWORD=bench "$OLDPWD/$VOUCH" keygen >/dev/null)
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now() { date +%s.%N; }
plain=() vouch=() stages=() save=()
for i in $(seq 1 "$RUNS"); do
  start=$(now)
  DOCKER_BUILDKIT=0 docker build -q --build-arg RUN="plain-$i-$$" -t vouch-bench/overhead:plain "$WORK/ctx" >/dev/null 2>&1
  plain+=("$(echo "$(now) - $start" | bc)")
  start=$(now)
  (cd "$WORK" && DOCKER_CONFIG="$WORK/docker-config" VOUCH_BUILDER=engine VOUCH_PASSWORD=bench \
    "$OLDPWD/$VOUCH" build -q --build-arg RUN="vouch-$i-$$" -t vouch-bench/overhead:vouch --key cosign.key ctx >/dev/null 2>&1 || true)
  vouch+=("$(echo "$(now) - $start" | bc)")
  start=$(now)
  (cd "$WORK" && VOUCH_PASSWORD=bench "$OLDPWD/$VOUCH" attest -q vouch-bench/overhead:vouch --key cosign.key >/dev/null)
  stages+=("$(echo "$(now) - $start" | bc)")
  start=$(now)
  docker save vouch-bench/overhead:vouch >/dev/null
  save+=("$(echo "$(now) - $start" | bc)")
done
p=$(printf '%s\n' "${plain[@]}" | median)
v=$(printf '%s\n' "${vouch[@]}" | median)
s=$(printf '%s\n' "${stages[@]}" | median)
e=$(printf '%s\n' "${save[@]}" | median)
printf 'build overhead: plain docker build %.2f s, docker vouch build %.2f s, difference %.2f s; the stages after the build (docker vouch attest: export + SBOM + policy + sign + store, key included) %.2f s, of which the engine'"'"'s export alone (docker save to /dev/null) %.2f s (medians of %s)\n' \
  "$p" "$v" "$(echo "$v - $p" | bc)" "$s" "$e" "$RUNS"
