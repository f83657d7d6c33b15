//! `docker vouch diff OLD NEW` on two images built on the engine from real packages: the old one
//! is Debian's base with left-pad 1.1.0 and is-number 7.0.0 as `npm install` lays them out; the new
//! one is built on another base (the first with a layer of its own), with left-pad 1.3.0 and ms
//! 2.0.0 from npm and Debian's `tree` installed by dpkg. So: an upgrade, a removal, two additions
//! (npm and dpkg), a base change, a finding fixed and two new, and a policy rule that now fails.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use support::*;

/// `npm install`s `packages` into a fresh project; returns its files as build-context entries
/// under `app/`.
fn npm_project(packages: &[&str]) -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package.json"),
        r#"{"name":"diff-app","version":"1.0.0","private":true}"#,
    )
    .unwrap();
    let install = Command::new("npm")
        .args([
            "install",
            "--silent",
            "--no-audit",
            "--no-fund",
            "--save-exact",
        ])
        .args(packages)
        .current_dir(dir.path())
        .output()
        .expect("npm runs (make deps installs it)");
    assert!(
        install.status.success(),
        "npm install: {}",
        String::from_utf8_lossy(&install.stderr)
    );
    let mut files = Vec::new();
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir.path()).unwrap().display().to_string();
                files.push((format!("app/{name}"), std::fs::read(&path).unwrap()));
            }
        }
    }
    files
}

fn build(tag: &str, dockerfile: &str, files: &[(String, Vec<u8>)]) {
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    build_image(tag, dockerfile, &borrowed);
}

fn write_osv(dir: &Path) {
    std::fs::create_dir_all(dir.join("osv/npm")).unwrap();
    std::fs::create_dir_all(dir.join("osv/Debian")).unwrap();
    let npm = |id: &str, package: &str, fixed: &str, vector: &str| {
        json!({
            "schema_version": "1.6.0", "id": id, "modified": "2024-01-01T00:00:00Z",
            "published": "2024-01-01T00:00:00Z", "summary": format!("{package} before {fixed}"),
            "severity": [{"type": "CVSS_V3", "score": vector}],
            "affected": [{"package": {"ecosystem": "npm", "name": package},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]
        })
        .to_string()
    };
    std::fs::write(
        dir.join("osv/npm/GHSA-left-pad-1111.json"),
        npm(
            "GHSA-left-pad-1111",
            "left-pad",
            "1.3.0",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("osv/npm/GHSA-ms-2222.json"),
        npm(
            "GHSA-ms-2222",
            "ms",
            "2.0.1",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("osv/Debian/DEBIAN-CVE-2099-0002.json"),
        support::osv::debian_record("DEBIAN-CVE-2099-0002", "tree", "99.0-1").to_string(),
    )
    .unwrap();
}

#[test]
fn diff_of_two_real_images() {
    let base = debian_image();
    let id = std::process::id();
    let (base2, old, new) = (
        format!("vouch-test/diff-base2:{id}"),
        format!("vouch-test/diff-old:{id}"),
        format!("vouch-test/diff-new:{id}"),
    );
    build(
        &base2,
        &format!("FROM {base}\nRUN mkdir -p /etc/base2 && echo 2 > /etc/base2/marker\n"),
        &[],
    );
    build(
        &old,
        &format!("FROM {base}\nCOPY app /srv/app\n"),
        &npm_project(&["left-pad@1.1.0", "is-number@7.0.0"]),
    );
    let tree = debian_debs(&["tree"]);
    let mut files = npm_project(&["left-pad@1.3.0", "ms@2.0.0"]);
    files.push((
        "tree.deb".to_string(),
        std::fs::read(&tree["tree"]).unwrap(),
    ));
    build(
        &new,
        &format!(
            "FROM {base2}\nCOPY app /srv/app\nCOPY tree.deb /tmp/tree.deb\nRUN dpkg -i /tmp/tree.deb && rm /tmp/tree.deb\n"
        ),
        &files,
    );

    let dir = tempfile::tempdir().unwrap();
    write_osv(dir.path());
    std::fs::write(
        dir.path().join("policy.yaml"),
        "version: \"1\"\nname: diff\nrules:\n  - id: no-ms\n    action: deny\n    packages:\n      deny:\n        - purl: pkg:npm/ms\n  - id: no-root\n    action: warn\n    config:\n      non_root_user: true\n",
    )
    .unwrap();
    let diff = |args: &[&str]| {
        let out = run_vouch(dir.path(), args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            stderr(&out)
        );
        (out.status.code(), out.stdout)
    };
    let common = ["--policy", "policy.yaml", "--vuln-db", "osv", "-q"];
    let json_args: Vec<&str> = ["diff", old.as_str(), new.as_str(), "--format", "json"]
        .into_iter()
        .chain(common)
        .collect();
    let (code, stdout) = diff(&json_args);
    assert_eq!(code, Some(0), "no --fail-on-new, exit 0");
    validate_schema("diff.schema.json", &stdout, "json");
    let doc: Value = serde_json::from_slice(&stdout).unwrap();

    // The base changed: the new image's is base2, and the images share base's layers.
    assert_eq!(doc["base"]["changed"], true, "{}", doc["base"]);
    assert_eq!(doc["base"]["new"], base2.as_str());
    let base_layers = docker(&["image", "inspect", "-f", "{{len .RootFS.Layers}}", &base]);
    assert_eq!(
        doc["base"]["sharedLayers"].as_u64().unwrap().to_string(),
        base_layers.trim()
    );

    // Packages, by purl without version.
    let purls = |list: &Value| -> Vec<String> {
        let mut p: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|c| crate_purl_base(c["purl"].as_str().unwrap()))
            .collect();
        p.sort();
        p
    };
    assert_eq!(
        purls(&doc["packages"]["added"]),
        ["pkg:deb/debian/tree", "pkg:npm/ms"]
    );
    assert_eq!(purls(&doc["packages"]["removed"]), ["pkg:npm/is-number"]);
    let changed = doc["packages"]["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["package"], "pkg:npm/left-pad");
    assert_eq!(
        (
            &changed[0]["from"],
            &changed[0]["to"],
            &changed[0]["direction"]
        ),
        (&json!("1.1.0"), &json!("1.3.0"), &json!("upgraded"))
    );
    // The same diff the other way round: a downgrade, and what was added is removed.
    let (_, back) = diff(&[
        "diff",
        &new,
        &old,
        "--format",
        "json",
        "--policy",
        "policy.yaml",
        "-q",
    ]);
    let back: Value = serde_json::from_slice(&back).unwrap();
    assert_eq!(back["packages"]["changed"][0]["direction"], "downgraded");
    assert_eq!(
        purls(&back["packages"]["removed"]),
        ["pkg:deb/debian/tree", "pkg:npm/ms"]
    );
    assert_eq!(
        back["findings"],
        Value::Null,
        "no source given, nothing compared"
    );

    // Findings: left-pad's fixed by the upgrade; ms's and tree's new.
    let ids = |list: &Value| -> Vec<String> {
        let mut i: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        i.sort();
        i
    };
    assert_eq!(ids(&doc["findings"]["fixed"]), ["GHSA-left-pad-1111"]);
    assert_eq!(
        ids(&doc["findings"]["new"]),
        ["DEBIAN-CVE-2099-0002", "GHSA-ms-2222"]
    );

    // Policy: no-ms now fails; no-root warns on both and is not listed.
    assert_eq!(doc["policy"]["old"], "PASSED");
    assert_eq!(doc["policy"]["new"], "FAILED");
    let rules = doc["policy"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(
        (&rules[0]["id"], &rules[0]["old"], &rules[0]["new"]),
        (&json!("no-ms"), &json!("passed"), &json!("failed"))
    );

    // --fail-on-new: ms's finding is high, none is critical.
    let with = |threshold: &str| {
        let args: Vec<&str> = [
            "diff",
            old.as_str(),
            new.as_str(),
            "--fail-on-new",
            threshold,
        ]
        .into_iter()
        .chain(common)
        .collect();
        diff(&args).0
    };
    assert_eq!(with("high"), Some(1));
    assert_eq!(with("critical"), Some(0));

    // Markdown for a pull request, and the table.
    let md_args: Vec<&str> = ["diff", old.as_str(), new.as_str(), "-f", "markdown"]
        .into_iter()
        .chain(common)
        .collect();
    let md = String::from_utf8(diff(&md_args).1).unwrap();
    assert!(
        md.contains("| upgraded | left-pad | 1.1.0 | 1.3.0 |"),
        "{md}"
    );
    assert!(md.contains("| removed | is-number | 7.0.0 | |"), "{md}");
    assert!(
        md.contains("| new | GHSA-ms-2222 | high | ms | 2.0.0 |"),
        "{md}"
    );
    assert!(md.contains("| no-ms | pass (0) | FAIL (1) |"), "{md}");
    let table_args: Vec<&str> = ["diff", old.as_str(), new.as_str()]
        .into_iter()
        .chain(common)
        .collect();
    let table = String::from_utf8(diff(&table_args).1).unwrap();
    assert!(
        table.contains("Packages: 2 added, 1 removed, 1 changed"),
        "{table}"
    );
    assert!(
        table.contains("  ~ left-pad 1.1.0 -> 1.3.0 (upgraded)"),
        "{table}"
    );
    assert!(table.contains("Vulnerabilities: 2 new, 1 fixed"), "{table}");

    // The old side as the SBOM vouch wrote of it: the same package changes.
    let sbom = run_vouch(dir.path(), &["sbom", &old, "-o", "old.cdx.json", "-q"]);
    assert!(sbom.status.success(), "{}", stderr(&sbom));
    let (_, from_sbom) = diff(&[
        "diff",
        "sbom:old.cdx.json",
        &new,
        "--format",
        "json",
        "--policy",
        "policy.yaml",
        "-q",
    ]);
    let from_sbom: Value = serde_json::from_slice(&from_sbom).unwrap();
    assert_eq!(from_sbom["packages"], doc["packages"]);
    for tag in [&new, &old, &base2] {
        docker(&["rmi", "-f", tag]);
    }
}

/// A purl without version, qualifiers or subpath.
fn crate_purl_base(purl: &str) -> String {
    let end = purl.find(['@', '?', '#']).unwrap_or(purl.len());
    purl[..end].to_string()
}
