#!/usr/bin/env python3
"""Secrets and configuration files in the single layer pass, against `sbom` alone and Trivy's secret scanner.

Usage: secrets.py --image TAR --vouch BIN --trivy BIN [--runs 5] [--out docs/benchmarks.md]

Times, on the reference image (a `docker save` tar), `docker vouch sbom` against `docker vouch check` with a
policy that has a `secrets` rule and two `file_content` rules (target: at most 1.5x the time of `sbom`, peak
memory within the usual bound), and Trivy's secret scanner (`--scanners secret --image-config-scanners secret`,
files, environment and history) on the same tar. Then builds a small image on the reference's Debian base with one secret of
each kind the issue names (an AWS key in a file a later layer deletes, a GitHub token in ENV, a PyPI token in
.pypirc, docker config.json auths, a legacy npm token in .npmrc, .git-credentials, a .env password) and says
which each tool reports. Not a test: it measures. Appends a section to --out and prints it.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import run_once  # noqa: E402

POLICY = """version: "1"
name: bench-secrets
rules:
  - id: no-secrets
    action: deny
    secrets: true
  - id: sshd
    action: deny
    file_content: {path: /etc/ssh/sshd_config, format: sshd, require: {PermitRootLogin: "no"}}
  - id: password-ageing
    action: warn
    file_content: {path: /etc/login.defs, format: login.defs, require: {PASS_MAX_DAYS: "<= 90"}}
"""

# (kind, where it is put, how the Dockerfile puts it) for the recall image; made-up values of the
# issuers' shapes, never real credentials.
SECRETS = {
    "AWS key, file deleted by a later layer": "/opt/deploy/credentials",
    "GitHub token in ENV": "ENV GITHUB_TOKEN",
    "PyPI token in .pypirc": "/root/.pypirc",
    "docker config.json auths": "/root/.docker/config.json",
    "legacy npm token in .npmrc": "/home/app/.npmrc",
    ".git-credentials": "/root/.git-credentials",
    ".env password": "/srv/app/.env",
}


def recall_image(work):
    """Builds the image with one secret of each kind on the reference image; returns its tar."""
    ctx = os.path.join(work, "ctx")
    os.makedirs(ctx)
    files = {
        "credentials": "[default]\naws_access_key_id = AKIAQ3EGRTKXB7N4PW2M\n"
                       "aws_secret_access_key = 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\n",
        "pypirc": "[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc" + "Qm9vZ2xlR28" * 6 + "\n",
        "config.json": '{\n  "auths": {\n    "registry.acme.internal": {\n'
                       '      "auth": "Y2ktYm90OnM3cm9uZy1yZWdpc3RyeS1wYXNz"\n    }\n  }\n}\n',
        "npmrc": "//npm.acme.internal/:_authToken=7d1f4e2a-9b3c-4c8d-a1e6-52f0b9c3d7e4\n",
        "git-credentials": "https://ci-bot:Zq81kPw0rTx4@git.acme.internal\n",
        "dotenv": "DEBUG=false\nDB_PASSWORD=Tr0ub4dor-and-3-horses\n",
    }
    places = {"credentials": "opt/deploy/credentials", "pypirc": "root/.pypirc",
              "config.json": "root/.docker/config.json", "npmrc": "home/app/.npmrc",
              "git-credentials": "root/.git-credentials", "dotenv": "srv/app/.env"}
    for name, body in files.items():
        path = os.path.join(ctx, "root", places[name])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(body)
    # On the Debian base of the reference image (the engine's vfs driver copies the whole root
    # for every layer): the files in one layer, the deletion in the next.
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM vouch-bench/debian:12\nCOPY root/ /\nRUN rm /opt/deploy/credentials\n"
                "ENV GITHUB_TOKEN=ghp_Rk2Wq9Lx4Tb7Nz1Vc8Hm3Jd6Fs5Gp0Ya2Ue4\nUSER 1000\n")
    tag = "vouch-bench/secrets:1"
    subprocess.run(["docker", "build", "-q", "-t", tag, ctx], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=dict(os.environ, DOCKER_BUILDKIT="0"))
    tar = os.path.join(work, "secrets.tar")
    subprocess.run(["docker", "save", "-o", tar, tag], check=True)
    subprocess.run(["docker", "rmi", "-f", tag], stdout=subprocess.DEVNULL)
    return tar


def place_of(where):
    """The kind a reported place (a path, or ENV NAME) stands for."""
    for kind, place in SECRETS.items():
        if place == where or (place.startswith("ENV ") and where.endswith(place[4:])):
            return kind
    return None


def vouch_found(path):
    found = set()
    for rule in json.load(open(path))["rules"]:
        for f in rule["findings"]:
            if f["code"] == "secrets.env":
                found.add(place_of("ENV " + f["message"].split(" in ENV ")[1].split(":")[0]))
            elif f["code"].startswith("secrets."):
                found.add(place_of(f["evidence"].get("path", "")))
    return found - {None}


def trivy_found(path):
    found = set()
    for result in json.load(open(path)).get("Results") or []:
        target = "/" + result.get("Target", "").lstrip("/")
        for secret in result.get("Secrets") or []:
            kind = place_of(target)
            if kind is None and "GITHUB_TOKEN" in (secret.get("Match") or ""):
                kind = "GitHub token in ENV"
            found.add(kind)
    return found - {None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--vouch", required=True)
    ap.add_argument("--trivy", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    work = tempfile.mkdtemp()
    policy = os.path.join(work, "policy.yaml")
    with open(policy, "w") as f:
        f.write(POLICY)

    def trivy(tar):
        return [args.trivy, "image", "--input", tar, "--skip-db-update", "--offline-scan",
                "--scanners", "secret", "--image-config-scanners", "secret", "--cache-backend", "memory",
                "--cache-dir", os.path.join(work, "trivy-cache"), "--format", "json", "-q"]

    def vouch_check(tar):
        return [args.vouch, "check", "-q", f"docker-archive:{tar}", "--policy", policy, "--format", "json"]

    commands = {
        "sbom": [args.vouch, "sbom", "-q", f"docker-archive:{args.image}"],
        "check": vouch_check(args.image),
        "trivy": trivy(args.image),
    }
    times = {name: [] for name in commands}
    peaks = {name: [] for name in commands}

    def timed(name):
        cmd = commands[name]
        # `check` exits 1 when the policy fails: run_once wants 0, so it is run through sh.
        if name == "check":
            cmd = ["sh", "-c", '"$0" "$@"; [ $? -le 1 ]', *cmd]
        seconds, peak = run_once(cmd, os.path.join(work, f"{name}.out"))
        times[name].append(seconds)
        peaks[name].append(peak)

    # `sbom` and `check` in pairs, after a warm-up (the tar in the page cache); Trivy apart, after
    # them (its half-gigabyte working set would evict the tar between the pair's runs).
    run_once(commands["sbom"], os.path.join(work, "warm.out"))
    ratios = []
    for _ in range(args.runs):
        timed("sbom")
        timed("check")
        ratios.append(times["check"][-1] / times["sbom"][-1])
    for _ in range(args.runs):
        timed("trivy")
    med = {name: statistics.median(v) for name, v in times.items()}
    peak = {name: max(v) / 1024 for name, v in peaks.items()}
    ratio = statistics.median(ratios)

    tar = recall_image(work)
    vouch_out = os.path.join(work, "recall-vouch.json")
    trivy_out = os.path.join(work, "recall-trivy.json")
    run_once(["sh", "-c", '"$0" "$@"; [ $? -le 1 ]', *vouch_check(tar)], vouch_out)
    run_once(trivy(tar), trivy_out)
    found = {"vouch": vouch_found(vouch_out), "trivy": trivy_found(trivy_out)}
    os.remove(tar)

    lines = [
        "", "## Secrets and configuration files", "",
        f"`bench/secrets.py`, reference image, median of {args.runs} runs (pairwise ratio `check`/`sbom`): "
        f"`sbom` {med['sbom']:.2f} s ({peak['sbom']:.0f} MiB peak); `check` with a `secrets` rule and two "
        f"`file_content` rules {med['check']:.2f} s ({peak['check']:.0f} MiB), **{ratio:.2f}× `sbom`** "
        f"(target: at most 1.5×); Trivy's secret scanner (files, environment and history) "
        f"{med['trivy']:.2f} s ({peak['trivy']:.0f} MiB), {med['trivy'] / med['check']:.1f}× vouch's `check`.",
        "",
        "One secret of each kind on the reference image's Debian base (made-up values of the issuers' shapes):",
        "",
        "| secret | vouch | Trivy |",
        "|---|---|---|",
    ]
    for kind in SECRETS:
        lines.append(f"| {kind} | {'found' if kind in found['vouch'] else '**missed**'} | "
                     f"{'found' if kind in found['trivy'] else 'missed'} |")
    text = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "a") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
