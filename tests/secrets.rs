//! `secrets` rules on images built on the engine: a GitHub token set with `ENV`, an npm token passed
//! as a build argument to a `RUN` (which the builder records in the image's history), and a
//! database URL whose password is a placeholder. Exactly the two real secrets are reported, and no
//! output shows either; the same image without them passes; an exception by fingerprint sets one
//! aside.

mod support;

use serde_json::Value;
use support::*;

const POLICY: &str = "version: \"1\"\nname: secrets\nrules:\n  - id: no-secrets\n    action: deny\n    secrets: true\n";

#[test]
fn secrets_in_env_and_history_are_found_and_never_shown() {
    let base = debian_image();
    let id = std::process::id();
    // Tokens of the issuers' shapes, made up for this run.
    let github = format!("ghp_{:0>36}", format!("{id}T0kEn"));
    let npm = format!("npm_{:0>36}", format!("{id}NpMx"));
    let dir = tempfile::tempdir().unwrap();
    validate_schema("policy.schema.json", POLICY.as_bytes(), ".yaml");
    std::fs::write(dir.path().join("policy.yaml"), POLICY).unwrap();
    let leaky = format!("vouch-test/secrets-leaky:{id}");
    let dockerfile = |secret_lines: &str| {
        format!(
            "FROM {base}\n{secret_lines}ENV DATABASE_URL=postgres://shop:${{DB_PASSWORD}}@db.internal/shop\nUSER 1000\nCMD [\"/bin/bash\"]\n"
        )
    };
    let out = std::process::Command::new("docker")
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "-t", &leaky, "--build-arg", &format!("NPM_TOKEN={npm}"), "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(
                dockerfile(&format!(
                    "ENV GITHUB_TOKEN={github}\nARG NPM_TOKEN\nRUN echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /dev/null\n"
                ))
                .as_bytes(),
            )?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let check = |tag: &str, format: &str| {
        run_vouch(
            dir.path(),
            &["check", tag, "--policy", "policy.yaml", "--format", format],
        )
    };
    let json = check(&leaky, "json");
    assert_eq!(json.status.code(), Some(1), "{}", stderr(&json));
    validate_schema("verdict.schema.json", &json.stdout, ".json");
    let verdict: Value = serde_json::from_slice(&json.stdout).unwrap();
    let findings = verdict["rules"][0]["findings"].as_array().unwrap();
    let seen: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[0].0, "secrets.env");
    assert_eq!(
        seen[0].1,
        format!(
            "GitHub token (github-token) in ENV GITHUB_TOKEN: gh…{}",
            &github[38..]
        )
    );
    assert_eq!(seen[1].0, "secrets.history");
    assert!(seen[1]
        .1
        .starts_with("npm access token (npm-token) in build history entry "));
    // No output carries either secret.
    for format in ["json", "table", "sarif", "junit", "github"] {
        let out = check(&leaky, format);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains(&github) && !text.contains(&npm),
            "{format}: {text}"
        );
    }

    // An exception by the npm token's fingerprint (computed here, never printed by vouch).
    let digest = std::process::Command::new("sh")
        .args(["-c", &format!("printf %s '{npm}' | sha256sum")])
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&digest.stdout)[..16].to_string();
    std::fs::write(
        dir.path().join("excepted.yaml"),
        format!("{POLICY}exceptions:\n  - rule: no-secrets\n    match: \"{fingerprint}\"\n    reason: rotated on 2026-12-01\n  - rule: no-secrets\n    match: \"env:GITHUB_TOKEN\"\n    reason: a read-only token for the public mirror\n"),
    )
    .unwrap();
    let out = run_vouch(
        dir.path(),
        &[
            "check",
            &leaky,
            "--policy",
            "excepted.yaml",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let clean = format!("vouch-test/secrets-clean:{id}");
    build_image(&clean, &dockerfile(""), &[]);
    let out = check(&clean, "json");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for tag in [&leaky, &clean] {
        docker(&["rmi", "-f", tag]);
    }
}
