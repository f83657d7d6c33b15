#!/usr/bin/env bash
# cosign, the reference verifier of the keyless registry tests (tests/keyless.rs): Debian trixie's
# cosign package (bookworm has none), fetched by integration/trixie_deb.sh and unpacked, not
# installed, under $VOUCH_PEERS (default ~/.cache/vouch-peers). Prints the binary's path.
set -euo pipefail
DIR=${VOUCH_PEERS:-$HOME/.cache/vouch-peers}/cosign
BIN="$DIR/bin/cosign"
if [ ! -x "$BIN" ]; then
  echo "cosign.sh: fetching cosign from Debian trixie into $DIR" >&2
  deb=$("$(dirname "$0")/trixie_deb.sh" cosign "$DIR/debs")
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  dpkg-deb -x "$deb" "$work/root"
  mkdir -p "$DIR/bin"
  install -m 0755 "$work/root/usr/bin/cosign" "$BIN"
fi
"$BIN" version >/dev/null 2>&1 || { echo "cosign.sh: $BIN does not run" >&2; exit 1; }
echo "$BIN"
