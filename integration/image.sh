#!/usr/bin/env bash
# Builds vouch's own image (Dockerfile) on the engine and prints its tag.
#
#   integration/image.sh [BINARY] [TAG]
#     BINARY  the docker-vouch to put in it (default target/release/docker-vouch, built if missing,
#             with `cargo auditable` when it is installed, so that the image's SBOM lists vouch's crates)
#     TAG     default vouch/docker-vouch:VERSION (VERSION from Cargo.toml), as deploy/ names it
#
# The base the Dockerfile takes the C library and CA certificates from is a debootstrap Debian 12
# with ca-certificates (integration/rootfs.sh, cached), imported as vouch-build/debian-ca:12: no
# registry is needed. The build context is a temporary directory holding the binary alone.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
BINARY=${1:-target/release/docker-vouch}
TAG=${2:-vouch/docker-vouch:$VERSION}
if [ "$BINARY" = target/release/docker-vouch ] && [ ! -x "$BINARY" ]; then
  if command -v cargo-auditable >/dev/null 2>&1; then
    echo "image.sh: cargo auditable build --release (the longest step: minutes on 2 cores)" >&2
    cargo auditable build --release --locked
  else
    echo "image.sh: cargo build --release (the longest step: minutes on 2 cores)" >&2
    cargo build --release --locked
  fi
fi
[ -x "$BINARY" ] || { echo "image.sh: $BINARY: not an executable" >&2; exit 1; }
BASE=vouch-build/debian-ca:12
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  ROOT=$(integration/rootfs.sh vouch-image ca-certificates)
  tar -C "$ROOT" -c . | docker import - "$BASE" >/dev/null
fi
CONTEXT=$(mktemp -d)
trap 'rm -rf "$CONTEXT"' EXIT
mkdir -p "$CONTEXT/target/release"
cp "$BINARY" "$CONTEXT/target/release/docker-vouch"
cp Dockerfile "$CONTEXT/Dockerfile"
echo "image.sh: docker build -t $TAG (base $BASE)" >&2
DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$BASE" -t "$TAG" "$CONTEXT" >/dev/null
echo "$TAG"
