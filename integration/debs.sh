#!/usr/bin/env bash
# Fetches Debian 12 packages as .deb files, NOT installed (their binaries go into test images alone,
# without a dpkg database), into a cache; prints "PACKAGE PATH" for each. apt-get download with the
# machine's own sources (Debian's mirror); the package index is refreshed once when a package is
# not found in it.
#
#   integration/debs.sh bash apache2-bin   # cached in $VOUCH_TEST_CACHE/debs (default ~/.cache/vouch-test)
set -euo pipefail
[ $# -gt 0 ] || { echo "debs.sh: name the packages" >&2; exit 2; }
CACHE=${VOUCH_TEST_CACHE:-$HOME/.cache/vouch-test}
DIR="$CACHE/debs"
mkdir -p "$DIR"
cached() { # PACKAGE: the newest cached .deb of it, if any
  find "$DIR" -maxdepth 1 -name "${1}_*.deb" | sort -V | tail -n 1
}
missing=()
for package in "$@"; do
  [[ "$package" =~ ^[a-z0-9][a-z0-9.+-]*$ ]] || { echo "debs.sh: not a package name: $package" >&2; exit 2; }
  [ -n "$(cached "$package")" ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "debs.sh: apt-get download ${missing[*]}" >&2
  download() { (cd "$DIR" && apt-get -q -o APT::Sandbox::User=root download "${missing[@]}" >/dev/null); }
  if ! download 2>/dev/null; then
    apt-get update -q >/dev/null
    download
  fi
fi
for package in "$@"; do
  deb=$(cached "$package")
  [ -n "$deb" ] || { echo "debs.sh: $package was not downloaded" >&2; exit 1; }
  echo "$package $deb"
done
