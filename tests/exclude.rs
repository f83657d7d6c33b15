//! `--exclude GLOB`: paths of the image left out of the catalog (their files neither kept nor
//! probed), recorded in the SBOM so that a reader sees what it does not cover; `check` judges what
//! is left; a glob that does not parse is a usage error.

mod support;

use serde_json::Value;
use support::*;

#[test]
fn excluded_paths_are_not_cataloged_and_the_sbom_says_so() {
    let base = debian_image();
    let tag = format!("vouch-test/exclude:{}", std::process::id());
    build_image(
        &tag,
        &format!(
            "FROM {base}\n\
             RUN mkdir -p /srv/app/node_modules/left-pad /opt/tools && printf '{{\"name\":\"left-pad\",\"version\":\"1.3.0\"}}' > /srv/app/node_modules/left-pad/package.json && cp /bin/bash /opt/tools/bash\n"
        ),
        &[],
    );
    let dir = tempfile::tempdir().unwrap();
    let sbom = |args: &[&str]| -> Value {
        let mut all = vec!["sbom", tag.as_str()];
        all.extend_from_slice(args);
        let out = run_vouch(dir.path(), &all);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let names = |sbom: &Value| -> Vec<(String, String)> {
        sbom["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["purl"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let whole = sbom(&[]);
    let has = |sbom: &Value, purl: &str| names(sbom).iter().any(|(_, p)| p.starts_with(purl));
    assert!(has(&whole, "pkg:npm/left-pad@"), "the test is not empty");
    assert!(has(&whole, "pkg:generic/bash@"), "the test is not empty");

    let cut = sbom(&["--exclude", "/srv/app/node_modules", "--exclude", "opt/*"]);
    assert!(!has(&cut, "pkg:npm/left-pad@"));
    assert!(!has(&cut, "pkg:generic/bash@"));
    assert!(has(&cut, "pkg:deb/debian/bash@"), "the rest is cataloged");
    let excluded: Vec<&str> = cut["metadata"]["component"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "vouch:excluded")
        .map(|p| p["value"].as_str().unwrap())
        .collect();
    assert_eq!(excluded, ["/srv/app/node_modules", "opt/*"]);
    assert!(whole["metadata"]["component"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["name"] != "vouch:excluded"));
    let spdx = sbom(&[
        "--exclude",
        "/srv/app/node_modules",
        "--format",
        "spdx-json",
    ]);
    assert_eq!(
        spdx["creationInfo"]["comment"],
        "vouch:excluded (not cataloged): /srv/app/node_modules"
    );

    // check judges what is left.
    std::fs::write(
        dir.path().join("policy.yaml"),
        "version: \"1\"\nname: no-left-pad\nrules:\n  - id: denied\n    action: deny\n    packages:\n      deny:\n        - purl: pkg:npm/left-pad\n",
    )
    .unwrap();
    let check = |extra: &[&str]| {
        let mut args = vec!["check", tag.as_str(), "--policy", "policy.yaml"];
        args.extend_from_slice(extra);
        run_vouch(dir.path(), &args)
    };
    assert_eq!(check(&[]).status.code(), Some(1));
    let table = check(&["--exclude", "srv/app/**"]);
    assert_eq!(table.status.code(), Some(0));
    // The verdict says what it did not read.
    let judged = check(&["--exclude", "srv/app/**", "--format", "json"]);
    validate_schema("verdict.schema.json", &judged.stdout, ".json");
    let verdict: Value = serde_json::from_slice(&judged.stdout).unwrap();
    assert_eq!(verdict["excluded"], serde_json::json!(["srv/app/**"]));
    assert!(
        String::from_utf8_lossy(&table.stdout).contains("Not read (--exclude): srv/app/**"),
        "{}",
        String::from_utf8_lossy(&table.stdout)
    );

    let bad = run_vouch(dir.path(), &["sbom", &tag, "--exclude", "srv/[app"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("--exclude"), "{}", stderr(&bad));
    docker(&["rmi", "-f", &tag]);
}
