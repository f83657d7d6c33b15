#!/usr/bin/env bash
# Every test: formatting, lints, unit tests, archive tests and end-to-end tests against a real Docker
# engine (started here if none answers, and stopped again only if started here).
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing here reads standard input; cargo's rustc probes inherit it, and junk on an inherited
# stdin once poisoned target/.rustc_info.json (a cached failed probe).
exec </dev/null

integration/deps.sh
# Stop the engine at the end only if none answered before: an engine someone else runs stays up.
if ! integration/engine.sh status; then
  integration/engine.sh start
  trap 'integration/engine.sh stop' EXIT
fi
VOUCH_DEBIAN_ROOTFS=$(integration/rootfs.sh)
export VOUCH_DEBIAN_ROOTFS

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
