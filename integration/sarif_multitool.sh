#!/usr/bin/env bash
# Microsoft's SARIF multitool (the SARIF SDK's validator, the format's reference implementation), from
# npm's @microsoft/sarif-multitool-linux (npm checks the package's registry integrity hash), unpacked
# into $VOUCH_PEERS (default ~/.cache/vouch-peers); prints the path of its executable.
set -euo pipefail
VERSION=5.7.0
DIR=${VOUCH_PEERS:-$HOME/.cache/vouch-peers}/sarif-multitool-$VERSION
BIN="$DIR/package/Sarif.Multitool"
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
command -v npm >/dev/null 2>&1 || { echo "sarif_multitool.sh: npm is needed (make deps installs it)" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "@microsoft/sarif-multitool-linux@$VERSION" >/dev/null)
mkdir -p "$DIR"
tar -xzf "$WORK"/microsoft-sarif-multitool-linux-$VERSION.tgz -C "$DIR"
chmod +x "$BIN"
"$BIN" --version >/dev/null 2>&1 || { echo "sarif_multitool.sh: $BIN does not run" >&2; exit 1; }
echo "$BIN"
