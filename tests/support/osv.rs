//! OSV records in the shapes osv.dev publishes them, for the vulnerability and database tests.

use serde_json::{json, Value};

/// A Debian advisory on a source package, as osv.dev's Debian ecosystem writes it.
pub fn debian_record(id: &str, source: &str, fixed: &str) -> Value {
    json!({
        "id": id,
        "modified": "2024-09-18T03:26:56.785Z",
        "published": "2024-04-17T18:15:15Z",
        "upstream": [id.trim_start_matches("DEBIAN-")],
        "details": "A flaw was found.",
        "affected": [{
            "package": {"name": source, "ecosystem": "Debian:12", "purl": format!("pkg:deb/debian/{source}?arch=source")},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            "versions": []
        }],
        "schema_version": "1.6.3"
    })
}

/// A GitHub advisory on a PyPI package with a CVSS vector, as osv.dev's PyPI ecosystem carries it.
pub fn ghsa_record(id: &str, cve: &str, package: &str, fixed: &str, vector: &str) -> Value {
    json!({
        "schema_version": "1.4.0",
        "id": id,
        "modified": "2024-06-10T21:38:59Z",
        "published": "2024-05-20T20:15:00Z",
        "aliases": [cve],
        "summary": "Certificate verification is skipped",
        "details": "When making requests through a Session...",
        "severity": [{"type": "CVSS_V3", "score": vector}],
        "affected": [{
            "package": {"ecosystem": "PyPI", "name": package, "purl": format!("pkg:pypi/{package}")},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
        }],
        "references": [{"type": "ADVISORY", "url": format!("https://nvd.nist.gov/vuln/detail/{cve}")}],
        "database_specific": {"cwe_ids": ["CWE-670"], "severity": "MODERATE", "github_reviewed": true}
    })
}

/// Zips the `.json` files under `dir` (any depth, flattened) into `zip` with Python's zipfile, as an
/// osv.dev `all.zip` is made.
pub fn zip_records(dir: &std::path::Path, zip: &std::path::Path) {
    let script = format!(
        "import zipfile, pathlib\nz = zipfile.ZipFile('{}', 'w', zipfile.ZIP_DEFLATED)\nfor p in sorted(pathlib.Path('{}').rglob('*.json')):\n    z.write(p, p.name)\nz.close()\n",
        zip.display(),
        dir.display()
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// CISA's Known Exploited Vulnerabilities catalog listing `cves` (id, date added, ransomware use),
/// in the shape of its published JSON feed (schema 1.0.x: every field CISA writes).
pub fn kev_catalog(version: &str, cves: &[(&str, &str, bool)]) -> Vec<u8> {
    let vulnerabilities: Vec<Value> = cves
        .iter()
        .map(|(cve, added, ransomware)| {
            json!({
                "cveID": cve,
                "vendorProject": "Python Software Foundation",
                "product": "Requests",
                "vulnerabilityName": "Requests Improper Certificate Validation Vulnerability",
                "dateAdded": added,
                "shortDescription": "Requests contains an improper certificate validation vulnerability.",
                "requiredAction": "Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable.",
                "dueDate": "2026-12-20",
                "knownRansomwareCampaignUse": if *ransomware { "Known" } else { "Unknown" },
                "notes": format!("https://nvd.nist.gov/vuln/detail/{cve}"),
                "cwes": ["CWE-295"]
            })
        })
        .collect();
    serde_json::to_vec_pretty(&json!({
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": version,
        "dateReleased": "2026-11-29T17:00:02.8291Z",
        "count": vulnerabilities.len(),
        "vulnerabilities": vulnerabilities
    }))
    .unwrap()
}

/// FIRST's daily EPSS file for `scores` (CVE, score, percentile), gzipped by Python's gzip module as
/// the published `epss_scores-current.csv.gz` is.
pub fn epss_scores(date: &str, scores: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut csv =
        format!("#model_version:v2025.03.14,score_date:{date}T12:55:00Z\ncve,epss,percentile\n");
    for (cve, score, percentile) in scores {
        csv.push_str(&format!("{cve},{score},{percentile}\n"));
    }
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import gzip, sys; sys.stdout.buffer.write(gzip.compress(sys.stdin.buffer.read()))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(csv.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

/// An all.zip of `records` (name, record), made by Python's zipfile.
pub fn all_zip(records: &[(&str, Value)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    for (name, record) in records {
        std::fs::write(
            dir.path().join(format!("{name}.json")),
            serde_json::to_vec_pretty(record).unwrap(),
        )
        .unwrap();
    }
    let zip = dir.path().join("all.zip");
    zip_records(dir.path(), &zip);
    std::fs::read(zip).unwrap()
}

pub fn requests_advisory() -> (&'static str, Value) {
    (
        "GHSA-9wx4-h78v-vm56",
        ghsa_record(
            "GHSA-9wx4-h78v-vm56",
            "CVE-2024-35195",
            "requests",
            "2.32.0",
            "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N",
        ),
    )
}

/// A critical advisory with a fix on requests 2.31.0, published after the medium one.
pub fn critical_requests_advisory() -> (&'static str, Value) {
    let (_, mut critical) = requests_advisory();
    critical["id"] = "GHSA-crit-ical-0001".into();
    critical["aliases"] = json!(["CVE-2099-4242"]);
    critical["severity"] =
        json!([{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]);
    ("GHSA-crit-ical-0001", critical)
}
