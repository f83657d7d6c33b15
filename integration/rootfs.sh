#!/usr/bin/env bash
# Makes (once, then cached) a minimal Debian 12 root filesystem with debootstrap, for the tests'
# `docker import`ed images, and prints its path.
#
#   integration/rootfs.sh            # prints e.g. /root/.cache/vouch-test/debian-12-rootfs
#
# Cache: $VOUCH_TEST_CACHE (default ~/.cache/vouch-test). Mirror: $VOUCH_DEBIAN_MIRROR
# (default http://deb.debian.org/debian). Needs root (debootstrap) and Debian's package mirror.
set -euo pipefail

CACHE=${VOUCH_TEST_CACHE:-$HOME/.cache/vouch-test}
MIRROR=${VOUCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOT="$CACHE/debian-12-rootfs"

if [ -f "$ROOT/var/lib/dpkg/status" ] && [ -e "$ROOT/etc/os-release" ]; then
  echo "$ROOT"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "rootfs.sh: installing debootstrap" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
fi

mkdir -p "$CACHE"
TMP="$CACHE/debian-12-rootfs.tmp.$$"
trap 'rm -rf "$TMP"' EXIT
echo "rootfs.sh: debootstrap --variant=minbase bookworm (about a minute)" >&2
debootstrap --variant=minbase bookworm "$TMP" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 || {
  echo "rootfs.sh: debootstrap failed; last lines of $CACHE/debootstrap.log:" >&2
  tail -n 20 "$CACHE/debootstrap.log" >&2
  exit 1
}
rm -rf "$TMP/var/cache/apt/archives"/*.deb
mv "$TMP" "$ROOT"
trap - EXIT
echo "$ROOT"
