#!/usr/bin/env bash
# Fetches docker buildx (Debian trixie's docker-buildx package; bookworm has none) into a docker
# config directory of its own, without installing it for the machine's docker CLI: the tests of
# `docker vouch build` run one build with DOCKER_CONFIG pointing there (the buildx path) and the
# others without it (the Engine API path).
#
#   integration/buildx.sh    # idempotent; prints the config directory (its cli-plugins/ has buildx)
#
# Directory: $VOUCH_BUILDX_CONFIG (default ~/.cache/vouch-peers/buildx-config).
set -euo pipefail

DIR=${VOUCH_BUILDX_CONFIG:-$HOME/.cache/vouch-peers/buildx-config}
PLUGIN="$DIR/cli-plugins/docker-buildx"
MIRROR=${VOUCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ ! -x "$PLUGIN" ]; then
  echo "buildx.sh: fetching docker-buildx from Debian trixie into $DIR" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  curl -fsS --max-time 300 -o "$work/Packages.xz" "$MIRROR/dists/trixie/main/binary-amd64/Packages.xz"
  # The package's stanza: its file name and SHA-256 from the signed-by-Release index.
  read -r file sha < <(xz -dc "$work/Packages.xz" | awk '
    /^Package: / { pkg = $2 }
    pkg == "docker-buildx" && /^Filename: / { file = $2 }
    pkg == "docker-buildx" && /^SHA256: / { sha = $2 }
    /^$/ { if (pkg == "docker-buildx" && file != "") { print file, sha; exit } pkg = "" }')
  if [ -z "${file:-}" ]; then
    echo "buildx.sh: docker-buildx not found in trixie's package index" >&2
    exit 1
  fi
  curl -fsS --max-time 600 -o "$work/buildx.deb" "$MIRROR/$file"
  echo "$sha  $work/buildx.deb" | sha256sum -c --quiet -
  dpkg-deb -x "$work/buildx.deb" "$work/root"
  mkdir -p "$DIR/cli-plugins"
  install -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-buildx" "$PLUGIN"
fi
DOCKER_CONFIG="$DIR" docker buildx version >/dev/null
echo "$DIR"
