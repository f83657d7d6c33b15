#!/usr/bin/env bash
# Makes (once, then cached) a minimal Ubuntu 24.04 (noble) root filesystem with debootstrap, as
# Ubuntu's own base image is made, for the tests that judge a stock Ubuntu base; prints its path.
#
#   integration/ubuntu-rootfs.sh     # prints e.g. /root/.cache/vouch-test/ubuntu-24.04-rootfs
#
# The archive's Release file is checked with Ubuntu's archive keyring, taken from the
# ubuntu-keyring package whose SHA-256 is pinned here (Debian 12 does not ship Ubuntu's keys).
# Cache: $VOUCH_TEST_CACHE (default ~/.cache/vouch-test). Mirror: $VOUCH_UBUNTU_MIRROR (default
# http://archive.ubuntu.com/ubuntu). Needs root (debootstrap) and Ubuntu's package mirror.
set -euo pipefail

CACHE=${VOUCH_TEST_CACHE:-$HOME/.cache/vouch-test}
MIRROR=${VOUCH_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}
ROOT="$CACHE/ubuntu-24.04-rootfs"
KEYRING_DEB=pool/main/u/ubuntu-keyring/ubuntu-keyring_2023.11.28.1_all.deb
KEYRING_SHA256=36de43b15853ccae0028e9a767613770c704833f82586f28eb262f0311adb8a8

if [ -f "$ROOT/var/lib/dpkg/status" ] && [ -e "$ROOT/etc/os-release" ]; then
  echo "$ROOT"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "ubuntu-rootfs.sh: installing debootstrap" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
fi

mkdir -p "$CACHE"
TMP="$ROOT.tmp.$$"
KEYS="$ROOT.keys.$$"
LOG="$ROOT.log"
trap 'rm -rf "$TMP" "$KEYS"' EXIT
mkdir -p "$KEYS"
curl -fsS -o "$KEYS/keyring.deb" "$MIRROR/$KEYRING_DEB"
echo "$KEYRING_SHA256  $KEYS/keyring.deb" | sha256sum -c --quiet - || {
  echo "ubuntu-rootfs.sh: $KEYRING_DEB does not have the pinned SHA-256" >&2
  exit 1
}
dpkg-deb -x "$KEYS/keyring.deb" "$KEYS/x"

echo "ubuntu-rootfs.sh: debootstrap --variant=minbase noble (a minute or two)" >&2
debootstrap --variant=minbase --arch=amd64 \
  --keyring="$KEYS/x/usr/share/keyrings/ubuntu-archive-keyring.gpg" \
  noble "$TMP" "$MIRROR" /usr/share/debootstrap/scripts/gutsy >"$LOG" 2>&1 || {
  echo "ubuntu-rootfs.sh: debootstrap failed; last lines of $LOG:" >&2
  tail -n 20 "$LOG" >&2
  exit 1
}
rm -rf "$TMP/var/cache/apt/archives"/*.deb
mv "$TMP" "$ROOT"
echo "$ROOT"
