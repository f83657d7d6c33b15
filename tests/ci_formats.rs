//! The formats CI systems read, on an image built on the engine (Debian's base with a node module,
//! an OSV database, a VEX document and a policy with an exception):
//! - SARIF 2.1.0, validated by its JSON schema and by Microsoft's SARIF multitool: rules, levels,
//!   locations, suppressions (VEX and policy exceptions), fingerprints stable across runs;
//! - JUnit XML, validated by lxml against the Jenkins xUnit plugin's junit-10.xsd;
//! - GitLab's container-scanning report, validated against the constraints of its schema 15.2.1;
//! - GitHub Actions annotations and the job summary appended to `$GITHUB_STEP_SUMMARY`.

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

/// The image (its tag) and a directory with `osv/` (a critical and a low npm advisory on left-pad,
/// a Debian one on bash), `vex.json` (the low one does not affect the image) and `policy.yaml` (a
/// warn rule on the user, a deny rule on left-pad and bash, bash excepted), and the `Dockerfile`
/// the image was built from (left-pad's layer made on line 4, the base's on line 2).
fn fixture(name: &str) -> (String, tempfile::TempDir) {
    let base = debian_image();
    let tag = format!("vouch-test/{name}:{}", std::process::id());
    let dockerfile = format!(
        "# syntax=docker/dockerfile:1\n\
         FROM {base}\n\
         ENV APP=/srv/app\n\
         RUN mkdir -p /srv/app/node_modules/left-pad && \\\n\
         \x20   printf '{{\"name\":\"left-pad\",\"version\":\"1.1.0\"}}' > /srv/app/node_modules/left-pad/package.json\n\
         CMD [\"/bin/bash\"]\n"
    );
    build_image(&tag, &dockerfile, &[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), &dockerfile).unwrap();
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
    std::fs::write(
        dir.path().join("policy.yaml"),
        "version: \"1\"\nname: ci\nrules:\n  - id: no-root\n    action: warn\n    config:\n      non_root_user: true\n  - id: denied\n    action: deny\n    packages:\n      deny:\n        - purl: pkg:npm/left-pad\n        - purl: pkg:deb/debian/bash\nexceptions:\n  - rule: denied\n    match: pkg:deb/debian/bash\n    reason: the shell the base needs\n",
    )
    .unwrap();
    (tag, dir)
}

#[test]
fn scan_and_check_write_sarif_that_validates() {
    let (tag, dir) = fixture("sarif");
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
    // With the Dockerfile: left-pad's finding points first at the RUN line that made its layer,
    // bash's at the FROM line; the file in the image stays the second location.
    let (_, with_lines) = scan(&["--dockerfile", "./Dockerfile"]);
    let located = |id: &str| -> Vec<(String, u64)> {
        with_lines["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == id)
            .unwrap()["locations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let at = &l["physicalLocation"];
                (
                    at["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                    at["region"]["startLine"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        located("GHSA-aaaa-bbbb-cccc"),
        [
            ("Dockerfile".to_string(), 4),
            ("srv/app/node_modules/left-pad/package.json".to_string(), 1)
        ]
    );
    assert_eq!(
        located("DEBIAN-CVE-2099-0001")[0],
        ("Dockerfile".to_string(), 2)
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

/// A validated report's suite and its cases by name.
fn junit_cases(report: &Value) -> (&Value, Vec<&Value>) {
    let suite = &report[0];
    (suite, suite["cases"].as_array().unwrap().iter().collect())
}

#[test]
fn check_and_scan_write_junit_that_validates() {
    let (tag, dir) = fixture("junit");
    // check: one case per rule; the deny rule fails on left-pad (bash excepted), the warn rule
    // passes with its warning in system-out.
    let out = run_vouch(
        dir.path(),
        &[
            "check",
            &tag,
            "--policy",
            "policy.yaml",
            "--format",
            "junit",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = validate_junit(&out.stdout);
    let (suite, cases) = junit_cases(&report);
    assert_eq!(suite["counts"]["tests"], "2");
    assert_eq!(suite["counts"]["failures"], "1");
    assert_eq!(suite["properties"]["vouch.outcome"], "FAILED");
    let denied = cases.iter().find(|c| c["name"] == "denied").unwrap();
    assert_eq!(denied["outcome"], "failure");
    let text = denied["detail"]["text"].as_str().unwrap();
    assert!(text.contains("pkg:npm/left-pad"), "{text}");
    assert!(!text.contains("bash"), "{text}");
    assert!(
        denied["system_out"]
            .as_str()
            .unwrap()
            .contains("excepted (the shell the base needs)"),
        "{denied}"
    );
    let root = cases.iter().find(|c| c["name"] == "no-root").unwrap();
    assert_eq!(root["outcome"], "passed");
    assert!(root["system_out"]
        .as_str()
        .unwrap()
        .starts_with("warning: "));

    // scan: one case per finding; VEX's is skipped; without --fail-on every other one fails.
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", &tag, "--vuln-db", "osv", "--vex", "vex.json"];
        args.extend_from_slice(extra);
        args.extend(["--format", "junit"]);
        let out = run_vouch(dir.path(), &args);
        (out.status.code(), validate_junit(&out.stdout))
    };
    let (code, report) = scan(&[]);
    assert_eq!(code, Some(0));
    let (suite, cases) = junit_cases(&report);
    assert_eq!(suite["counts"]["tests"], "3");
    assert_eq!(suite["counts"]["failures"], "2");
    assert_eq!(suite["counts"]["skipped"], "1");
    let case = |id: &str| {
        *cases
            .iter()
            .find(|c| c["name"].as_str().unwrap().ends_with(id))
            .unwrap_or_else(|| panic!("{id}: {cases:?}"))
    };
    assert_eq!(
        case("GHSA-aaaa-bbbb-cccc")["name"],
        "[critical] GHSA-aaaa-bbbb-cccc"
    );
    assert_eq!(case("GHSA-aaaa-bbbb-cccc")["classname"], "left-pad 1.1.0");
    assert_eq!(case("GHSA-dddd-eeee-ffff")["outcome"], "skipped");
    // With --fail-on critical the Debian one (no severity) passes and says why.
    let (code, report) = scan(&["--fail-on", "critical"]);
    assert_eq!(code, Some(1));
    let (suite, cases) = junit_cases(&report);
    assert_eq!(suite["counts"]["failures"], "1");
    let debian = cases
        .iter()
        .find(|c| {
            c["name"]
                .as_str()
                .unwrap()
                .ends_with("DEBIAN-CVE-2099-0001")
        })
        .unwrap();
    assert_eq!(debian["outcome"], "passed");
    assert!(debian["system_out"]
        .as_str()
        .unwrap()
        .starts_with("below the threshold"));
    docker(&["rmi", "-f", &tag]);
}

#[test]
fn scan_writes_a_gitlab_container_scanning_report() {
    let (tag, dir) = fixture("gitlab");
    let scan = || {
        let out = run_vouch(
            dir.path(),
            &[
                "scan",
                &tag,
                "--vuln-db",
                "osv",
                "--vex",
                "vex.json",
                "--format",
                "gitlab",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        validate_gitlab(&out.stdout);
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let report = scan();
    assert_eq!(report["version"], "15.2.1");
    assert_eq!(report["scan"]["type"], "container_scanning");
    let vulns = report["vulnerabilities"].as_array().unwrap();
    // The one VEX suppresses is not reported: GitLab would list it as open.
    let ids: Vec<&str> = vulns
        .iter()
        .map(|v| v["identifiers"][0]["value"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(!ids.contains(&"GHSA-dddd-eeee-ffff"));
    let critical = vulns
        .iter()
        .find(|v| v["identifiers"][0]["value"] == "GHSA-aaaa-bbbb-cccc")
        .unwrap();
    assert_eq!(critical["severity"], "Critical");
    assert_eq!(critical["identifiers"][0]["type"], "ghsa");
    assert_eq!(critical["identifiers"][1]["value"], "CVE-2099-aaaa");
    assert_eq!(
        critical["location"]["dependency"]["package"]["name"],
        "left-pad"
    );
    assert_eq!(critical["location"]["dependency"]["version"], "1.1.0");
    assert_eq!(critical["location"]["operating_system"], "debian 12");
    assert_eq!(critical["location"]["image"], tag.as_str());
    assert_eq!(critical["solution"], "Upgrade left-pad to 1.3.0");
    // Ids are UUIDs that name the finding: the same in another run, different between findings.
    let again = scan();
    let uuids = |r: &Value| -> Vec<String> {
        let mut u: Vec<String> = r["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect();
        u.sort();
        u
    };
    assert_eq!(uuids(&report), uuids(&again));
    assert_ne!(uuids(&report)[0], uuids(&report)[1]);
    docker(&["rmi", "-f", &tag]);
}

#[test]
fn github_format_annotates_and_appends_the_job_summary() {
    let (tag, dir) = fixture("github");
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let github = |args: &[&str]| {
        let out = vouch()
            .args(args)
            .args(["--format", "github"])
            .current_dir(dir.path())
            .env("GITHUB_STEP_SUMMARY", &summary)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, annotations) = github(&["check", &tag, "--policy", "policy.yaml"]);
    assert_eq!(code, Some(1));
    let lines: Vec<&str> = annotations.lines().collect();
    assert!(lines.iter().all(|l| l.starts_with("::")), "{annotations}");
    assert!(
        lines.iter().any(|l| l.starts_with("::error ")
            && l.contains("title=vouch denied%3A ")
            && l.contains("left-pad")),
        "{annotations}"
    );
    assert!(lines
        .iter()
        .any(|l| l.starts_with("::warning ") && l.contains("no-root")));
    // The excepted finding is no annotation.
    assert!(!lines.iter().any(|l| l.contains("bash")), "{annotations}");
    assert!(lines
        .last()
        .unwrap()
        .starts_with("::error title=vouch check::"));

    let (code, annotations) = github(&["scan", &tag, "--vuln-db", "osv", "--vex", "vex.json"]);
    assert_eq!(code, Some(0));
    assert!(
        annotations.contains(
            "::error file=srv/app/node_modules/left-pad/package.json,title=vouch GHSA-aaaa-bbbb-cccc (critical)::left-pad 1.1.0 in "
        ),
        "{annotations}"
    );
    assert!(!annotations.contains("GHSA-dddd-eeee-ffff"));
    // With the Dockerfile, the annotation sits on the line that made the layer.
    let (_, annotations) = github(&[
        "scan",
        &tag,
        "--vuln-db",
        "osv",
        "--dockerfile",
        "Dockerfile",
    ]);
    assert!(
        annotations.contains(
            "::error file=Dockerfile,line=4,title=vouch GHSA-aaaa-bbbb-cccc (critical)::left-pad 1.1.0 in "
        ) && annotations.contains("(/srv/app/node_modules/left-pad/package.json)"),
        "{annotations}"
    );

    // Both summaries were appended after the earlier step's text.
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("earlier step\n## vouch check: "), "{md}");
    assert!(md.contains("| ❌ FAIL | denied | packages | 1 |"), "{md}");
    assert!(md.contains("## vouch scan: "), "{md}");
    assert!(
        md.contains("| critical | GHSA-aaaa-bbbb-cccc | left-pad | 1.1.0 | 1.3.0 |"),
        "{md}"
    );
    docker(&["rmi", "-f", &tag]);
}
