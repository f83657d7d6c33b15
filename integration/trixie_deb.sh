#!/usr/bin/env bash
# Fetches one package of Debian trixie (for what bookworm lacks: docker-buildx, cosign) as a .deb,
# NOT installed, checked all the way from Debian's archive key: the InRelease file's signature
# (gpgv, the machine's debian-archive-keyring), the package index's SHA-256 in it, and the .deb's
# SHA-256 in the index. Prints the .deb's path (cached in $DIR).
#
#   integration/trixie_deb.sh PACKAGE DIR
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: trixie_deb.sh PACKAGE DIR" >&2; exit 2; }
PACKAGE=$1
DIR=$2
MIRROR=${VOUCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[[ "$PACKAGE" =~ ^[a-z0-9][a-z0-9.+-]*$ ]] || { echo "trixie_deb.sh: not a package name: $PACKAGE" >&2; exit 2; }
mkdir -p "$DIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsS --max-time 120 -o "$work/InRelease" "$MIRROR/dists/trixie/InRelease"
gpgv --quiet --keyring "$KEYRING" --output "$work/Release" "$work/InRelease" 2>/dev/null ||
  { echo "trixie_deb.sh: trixie's InRelease does not verify with $KEYRING" >&2; exit 1; }
index_sha=$(awk '/^SHA256:/ { s = 1; next } /^[^ ]/ { s = 0 }
  s && $3 == "main/binary-amd64/Packages.xz" { print $1 }' "$work/Release")
curl -fsS --max-time 300 -o "$work/Packages.xz" "$MIRROR/dists/trixie/main/binary-amd64/Packages.xz"
echo "$index_sha  $work/Packages.xz" | sha256sum -c --quiet - ||
  { echo "trixie_deb.sh: the package index does not match the signed Release" >&2; exit 1; }
read -r file sha < <(xz -dc "$work/Packages.xz" | awk -v want="$PACKAGE" '
  /^Package: / { pkg = $2 }
  pkg == want && /^Filename: / { file = $2 }
  pkg == want && /^SHA256: / { sha = $2 }
  /^$/ { if (pkg == want && file != "") { print file, sha; exit } pkg = "" }')
if [ -z "${file:-}" ]; then
  echo "trixie_deb.sh: $PACKAGE not found in trixie's package index" >&2
  exit 1
fi
deb="$DIR/$(basename "$file")"
if [ ! -s "$deb" ] || ! echo "$sha  $deb" | sha256sum -c --quiet - 2>/dev/null; then
  echo "trixie_deb.sh: fetching $file" >&2
  curl -fsS --max-time 600 -o "$work/package.deb" "$MIRROR/$file"
  echo "$sha  $work/package.deb" | sha256sum -c --quiet - ||
    { echo "trixie_deb.sh: $file does not match the index" >&2; exit 1; }
  mv "$work/package.deb" "$deb"
fi
echo "$deb"
