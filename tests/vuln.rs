//! Offline vulnerability matching through `docker vouch check --vuln-db`, on an image built by the
//! engine from the debootstrap root plus Python packages: OSV records in the structure osv.dev
//! publishes (a Debian advisory on a source package, a GitHub advisory on PyPI with a CVSS vector, a
//! withdrawn one, records of other ecosystems), as a directory and as an `all.zip` made by Python's
//! zipfile; a damaged record is a warning naming it, and the rest still matches.
//!
//! `docker vouch scan` on an image with Debian, PyPI, npm, Go and Maven components: OSV records in
//! each ecosystem's published shape, a Trivy report whose metadata the real Trivy wrote for this
//! image, a Grype report in Grype's JSON shape, OpenVEX and CycloneDX VEX documents; the findings
//! are merged across sources, VEX suppresses what it says, and reports of another image are refused.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use support::osv::{debian_record, ghsa_record, zip_records};
use support::*;

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
    zip_records(&db, &zip);
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
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("corrupt.zip: cannot read the vulnerability database"),
        "{}",
        stderr(&out)
    );
}

/// A file that starts like an ELF binary and carries Go's inline build information (Go 1.18+
/// format: magic, pointer size, flags, then two length-prefixed strings, the module text framed by
/// the toolchain's 16-byte sentinels), as the Go linker writes it.
fn go_binary(module_text: &str) -> Vec<u8> {
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    bytes.resize(4096, 0);
    let mut header = b"\xff Go buildinf:".to_vec();
    header.extend([8, 2]);
    header.resize(32, 0);
    bytes.extend(header);
    let mut framed = b"\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6".to_vec();
    framed.extend(module_text.as_bytes());
    framed.extend(b"\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2");
    for text in [b"go1.21.3".to_vec(), framed] {
        // Lengths are unsigned LEB128 varints.
        let mut len = text.len();
        while len >= 0x80 {
            bytes.push((len & 0x7f) as u8 | 0x80);
            len >>= 7;
        }
        bytes.push(len as u8);
        bytes.extend(text);
    }
    bytes.resize(bytes.len() + 4096, 0);
    bytes
}

/// The installed version of a Debian package in the test root, from dpkg itself.
fn dpkg_version(package: &str) -> String {
    let admin = debian_rootfs().join("var/lib/dpkg");
    let out = Command::new("dpkg-query")
        .arg(format!("--admindir={}", admin.display()))
        .args(["-W", "-f", "${Version}", package])
        .output()
        .unwrap();
    assert!(out.status.success(), "dpkg-query {package}");
    String::from_utf8(out.stdout).unwrap()
}

fn scan(work: &Path, image: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["scan", image];
    all.extend(args);
    run_vouch(work, &all)
}

#[test]
fn scan_merges_osv_trivy_and_grype_and_applies_vex() {
    let base = debian_image();
    let jar = stored_zip(&[(
        "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
        b"groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n",
    )]);
    let server = go_binary(
        "path\texample.com/shop/cmd/server\nmod\texample.com/shop\t(devel)\t\ndep\tgolang.org/x/net\tv0.15.0\th1:x\n",
    );
    let image = build_image(
        &format!("vouch-test/scan:{}", std::process::id()),
        &format!(
            "FROM {base}\nCOPY site/ /usr/lib/python3/dist-packages/\nCOPY node/ /usr/lib/node_modules/\nCOPY app/ /opt/shop/\n"
        ),
        &[
            (
                "site/requests-2.31.0.dist-info/METADATA",
                b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n",
            ),
            (
                "node/lodash/package.json",
                br#"{"name": "lodash", "version": "4.17.15", "license": "MIT"}"#,
            ),
            ("app/lib/log4j-core-2.14.1.jar", &jar),
            ("app/server", &server),
        ],
    );
    let inspect: Value = serde_json::from_str(&docker(&["image", "inspect", &image])).unwrap();
    let image_id = inspect[0]["Id"].as_str().unwrap().to_string();
    let diff_ids: Vec<String> = inspect[0]["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    let base_id = docker(&["image", "inspect", "-f", "{{.Id}}", &base])
        .trim()
        .to_string();

    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // OSV records in each ecosystem's published structure.
    let db = w.join("osv");
    write(
        &db.join("Debian"),
        "DEBIAN-CVE-2099-0001.json",
        &debian_record("DEBIAN-CVE-2099-0001", "glibc", "2.36-9+deb12u99"),
    );
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
    write(
        &db.join("npm"),
        "GHSA-p6mc-m468-83gw.json",
        &json!({
            "schema_version": "1.4.0", "id": "GHSA-p6mc-m468-83gw", "modified": "2024-02-16T08:17:21Z",
            "published": "2020-07-15T19:15:48Z", "aliases": ["CVE-2020-8203"],
            "summary": "Prototype Pollution in lodash",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "npm", "name": "lodash", "purl": "pkg:npm/lodash"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "3.7.0"}, {"fixed": "4.17.19"}]}],
                          "database_specific": {"source": "https://github.com/github/advisory-database/blob/main/advisories/github-reviewed/2020/07/GHSA-p6mc-m468-83gw/GHSA-p6mc-m468-83gw.json"}}],
            "database_specific": {"cwe_ids": ["CWE-1321", "CWE-770"], "severity": "HIGH", "github_reviewed": true}
        }),
    );
    write(
        &db.join("Go"),
        "GO-2023-2102.json",
        &json!({
            "schema_version": "1.3.1", "id": "GO-2023-2102", "modified": "2024-05-20T16:03:47Z",
            "published": "2023-10-11T22:14:48Z", "aliases": ["CVE-2023-39325", "GHSA-4374-p667-p6c8"],
            "summary": "HTTP/2 rapid reset can cause excessive work in net/http",
            "affected": [
                {"package": {"name": "stdlib", "ecosystem": "Go"},
                 "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.20.10"}, {"introduced": "1.21.0-0"}, {"fixed": "1.21.3"}]}],
                 "ecosystem_specific": {"imports": [{"path": "net/http", "symbols": ["ListenAndServe"]}]}},
                {"package": {"name": "golang.org/x/net", "ecosystem": "Go"},
                 "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.17.0"}]}],
                 "ecosystem_specific": {"imports": [{"path": "golang.org/x/net/http2", "symbols": ["Server.ServeConn"]}]}}
            ],
            "database_specific": {"url": "https://pkg.go.dev/vuln/GO-2023-2102", "review_status": "REVIEWED"}
        }),
    );
    write(
        &db.join("Maven"),
        "GHSA-jfh8-c2jp-5v3q.json",
        &json!({
            "schema_version": "1.4.0", "id": "GHSA-jfh8-c2jp-5v3q", "modified": "2024-07-24T16:27:50Z",
            "published": "2021-12-10T00:40:56Z", "aliases": ["CVE-2021-44228"],
            "summary": "Remote code injection in Log4j",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core", "purl": "pkg:maven/org.apache.logging.log4j/log4j-core"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}]},
                         {"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core", "purl": "pkg:maven/org.apache.logging.log4j/log4j-core"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.3.1"}]}]}],
            "database_specific": {"cwe_ids": ["CWE-20", "CWE-502"], "severity": "CRITICAL", "github_reviewed": true}
        }),
    );

    // A record whose fixed version PEP 440 cannot read: a warning naming it, never a silent "not
    // affected" (nor a finding).
    let mut unreadable = ghsa_record(
        "GHSA-0000-bad0-ver0",
        "CVE-2099-0030",
        "requests",
        "2.32.0 and later",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    );
    unreadable["summary"] = json!("A record with an unreadable version");
    write(&db.join("PyPI"), "GHSA-0000-bad0-ver0.json", &unreadable);

    // Trivy: the metadata the real Trivy writes for this image (no vulnerability database can be
    // downloaded here, so its license scanner runs), with findings in Trivy's DetectedVulnerability
    // shape added to an os-pkgs result.
    let out = Command::new(peer("trivy"))
        .args([
            "image",
            "--quiet",
            "--scanners",
            "license",
            "--format",
            "json",
            "--cache-dir",
        ])
        .arg(w.join("trivy-cache"))
        .arg(&image)
        .output()
        .unwrap();
    assert!(out.status.success(), "trivy: {}", stderr(&out));
    let mut trivy_report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        trivy_report["Metadata"]["ImageID"],
        json!(image_id),
        "Trivy names the image by its ID"
    );
    let libc6 = dpkg_version("libc6");
    let zlib = dpkg_version("zlib1g");
    trivy_report["Results"].as_array_mut().unwrap().push(json!({
        "Target": format!("{image} (debian 12)"), "Class": "os-pkgs", "Type": "debian",
        "Vulnerabilities": [
            {"VulnerabilityID": "CVE-2099-0001", "PkgID": format!("libc6@{libc6}"), "PkgName": "libc6",
             "PkgIdentifier": {"PURL": format!("pkg:deb/debian/libc6@{}?arch=amd64&distro=debian-12.8", libc6.replace('+', "%2B")), "UID": "a1"},
             "InstalledVersion": libc6, "FixedVersion": "2.36-9+deb12u99", "Status": "fixed",
             "Layer": {"Digest": "sha256:0", "DiffID": diff_ids[0]}, "SeveritySource": "nvd",
             "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2099-0001", "Title": "glibc: a flaw",
             "Severity": "HIGH", "CVSS": {"nvd": {"V3Vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N", "V3Score": 7.4}}},
            {"VulnerabilityID": "CVE-2099-0010", "PkgName": "zlib1g", "InstalledVersion": zlib,
             "Status": "affected", "Layer": {"DiffID": diff_ids[0]}, "Severity": "LOW", "Title": "zlib: a flaw"}
        ]
    }));
    std::fs::write(
        w.join("trivy.json"),
        serde_json::to_vec(&trivy_report).unwrap(),
    )
    .unwrap();

    // Grype: its JSON shape (grype/presenter/models), one match the SBOM lists and one it does not.
    let grype = json!({
        "matches": [
            {"vulnerability": {"id": "GHSA-9wx4-h78v-vm56", "dataSource": "https://github.com/advisories/GHSA-9wx4-h78v-vm56",
                               "namespace": "github:language:python", "severity": "Medium", "urls": [],
                               "description": "Requests `Session` object does not verify requests after making first request with verify=False",
                               "cvss": [{"version": "3.1", "vector": "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N", "metrics": {"baseScore": 5.6}, "vendorMetadata": {}}],
                               "fix": {"versions": ["2.32.0"], "state": "fixed"}, "advisories": []},
             "relatedVulnerabilities": [{"id": "CVE-2024-35195", "dataSource": "https://nvd.nist.gov/vuln/detail/CVE-2024-35195", "namespace": "nvd:cpe", "severity": "Medium"}],
             "matchDetails": [{"type": "exact-direct-match", "matcher": "python-matcher", "searchedBy": {"language": "python", "namespace": "github:language:python", "package": {"name": "requests", "version": "2.31.0"}}, "found": {"versionConstraint": "<2.32.0 (python)", "vulnerabilityID": "GHSA-9wx4-h78v-vm56"}}],
             "artifact": {"id": "4b2f1c", "name": "requests", "version": "2.31.0", "type": "python",
                          "locations": [{"path": "/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", "layerID": diff_ids[1]}],
                          "language": "python", "licenses": [], "cpes": [], "purl": "pkg:pypi/requests@2.31.0", "upstreams": []}},
            {"vulnerability": {"id": "CVE-2099-0020", "severity": "Critical", "urls": [], "fix": {"versions": [], "state": "not-fixed"}},
             "relatedVulnerabilities": [], "matchDetails": [],
             "artifact": {"id": "9c", "name": "libfoo", "version": "1.0", "type": "binary", "locations": [{"path": "/usr/lib/libfoo.so", "layerID": diff_ids[0]}],
                          "language": "", "licenses": [], "cpes": [], "purl": "pkg:generic/libfoo@1.0", "upstreams": []}}
        ],
        "source": {"type": "image", "target": {"userInput": image, "imageID": image_id, "manifestDigest": "sha256:1d2e", "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                                "tags": [image], "imageSize": 1, "layers": [], "manifest": null, "config": null, "repoDigests": [], "architecture": "amd64", "os": "linux"}},
        "distro": {"name": "debian", "version": "12", "idLike": []},
        "descriptor": {"name": "grype", "version": "0.86.1", "configuration": {}}
    });
    std::fs::write(w.join("grype.json"), serde_json::to_vec(&grype).unwrap()).unwrap();

    // OpenVEX: log4j is not affected (this image's own statement), plus a statement that matches
    // nothing (another vulnerability).
    let oci = format!("pkg:oci/scan@{}", image_id.replace(':', "%3A"));
    std::fs::write(w.join("openvex.json"), serde_json::to_vec(&json!({
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/shop-1",
        "author": "Shop security", "timestamp": "2026-11-20T10:00:00Z", "version": 1,
        "statements": [
            {"vulnerability": {"name": "CVE-2021-44228"},
             "products": [{"@id": oci, "subcomponents": [{"@id": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}]}],
             "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
             "impact_statement": "JNDI lookups are disabled"},
            {"vulnerability": {"name": "CVE-1999-0001"}, "products": [{"@id": oci}], "status": "not_affected",
             "justification": "component_not_present"}
        ]
    })).unwrap()).unwrap();
    // CycloneDX VEX: golang.org/x/net's rapid-reset finding resolved (by its CVE alias).
    std::fs::write(w.join("cdx-vex.json"), serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "vulnerabilities": [{"id": "CVE-2023-39325", "source": {"name": "NVD"},
                             "analysis": {"state": "resolved", "detail": "HTTP/2 is disabled in the server"},
                             "affects": [{"ref": "pkg:golang/golang.org/x/net@v0.15.0"}]}]
    })).unwrap()).unwrap();

    let sources = [
        "--vuln-db",
        "osv",
        "--vuln-report",
        "trivy.json",
        "--vuln-report",
        "grype.json",
        "--vex",
        "openvex.json",
        "--vex",
        "cdx-vex.json",
    ];
    let mut json_args = sources.to_vec();
    json_args.extend(["--format", "json"]);
    let out = scan(w, &image, &json_args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    validate_schema("scan.schema.json", &out.stdout, ".json");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found: Vec<(String, String, String, String, String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["package"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["fixed_version"].as_str().unwrap_or("").to_string(),
                f["sources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join("+"),
                f["vex"]["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    found.sort();
    let s = |x: &str| x.to_string();
    assert_eq!(
        found,
        [
            (s("CVE-2099-0010"), s("zlib1g"), s("low"), s(""), s("trivy"), s("")),
            (s("CVE-2099-0020"), s("libfoo"), s("critical"), s(""), s("grype"), s("")),
            (s("DEBIAN-CVE-2099-0001"), s("libc-bin"), s("unknown"), s("2.36-9+deb12u99"), s("osv"), s("")),
            (s("DEBIAN-CVE-2099-0001"), s("libc6"), s("high"), s("2.36-9+deb12u99"), s("osv+trivy"), s("")),
            (s("GHSA-9wx4-h78v-vm56"), s("requests"), s("medium"), s("2.32.0"), s("osv+grype"), s("")),
            (s("GHSA-jfh8-c2jp-5v3q"), s("log4j-core"), s("critical"), s("2.15.0"), s("osv"), s("not_affected")),
            (s("GHSA-p6mc-m468-83gw"), s("lodash"), s("high"), s("4.17.19"), s("osv"), s("")),
            (s("GO-2023-2102"), s("golang.org/x/net"), s("unknown"), s("0.17.0"), s("osv"), s("fixed")),
        ],
        "Trivy's CVE on libc6 is the OSV record's upstream CVE (one finding, Trivy's higher rating); \
         Grype's requests match is the same GHSA; VEX suppresses log4j (OpenVEX, image subcomponent) \
         and x/net (CycloneDX, by alias); Grype's libfoo is not in the SBOM but kept"
    );
    let layer_of = |package: &str| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["package"] == package)
            .unwrap()["layer"]
            .clone()
    };
    assert_eq!(
        layer_of("lodash"),
        json!(diff_ids[2]),
        "lodash came with the node_modules layer"
    );
    assert_eq!(layer_of("libc6"), json!(diff_ids[0]));
    assert_eq!(doc["summary"]["total"], 6);
    assert_eq!(doc["summary"]["suppressed"], 2);
    assert_eq!(doc["summary"]["by_severity"]["critical"], 1);
    let outcomes: Vec<(String, String, u64)> = doc["vex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                s(v["vulnerability"].as_str().unwrap()),
                s(v["outcome"].as_str().unwrap()),
                v["matched"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (s("CVE-2021-44228"), s("applied"), 1),
            (s("CVE-1999-0001"), s("unmatched"), 0),
            (s("CVE-2023-39325"), s("applied"), 1),
        ]
    );
    let warnings = stderr(&out);
    assert!(
        warnings.contains("openvex.json: the statement on CVE-1999-0001"),
        "{warnings}"
    );
    assert!(
        warnings.contains("grype.json: 1 finding(s) are on packages the SBOM does not list"),
        "{warnings}"
    );
    assert!(
        warnings.contains(
            "osv: OSV record GHSA-0000-bad0-ver0: cannot tell whether requests 2.31.0 is affected"
        ),
        "{warnings}"
    );
    let kinds: Vec<&str> = doc["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["osv", "trivy", "grype", "openvex", "cyclonedx-vex"]);

    // The same OSV records as an all.zip (Python's zipfile) give the same findings as the directory.
    let osv_only = |db: &str| {
        let out = scan(w, &image, &["--vuln-db", db, "--format", "json", "-q"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut found: Vec<(String, String)> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    s(f["id"].as_str().unwrap()),
                    s(f["package"].as_str().unwrap()),
                )
            })
            .collect();
        found.sort();
        found
    };
    let script = format!(
        "import zipfile, pathlib\nz = zipfile.ZipFile('{}', 'w', zipfile.ZIP_DEFLATED)\nfor p in sorted(pathlib.Path('{}').rglob('*.json')):\n    z.write(p, p.parent.name + '/' + p.name)\nz.close()\n",
        w.join("osv.zip").display(),
        db.display()
    );
    let zipped = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        zipped.status.success(),
        "{}",
        String::from_utf8_lossy(&zipped.stderr)
    );
    let from_dir = osv_only("osv");
    assert_eq!(from_dir.len(), 6, "{from_dir:?}");
    assert_eq!(osv_only("osv.zip"), from_dir);

    // The SBOM with a CycloneDX vulnerabilities section: valid against the official schema, VEX
    // analyses included, every affects ref a component of the SBOM (the unlisted libfoo aside).
    let mut cdx_args = sources.to_vec();
    cdx_args.extend(["--format", "cyclonedx-json", "-q"]);
    let out = scan(w, &image, &cdx_args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bom = valid_cyclonedx(&out.stdout);
    let refs: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["bom-ref"].as_str())
        .collect();
    let vulns = bom["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 8);
    for v in vulns {
        let r = v["affects"][0]["ref"].as_str().unwrap();
        assert!(refs.contains(&r) || r == "pkg:generic/libfoo@1.0", "{r}");
    }
    let log4j = vulns
        .iter()
        .find(|v| v["id"] == "GHSA-jfh8-c2jp-5v3q")
        .unwrap();
    assert_eq!(log4j["analysis"]["state"], "not_affected");
    assert_eq!(log4j["analysis"]["justification"], "code_not_reachable");
    assert_eq!(log4j["ratings"][0]["score"], 10.0);
    assert_eq!(
        vulns.iter().find(|v| v["id"] == "GO-2023-2102").unwrap()["analysis"]["state"],
        "resolved"
    );

    // The table, and --fail-on: the critical log4j finding is suppressed, Grype's libfoo is not.
    let out = scan(
        w,
        &image,
        &[&sources[..], &["--fail-on", "critical", "-q"]].concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("Suppressed by VEX:"), "{table}");
    assert!(table.contains("6 vulnerabilities (critical 1, high 2, medium 1, low 1, unknown 1), 4 fixable; 2 suppressed by VEX"), "{table}");
    let out = scan(
        w,
        &image,
        &[
            &sources[..],
            &["--fail-on", "critical", "--only-fixed", "-q"],
        ]
        .concat(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "libfoo has no fix: {}",
        stderr(&out)
    );

    // check: the VEX-suppressed findings do not count, and the verdict records the sources.
    std::fs::write(w.join("policy.yaml"), "version: \"1\"\nrules:\n  - id: criticals\n    action: deny\n    vulnerabilities: {max_severity: high, fixable_only: true}\n").unwrap();
    let out = run_vouch(
        w,
        &[
            &[
                "check",
                &image,
                "--policy",
                "policy.yaml",
                "--format",
                "json",
            ][..],
            &sources,
        ]
        .concat(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "only the suppressed log4j was critical and fixable: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    validate_schema("verdict.schema.json", &out.stdout, ".json");
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        verdict["vulnerabilitySources"]["sources"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        verdict["vulnerabilitySources"]["vex"][1]["outcome"],
        "unmatched"
    );
    let out = run_vouch(
        w,
        &[
            "check",
            &image,
            "--policy",
            "policy.yaml",
            "--format",
            "json",
            "--vuln-db",
            "osv",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "without the VEX, log4j fails the rule"
    );

    // A report of another image is refused (exit 2), naming both images; so is a report of no image.
    let mut other = trivy_report.clone();
    other["Metadata"]["ImageID"] = json!(base_id);
    std::fs::write(w.join("other.json"), serde_json::to_vec(&other).unwrap()).unwrap();
    let out = scan(w, &image, &["--vuln-report", "other.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "other.json: this trivy report is of image {base_id}, not of {image} ({image_id})"
        )),
        "{}",
        stderr(&out)
    );
    let mut dir_report = grype.clone();
    dir_report["source"] = json!({"type": "directory", "target": "/src"});
    std::fs::write(w.join("dir.json"), serde_json::to_vec(&dir_report).unwrap()).unwrap();
    let out = scan(w, &image, &["--vuln-report", "dir.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not name an image digest"),
        "{}",
        stderr(&out)
    );
    // VEX alone finds nothing; a VEX file that is not VEX; scan with no source at all.
    let out = run_vouch(w, &["check", &image, "--vex", "openvex.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = scan(w, &image, &["--vuln-db", "osv", "--vex", "trivy.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("trivy.json: not an OpenVEX or CycloneDX VEX document"),
        "{}",
        stderr(&out)
    );
    let out = scan(w, &image, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// An Alpine image (a `docker save` archive of an os-release and an apk database): Alpine's OSV
/// records name the origin package and the release as `Alpine:vX.Y`, so both binary packages built
/// from openssl are affected, compared by apk's version rules (`-r0` before `-r1`), and busybox,
/// fixed in an earlier revision, is not.
#[test]
fn alpine_packages_match_through_their_origin() {
    let installed = "C:Q1a=\nP:libcrypto3\nV:3.1.4-r0\nA:x86_64\nL:Apache-2.0\no:openssl\n\n\
                     C:Q1b=\nP:libssl3\nV:3.1.4-r0\nA:x86_64\nL:Apache-2.0\no:openssl\n\n\
                     C:Q1c=\nP:busybox\nV:1.36.1-r15\nA:x86_64\nL:GPL-2.0-only\no:busybox\n\n";
    let layer = Layer::new()
        .file(
            "etc/os-release",
            "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
        )
        .file("lib/apk/db/installed", installed)
        .bytes();
    let dir = dir_with_archive(&TestImage::new(vec![layer]).docker_archive("alpine-app:1"));
    let record = |id: &str, package: &str, fixed: &str| {
        json!({
            "id": id, "modified": "2024-01-10T12:00:00Z", "published": "2023-11-06T16:15:42Z",
            "upstream": [id], "details": "Issue summary: generating excessively long X9.42 DH keys may be very slow.",
            "affected": [{"package": {"ecosystem": "Alpine:v3.19", "name": package, "purl": format!("pkg:apk/alpine/{package}")},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
            "schema_version": "1.6.0"
        })
    };
    let db = dir.path().join("osv/Alpine");
    write(
        &db,
        "CVE-2023-5678.json",
        &record("CVE-2023-5678", "openssl", "3.1.4-r1"),
    );
    write(
        &db,
        "CVE-2023-42363.json",
        &record("CVE-2023-42363", "busybox", "1.36.1-r6"),
    );
    // The same advisory for another release does not apply.
    let mut other_release = record("CVE-2099-0100", "openssl", "9.0-r0");
    other_release["affected"][0]["package"]["ecosystem"] = json!("Alpine:v3.18");
    write(&db, "CVE-2099-0100.json", &other_release);

    let out = run_vouch(
        dir.path(),
        &[
            "scan",
            "docker-archive:img.tar",
            "--vuln-db",
            "osv",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    validate_schema("scan.schema.json", &out.stdout, ".json");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found: Vec<(String, String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["package"].as_str().unwrap().to_string(),
                f["fixed_version"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (
                "CVE-2023-5678".to_string(),
                "libcrypto3".to_string(),
                "3.1.4-r1".to_string()
            ),
            (
                "CVE-2023-5678".to_string(),
                "libssl3".to_string(),
                "3.1.4-r1".to_string()
            ),
        ]
    );
}
