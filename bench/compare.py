#!/usr/bin/env python3
"""Runs vouch, Syft and Trivy on one `docker save` tar and compares them.

For each tool: wall time (median of N runs), peak RSS (from wait4), and components per ecosystem (purl
type); then the packages Syft finds that vouch does not, per ecosystem. Writes a Markdown report.

Usage: compare.py --image TAR --vouch BIN --syft BIN --trivy BIN [--runs 5] [--out docs/benchmarks.md]
"""
import argparse
import collections
import fnmatch
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
import urllib.parse

ECOSYSTEMS = ["deb", "pypi", "npm", "golang", "maven", "gem", "rpm", "apk", "composer", "nuget", "cargo",
              "generic", "cran", "luarocks", "pear", "pecl"]

# Why a package Syft lists is not vouch's, by (purl type, name); checked by hand on the reference
# images, each reason a decision of the cataloger concerned (docs/formats.md).
KNOWN_DIFFERENCES = {
    ("npm", "benchmark"): "a `package.json` of a package's own benchmark directory, not a package (issue 16)",
    ("npm", "bin"): "a `package.json` of a package's `bin/` directory, not a package (issue 16)",
    ("npm", "dist"): "a `package.json` of a package's build output, not a package (issue 16)",
    ("maven", "atinject-jsr330-api/atinject-jsr330-api"): "vouch names it by its pom (`javax.inject`, version 1.0.0); Syft guesses group and version from the file name",
    ("maven", "maven-aether-provider/maven-aether-provider"): "Debian's placeholder version `3.x` from the file name; vouch reads 3.8.7 from the pom",
    ("maven", "org.apache.maven.artifact.versioning.comparableversion/maven3-artifact"): "Syft takes a package name from a class package; vouch names the jar by its pom (`maven3-artifact`)",
    ("maven", "org.gnome.accessibility.atkwrapper/java-atk-wrapper"): "Syft's group guessed from a class package; vouch's from the jar's pom",
    ("generic", "libphp"): "vouch names the product, `php` (the NVD's `php:php`), for the CLI, FPM and the Apache module alike",
    ("generic", "php-fpm"): "vouch names the product, `php` (the NVD's `php:php`), for the CLI, FPM and the Apache module alike",
    ("generic", "gzip"): "gzip carries its version only as a bare string after an unrelated message: no anchor that survives another build",
    ("golang", "cmd/*"): "the Go toolchain's own commands have no module (`(devel)`, matching nothing): vouch lists each one's standard library (`stdlib`) and the `go` binary itself",
    ("maven", "wagon-http-shaded/wagon-http-shaded"): "a shaded jar: its pom.properties name what it holds (wagon-http, wagon-http-shared), which vouch lists; no package is made up from a file name its artifactIds only prefix (issue 16)",
    ("npm", "ruby-typeprof"): "the VS Code extension manifest inside the typeprof gem, not an installed npm package (under no `node_modules` nor a global module folder)",
}


def known_reason(ptype, name):
    """The reason a (type, name) Syft lists is not vouch's, when one is known (names may be globs)."""
    for (t, pattern), reason in KNOWN_DIFFERENCES.items():
        if t == ptype and fnmatch.fnmatchcase(name, pattern):
            return reason
    return None


def run_once(cmd, out_path, env=None):
    """Runs cmd with stdout to out_path; returns (seconds, peak RSS in KiB)."""
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[0]} failed with status {status}")
    return elapsed, usage.ru_maxrss


def purl_key(purl):
    """(type, name with namespace, version) of a purl, lowercased names, no qualifiers."""
    if not purl or not purl.startswith("pkg:"):
        return None
    body = purl[4:].split("?")[0].split("#")[0]
    ptype, _, rest = body.partition("/")
    name, _, version = rest.rpartition("@") if "@" in rest else (rest, "", "")
    name = urllib.parse.unquote(name)
    if ptype == "pypi":
        name = name.lower().replace("_", "-").replace(".", "-")
    if ptype in ("deb", "rpm", "apk"):
        name = name.split("/")[-1]
    return ptype, name.lower(), urllib.parse.unquote(version)


def cyclonedx_keys(path):
    doc = json.load(open(path))
    return [k for k in (purl_key(c.get("purl")) for c in doc.get("components", [])) if k]


def syft_keys(path):
    doc = json.load(open(path))
    return [k for k in (purl_key(a.get("purl")) for a in doc.get("artifacts", [])) if k]


def tool_commands(image, vouch, syft, trivy, trivy_cache):
    """How each tool is run on a `docker save` tar: name -> (argv, environment or None)."""
    return {
        "vouch": ([vouch, "sbom", "-q", f"docker-archive:{image}"], None),
        "syft": ([syft, "-q", f"docker-archive:{image}", "-o", "syft-json"],
                 dict(os.environ, SYFT_CHECK_FOR_APP_UPDATE="false")),
        # No vulnerability DB can be downloaded here: Trivy runs its analyzers and the license scanner
        # only, with an in-memory cache so that no run profits from an earlier one. Its jar analyzer needs
        # a Java DB it cannot download, so jars are skipped for Trivy (see integration/peers.sh).
        "trivy": ([trivy, "image", "--input", image, "--skip-db-update", "--offline-scan",
                   "--scanners", "license", "--cache-backend", "memory", "--cache-dir", trivy_cache,
                   "--skip-files", "**/*.jar", "--format", "cyclonedx", "-q"], None),
    }


def missing_lines(missing):
    """Markdown lines for packages Syft finds that vouch does not, each with its known reason."""
    lines = []
    for t, n, v in missing[:50]:
        reason = known_reason(t, n)
        lines.append(f"- `{t}` {n} {v}" + (f": {reason}" if reason else ": **no known reason**"))
    if len(missing) > 50:
        lines.append(f"- ... and {len(missing) - 50} more")
    unexplained = sum(1 for t, n, _ in missing if known_reason(t, n) is None)
    return lines, unexplained


def coverage_only(args):
    """vouch and Syft once each on the image; appends what one finds and the other does not."""
    work = tempfile.mkdtemp()
    commands = tool_commands(args.image, args.vouch, args.syft, args.trivy, os.path.join(work, "c"))
    keys = {}
    for name, parse in (("vouch", cyclonedx_keys), ("syft", syft_keys)):
        cmd, env = commands[name]
        out_path = os.path.join(work, f"{name}.json")
        run_once(cmd, out_path, env)
        keys[name] = set(parse(out_path))
    missing = sorted(k for k in keys["syft"] - keys["vouch"] if k[0] in ECOSYSTEMS)
    extra = sorted(k for k in keys["vouch"] - keys["syft"] if k[0] in ECOSYSTEMS)
    lines, unexplained = missing_lines(missing)
    section = ["", f"## {args.coverage_only}", "",
               f"vouch lists {len(keys['vouch'])} components, Syft {len(keys['syft'])}. "
               f"Packages Syft finds that vouch does not: {len(missing)} ({unexplained} without a known reason)."]
    section += lines
    section += ["", f"Packages vouch finds that Syft does not: {len(extra)}."]
    section += [f"- `{t}` {n} {v}" for t, n, v in extra[:60]]
    with open(args.out, "a") as f:
        f.write("\n".join(section) + "\n")
    print("\n".join(section))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--vouch", required=True)
    ap.add_argument("--syft", required=True)
    ap.add_argument("--trivy", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default="docs/benchmarks.md")
    ap.add_argument("--coverage-only", metavar="TITLE",
                    help="run vouch and Syft once and APPEND only the packages one finds and the other "
                         "does not, under this title")
    args = ap.parse_args()
    if args.coverage_only:
        coverage_only(args)
        return

    work = tempfile.mkdtemp()
    trivy_cache = os.path.join(work, "trivy-cache")
    commands = tool_commands(args.image, args.vouch, args.syft, args.trivy, trivy_cache)
    parsers = {"vouch": cyclonedx_keys, "syft": syft_keys, "trivy": cyclonedx_keys}
    tools = {name: (cmd, parsers[name], env) for name, (cmd, env) in commands.items()}
    results = {}
    for name, (cmd, parse, env) in tools.items():
        times, rss = [], []
        out_path = os.path.join(work, f"{name}.json")
        for _ in range(args.runs):
            t, m = run_once(cmd, out_path, env)
            times.append(t)
            rss.append(m)
        keys = parse(out_path)
        results[name] = {
            "median_s": statistics.median(times),
            "times": times,
            "peak_rss_mib": max(rss) / 1024,
            "keys": set(keys),
            "per_ecosystem": collections.Counter(k[0] for k in set(keys)),
        }
        print(f"{name}: median {results[name]['median_s']:.2f} s, peak RSS {results[name]['peak_rss_mib']:.1f} MiB, "
              f"{len(set(keys))} components", flush=True)

    vouch, syft, trivy = results["vouch"], results["syft"], results["trivy"]
    missing = sorted(k for k in syft["keys"] - vouch["keys"] if k[0] in ECOSYSTEMS)
    size_mb = os.path.getsize(args.image) / 1e6
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` (bench/run.sh → bench/compare.py) on {time.strftime('%Y-%m-%d')}.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, "
        f"{platform.platform()}.",
        f"Image: the reference image of bench/build_image.sh, a {size_mb:.0f} MB `docker save` tar "
        "(Debian 12 base, Python, npm, Go binaries, Java jars, Ruby gems, a layer upgrading `six` and one deleting `flask`).",
        f"Each tool ran {args.runs} times on the tar; wall time is the median, RSS the peak over all runs.",
        "Syft 1.18.1 (`-o syft-json`); Trivy 0.59.1 (`--scanners license`, in-memory cache, offline, jars skipped: its jar",
        "analyzer needs a Java DB it cannot download here).",
        "",
        "| tool | wall time (median) | peak RSS | components | " + " | ".join(ECOSYSTEMS) + " |",
        "|---|---|---|---|" + "---|" * len(ECOSYSTEMS),
    ]
    for name in ("vouch", "syft", "trivy"):
        r = results[name]
        counts = " | ".join(str(r["per_ecosystem"].get(e, 0)) for e in ECOSYSTEMS)
        lines.append(f"| {name} | {r['median_s']:.2f} s | {r['peak_rss_mib']:.1f} MiB | {len(r['keys'])} | {counts} |")
    lines += [
        "",
        f"Ratios: vouch takes {vouch['median_s'] / trivy['median_s']:.2f}× Trivy's time "
        f"(target ≤ 0.20) and {vouch['median_s'] / syft['median_s']:.3f}× Syft's (target ≤ 0.025); "
        f"peak RSS {vouch['peak_rss_mib']:.1f} MiB (target ≤ 64).",
        "",
        f"Packages Syft finds in the cataloged ecosystems that vouch does not: {len(missing)}.",
    ]
    lines += missing_lines(missing)[0]
    extra = sorted(k for k in vouch["keys"] - syft["keys"])
    lines += ["", f"Packages vouch finds that Syft does not: {len(extra)}."]
    lines += [f"- `{t}` {n} {v}" for t, n, v in extra[:30]]
    if len(extra) > 30:
        lines.append(f"- ... and {len(extra) - 30} more")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[9:16]))


if __name__ == "__main__":
    main()
