//! Offline vulnerability matching through `docker vouch check --vuln-db`, on an image built by the
//! engine from the debootstrap root plus Python packages: OSV records in the structure osv.dev
//! publishes (a Debian advisory on a source package, a GitHub advisory on PyPI with a CVSS vector, a
//! withdrawn one, records of other ecosystems), as a directory and as an `all.zip` made by Python's
//! zipfile; a damaged record is a warning naming it, and the rest still matches.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use support::*;

fn debian_record(id: &str, source: &str, fixed: &str) -> Value {
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

fn ghsa_record(id: &str, cve: &str, package: &str, fixed: &str, vector: &str) -> Value {
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

fn write(dir: &Path, name: &str, record: &Value) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(record).unwrap()).unwrap();
}

const POLICY: &str = r#"version: "1"
rules:
  - id: vulnerabilities
    action: deny
    vulnerabilities: {max_severity: medium, max_counts: {unknown: 0}}
exceptions:
  - {rule: vulnerabilities, match: CVE-2099-0003, reason: "not reachable", expires: "2999-01-01"}
"#;

fn check(image: &str, db: &Path) -> (i32, Value, String) {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("policy.yaml"), POLICY).unwrap();
    let out = run_vouch(
        work.path(),
        &[
            "check",
            image,
            "--policy",
            "policy.yaml",
            "--format",
            "json",
            "--vuln-db",
            &db.display().to_string(),
        ],
    );
    let verdict =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    (out.status.code().unwrap_or(-1), verdict, stderr(&out))
}

/// (vulnerability id, package, severity, fixed version, excepted) of every finding.
fn found(verdict: &Value) -> Vec<(String, String, String, String, bool)> {
    let mut found: Vec<_> = verdict["rules"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let e = &f["evidence"];
            (
                e["vulnerability"].as_str().unwrap().to_string(),
                e["package"].as_str().unwrap_or("").to_string(),
                e["severity"].as_str().unwrap().to_string(),
                e["fixed_version"].as_str().unwrap_or("").to_string(),
                f.get("excepted_by").is_some(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn osv_directory_and_all_zip_match_the_image() {
    let base = debian_image();
    let image = build_image(
        &format!("vouch-test/vuln:{}", std::process::id()),
        &format!("FROM {base}\nCOPY site/ /usr/lib/python3/dist-packages/\n"),
        &[
            (
                "site/requests-2.31.0.dist-info/METADATA",
                b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n",
            ),
            (
                "site/Jinja2-3.1.2.dist-info/METADATA",
                b"Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.2\n",
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("osv");
    // glibc 2.36-9+deb12u14 is installed (libc6, through its source package): affected.
    write(
        &db.join("Debian"),
        "DEBIAN-CVE-2099-0001.json",
        &debian_record("DEBIAN-CVE-2099-0001", "glibc", "2.36-9+deb12u99"),
    );
    // tar 1.34+dfsg-1.2+deb12u1: fixed in an older version, so not affected.
    write(
        &db.join("Debian"),
        "DEBIAN-CVE-2099-0002.json",
        &debian_record("DEBIAN-CVE-2099-0002", "tar", "1.34+dfsg-1.2"),
    );
    // requests 2.31.0 < 2.32.0: 5.6 (medium) by its CVSS vector.
    write(
        &db.join("PyPI"),
        "GHSA-9wx4-h78v-vm56.json",
        &ghsa_record(
            "GHSA-9wx4-h78v-vm56",
            "CVE-2024-35195",
            "requests",
            "2.32.0",
            "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N",
        ),
    );
    // jinja2 (PEP 503 name of Jinja2) 3.1.2 < 3.1.3: critical by vector, excepted by its alias.
    write(
        &db.join("PyPI"),
        "GHSA-h5c8-rqwp-cp95.json",
        &ghsa_record(
            "GHSA-h5c8-rqwp-cp95",
            "CVE-2099-0003",
            "jinja2",
            "3.1.3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ),
    );
    // A withdrawn advisory, another ecosystem, and a damaged record.
    let mut withdrawn = ghsa_record(
        "GHSA-xxxx-withdrawn",
        "CVE-2099-0004",
        "requests",
        "9.0",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    );
    withdrawn["withdrawn"] = json!("2024-06-01T00:00:00Z");
    write(&db.join("PyPI"), "GHSA-xxxx-withdrawn.json", &withdrawn);
    let mut other = ghsa_record("OSS-FUZZ-1", "CVE-2099-0005", "requests", "9.0", "");
    other["affected"][0]["package"]["ecosystem"] = json!("OSS-Fuzz");
    write(&db.join("Other"), "OSS-FUZZ-1.json", &other);
    std::fs::write(
        db.join("PyPI/GHSA-broken.json"),
        b"{\"id\": \"GHSA-broken\", \"affected\": [",
    )
    .unwrap();

    let (code, verdict, warnings) = check(&image, &db);
    assert_eq!(code, 1, "{verdict:#}\n{warnings}");
    assert_eq!(
        found(&verdict),
        [
            ("DEBIAN-CVE-2099-0001".into(), "libc-bin".into(), "unknown".into(), "2.36-9+deb12u99".into(), false),
            ("DEBIAN-CVE-2099-0001".into(), "libc6".into(), "unknown".into(), "2.36-9+deb12u99".into(), false),
            ("GHSA-h5c8-rqwp-cp95".into(), "Jinja2".into(), "critical".into(), "3.1.3".into(), true),
        ],
        "glibc's advisory (both binary packages of the source) has no severity, and no unknown one is \
         allowed; requests (medium) is within the maximum; tar is fixed; the withdrawn record is ignored"
    );
    assert!(
        warnings.contains("GHSA-broken.json: not an OSV record"),
        "{warnings}"
    );
    assert!(
        warnings.contains("ecosystem `OSS-Fuzz` (e.g. OSS-FUZZ-1)"),
        "{warnings}"
    );

    // The same records as an osv.dev all.zip, written by Python's zipfile.
    let zip = dir.path().join("all.zip");
    let script = format!(
        "import zipfile, pathlib\nz = zipfile.ZipFile('{}', 'w', zipfile.ZIP_DEFLATED)\nfor p in sorted(pathlib.Path('{}').rglob('*.json')):\n    z.write(p, p.name)\nz.close()\n",
        zip.display(),
        db.display()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (zip_code, zip_verdict, zip_warnings) = check(&image, &zip);
    assert_eq!(zip_code, code);
    assert_eq!(found(&zip_verdict), found(&verdict), "{zip_warnings}");
    assert!(
        zip_warnings.contains("all.zip:GHSA-broken.json: not an OSV record"),
        "{zip_warnings}"
    );

    // A corrupt zip is an error naming it (exit 3), not an empty database.
    let corrupt = dir.path().join("corrupt.zip");
    let mut bytes = std::fs::read(&zip).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&corrupt, bytes).unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = run_vouch(
        work.path(),
        &["check", &image, "--vuln-db", &corrupt.display().to_string()],
    );
    docker(&["rmi", "-f", &image]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("corrupt.zip: cannot read the vulnerability database"),
        "{}",
        stderr(&out)
    );
}
