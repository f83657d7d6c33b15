#!/usr/bin/env bash
# Makes (once, then cached) a minimal Debian 12 root filesystem with debootstrap, for the tests'
# `docker import`ed images, and prints its path.
#
#   integration/rootfs.sh            # prints e.g. /root/.cache/vouch-test/debian-12-rootfs
#   integration/rootfs.sh NAME PKG,PKG  # minbase plus those packages (and what they depend on), as
#                                       # apt installs them: /root/.cache/vouch-test/debian-12-NAME-rootfs
#
# Cache: $VOUCH_TEST_CACHE (default ~/.cache/vouch-test). Mirror: $VOUCH_DEBIAN_MIRROR
# (default http://deb.debian.org/debian). Needs root (debootstrap) and Debian's package mirror.
set -euo pipefail

CACHE=${VOUCH_TEST_CACHE:-$HOME/.cache/vouch-test}
MIRROR=${VOUCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
NAME=${1:-}
PACKAGES=${2:-}
if [ -n "$NAME" ]; then
  [[ "$NAME" =~ ^[a-z0-9-]+$ ]] || { echo "rootfs.sh: NAME must be [a-z0-9-]+" >&2; exit 2; }
  [ -n "$PACKAGES" ] || { echo "rootfs.sh: $NAME: name the packages (PKG,PKG)" >&2; exit 2; }
  ROOT="$CACHE/debian-12-$NAME-rootfs"
else
  ROOT="$CACHE/debian-12-rootfs"
fi

# A named root is rebuilt when its package list changed.
if [ -f "$ROOT/var/lib/dpkg/status" ] && [ -e "$ROOT/etc/os-release" ] &&
   { [ -z "$NAME" ] || [ "$(cat "$ROOT.packages" 2>/dev/null)" = "$PACKAGES" ]; }; then
  echo "$ROOT"
  exit 0
fi

mkdir -p "$CACHE"
TMP="$ROOT.tmp.$$"
LOG="$ROOT.log"
cleanup() {
  for mounted in proc dev/pts dev; do
    mountpoint -q "$TMP/$mounted" 2>/dev/null && umount -l "$TMP/$mounted"
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

if [ -n "$NAME" ]; then
  # The plain root, copied, then the packages installed by apt inside it (debootstrap's own
  # --include cannot order the configuration of Python packages).
  BASE=$("$0")
  rm -rf "$ROOT"
  cp -a "$BASE" "$TMP"
  echo "rootfs.sh: apt-get install $PACKAGES into a copy of $BASE (a minute or more)" >&2
  printf '#!/bin/sh\nexit 101\n' >"$TMP/usr/sbin/policy-rc.d"
  chmod 755 "$TMP/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$TMP/etc/resolv.conf"
  mount -t proc proc "$TMP/proc"
  IFS=, read -r -a wanted <<<"$PACKAGES"
  { chroot "$TMP" apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive chroot "$TMP" apt-get install -y -q --no-install-recommends "${wanted[@]}"; } \
    >"$LOG" 2>&1 || {
    echo "rootfs.sh: apt-get install failed; last lines of $LOG:" >&2
    tail -n 20 "$LOG" >&2
    exit 1
  }
  umount -l "$TMP/proc"
  chroot "$TMP" apt-get clean
  rm -rf "$TMP/var/lib/apt/lists"/* "$TMP/usr/sbin/policy-rc.d"
  mv "$TMP" "$ROOT"
  echo "$PACKAGES" >"$ROOT.packages"
  trap - EXIT
  echo "$ROOT"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "rootfs.sh: installing debootstrap" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
fi

echo "rootfs.sh: debootstrap --variant=minbase bookworm (about a minute)" >&2
debootstrap --variant=minbase bookworm "$TMP" "$MIRROR" >"$LOG" 2>&1 || {
  echo "rootfs.sh: debootstrap failed; last lines of $LOG:" >&2
  tail -n 20 "$LOG" >&2
  exit 1
}
rm -rf "$TMP/var/cache/apt/archives"/*.deb
mv "$TMP" "$ROOT"
trap - EXIT
echo "$ROOT"
