#!/usr/bin/env bash
# Every test: formatting, lints, unit tests, archive tests and end-to-end tests against a real Docker
# engine (started here if none answers, and stopped again only if started here).
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing here reads standard input.
exec </dev/null

# cargo caches its rustc target-information probe in target/.rustc_info.json, failures included. Twice
# a probe run right after the clippy build failed on junk input (`cc -?` output from a C build script)
# and every later cargo command then failed on the cached result. Build the tests first (so the
# probe runs before any build script), and drop cached failures before each step.
forget_failed_probes() {
  [ -f target/.rustc_info.json ] || return 0
  python3 - <<'PY'
import json
path = "target/.rustc_info.json"
info = json.load(open(path))
info["outputs"] = {k: v for k, v in info.get("outputs", {}).items() if v.get("success")}
json.dump(info, open(path, "w"))
PY
}

# A full run builds every test once: incremental state would only add about 1.3 GB to target/.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
# Said first so that a run that fails for want of disk shows how much there was.
df -h . /var/lib/docker 2>/dev/null | sed 's/^/test.sh: /' >&2 || true

integration/deps.sh
# Stop the engine at the end only if none answered before: an engine someone else runs stays up.
started_engine=false
if ! integration/engine.sh status; then
  integration/engine.sh start
  started_engine=true
fi
# The registry tests push to registries on 127.0.0.1 (stopped at the end only if started here).
started_registry=false
if ! integration/registry.sh status; then
  integration/registry.sh start
  started_registry=true
fi
# The tests tag their images [REGISTRY/]vouch-test/NAME:PID; remove the ones this run made (with the
# vfs storage driver each is a full copy of its root, 200 MB for the Debian ones).
test_images() {
  docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^([^/]+/)?vouch-test/' | sort || true
}
images_before=$(test_images)
finish() {
  comm -13 <(echo "$images_before") <(test_images) | xargs -r docker rmi -f >/dev/null 2>&1 || true
  if $started_registry; then integration/registry.sh stop; fi
  if $started_engine; then integration/engine.sh stop; fi
}
trap finish EXIT
VOUCH_DEBIAN_ROOTFS=$(integration/rootfs.sh)
export VOUCH_DEBIAN_ROOTFS
# docker buildx in a docker config of its own (the build tests use it for the buildx path only).
VOUCH_BUILDX_CONFIG=$(integration/buildx.sh)
export VOUCH_BUILDX_CONFIG

cargo fmt --check
forget_failed_probes
cargo test --locked --no-run
forget_failed_probes
cargo clippy --all-targets --locked -- -D warnings
forget_failed_probes
cargo test --locked
