#!/usr/bin/env bash
# `make bench`: builds the reference image (cached), installs Syft and Trivy (integration/peers.sh), and
# compares the three tools on it, writing docs/benchmarks.md. Not a test: it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
integration/deps.sh
integration/engine.sh start
cargo build --release --locked --quiet
IMAGE=$(bench/build_image.sh)
PEERS=$(integration/peers.sh)
SYFT=$(echo "$PEERS" | sed -n 1p)
TRIVY=$(echo "$PEERS" | sed -n 2p)
python3 bench/compare.py --image "$IMAGE" --vouch target/release/docker-vouch --syft "$SYFT" --trivy "$TRIVY" \
  --runs "${BENCH_RUNS:-5}" --out docs/benchmarks.md
# Coverage against Syft on the binaries a package database does not list (Debian's, unpacked without dpkg).
python3 bench/compare.py --image "$(bench/binaries_image.sh)" --vouch target/release/docker-vouch --syft "$SYFT" \
  --trivy "$TRIVY" --out docs/benchmarks.md --coverage-only "Binaries without a package database (bench/binaries_image.sh)"
# One large layer, against the hashing floor (targets: ≤ 1.2× the floor, peak RSS ≤ 64 MiB).
SCALE=$(python3 bench/scale.py --image "$(bench/scale_image.sh)" --vouch target/release/docker-vouch \
  --syft "$SYFT" --trivy "$TRIVY" --runs "${BENCH_RUNS:-3}")
printf '\n## One large layer\n\n%s\n' "$SCALE" >> docs/benchmarks.md
echo "$SCALE"
# The same trees as two layers, hashed in parallel (target: ≤ 0.7× the single-core floor on 2 cores).
SCALE2=$(python3 bench/scale.py --image "$(bench/scale_image.sh two-layer)" --vouch target/release/docker-vouch \
  --syft "$SYFT" --trivy "$TRIVY" --runs "${BENCH_RUNS:-3}")
printf '\n## Two large layers\n\n%s\n' "$SCALE2" >> docs/benchmarks.md
echo "$SCALE2"
# Secrets and configuration files in the layer pass (target: check with secrets ≤ 1.5× sbom), against Trivy's
# secret scanner, and which secrets each finds on an image with one of each kind.
python3 bench/secrets.py --image "$IMAGE" --vouch target/release/docker-vouch --trivy "$TRIVY" \
  --runs "${BENCH_RUNS:-5}" --out docs/benchmarks.md
# Policy evaluation (issue: 1,000 packages and 50 rules under 50 ms), appended to the same page.
POLICY=$(cargo bench --locked --quiet --bench policy 2>/dev/null | grep '^policy evaluation')
printf '\n## Policy evaluation\n\n`cargo bench --bench policy` (benches/policy.rs), 30 evaluations on this machine: %s. Target: under 50 ms.\n' "$POLICY" >> docs/benchmarks.md
echo "$POLICY"
# Vulnerability matching (2,000 components against 200,000 OSV records: under 2 s and 300 MiB).
OSV_DB="$HOME/.cache/vouch-test/osv-200k.zip"
[ -f "$OSV_DB" ] || python3 bench/osv_fixture.py "$OSV_DB" 200000
VULN=$(VOUCH_OSV_BENCH_DB="$OSV_DB" cargo bench --locked --quiet --bench vuln 2>/dev/null | grep '^vulnerability matching')
printf '\n## Vulnerability matching\n\n`cargo bench --bench vuln` (benches/vuln.rs; database made by bench/osv_fixture.py), load + match, median of 3: %s. Targets: under 2 s and 300 MiB.\n' "$VULN" >> docs/benchmarks.md
echo "$VULN"
# Re-judging signed SBOMs (1,000 of 500 components against 200,000 records: under 10 s and 500 MiB).
REJUDGE=$(VOUCH_OSV_BENCH_DB="$OSV_DB" cargo bench --locked --quiet --bench rejudge 2>/dev/null | grep '^re-judgment')
printf '\n## Re-judging signed SBOMs\n\n`cargo bench --bench rejudge` (benches/rejudge.rs; the database of bench/osv_fixture.py): %s. Targets: under 10 s in all and 500 MiB.\n' "$REJUDGE" >> docs/benchmarks.md
echo "$REJUDGE"
# The local database fetched (a 150 MB mirror over loopback: bounded by the network and the zip check, under 100 MiB).
DBUPDATE=$(bench/db_update.sh | grep '^db update')
printf '\n## Updating the local database\n\n`bench/db_update.sh`: %s. Targets: bounded by the network and the zip check; under 100 MiB.\n' "$DBUPDATE" >> docs/benchmarks.md
echo "$DBUPDATE"
# Attestations (sign + write a set under 50 ms beyond SBOM and scrypt; verify a local set under 20 ms).
ATTEST=$(cargo bench --locked --quiet --bench attest 2>/dev/null | grep '^attestations')
printf '\n## Attestations\n\n`cargo bench --bench attest` (benches/attest.rs), 30 runs each: %s. Targets: under 50 ms and under 20 ms.\n' "$ATTEST" >> docs/benchmarks.md
echo "$ATTEST"
# The authorization plugin on the requests that run no image (the engine waits for it on every API call: well under 1 ms).
AUTHZ=$(cargo bench --locked --quiet --bench authz 2>/dev/null | grep '^authz')
printf '\n## Authorization plugin\n\n`cargo bench --bench authz` (benches/authz.rs): %s. Target: well under 1 ms.\n' "$AUTHZ" >> docs/benchmarks.md
echo "$AUTHZ"
# What `docker vouch build` adds to a build of the reference image (target: the stages after the build under 2 s).
OVERHEAD=$(bench/build_overhead.sh | grep '^build overhead')
printf '\n## Build overhead\n\n`bench/build_overhead.sh` (a one-line Dockerfile on the reference image, engine path, vfs storage driver): %s. Target: under 2 s.\n' "$OVERHEAD" >> docs/benchmarks.md
echo "$OVERHEAD"
# Reading the image straight from a registry (the test registry on 127.0.0.1), against Syft and Trivy.
REGISTRY=$(bench/registry_read.sh)
printf '\n## Reading from a registry (latest `make bench`)\n\n`bench/registry_read.sh`, median of %s runs:\n\n%s\n' \
  "${BENCH_RUNS:-5}" "$(echo "$REGISTRY" | sed 's/^/    /')" >> docs/benchmarks.md
echo "$REGISTRY"
