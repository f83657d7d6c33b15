//! `secrets` rules on images built on the engine, beside the host standards' `file_content` rules:
//! an AWS key in a file a later layer deletes, a PyPI token in `.pypirc`, docker `config.json`
//! auths, a legacy npm token in `.npmrc`, `.git-credentials`, a `.env` password, a GitHub token set
//! with `ENV`, an npm token passed as a build argument to a `RUN` (which the builder records in the
//! image's history), and a database URL whose password is a placeholder; `PermitRootLogin yes` and
//! Debian's `PASS_MAX_DAYS 99999`. Exactly those are reported, no output shows a secret, the same
//! image fixed passes, exceptions set findings aside, and a policy's own rules search files.

mod support;

use serde_json::Value;
use support::*;

const POLICY: &str = "version: \"1\"\nname: secrets\nrules:\n  - id: no-secrets\n    action: deny\n    secrets: true\n";

/// The host standards beside it: sshd and password ageing, as the organisation's policy says them.
const OS_RULES: &str = "  - id: sshd\n    action: deny\n    file_content:\n      path: /etc/ssh/sshd_config\n      format: sshd\n      require:\n        PermitRootLogin: \"no\"\n  - id: password-ageing\n    action: deny\n    file_content:\n      path: /etc/login.defs\n      format: login.defs\n      require:\n        PASS_MAX_DAYS: \"<= 90\"\n";

#[test]
fn secrets_in_env_and_history_are_found_and_never_shown() {
    let base = debian_image();
    let id = std::process::id();
    // Tokens of the issuers' shapes, made up for this run.
    let github = format!("ghp_{:0>36}", format!("{id}T0kEn"));
    let npm = format!("npm_{:0>36}", format!("{id}NpMx"));
    let dir = tempfile::tempdir().unwrap();
    let policy = format!("{POLICY}{OS_RULES}");
    validate_schema("policy.schema.json", policy.as_bytes(), ".yaml");
    std::fs::write(dir.path().join("policy.yaml"), &policy).unwrap();
    let leaky = format!("vouch-test/secrets-leaky:{id}");
    let dockerfile = |secret_lines: &str| {
        format!(
            "FROM {base}\n{secret_lines}ENV DATABASE_URL=postgres://shop:${{DB_PASSWORD}}@db.internal/shop\nUSER 1000\nCMD [\"/bin/bash\"]\n"
        )
    };
    let aws = format!("AKIA{:0>16}", id);
    let pypi = format!("pypi-AgEIcHlwaS5vcmc{:A>60}", id);
    let context = tempfile::tempdir().unwrap();
    let acme = format!("acme_{:0>32x}", u64::from(id) * 7919);
    let legacy = format!("LGC-{:0>12}", id);
    let npm_legacy = format!("{:0>8x}-6f70-4182-93a4-b5c6d7e8f901", id);
    let git_password = format!("Zq8{id}kPw0rT");
    let dotenv_password = format!("Tr0ub4dor-{id}-3");
    let files: [(&str, String); 8] = [
        ("sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\nUsePAM yes\n".to_string()),
        ("npmrc", format!("registry=https://npm.acme.internal/\n//npm.acme.internal/:_authToken={npm_legacy}\n")),
        ("git-credentials", format!("https://ci-bot:{git_password}@git.acme.internal\n")),
        ("dotenv", format!("# app settings\nDEBUG=false\nDB_PASSWORD={dotenv_password}\nSESSION_SECRET=$SESSION_SECRET\n")),
        (
            "acme.conf",
            format!("# ACME client\nendpoint = https://api.acme.internal\napi_key = {acme}\nfallback = {legacy}\n"),
        ),
        ("creds", format!("[default]\naws_access_key_id = {aws}\nregion = eu-west-1\n")),
        (
            "pypirc",
            format!("[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = {pypi}\n"),
        ),
        (
            "config.json",
            "{\n  \"auths\": {\n    \"registry.example.com\": {\n      \"auth\": \"c2hvcDpzM2NyM3QtcmVnaXN0cnktcGFzcw==\"\n    }\n  }\n}\n".to_string(),
        ),
    ];
    for (name, body) in &files {
        std::fs::write(context.path().join(name), body).unwrap();
    }
    std::fs::write(
        context.path().join("Dockerfile"),
        dockerfile(&format!(
            "COPY creds /opt/deploy/credentials\nRUN rm /opt/deploy/credentials\n\
             COPY pypirc /root/.pypirc\nCOPY config.json /root/.docker/config.json\n\
             COPY acme.conf /etc/acme/client.conf\nCOPY sshd_config /etc/ssh/sshd_config\n\
             COPY npmrc /home/app/.npmrc\nCOPY git-credentials /root/.git-credentials\nCOPY dotenv /srv/app/.env\n\
             ENV GITHUB_TOKEN={github}\nARG NPM_TOKEN\nRUN echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /dev/null\n"
        )),
    )
    .unwrap();
    docker(&[
        "build",
        "-q",
        "-t",
        &leaky,
        "--build-arg",
        &format!("NPM_TOKEN={npm}"),
        &context.path().display().to_string(),
    ]);

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
    assert_eq!(seen.len(), 8, "{seen:#?}");
    let file = |path: &str| {
        findings
            .iter()
            .find(|f| f["code"] == "secrets.file" && f["evidence"]["path"] == path)
            .unwrap_or_else(|| panic!("{path}: {seen:#?}"))
    };
    let deleted = file("/opt/deploy/credentials");
    let message = deleted["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "AWS access key ID (aws-access-key-id) in /opt/deploy/credentials:2 (layer "
        ),
        "{message}"
    );
    assert!(message.contains("deleted or replaced by a later layer but still in the image"));
    assert_eq!(deleted["evidence"]["value"], format!("AK…{}", &aws[18..]));
    let pypirc = file("/root/.pypirc");
    assert_eq!(pypirc["evidence"]["line"], 6);
    assert!(pypirc["message"].as_str().unwrap().contains("(pypi-token)"));
    let auths = file("/root/.docker/config.json");
    assert!(auths["message"]
        .as_str()
        .unwrap()
        .contains("(docker-config-auth)"));
    for (path, rule, line) in [
        ("/home/app/.npmrc", "npmrc-auth", 2),
        ("/root/.git-credentials", "url-credentials", 1),
        ("/srv/app/.env", "dotenv-secret", 3),
    ] {
        let found = file(path);
        assert!(
            found["message"]
                .as_str()
                .unwrap()
                .contains(&format!("({rule})")),
            "{found}"
        );
        assert_eq!(found["evidence"]["line"], line, "{found}");
    }
    // The host standards, in the same verdict: exactly the two settings.
    let os: Vec<(&str, &str, &str)> = verdict["rules"].as_array().unwrap()[1..]
        .iter()
        .flat_map(|r| {
            r["findings"].as_array().unwrap().iter().map(move |f| {
                (
                    r["id"].as_str().unwrap(),
                    f["evidence"]["path"].as_str().unwrap(),
                    f["evidence"]["value"].as_str().unwrap(),
                )
            })
        })
        .collect();
    assert_eq!(
        os,
        [
            ("sshd", "/etc/ssh/sshd_config", "yes"),
            ("password-ageing", "/etc/login.defs", "99999")
        ]
    );
    let env: Vec<&str> = seen
        .iter()
        .filter(|(c, _)| *c == "secrets.env")
        .map(|(_, m)| *m)
        .collect();
    assert_eq!(
        env,
        [format!(
            "GitHub token (github-token) in ENV GITHUB_TOKEN: gh…{}",
            &github[38..]
        )]
    );
    let history: Vec<&str> = seen
        .iter()
        .filter(|(c, _)| *c == "secrets.history")
        .map(|(_, m)| *m)
        .collect();
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(history[0].starts_with("npm access token (npm-token) in build history entry "));
    // No output carries any secret (the JSON verdict above, the table and SARIF; the other
    // formats render the same messages and evidence).
    for (format, out) in [("json", json)]
        .into_iter()
        .chain(["table", "sarif"].map(|f| (f, check(&leaky, f))))
    {
        let text = String::from_utf8_lossy(&out.stdout);
        for secret in [
            &github,
            &npm,
            &aws,
            &pypi,
            &npm_legacy,
            &git_password,
            &dotenv_password,
        ] {
            assert!(!text.contains(secret.as_str()), "{format}: {text}");
        }
        assert!(!text.contains("c2hvcDpzM2NyM3Qt"), "{format}: {text}");
    }

    // The organisation's own rules search files too: one with keywords, one without (every text
    // file searched); the built-in-only rule above did not report them.
    std::fs::write(
        dir.path().join("own.yaml"),
        "version: \"1\"\nname: own\nrules:\n  - id: acme-secrets\n    action: deny\n    secrets:\n      rules:\n        - id: acme-api-key\n          regex: '\\b(acme_[0-9a-f]{32})\\b'\n          keywords: [acme_]\n        - id: acme-legacy\n          regex: '\\bLGC-[0-9]{12}\\b'\n",
    )
    .unwrap();
    validate_schema(
        "policy.schema.json",
        &std::fs::read(dir.path().join("own.yaml")).unwrap(),
        ".yaml",
    );
    let own = run_vouch(
        dir.path(),
        &["check", &leaky, "--policy", "own.yaml", "--format", "json"],
    );
    assert_eq!(own.status.code(), Some(1), "{}", stderr(&own));
    let verdict: Value = serde_json::from_slice(&own.stdout).unwrap();
    let own_findings: Vec<(String, i64)> = verdict["rules"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["evidence"]["path"] == "/etc/acme/client.conf")
        .map(|f| {
            (
                f["message"]
                    .as_str()
                    .unwrap()
                    .split(" in ")
                    .next()
                    .unwrap()
                    .to_string(),
                f["evidence"]["line"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        own_findings,
        [
            ("secret (acme-api-key)".to_string(), 3),
            ("secret (acme-legacy)".to_string(), 4)
        ]
    );
    let text = String::from_utf8_lossy(&own.stdout);
    assert!(!text.contains(&acme) && !text.contains(&legacy), "{text}");

    // An exception by the npm token's fingerprint (computed here, never printed by vouch).
    let digest = std::process::Command::new("sh")
        .args(["-c", &format!("printf %s '{npm}' | sha256sum")])
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&digest.stdout)[..16].to_string();
    std::fs::write(
        dir.path().join("excepted.yaml"),
        format!("{POLICY}exceptions:\n  - rule: no-secrets\n    match: \"*credentials*\"\n    reason: test credentials\n  - rule: no-secrets\n    match: /home/app/.npmrc\n    reason: a read-only mirror token\n  - rule: no-secrets\n    match: /srv/app/.env\n    reason: the local development database\n  - rule: no-secrets\n    match: \"{fingerprint}\"\n    reason: rotated on 2026-12-01\n  - rule: no-secrets\n    match: \"env:GITHUB_TOKEN\"\n    reason: a read-only token for the public mirror\n  - rule: no-secrets\n    match: aws-access-key-id\n    reason: the key was deactivated\n  - rule: no-secrets\n    match: /root/.pypirc\n    reason: a test index token\n  - rule: no-secrets\n    match: /root/.docker/config.json\n    reason: the CI registry robot, read-only\n"),
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
    build_image(
        &clean,
        &dockerfile(
            "COPY sshd_config /etc/ssh/sshd_config\n\
             RUN sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\\t90/' /etc/login.defs\n",
        ),
        &[("sshd_config", b"PermitRootLogin no\nUsePAM yes\n")],
    );
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
