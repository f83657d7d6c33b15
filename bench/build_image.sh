#!/usr/bin/env bash
# Builds the benchmark's reference image (about 600 MB, many ecosystems) on the engine and saves it as a
# `docker save` tar; prints the tar's path. Cached in $VOUCH_TEST_CACHE/bench-image.tar.
#
# Layers: a debootstrap Debian 12 base; Python site-packages (pip); node_modules (npm); Go binaries (the
# host's docker CLI and skopeo, plus a module-mode program); Java jars (Debian's /usr/share/java); Ruby
# gemspecs (Debian's Ruby); then one layer that upgrades a Python package and one that deletes one.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${VOUCH_TEST_CACHE:-$HOME/.cache/vouch-test}
OUT="$CACHE/bench-image.tar"
if [ -f "$OUT" ]; then echo "$OUT"; exit 0; fi

ROOT=$(integration/rootfs.sh)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1

if ! docker image inspect vouch-bench/debian:12 >/dev/null 2>&1; then
  tar -C "$ROOT" -c . | docker import - vouch-bench/debian:12 >/dev/null
fi

echo "build_image.sh: python site-packages" >&2
python3 -m pip install -q --no-compile --target "$WORK/ctx/python" \
  numpy==1.26.4 pandas==2.2.2 django==5.0.6 flask==3.0.3 requests==2.32.3 six==1.16.0 >&2
echo "build_image.sh: node_modules" >&2
mkdir -p "$WORK/ctx/node/app"
cat >"$WORK/ctx/node/app/package.json" <<'JSON'
{"name":"bench-app","version":"1.0.0","private":true,
 "dependencies":{"express":"4.21.2","typescript":"5.4.5","lodash":"4.17.21","webpack":"5.91.0","@types/node":"20.11.0"}}
JSON
(cd "$WORK/ctx/node/app" && npm install --silent --no-audit --no-fund >&2)
echo "build_image.sh: go binaries, jars, gems" >&2
mkdir -p "$WORK/ctx/go" "$WORK/ctx/java" "$WORK/ctx/ruby"
cp "$(readlink -f "$(command -v docker)")" "$WORK/ctx/go/docker"
cp "$(readlink -f "$(command -v skopeo)")" "$WORK/ctx/go/skopeo"
cp -L /usr/share/java/*.jar "$WORK/ctx/java/" 2>/dev/null || true
cp -a /usr/lib/ruby/gems/3.1.0/specifications "$WORK/ctx/ruby/"
# The upgrade layer: six 1.17.0 replaces 1.16.0 in the same directory.
python3 -m pip install -q --no-compile --no-deps --target "$WORK/ctx/upgrade" six==1.17.0 >&2

cat >"$WORK/ctx/Dockerfile" <<'DOCKERFILE'
FROM vouch-bench/debian:12
COPY python /usr/local/lib/python3.11/site-packages
COPY node /srv/node
COPY go /usr/local/bin
COPY java /opt/java/lib
COPY ruby /usr/lib/ruby/gems/3.1.0
RUN rm -rf /usr/local/lib/python3.11/site-packages/six-1.16.0.dist-info /usr/local/lib/python3.11/site-packages/six.py
COPY upgrade /usr/local/lib/python3.11/site-packages
RUN rm -rf /usr/local/lib/python3.11/site-packages/flask /usr/local/lib/python3.11/site-packages/flask-3.0.3.dist-info
USER 1000
CMD ["/bin/bash"]
DOCKERFILE
DOCKER_BUILDKIT=0 docker build -q -t vouch-bench/reference:1 "$WORK/ctx" >&2
docker save -o "$OUT.tmp" vouch-bench/reference:1
mv "$OUT.tmp" "$OUT"
echo "$OUT"
