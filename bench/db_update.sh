#!/usr/bin/env bash
# `docker vouch db update` of a ~150 MB mirror over loopback (issue 18's target: bounded by the network
# and the zip check, peak RSS under 100 MiB). The mirror is one per-ecosystem all.zip of 200,000 PyPI
# records made by bench/osv_fixture.py (cached), served by Python's http.server on 127.0.0.1; the floor
# is curl fetching the same file to disk. Prints one line; `make bench` appends it to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
VOUCH=${VOUCH:-target/release/docker-vouch}
MIRROR="$HOME/.cache/vouch-test/osv-mirror"
if [ ! -f "$MIRROR/PyPI/all.zip" ]; then
  mkdir -p "$MIRROR/PyPI"
  python3 bench/osv_fixture.py "$MIRROR/PyPI/all.zip.partial" 200000 PyPI
  mv "$MIRROR/PyPI/all.zip.partial" "$MIRROR/PyPI/all.zip"
fi
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$MIRROR" "$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/PyPI/all.zip" --range 0-0 && break
  sleep 0.1
done
bytes=$(stat -c %s "$MIRROR/PyPI/all.zip")
runs=${BENCH_RUNS:-3}
floor=() vouch=() rss=()
for _ in $(seq "$runs"); do
  start=$(date +%s.%N)
  curl -sf -o "$work/curl.zip" "http://127.0.0.1:$port/PyPI/all.zip"
  floor+=("$(echo "$(date +%s.%N) - $start" | bc)")
  rm -rf "$work/db"
  /usr/bin/time -f '%e %M' -o "$work/time" "$VOUCH" db update -q --source "http://127.0.0.1:$port" \
    --ecosystems PyPI --db-dir "$work/db"
  read -r seconds kib <"$work/time"
  vouch+=("$seconds")
  rss+=("$kib")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf 'db update: %s MB all.zip (200000 records) over loopback, median of %s: %.2f s (curl alone %.2f s), peak RSS %.0f MiB\n' \
  "$(echo "$bytes / 1000000" | bc)" "$runs" "$(median "${vouch[@]}")" "$(median "${floor[@]}")" \
  "$(echo "$(median "${rss[@]}") / 1024" | bc -l)"
