#!/usr/bin/env bash
# `make bench`: builds the reference image (cached), installs Syft and Trivy (../shared/peers), and
# compares the three tools on it, writing docs/benchmarks.md. Not a test: it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
integration/deps.sh
integration/engine.sh start
cargo build --release --locked --quiet
IMAGE=$(bench/build_image.sh)
PEERS=$(bash ../shared/peers/install.sh)
SYFT=$(echo "$PEERS" | sed -n 1p)
TRIVY=$(echo "$PEERS" | sed -n 2p)
python3 bench/compare.py --image "$IMAGE" --vouch target/release/docker-vouch --syft "$SYFT" --trivy "$TRIVY" \
  --runs "${BENCH_RUNS:-5}" --out docs/benchmarks.md
# Policy evaluation (issue: 1,000 packages and 50 rules under 50 ms), appended to the same page.
POLICY=$(cargo bench --locked --quiet --bench policy 2>/dev/null | grep '^policy evaluation')
printf '\n## Policy evaluation\n\n`cargo bench --bench policy` (benches/policy.rs), 30 evaluations on this machine: %s. Target: under 50 ms.\n' "$POLICY" >> docs/benchmarks.md
echo "$POLICY"
