#!/usr/bin/env python3
"""Writes a synthetic osv.dev-style all.zip of N OSV records for the vulnerability benchmark.

Usage: osv_fixture.py OUT.zip [N [ECOSYSTEM]]   (default 200000, all five ecosystems; with ECOSYSTEM,
every record is of that one, as an osv.dev per-ecosystem all.zip is). Records follow the structure osv.dev publishes
(ids, aliases, summary, details, CVSS vectors, ECOSYSTEM/SEMVER ranges, versions lists, references,
database_specific) across Debian:12, PyPI, npm, Go and Maven, about 1.5 KB each. Package names are
`pkg-<n>` for n < 20000, so that the benchmark's 2,000 components each meet several records.
"""
import json
import random
import sys
import zipfile

ECOSYSTEMS = ["Debian:12", "PyPI", "npm", "Go", "Maven"]
VECTORS = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
    "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
]
TEXT = ("A flaw was found in the handling of crafted input, which allows a remote attacker to cause a "
        "denial of service or possibly execute arbitrary code. ") * 3


def name(ecosystem, n):
    if ecosystem == "Go":
        return f"github.com/example/pkg-{n}"
    if ecosystem == "Maven":
        return f"org.example:pkg-{n}"
    return f"pkg-{n}"


def version(ecosystem, a, b, c):
    if ecosystem == "Debian:12":
        return f"{a}.{b}.{c}-1+deb12u1"
    return f"{a}.{b}.{c}"


def record(i, rng):
    ecosystem = ECOSYSTEMS[i % len(ECOSYSTEMS)]
    n = rng.randrange(20000)
    a, b = rng.randrange(1, 5), rng.randrange(0, 10)
    fixed = version(ecosystem, a, b, rng.randrange(1, 9))
    prefix = {"Debian:12": "DEBIAN-CVE", "PyPI": "PYSEC", "npm": "GHSA", "Go": "GO", "Maven": "GHSA"}[ecosystem]
    rid = f"{prefix}-{2000 + i % 25}-{i:06d}"
    range_type = "SEMVER" if ecosystem == "Go" else "ECOSYSTEM"
    affected = {
        "package": {"ecosystem": ecosystem, "name": name(ecosystem, n)},
        "ranges": [{"type": range_type, "events": [{"introduced": "0"}, {"fixed": fixed}]}],
        "versions": [version(ecosystem, a, b, 0)],
        "database_specific": {"source": f"https://example.org/{rid}.json"},
    }
    return {
        "schema_version": "1.6.0",
        "id": rid,
        "modified": "2024-06-10T21:38:59Z",
        "published": "2024-05-20T20:15:00Z",
        "aliases": [f"CVE-{2000 + i % 25}-{i:06d}"],
        "summary": "Crafted input leads to a crash",
        "details": TEXT,
        "severity": [{"type": "CVSS_V3" if "3.1" in v else "CVSS_V4", "score": v} for v in [VECTORS[i % 4]]],
        "affected": [affected],
        "references": [{"type": "ADVISORY", "url": f"https://nvd.nist.gov/vuln/detail/CVE-{i}"},
                       {"type": "WEB", "url": f"https://example.org/advisories/{rid}"}],
        "database_specific": {"severity": ["LOW", "MODERATE", "HIGH", "CRITICAL"][i % 4]},
    }


def main(out, count, only=None):
    global ECOSYSTEMS
    if only:
        ECOSYSTEMS = [only]
    rng = random.Random(42)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(count):
            r = record(i, rng)
            z.writestr(f"{r['id']}.json", json.dumps(r, indent=2))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200000,
         sys.argv[3] if len(sys.argv) > 3 else None)
