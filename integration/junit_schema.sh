#!/usr/bin/env bash
# The JUnit XML schema CI servers read: the Jenkins xUnit plugin's junit-10.xsd (Ant and Surefire's
# shape), as pytest ships it in its source distribution to check its own JUnit reports
# (testing/example_scripts/junit-10.xsd). Fetched from PyPI (pip checks the archive's hash against
# the index) into $VOUCH_PEERS (default ~/.cache/vouch-peers); prints the schema's path.
set -euo pipefail
VERSION=8.3.4
DIR=${VOUCH_PEERS:-$HOME/.cache/vouch-peers}/junit-schema-pytest-$VERSION
XSD="$DIR/junit-10.xsd"
if [ -s "$XSD" ]; then echo "$XSD"; exit 0; fi
command -v python3 >/dev/null 2>&1 || { echo "junit_schema.sh: python3 is needed (make deps installs it)" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 -m pip download -q --no-deps --no-binary :all: "pytest==$VERSION" -d "$WORK" >&2
mkdir -p "$DIR"
tar -xzf "$WORK/pytest-$VERSION.tar.gz" -C "$WORK" "pytest-$VERSION/testing/example_scripts/junit-10.xsd"
mv "$WORK/pytest-$VERSION/testing/example_scripts/junit-10.xsd" "$XSD"
echo "$XSD"
