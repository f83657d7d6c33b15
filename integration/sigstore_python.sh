#!/usr/bin/env bash
# sigstore-python, the Sigstore project's Python client: the reference verifier of `docker vouch
# verify-blob`'s tests (integration/sigstore_reference.py). Installed from PyPI (pip checks each
# archive's hash against the index) into a virtual environment of its own under $VOUCH_PEERS
# (default ~/.cache/vouch-peers), so that its pinned dependencies meet no other test's; prints the
# environment's python.
set -euo pipefail
VERSION=4.5.1
DIR=${VOUCH_PEERS:-$HOME/.cache/vouch-peers}/sigstore-python-$VERSION
PY="$DIR/bin/python"
if [ -x "$PY" ] && "$PY" -c "import sigstore, sys; sys.exit(sigstore.__version__ != '$VERSION')" 2>/dev/null; then
  echo "$PY"; exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "sigstore_python.sh: python3 is needed (make deps installs it)" >&2; exit 1; }
echo "sigstore_python.sh: installing sigstore $VERSION into $DIR" >&2
rm -rf "$DIR"
python3 -m venv "$DIR"
"$DIR/bin/pip" install -q "sigstore==$VERSION" >&2
echo "$PY"
