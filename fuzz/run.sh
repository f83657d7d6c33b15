#!/usr/bin/env bash
# `make fuzz`: each fuzz target (fuzz/targets.rs) coverage-guided by libFuzzer through `cargo fuzz`
# (installed here if missing; `-s none` runs on the stable toolchain), for FUZZ_SECONDS each
# (default 300), seeded from real files of this machine (written by tests/fuzz_smoke.rs). Crashes
# land in fuzz/artifacts/TARGET/; replay one with
#   VOUCH_FUZZ_REPLAY=TARGET:FILE cargo test --test fuzz_smoke
# Limits per input: 10 s (a hang), 1 GiB RSS (runaway memory).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-300}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked --quiet cargo-fuzz
VOUCH_FUZZ_SECONDS=0 VOUCH_FUZZ_CORPUS="$PWD/fuzz/corpus" cargo test --quiet --test fuzz_smoke >/dev/null
targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^docker-vouch-fuzz$')
status=0
for target in $targets; do
  echo "== $target ($seconds s)" >&2
  (cd fuzz && cargo fuzz run -s none "$target" "corpus/$target" -- \
     -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1) || status=1
done
exit $status
