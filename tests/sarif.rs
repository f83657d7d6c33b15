//! SARIF 2.1.0 for code-scanning pages: `scan --format sarif` and `check --format sarif` on an
//! image built on the engine (Debian's base with a node module), validated by the SARIF 2.1.0 JSON
//! schema and by Microsoft's SARIF multitool; rules, levels, locations, suppressions (VEX and
//! policy exceptions) and fingerprints that stay the same from one run to the next.

mod support;

use serde_json::{json, Value};
use support::*;

fn vouch_sarif(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, Value) {
    let out = run_vouch(dir, args);
    let log: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let warnings = validate_sarif(&out.stdout);
    assert!(warnings.is_empty(), "{warnings:?}");
    (out.status.code(), log)
}

#[test]
fn scan_and_check_write_sarif_that_validates() {
    let base = debian_image();
    let tag = format!("vouch-test/sarif:{}", std::process::id());
    build_image(
        &tag,
        &format!(
            "FROM {base}\n\
             RUN mkdir -p /srv/app/node_modules/left-pad && printf '{{\"name\":\"left-pad\",\"version\":\"1.1.0\"}}' > /srv/app/node_modules/left-pad/package.json\n"
        ),
        &[],
    );
    let dir = tempfile::tempdir().unwrap();
    let osv = dir.path().join("osv");
    std::fs::create_dir_all(osv.join("npm")).unwrap();
    std::fs::create_dir_all(osv.join("Debian")).unwrap();
    let npm = |id: &str, fixed: &str, score: &str| {
        json!({
            "schema_version": "1.6.0", "id": id, "modified": "2024-01-01T00:00:00Z",
            "published": "2024-01-01T00:00:00Z", "aliases": [format!("CVE-2099-{}", &id[5..9])],
            "summary": format!("left-pad before {fixed} pads wrongly"),
            "severity": [{"type": "CVSS_V3", "score": score}],
            "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]
        })
    };
    std::fs::write(
        osv.join("npm/GHSA-aaaa-bbbb-cccc.json"),
        npm(
            "GHSA-aaaa-bbbb-cccc",
            "1.3.0",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        )
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        osv.join("npm/GHSA-dddd-eeee-ffff.json"),
        npm(
            "GHSA-dddd-eeee-ffff",
            "1.2.0",
            "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N",
        )
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        osv.join("Debian/DEBIAN-CVE-2099-0001.json"),
        support::osv::debian_record("DEBIAN-CVE-2099-0001", "bash", "5.2.99-1").to_string(),
    )
    .unwrap();
    // OpenVEX: the low one does not affect this image.
    std::fs::write(
        dir.path().join("vex.json"),
        json!({
            "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
            "author": "Shop security", "timestamp": "2026-11-20T10:00:00Z", "version": 1,
            "statements": [{"vulnerability": {"name": "GHSA-dddd-eeee-ffff"},
                            "products": [{"@id": "pkg:npm/left-pad@1.1.0"}],
                            "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]
        })
        .to_string(),
    )
    .unwrap();
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", &tag, "--vuln-db", "osv", "--format", "sarif"];
        args.extend_from_slice(extra);
        vouch_sarif(dir.path(), &args)
    };
    let (code, log) = scan(&["--vex", "vex.json"]);
    assert_eq!(code, Some(0));
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "docker-vouch");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "DEBIAN-CVE-2099-0001",
            "GHSA-aaaa-bbbb-cccc",
            "GHSA-dddd-eeee-ffff"
        ]
    );
    let results = run["results"].as_array().unwrap();
    let by_rule = |id: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == id)
            .unwrap_or_else(|| panic!("{id}: {results:?}"))
    };
    let critical = by_rule("GHSA-aaaa-bbbb-cccc");
    assert_eq!(critical["level"], "error");
    assert_eq!(
        critical["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "srv/app/node_modules/left-pad/package.json"
    );
    assert!(critical.get("suppressions").is_none());
    let low = by_rule("GHSA-dddd-eeee-ffff");
    assert_eq!(low["level"], "note");
    assert_eq!(low["suppressions"][0]["kind"], "external");
    assert_eq!(
        by_rule("DEBIAN-CVE-2099-0001")["locations"][0]["physicalLocation"]["artifactLocation"]
            ["uri"],
        "var/lib/dpkg/status"
    );
    // The same findings fingerprint alike in another run (no VEX this time).
    let (_, again) = scan(&[]);
    let prints = |log: &Value| -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap().to_string(),
                    r["partialFingerprints"]["vouchFinding/v1"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect();
        p.sort();
        p
    };
    assert_eq!(prints(&log), prints(&again));

    // check: the verdict's findings, a gating one an error, an excepted one suppressed.
    std::fs::write(
        dir.path().join("policy.yaml"),
        "version: \"1\"\nname: sarif\nrules:\n  - id: no-root\n    action: warn\n    config:\n      non_root_user: true\n  - id: denied\n    action: deny\n    packages:\n      deny:\n        - purl: pkg:npm/left-pad\n        - purl: pkg:deb/debian/bash\nexceptions:\n  - rule: denied\n    match: pkg:deb/debian/bash\n    reason: the shell the base needs\n",
    )
    .unwrap();
    let (code, verdict) = vouch_sarif(
        dir.path(),
        &[
            "check",
            &tag,
            "--policy",
            "policy.yaml",
            "--format",
            "sarif",
        ],
    );
    assert_eq!(code, Some(1));
    let results = verdict["runs"][0]["results"].as_array().unwrap();
    let find = |rule: &str, text: &str| {
        results
            .iter()
            .find(|r| {
                r["properties"]["rule"] == rule
                    && r["message"]["text"].as_str().unwrap().contains(text)
            })
            .unwrap_or_else(|| panic!("{rule} {text}: {results:?}"))
    };
    assert_eq!(find("denied", "left-pad")["level"], "error");
    assert_eq!(
        find("denied", "bash")["suppressions"][0]["justification"],
        "policy exception: the shell the base needs"
    );
    let root = results
        .iter()
        .find(|r| r["properties"]["rule"] == "no-root")
        .unwrap();
    assert_eq!(root["level"], "warning");
    assert_eq!(
        root["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        tag.replace(':', "%3A")
    );
    docker(&["rmi", "-f", &tag]);
}
