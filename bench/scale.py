#!/usr/bin/env python3
"""The scale benchmark: vouch, Syft and Trivy on one image of one large layer, against the floor
every verified read has (`openssl dgst -sha256` of the same archive on one core: every byte must be
hashed). Prints a Markdown section: median wall time of N runs, peak RSS (wait4), and the ratio to
the floor.

Usage: scale.py --image TAR --vouch BIN --syft BIN --trivy BIN [--runs 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import tarfile
import tempfile
import time

from compare import tool_commands


def measure(cmd, runs, env=None):
    """Median wall seconds and the largest peak RSS (MiB) of `runs` runs of cmd (output discarded)."""
    walls, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{cmd[0]} failed with status {status}")
    return statistics.median(walls), max(peaks)


def layer_count(image):
    """How many layers the `docker save` tar's manifest names."""
    with tarfile.open(image) as archive:
        manifest = archive.extractfile("manifest.json")
        if manifest is None:
            raise SystemExit(f"{image}: no manifest.json")
        return len(json.load(manifest)[0]["Layers"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--vouch", required=True)
    ap.add_argument("--syft", required=True)
    ap.add_argument("--trivy", required=True)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    size = os.path.getsize(args.image)
    with tempfile.TemporaryDirectory() as cache:
        # The tools as bench/compare.py runs them (offline; Trivy with an in-memory cache, no jars).
        tools = tool_commands(args.image, args.vouch, args.syft, args.trivy, cache)
        names = {"vouch": "vouch `sbom`", "syft": "Syft", "trivy": "Trivy (analyzers and licenses, no jars)"}
        rows = [("floor: `openssl dgst -sha256` (one core)", ["openssl", "dgst", "-sha256", args.image], None)]
        rows += [(names[name], cmd, env) for name, (cmd, env) in tools.items()]
        results = [(name, *measure(cmd, args.runs, run_env)) for name, cmd, run_env in rows]
    floor = results[0][1]
    layers = layer_count(args.image)
    what = "One layer" if layers == 1 else f"{layers} layers (read in parallel)"
    print(f"{what}, {size / 1e9:.2f} GB (`bench/scale_image.sh`), median of {args.runs} runs:\n")
    print("| tool | wall s | × floor | peak RSS MiB |")
    print("|---|---|---|---|")
    for name, wall, peak in results:
        print(f"| {name} | {wall:.2f} | {wall / floor:.2f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
