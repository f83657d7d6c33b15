//! Bitnami images: an application built under `/opt/bitnami/APP/` with the SPDX document Bitnami
//! ships beside it (`.spdx-APP.spdx`, SPDX 2.3 JSON in Bitnami's shape: the application it
//! describes, what the application contains, purls `pkg:bitnami/...`, CPEs with `*` as the part,
//! and a jar another scanner listed). The document is validated by spdx-tools, the SPDX reference
//! implementation; the application's binary is Debian's real redis. Compared with Trivy, which
//! reads these documents too (Syft 1.18 does not).

mod support;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::*;

/// An SPDX document in the shape Bitnami ships, for redis `version` containing wait-for-port.
fn bitnami_document(version: &str) -> Value {
    let package = |id: &str, name: &str, version: &str, license: &str, cpe: Option<&str>| {
        let mut refs = vec![json!({
            "referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
            "referenceLocator": format!("pkg:bitnami/{name}@{version}?arch=amd64&distro=debian-12")
        })];
        if let Some(cpe) = cpe {
            refs.insert(0, json!({"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": cpe}));
        }
        json!({
            "SPDXID": id, "name": name, "versionInfo": version,
            "downloadLocation": format!("https://example.com/{name}-{version}.tar.gz"),
            "licenseConcluded": license, "licenseDeclared": license, "filesAnalyzed": false,
            "externalRefs": refs, "copyrightText": "NOASSERTION"
        })
    };
    let upstream = version.rsplit_once('-').map_or(version, |(v, _)| v);
    json!({
        "SPDXID": "SPDXRef-DOCUMENT",
        "spdxVersion": "SPDX-2.3",
        "creationInfo": {"created": "2025-02-02T05:18:41Z", "creators": ["Organization: Broadcom Inc. and/or its subsidiaries."]},
        "name": format!("SPDX document for Redis {upstream}"),
        "dataLicense": "CC0-1.0",
        "documentDescribes": ["SPDXRef-redis"],
        "documentNamespace": format!("https://bitnami.example/redis-{version}"),
        "packages": [
            package("SPDXRef-redis", "redis", version, "BSD-3-Clause",
                    Some(&format!("cpe:2.3:*:redis:redis:{upstream}:*:*:*:*:*:*:*"))),
            package("SPDXRef-wait-for-port", "wait-for-port", "1.0.8", "Apache-2.0", None),
            {
                "SPDXID": "SPDXRef-Package-551f76fc", "name": "org.example:tool", "versionInfo": "1.6.8",
                "downloadLocation": "NONE", "filesAnalyzed": false, "licenseConcluded": "NONE", "licenseDeclared": "NONE",
                "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:maven/org.example/tool@1.6.8"}],
                "copyrightText": "NOASSERTION"
            }
        ],
        "relationships": [
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-redis"},
            {"spdxElementId": "SPDXRef-redis", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-wait-for-port"},
            {"spdxElementId": "SPDXRef-redis", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-Package-551f76fc"}
        ]
    })
}

/// The upstream version of a Debian package's `.deb` (`7.0.15` of `5:7.0.15-1~deb12u3`).
fn upstream_version(deb: &Path) -> String {
    let out = Command::new("dpkg-deb")
        .args(["-f"])
        .arg(deb)
        .arg("Version")
        .output()
        .unwrap();
    let full = String::from_utf8(out.stdout).unwrap();
    let without_epoch = full.trim().rsplit_once(':').map_or(full.trim(), |(_, v)| v);
    without_epoch
        .split(['-', '+', '~'])
        .next()
        .unwrap()
        .to_string()
}

/// (name, version) of the components a peer tool found with a `pkg:bitnami/` purl.
fn peer_bitnami(sbom: &Value) -> BTreeSet<(String, String)> {
    sbom["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:bitnami/"))
        })
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn bitnami_documents_name_the_application_and_what_it_contains() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let debs = debian_debs(&["redis-tools"]);
    let deb = debs.values().next().expect("redis-tools' .deb");
    let upstream = upstream_version(deb);
    let unpacked = dir.path().join("deb");
    unpack_debs(&["redis-tools"], &unpacked);

    let root = dir.path().join("root");
    let app = root.join("opt/bitnami/redis");
    std::fs::create_dir_all(app.join("bin")).unwrap();
    std::fs::copy(
        unpacked.join("usr/bin/redis-check-rdb"),
        app.join("bin/redis-server"),
    )
    .unwrap();
    let version = format!("{upstream}-0");
    let document = serde_json::to_vec_pretty(&bitnami_document(&version)).unwrap();
    std::fs::write(app.join(".spdx-redis.spdx"), &document).unwrap();
    // spdx-tools, the SPDX reference implementation, reads it as valid SPDX 2.3 (it tells formats
    // by file name, so it reads a .json copy).
    let copy = dir.path().join("redis.spdx.json");
    std::fs::write(&copy, &document).unwrap();
    let validated = Command::new("pyspdxtools")
        .arg("-i")
        .arg(&copy)
        .output()
        .expect("pyspdxtools (make deps installs spdx-tools)");
    assert!(
        validated.status.success(),
        "spdx-tools: {}{}",
        String::from_utf8_lossy(&validated.stdout),
        stderr(&validated)
    );
    // A second application whose document is damaged: said, not skipped silently.
    std::fs::create_dir_all(root.join("opt/bitnami/broken")).unwrap();
    std::fs::write(
        root.join("opt/bitnami/broken/.spdx-broken.spdx"),
        "SPDXVersion: SPDX-2.3\n",
    )
    .unwrap();

    let tag = format!("vouch-test/bitnami:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, warnings) = sbom_of_image(&tag);
    assert!(
        warnings.contains("/opt/bitnami/broken/.spdx-broken.spdx: not an SPDX JSON document"),
        "{warnings}"
    );
    let components = sbom["components"].as_array().unwrap();
    let ours: BTreeSet<(String, String)> = components
        .iter()
        .filter(|c| c["purl"].as_str().unwrap().starts_with("pkg:bitnami/"))
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        ours,
        BTreeSet::from([
            ("redis".to_string(), version.clone()),
            ("wait-for-port".to_string(), "1.0.8".to_string())
        ])
    );
    let redis = components.iter().find(|c| c["name"] == "redis").unwrap();
    assert_eq!(
        redis["purl"],
        format!("pkg:bitnami/redis@{version}?arch=amd64&distro=debian-12")
    );
    assert_eq!(
        redis["cpe"],
        format!("cpe:2.3:a:redis:redis:{upstream}:*:*:*:*:*:*:*")
    );
    assert_eq!(
        redis["licenses"],
        json!([{"license": {"id": "BSD-3-Clause"}}])
    );
    assert_eq!(depends_on(&sbom, "pkg:bitnami/redis@"), ["wait-for-port"]);
    // Bitnami's advisories (OSV ecosystem `Bitnami`) give the upstream version: the revision
    // (`-0`) is not a pre-release that would sort below the fix.
    let osv = dir.path().join("osv/Bitnami");
    std::fs::create_dir_all(&osv).unwrap();
    let record = |id: &str, fixed: &str| {
        json!({
            "schema_version": "1.5.0", "id": id, "modified": "2025-01-01T00:00:00Z",
            "summary": format!("redis before {fixed}"),
            "affected": [{"package": {"ecosystem": "Bitnami", "name": "redis"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]
        })
    };
    for (id, fixed) in [
        ("BIT-redis-2099-0001", format!("{upstream}.1")),
        ("BIT-redis-2099-0002", upstream.clone()),
    ] {
        std::fs::write(
            osv.join(format!("{id}.json")),
            serde_json::to_vec(&record(id, &fixed)).unwrap(),
        )
        .unwrap();
    }
    let out = run_vouch(
        dir.path(),
        &[
            "scan",
            &tag,
            "--vuln-db",
            &dir.path().join("osv").display().to_string(),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let scanned: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = scanned["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["BIT-redis-2099-0001"],
        "fixed in {upstream} is not this {version}"
    );
    // The binary is the application's, not a second redis.
    let others: Vec<&Value> = components
        .iter()
        .filter(|c| c["name"] == "redis" && c["purl"] != redis["purl"])
        .collect();
    assert!(others.is_empty(), "{others:?}");
    // Without the document, the same binary is found by its bytes: the test above is not empty.
    std::fs::remove_file(app.join(".spdx-redis.spdx")).unwrap();
    let bare_tag = format!("vouch-test/bitnami-bare:{}", std::process::id());
    import_dir(&root, &bare_tag);
    let (bare, _) = sbom_of_image(&bare_tag);
    let found: Vec<String> = packages(&bare)
        .into_iter()
        .filter(|p| p.0 == "redis")
        .map(|p| p.1)
        .collect();
    assert_eq!(found, [upstream.as_str()]);
    docker(&["rmi", "-f", &bare_tag]);

    // Trivy finds the same Bitnami packages in the same image (Syft 1.18 has no Bitnami cataloger).
    let archive = dir.path().join("img.tar");
    docker(&["save", "-o", &archive.display().to_string(), &tag]);
    let trivy = Command::new(peer("trivy"))
        .args(["image", "-q", "-f", "cyclonedx", "--cache-dir"])
        .arg(dir.path().join("trivy-cache"))
        .arg("--input")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(trivy.status.success(), "trivy: {}", stderr(&trivy));
    assert_eq!(
        peer_bitnami(&serde_json::from_slice(&trivy.stdout).unwrap()),
        ours,
        "as Trivy"
    );
    docker(&["rmi", "-f", &tag]);
}
