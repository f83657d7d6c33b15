//! The built-in policies, `builtin:cis-docker` and `builtin:os-baseline`, on Debian's base as
//! debootstrap makes it (which fails them for the reasons their rules name) and on images built from
//! it to meet them (which pass); `--print-policy`, and a policy that `extends:` one and replaces a
//! rule.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use support::*;

fn check(dir: &Path, image: &str, policy: &str, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["check", image, "--policy", policy, "--format", "json"];
    args.extend_from_slice(extra);
    let out = run_vouch(dir, &args);
    validate_schema("verdict.schema.json", &out.stdout, ".json");
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out))),
    )
}

/// The ids of the rules with this status, and the codes of their findings.
fn with_status(verdict: &Value, status: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let rules: Vec<&Value> = verdict["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == status)
        .collect();
    (
        rules
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect(),
        rules
            .iter()
            .flat_map(|r| r["findings"].as_array().unwrap())
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect(),
    )
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_builtin_policies_are_printed_valid() {
    for name in ["builtin:cis-docker", "builtin:os-baseline"] {
        let out = run_vouch(Path::new("."), &["check", "--print-policy", name]);
        assert!(out.status.success(), "{}", stderr(&out));
        validate_schema("policy.schema.json", &out.stdout, ".yaml");
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("name: {name}")));
    }
    let out = run_vouch(Path::new("."), &["check", "--print-policy", "builtin:nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(
        "no built-in policy `builtin:nope` (there are builtin:cis-docker, builtin:os-baseline)"
    ));
}

#[test]
fn cis_docker_fails_the_bare_base_and_passes_an_image_built_to_meet_it() {
    let base = debian_image();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("osv")).unwrap();
    let (code, verdict) = check(dir.path(), &base, "builtin:cis-docker", &[]);
    assert_eq!(code, Some(1));
    let (failed, codes) = with_status(&verdict, "failed");
    assert_eq!(
        failed,
        set(&[
            "cis-4.1-non-root-user",
            "cis-4.2-known-base-image",
            "cis-4.6-healthcheck",
            "cis-4.8-setuid-setgid"
        ])
    );
    assert_eq!(
        codes,
        set(&[
            "config.root-user",
            "base-image.unknown",
            "config.no-healthcheck",
            "files.setuid",
            "files.setgid"
        ])
    );
    // debootstrap leaves the mirror's package index: a warning, not a failure.
    let (warned, codes) = with_status(&verdict, "warned");
    assert_eq!(warned, set(&["cis-4.3-package-manager-caches"]));
    assert_eq!(codes, set(&["files.forbidden-path"]));

    let tag = format!("vouch-test/cis-docker:{}", std::process::id());
    build_image(
        &tag,
        &format!(
            "FROM {base}\n\
             RUN find / -xdev -type f -perm /6000 -exec chmod a-s {{}} + && rm -rf /var/lib/apt/lists/*\n\
             USER 1000\n\
             HEALTHCHECK CMD [\"/bin/true\"]\n\
             CMD [\"/bin/bash\"]\n"
        ),
        &[],
    );
    let (code, verdict) = check(
        dir.path(),
        &tag,
        "builtin:cis-docker",
        &["--vuln-db", "osv"],
    );
    let (failed, _) = with_status(&verdict, "failed");
    assert_eq!(code, Some(0), "{failed:?}");
    let (passed, _) = with_status(&verdict, "passed");
    assert_eq!(
        passed.len(),
        10,
        "every rule evaluated and passed: {passed:?}"
    );

    // Built on it with BuildKit (which records what ADD fetched): a remote ADD (4.9), an index
    // updated alone (4.7; the sources emptied so it stays offline) and one updated with its
    // install (fine), a token in ENV (4.10).
    let served = tempfile::tempdir().unwrap();
    std::fs::write(served.path().join("tool.sh"), "#!/bin/sh\necho tool\n").unwrap();
    let server = serve_dir(served.path().to_path_buf());
    let token = format!("ghp_{:0>36}", format!("{}CiS", std::process::id()));
    let bad = format!("vouch-test/cis-docker-bad:{}", std::process::id());
    let no_sources = "-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/dev/null";
    buildkit_image(
        &bad,
        &format!(
            "FROM {tag}\n\
             ADD {server}/tool.sh /opt/tool.sh\n\
             USER root\n\
             RUN apt-get {no_sources} update\n\
             RUN apt-get {no_sources} update && apt-get {no_sources} install -y --no-download apt\n\
             ENV GITHUB_TOKEN={token}\n\
             USER 1000\n"
        ),
        &[],
    );
    let (code, verdict) = check(
        dir.path(),
        &bad,
        "builtin:cis-docker",
        &["--vuln-db", "osv"],
    );
    assert_eq!(code, Some(1));
    let (failed, codes) = with_status(&verdict, "failed");
    assert_eq!(
        failed,
        set(&[
            "cis-4.7-update-alone",
            "cis-4.9-copy-not-add",
            "cis-4.10-secrets"
        ])
    );
    assert_eq!(codes, set(&["history.forbidden", "secrets.env"]));
    let messages: Vec<String> = verdict["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "failed")
        .flat_map(|r| r["findings"].as_array().unwrap().clone())
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(
        messages[0]
            .starts_with("CIS Docker 4.7: a package index updated alone: build history entry "),
        "{messages:#?}"
    );
    assert!(
        messages[0].ends_with(&format!(
            "is `RUN /bin/sh -c apt-get {no_sources} update # buildkit`"
        )),
        "{messages:#?}"
    );
    assert!(
        messages[1].ends_with(&format!(
            "is `ADD {server}/tool.sh /opt/tool.sh # buildkit`"
        )),
        "{messages:#?}"
    );
    assert!(!messages[2].contains(&token), "{messages:#?}");
    for image in [&tag, &bad] {
        docker(&["rmi", "-f", image]);
    }
}

#[test]
fn os_baseline_judges_login_defs_and_a_policy_can_extend_it() {
    let base = debian_image();
    let dir = tempfile::tempdir().unwrap();
    let (code, verdict) = check(dir.path(), &base, "builtin:os-baseline", &[]);
    assert_eq!(code, Some(1));
    let (failed, codes) = with_status(&verdict, "failed");
    assert_eq!(failed, set(&["os-password-ageing"]));
    assert_eq!(codes, set(&["file-content.mismatch"]));
    let findings = verdict["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "os-password-ageing")
        .unwrap()["findings"]
        .as_array()
        .unwrap()
        .clone();
    // Debian's login.defs: no ageing (99999) and changes any time (0); its warning age is 7.
    let values: BTreeSet<String> = findings
        .iter()
        .map(|f| f["evidence"]["value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(values, set(&["99999", "0"]));
    let (not_applicable, _) = with_status(&verdict, "not_applicable");
    assert_eq!(not_applicable, set(&["os-sshd", "os-core-dumps"]));

    let tag = format!("vouch-test/os-baseline:{}", std::process::id());
    build_image(
        &tag,
        &format!(
            "FROM {base}\n\
             RUN sed -i -e 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\\t90/' -e 's/^PASS_MIN_DAYS.*/PASS_MIN_DAYS\\t1/' /etc/login.defs \
             && printf 'fs.suid_dumpable = 0\\n' > /etc/sysctl.conf\n"
        ),
        &[],
    );
    let (code, verdict) = check(dir.path(), &tag, "builtin:os-baseline", &[]);
    let (failed, _) = with_status(&verdict, "failed");
    assert_eq!(code, Some(0), "{failed:?}");
    let (passed, _) = with_status(&verdict, "passed");
    assert!(
        passed.contains("os-core-dumps")
            && passed.contains("os-password-ageing")
            && passed.contains("os-account-files"),
        "{passed:?}"
    );

    // The account files' permissions (CIS 6.1.2-6.1.5): Debian's (shadow 0640 root:shadow) pass
    // above; loosened by the image's own tools, they fail, named by mode and by the image's names.
    let loose = format!("vouch-test/os-baseline-loose:{}", std::process::id());
    build_image(
        &loose,
        &format!(
            "FROM {tag}
             RUN chmod 0644 /etc/shadow && chown 1000:nogroup /etc/group && chmod 0600 /etc/gshadow
"
        ),
        &[],
    );
    let (code, verdict) = check(dir.path(), &loose, "builtin:os-baseline", &[]);
    assert_eq!(code, Some(1));
    let (failed, _) = with_status(&verdict, "failed");
    assert_eq!(failed, set(&["os-account-files"]));
    let messages: BTreeSet<String> = verdict["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "os-account-files")
        .unwrap()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["code"], "files.permissions");
            f["message"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        messages,
        set(&[
            "/etc/shadow: mode 0644 allows more than 0640 (rule `/etc/shadow`)",
            "/etc/group: owner 1000 is not root, group 65534 (nogroup) is not root (rule `/etc/group`)"
        ])
    );
    docker(&["rmi", "-f", &loose]);

    // A policy extending the baseline: its own rule of the same id replaces the built-in one
    // (a warning now), and the rest come along; the digest covers both texts.
    std::fs::write(
        dir.path().join("ours.yaml"),
        "version: \"1\"\nname: ours\nextends: builtin:os-baseline\nrules:\n  - id: os-password-ageing\n    action: warn\n    file_content:\n      path: /etc/login.defs\n      format: login.defs\n      require:\n        PASS_MAX_DAYS: \"<= 180\"\n",
    )
    .unwrap();
    validate_schema(
        "policy.schema.json",
        &std::fs::read(dir.path().join("ours.yaml")).unwrap(),
        ".yaml",
    );
    let (code, verdict) = check(dir.path(), &base, "ours.yaml", &[]);
    assert_eq!(code, Some(0));
    let ids: Vec<&str> = verdict["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "os-sshd",
            "os-password-ageing",
            "os-accounts",
            "os-world-writable",
            "os-core-dumps",
            "os-account-files"
        ]
    );
    let (warned, _) = with_status(&verdict, "warned");
    assert_eq!(warned, set(&["os-password-ageing"]));
    let plain = run_vouch(
        dir.path(),
        &[
            "check",
            &base,
            "--format",
            "json",
            "--policy",
            "builtin:os-baseline",
        ],
    );
    let plain: Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert_ne!(verdict["policy"]["digest"], plain["policy"]["digest"]);

    std::fs::write(
        dir.path().join("bad.yaml"),
        "version: \"1\"\nextends: builtin:cis-kubernetes\nrules: []\n",
    )
    .unwrap();
    let out = run_vouch(dir.path(), &["check", &base, "--policy", "bad.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad.yaml:2:10: no built-in policy `builtin:cis-kubernetes`"),
        "{}",
        stderr(&out)
    );
    docker(&["rmi", "-f", &tag]);
}
