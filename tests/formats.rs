//! The SBOM in each format `sbom --format` writes (CycloneDX 1.5 JSON and XML, SPDX 2.3 JSON), for
//! one engine image (the debootstrap Debian 12 root with Python and npm packages on top, one of them
//! under a license the SPDX list lacks): each is checked by the format's own project (the CycloneDX
//! JSON schema, cyclonedx-python-lib's XML schema validation, spdx-tools' full SPDX validation, all
//! through `integration/`), and all three must list the same packages and dependency edges.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use support::*;

type Edge = (String, String);

/// Runs `integration/validate_sbom_formats.py FORMAT FILE`, which fails on an invalid document,
/// and returns its JSON summary.
fn second_reader(format: &str, file: &Path) -> Value {
    let out = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/integration/validate_sbom_formats.py"
        ))
        .arg(format)
        .arg(file)
        .output()
        .expect("python3 runs (make deps installs spdx-tools and cyclonedx-python-lib)");
    assert!(
        out.status.success(),
        "{format} {}: {}",
        file.display(),
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON summary")
}

fn triples(rows: &Value) -> BTreeSet<(String, String, String)> {
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let field = |i: usize| r[i].as_str().unwrap_or_default().to_string();
            (field(0), field(1), field(2))
        })
        .collect()
}

fn edges(rows: &Value) -> BTreeSet<Edge> {
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or_default().to_string(),
                r[1].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_sbom_format_validates_and_lists_the_same_packages() {
    let base = debian_image();
    let tag = format!("vouch-test/formats:{}", std::process::id());
    let metadata =
        "Metadata-Version: 2.1\nName: inhouse\nVersion: 3.1\nLicense: Acme Corp Internal Use\n";
    build_image(
        &tag,
        &format!(
            "FROM {base}\nCOPY site/ /usr/lib/python3/dist-packages/\nCOPY app/ /app/\nUSER 1000\n"
        ),
        &[
            ("site/inhouse-3.1.dist-info/METADATA", metadata.as_bytes()),
            (
                "app/node_modules/lodash/package.json",
                br#"{"name": "lodash", "version": "4.17.21", "license": "MIT"}"#,
            ),
        ],
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    for (format, file) in [
        ("cyclonedx-json", "sbom.cdx.json"),
        ("cyclonedx-xml", "sbom.cdx.xml"),
        ("spdx-json", "sbom.spdx.json"),
    ] {
        let out = run_vouch(w, &["sbom", &tag, "-q", "--format", format, "-o", file]);
        assert!(
            out.status.success(),
            "sbom --format {format}: {}",
            stderr(&out)
        );
    }

    // CycloneDX JSON: schema-valid; its packages and edges (bom-refs to purls).
    let json = valid_cyclonedx(&std::fs::read(w.join("sbom.cdx.json")).unwrap());
    let from_json: BTreeSet<_> = packages(&json)
        .into_iter()
        .map(|(name, version, purl, _, _)| (name, version, purl))
        .collect();
    let purl_of: BTreeMap<&str, &str> = json["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| Some((c["bom-ref"].as_str()?, c["purl"].as_str()?)))
        .collect();
    let json_edges: BTreeSet<Edge> = json["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            let purl_of = &purl_of;
            let from = purl_of[d["ref"].as_str().unwrap()].to_string();
            d["dependsOn"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |to| (from.clone(), purl_of[to.as_str().unwrap()].to_string()))
        })
        .collect();
    assert!(
        from_json.len() > 80,
        "the Debian root has ~100 packages: {}",
        from_json.len()
    );
    assert!(
        json_edges.len() > 50,
        "dpkg dependencies: {}",
        json_edges.len()
    );

    // CycloneDX XML: valid against the XML schema; the same components and edges.
    let xml = second_reader("cyclonedx-xml", &w.join("sbom.cdx.xml"));
    assert_eq!(triples(&xml["components"]), from_json);
    assert_eq!(edges(&xml["depends_on"]), json_edges);

    // SPDX: valid by spdx-tools; the same packages (the OS is its own package), CONTAINed by the
    // image package the document DESCRIBES; the same edges as DEPENDS_ON.
    let spdx = second_reader("spdx-json", &w.join("sbom.spdx.json"));
    assert_eq!(triples(&spdx["packages"]), from_json);
    assert_eq!(edges(&spdx["depends_on"]), json_edges);
    assert_eq!(spdx["describes"], serde_json::json!([tag]));
    assert_eq!(
        spdx["contains"].as_u64(),
        Some(from_json.len() as u64 + 1),
        "every package and the OS"
    );
    // Licenses: SPDX ids as they are; a name the list lacks as a LicenseRef with its text.
    let declared: BTreeMap<String, String> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or_default().to_string(),
                r[3].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(declared["lodash"], "MIT");
    assert_eq!(declared["inhouse"], "LicenseRef-Acme-Corp-Internal-Use");
    assert!(
        spdx["extracted"]
            .as_array()
            .unwrap()
            .contains(&Value::from("LicenseRef-Acme-Corp-Internal-Use")),
        "{spdx}"
    );
    let document: Value =
        serde_json::from_slice(&std::fs::read(w.join("sbom.spdx.json")).unwrap()).unwrap();
    let extracted = document["hasExtractedLicensingInfos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["licenseId"] == "LicenseRef-Acme-Corp-Internal-Use")
        .expect("the extracted license");
    assert_eq!(extracted["extractedText"], "Acme Corp Internal Use");
    docker(&["rmi", &tag]);
}

#[test]
fn an_unknown_format_is_a_usage_error() {
    let out = run_vouch(
        &std::env::temp_dir(),
        &[
            "sbom",
            "--format",
            "spdx-tag-value",
            "docker-archive:/nonexistent.tar",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("spdx-json"), "{}", stderr(&out));
}
