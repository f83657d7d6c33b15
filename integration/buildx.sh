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

if [ ! -x "$PLUGIN" ]; then
  echo "buildx.sh: fetching docker-buildx from Debian trixie into $DIR" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  deb=$("$(dirname "$0")/trixie_deb.sh" docker-buildx "$work")
  dpkg-deb -x "$deb" "$work/root"
  mkdir -p "$DIR/cli-plugins"
  install -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-buildx" "$PLUGIN"
fi
DOCKER_CONFIG="$DIR" docker buildx version >/dev/null
echo "$DIR"
