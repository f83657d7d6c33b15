#!/usr/bin/env bash
# Builds docker-vouch (release) and installs it as a Docker CLI plugin, so `docker vouch` works.
#   plugin/install.sh [PLUGIN_DIR]   default: ${DOCKER_CONFIG:-~/.docker}/cli-plugins
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins}
if [ ! -x target/release/docker-vouch ]; then
  echo "plugin/install.sh: cargo build --release (the longest step of a first run: about 6 minutes on 2 cores, 440 crates)" >&2
fi
cargo build --release --locked
mkdir -p "$DIR"
install -m 0755 target/release/docker-vouch "$DIR/docker-vouch.tmp.$$"
mv "$DIR/docker-vouch.tmp.$$" "$DIR/docker-vouch"
echo "installed $DIR/docker-vouch" >&2
if command -v docker >/dev/null 2>&1; then
  docker vouch --version >&2
fi
