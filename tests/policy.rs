//! `docker vouch check` on real images built on the integration engine from the debootstrap Debian
//! root: each rule kind passes on one image and fails on another, exceptions apply, expire and go
//! unmatched, invalid policies are rejected with their line before the image is read, and every
//! verdict validates against schemas/verdict.schema.json (and every policy against
//! schemas/policy.schema.json) with Python's jsonschema.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use support::*;

fn tag(name: &str) -> String {
    format!("vouch-test/policy-{name}:{}", std::process::id())
}

/// Runs `check IMAGE --format json` with the policy text (none: the default policy) and extra
/// arguments; returns the exit code and the verdict, validated against its schema.
fn check(image: &str, policy: Option<&str>, extra: &[&str]) -> (i32, Value, Output) {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["check", image, "--format", "json"];
    if let Some(text) = policy {
        std::fs::write(dir.path().join("policy.yaml"), text).unwrap();
        validate_schema("policy.schema.json", text.as_bytes(), ".yaml");
        args.extend(["--policy", "policy.yaml"]);
    }
    args.extend(extra);
    let out = run_vouch(dir.path(), &args);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "check {image}: exit {code}: {}",
        stderr(&out)
    );
    validate_schema("verdict.schema.json", &out.stdout, ".json");
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    (code, verdict, out)
}

fn rule<'a>(verdict: &'a Value, id: &str) -> &'a Value {
    verdict["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no rule {id} in {verdict:#}"))
}

/// (code, evidence path or package) of every finding of a rule, sorted.
fn findings(verdict: &Value, id: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = rule(verdict, id)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let evidence = &f["evidence"];
            let subject = evidence["package"]
                .as_str()
                .or(evidence["path"].as_str())
                .or(evidence["value"].as_str())
                .unwrap_or("")
                .to_string();
            (f["code"].as_str().unwrap().to_string(), subject)
        })
        .collect();
    found.sort();
    found
}

fn pair(code: &str, subject: &str) -> (String, String) {
    (code.to_string(), subject.to_string())
}

#[test]
fn default_policy_on_debootstrap_and_on_a_non_root_image() {
    let base = debian_image();
    let (code, verdict, _) = check(&base, None, &[]);
    assert_eq!(code, 1);
    assert_eq!(verdict["verificationResult"], "FAILED");
    assert_eq!(verdict["policy"]["source"], "built-in default policy");
    assert_eq!(
        findings(&verdict, "non-root-user"),
        [pair("config.root-user", "(unset)")]
    );
    for passing in [
        "entrypoint-or-cmd",
        "no-private-keys",
        "setuid-allow-list",
        "accounts",
    ] {
        assert_eq!(rule(&verdict, passing)["status"], "passed", "{passing}");
    }
    assert_eq!(
        rule(&verdict, "critical-fixable-vulnerabilities")["status"],
        "not_applicable"
    );

    let user = build_image(
        &tag("nonroot"),
        &format!("FROM {base}\nRUN useradd -u 1000 app\nUSER app\n"),
        &[],
    );
    let (code, verdict, _) = check(&user, None, &[]);
    docker(&["rmi", "-f", &user]);
    assert_eq!(code, 0, "{verdict:#}");
    assert_eq!(verdict["verificationResult"], "PASSED");
    assert_eq!(verdict["summary"]["gating_findings"], 0);
}

/// A stock Ubuntu 24.04 base (debootstrap minbase, as Ubuntu's base image is made) with a non-root
/// USER and an ENTRYPOINT passes the default policy; and its setuid/setgid files, which the default
/// allow list admits, are every one `find -perm -4000` and `-2000` list (an empty allow list finds exactly those).
#[test]
fn the_default_policy_passes_a_stock_ubuntu_base() {
    require_engine();
    let root = ubuntu_root();
    let mut privileged: Vec<(String, String)> = Vec::new();
    for (bit, code) in [("-4000", "files.setuid"), ("-2000", "files.setgid")] {
        let find = std::process::Command::new("find")
            .arg(&root)
            .args(["-xdev", "-type", "f", "-perm", bit])
            .output()
            .unwrap();
        for p in String::from_utf8(find.stdout).unwrap().lines() {
            let in_image = Path::new(p)
                .strip_prefix(&root)
                .unwrap()
                .display()
                .to_string();
            privileged.push(pair(code, &format!("/{in_image}")));
        }
    }
    privileged.sort();
    assert!(privileged.len() >= 10, "{privileged:?}");
    let image = tag("ubuntu");
    import_dir_with(
        &root,
        &image,
        &["-c", "USER nobody", "-c", "ENTRYPOINT [\"/bin/bash\"]"],
    );
    let (code, verdict, _) = check(&image, None, &[]);
    assert_eq!(code, 0, "{verdict:#}");
    assert_eq!(verdict["summary"]["gating_findings"], 0);
    for rule_id in ["setuid-allow-list", "accounts", "no-private-keys"] {
        assert_eq!(rule(&verdict, rule_id)["status"], "passed", "{rule_id}");
    }
    let none_allowed = "version: \"1\"\nname: no-setuid\nrules:\n  - id: setuid\n    action: deny\n    files:\n      setuid_allowed: []\n";
    let (code, verdict, _) = check(&image, Some(none_allowed), &[]);
    docker(&["rmi", "-f", &image]);
    assert_eq!(code, 1);
    assert_eq!(findings(&verdict, "setuid"), privileged);
}

/// The Debian packages whose files hold PEM markers without holding keys: Python's cryptography and
/// paramiko (`serialization/ssh.py` and `pkey.py` write and read the markers), Go's sources
/// (`crypto/x509`, `crypto/tls` and their tests), OpenSSL's headers and manual pages.
const MARKER_PACKAGES: &str =
    "python3-cryptography,python3-paramiko,golang-go,libssl-dev,libssl-doc,openssl";

/// The default policy on an image of Debian packages whose sources, headers and manuals hold PEM
/// markers as text, and whose demos and test data hold keys published with the packages (each file
/// as dpkg recorded it): it passes (11 such files once failed it). The same image with keys made by
/// openssl, ssh-keygen and puttygen in every format, and one of OpenSSL's demo keys overwritten with
/// a new key, fails with exactly those files, each described.
#[test]
fn the_default_policy_passes_marker_text_and_finds_every_real_key() {
    require_engine();
    let root = debian_root_with("pem-markers", MARKER_PACKAGES);
    // The precondition: the markers are there, as text and as the packages' own demo keys.
    for (file, marker) in [
        (
            "usr/lib/python3/dist-packages/cryptography/hazmat/primitives/serialization/ssh.py",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
        ),
        // Real keys, public with their packages: OpenSSL's demos and Go's test data.
        (
            "usr/share/doc/libssl-dev/demos/certs/apps/rootkey.pem",
            "-----BEGIN RSA PRIVATE KEY-----",
        ),
        (
            "usr/share/go-1.19/src/crypto/tls/testdata/example-key.pem",
            "-----BEGIN EC PRIVATE KEY-----",
        ),
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        assert!(text.contains(marker), "{file} holds {marker:?}");
    }
    let clean = import_dir_with(
        &root,
        &tag("markers"),
        &["-c", "USER 1000", "-c", "ENTRYPOINT [\"/usr/bin/python3\"]"],
    );
    let (code, verdict, _) = check(&clean, None, &[]);
    assert_eq!(code, 0, "{:#}", verdict["rules"]);
    assert_eq!(verdict["verificationResult"], "PASSED");

    let keys = tempfile::tempdir().unwrap();
    let expected = support::keys::real_keys(keys.path());
    let files: Vec<(String, Vec<u8>)> = expected
        .iter()
        .map(|(name, _)| {
            (
                format!("keys/{name}"),
                std::fs::read(keys.path().join(name)).unwrap(),
            )
        })
        .collect();
    let context: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let with_keys = build_image(
        &tag("keys"),
        &format!(
            "FROM {clean}\nCOPY keys/ /srv/keys/\n\
             COPY keys/rsa-pkcs1.pem /usr/share/doc/libssl-dev/demos/certs/apps/rootkey.pem\n"
        ),
        &context,
    );
    let (code, verdict, _) = check(&with_keys, None, &[]);
    docker(&["rmi", "-f", &with_keys, &clean]);
    assert_eq!(code, 1);
    let found: Vec<(String, String)> = rule(&verdict, "no-private-keys")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["evidence"]["path"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut found_paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    found_paths.sort();
    let mut expected_paths: Vec<String> = expected
        .iter()
        .map(|(n, _)| format!("/srv/keys/{n}"))
        .collect();
    expected_paths.push("/usr/share/doc/libssl-dev/demos/certs/apps/rootkey.pem".into());
    expected_paths.sort();
    assert_eq!(
        found_paths, expected_paths,
        "exactly the keys, and the package's file that is no longer what it installed"
    );
    for (name, description) in expected {
        let (_, message) = found
            .iter()
            .find(|(p, _)| p.ends_with(&format!("/{name}")))
            .unwrap();
        assert!(
            message.contains(&format!("holds a private key ({description})")),
            "{name}: {message}"
        );
    }
}

const CONFIG_POLICY: &str = r#"version: "1"
rules:
  - id: runtime
    action: deny
    config:
      non_root_user: true
      entrypoint_or_cmd: true
      healthcheck: true
      forbidden_ports: ["22", 23/udp]
      required_labels:
        org.opencontainers.image.source: "https://github\\.com/acme/.*"
        org.opencontainers.image.version: ""
"#;

#[test]
fn config_rules_pass_and_fail() {
    let base = debian_image();
    let good = build_image(
        &tag("config-good"),
        &format!(
            "FROM {base}\nLABEL org.opencontainers.image.source=https://github.com/acme/app org.opencontainers.image.version=1.2\n\
             EXPOSE 8080 23/tcp\nHEALTHCHECK CMD true\nUSER 1000:0\nENTRYPOINT [\"/bin/true\"]\n"
        ),
        &[],
    );
    let bad = build_image(
        &tag("config-bad"),
        &format!(
            "FROM {base}\nLABEL org.opencontainers.image.source=https://gitlab.com/acme/app\nEXPOSE 22 23/udp\n\
             HEALTHCHECK NONE\nUSER 0:0\nCMD []\n"
        ),
        &[],
    );
    let (good_code, good_verdict, _) = check(&good, Some(CONFIG_POLICY), &[]);
    let (bad_code, bad_verdict, _) = check(&bad, Some(CONFIG_POLICY), &[]);
    docker(&["rmi", "-f", &good, &bad]);
    assert_eq!(good_code, 0, "{good_verdict:#}");
    assert_eq!(bad_code, 1);
    assert_eq!(
        findings(&bad_verdict, "runtime"),
        [
            pair("config.forbidden-port", "22/tcp"),
            pair("config.forbidden-port", "23/udp"),
            pair("config.label-mismatch", "https://gitlab.com/acme/app"),
            pair("config.missing-label", ""),
            pair("config.no-entrypoint", ""),
            pair("config.no-healthcheck", ""),
            pair("config.root-user", "0:0"),
        ]
    );
}

/// A Python package's metadata, as pip writes it.
fn dist_info(name: &str, version: &str, license: &str) -> String {
    format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: {license}\n")
}

#[test]
fn package_and_license_rules_order_versions_per_ecosystem() {
    let base = debian_image();
    let site = "usr/lib/python3/dist-packages";
    let image = build_image(
        &tag("packages"),
        &format!("FROM {base}\nCOPY site/ /{site}/\n"),
        &[
            (
                "site/requests-2.31.0.dist-info/METADATA",
                dist_info("requests", "2.31.0", "Apache-2.0").as_bytes(),
            ),
            (
                "site/urllib3-2.0.0rc1.dist-info/METADATA",
                dist_info("urllib3", "2.0.0rc1", "MIT").as_bytes(),
            ),
        ],
    );
    let policy = r#"version: "1"
rules:
  - id: versions
    action: deny
    packages:
      deny:
        - purl: pkg:deb/debian/apt
          versions: ">= 2.6, < 2.7"
          reason: pinned elsewhere
        - purl: pkg:deb/debian/tar
          versions: "< 1.34"
      minimum:
        - pkg:pypi/requests >= 2.32.0
        - pkg:pypi/urllib3 >= 2.0.0b1
        - pkg:deb/debian/bash >= 5.2.15-2+b3
        - pkg:deb/debian/dash >= 1:0.1
  - id: copyleft
    action: warn
    licenses:
      allow: [MIT]
  - id: no-agpl
    action: deny
    licenses:
      deny: [AGPL-3.0-only, AGPL-3.0-or-later]
  - id: no-telnet
    action: deny
    packages:
      deny: [{purl: pkg:deb/debian/telnet}]
      minimum: [pkg:pypi/requests >= 2.31.0rc1]
"#;
    let (code, verdict, _) = check(&image, Some(policy), &[]);
    docker(&["rmi", "-f", &image]);
    assert_eq!(code, 1);
    // apt 2.6.1 is in the denied range; tar 1.34 is not below 1.34; requests 2.31.0 < 2.32.0;
    // urllib3 2.0.0rc1 > 2.0.0b1 (PEP 440); bash 5.2.15-2+b13 > +b3 (dpkg); dash 0.5.12 < 1:0.1 (epoch).
    assert_eq!(
        findings(&verdict, "versions"),
        [
            pair("packages.below-minimum", "dash"),
            pair("packages.below-minimum", "requests"),
            pair("packages.denied", "apt"),
        ]
    );
    let licenses = findings(&verdict, "copyleft");
    assert!(licenses.contains(&pair("licenses.not-allowed", "requests")));
    assert!(!licenses.iter().any(|f| f.1 == "urllib3"), "{licenses:?}");
    assert_eq!(rule(&verdict, "copyleft")["status"], "warned");
    assert_eq!(rule(&verdict, "no-agpl")["status"], "passed");
    assert_eq!(
        rule(&verdict, "no-telnet")["status"],
        "passed",
        "2.31.0 >= 2.31.0rc1"
    );
    let requests = rule(&verdict, "versions")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["evidence"]["package"] == "requests")
        .unwrap();
    assert_eq!(requests["evidence"]["layer_index"], 1, "the COPY layer");
    assert_eq!(requests["gating"], true);
}

#[test]
fn file_rules_follow_the_squashed_image() {
    let base = debian_image();
    let key = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .output()
        .expect("openssl runs");
    assert!(key.status.success());
    let image = build_image(
        &tag("files"),
        &format!(
            "FROM {base}\nCOPY server.key /etc/app/server.key\nCOPY deploy.key /opt/deleted.key\n\
             RUN cp /bin/true /usr/local/bin/escalate && chmod 4755 /usr/local/bin/escalate \
             && mkdir -p /srv/drop /root/.ssh && chmod 777 /srv/drop && echo k > /root/.ssh/id_ed25519 \
             && echo 'toor:x:0:0::/root:/bin/sh' >> /etc/passwd && useradd nopass && passwd -d nopass\n\
             RUN chmod u-s /usr/bin/chfn && rm /opt/deleted.key\n"
        ),
        &[("server.key", &key.stdout), ("deploy.key", &key.stdout)],
    );
    let policy = r#"version: "1"
rules:
  - id: files
    action: deny
    files:
      private_keys: true
      forbidden: ["**/.ssh/**"]
      setuid_allowed: [/usr/bin/passwd, /usr/bin/su, /usr/bin/mount, /usr/bin/umount, /usr/bin/newgrp,
                       /usr/bin/gpasswd, /usr/bin/chsh, /usr/bin/chage, /usr/bin/expiry, /usr/sbin/unix_chkpwd]
      world_writable_allowed: [/tmp, /var/tmp, /run/lock, /var/lock]
      accounts: true
"#;
    let (code, verdict, _) = check(&image, Some(policy), &[]);
    let (_, on_base, _) = check(&base, Some(policy), &[]);
    docker(&["rmi", "-f", &image]);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&verdict, "files"),
        [
            pair("files.empty-password", "/etc/shadow"),
            pair("files.extra-root-account", "/etc/passwd"),
            pair("files.forbidden-path", "/root/.ssh/id_ed25519"),
            pair("files.private-key", "/etc/app/server.key"),
            pair("files.setuid", "/usr/local/bin/escalate"),
            pair("files.world-writable", "/srv/drop"),
        ],
        "chfn lost its setuid bit and the second key was deleted in a later layer"
    );
    assert_eq!(
        findings(&on_base, "files"),
        [pair("files.setuid", "/usr/bin/chfn")],
        "on the base image, chfn is still setuid"
    );
}

/// (package, whether its layer is the base image's) of a rule's findings, sorted.
fn base_split(verdict: &Value, id: &str) -> Vec<(String, bool)> {
    let mut split: Vec<(String, bool)> = rule(verdict, id)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["evidence"]["package"].as_str().unwrap().to_string(),
                f["evidence"]["base_image_layer"].as_bool().unwrap(),
            )
        })
        .collect();
    split.sort();
    split
}

#[test]
fn base_image_from_flag_and_labels() {
    let base = debian_image();
    let image = build_image(
        &tag("on-base"),
        &format!(
            "FROM {base}\nLABEL org.opencontainers.image.base.name=docker.io/library/debian:12-slim\n\
             COPY site/ /usr/lib/python3/dist-packages/\n"
        ),
        &[(
            "site/leftpad-1.0.dist-info/METADATA",
            dist_info("leftpad", "1.0", "MIT").as_bytes(),
        )],
    );
    let other = build_image(
        &tag("other-base"),
        "FROM scratch\nCOPY x /x\n",
        &[("x", b"x")],
    );
    let base_name = base.split(':').next().unwrap().to_string();
    let policy = format!(
        r#"version: "1"
rules:
  - id: base
    action: deny
    base_image:
      names: ["debian:12*", "{base_name}:*"]
  - id: no-leftpad
    action: warn
    packages:
      deny: [{{purl: pkg:pypi/leftpad}}, {{purl: pkg:deb/debian/bash}}]
"#
    );
    // From the labels: debian:12-slim is allowed (no layer information).
    let (code, by_label, _) = check(&image, Some(&policy), &[]);
    assert_eq!(code, 0, "{by_label:#}");
    assert_eq!(rule(&by_label, "base")["status"], "passed");
    // From the flag: checked against the layers; evidence says which layer is the base's.
    let (code, by_flag, _) = check(&image, Some(&policy), &["--base-image", &base]);
    assert_eq!(code, 0, "{by_flag:#}");
    let layers = base_split(&by_flag, "no-leftpad");
    assert_eq!(
        layers,
        [("bash".to_string(), true), ("leftpad".to_string(), false)]
    );
    // A claimed base whose layers are not this image's, and a base that is not allowed.
    let (code, wrong, _) = check(&image, Some(&policy), &["--base-image", &other]);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&wrong, "base")
            .iter()
            .map(|f| f.0.as_str())
            .collect::<Vec<_>>(),
        ["base-image.mismatch", "base-image.not-allowed"]
    );
    // No flag, no labels: the engine's tagged image with the longest layer prefix is the base (its
    // name depends on what else is tagged with the same layers; the layer split does not).
    let unlabelled = build_image(
        &tag("unlabelled"),
        &format!("FROM {base}\nCOPY site/ /usr/lib/python3/dist-packages/\n"),
        &[(
            "site/leftpad-1.0.dist-info/METADATA",
            dist_info("leftpad", "1.0", "MIT").as_bytes(),
        )],
    );
    let (_, by_layers, _) = check(&unlabelled, Some(&policy), &[]);
    let codes: Vec<String> = findings(&by_layers, "base")
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert!(
        !codes.contains(&"base-image.unknown".to_string()),
        "{by_layers:#}"
    );
    assert_eq!(base_split(&by_layers, "no-leftpad"), layers);
    // The imported base itself has nothing below it: unknown.
    let (code, unknown, _) = check(&base, Some(&policy), &[]);
    docker(&["rmi", "-f", &image, &other, &unlabelled]);
    assert_eq!(code, 1);
    assert_eq!(findings(&unknown, "base"), [pair("base-image.unknown", "")]);
}

#[test]
fn rego_rules_and_exceptions() {
    let base = debian_image();
    let policy = r#"version: "1"
rules:
  - id: no-dash
    action: deny
    rego:
      module: |
        package acme.images
        deny contains msg if {
          some c in input.sbom.components
          c.name == "dash"
          msg := sprintf("dash %s must go", [c.version])
        }
        deny contains {"msg": "runs as root"} if { input.image.user in {null, "", "root", "0"} }
  - id: no-telnet
    action: deny
    rego:
      module: |
        package acme.telnet
        deny contains "telnet is installed" if {
          some c in input.sbom.components
          c.name == "telnet"
        }
  - id: pkgs
    action: deny
    packages:
      deny: [{purl: "pkg:deb/debian/apt"}, {purl: "pkg:deb/debian/tar"}, {purl: "pkg:deb/debian/sed"}]
exceptions:
  - {rule: pkgs, match: "pkg:deb/debian/apt", reason: "the build needs it", expires: "2999-12-31"}
  - {rule: pkgs, match: "pkg:deb/debian/tar", reason: "old waiver", expires: "2001-01-01"}
  - {rule: pkgs, match: "pkg:npm/*", reason: "nothing matches this"}
  - {rule: no-dash, match: "runs as root", reason: "root is fine here"}
"#;
    let (code, verdict, _) = check(&base, Some(policy), &[]);
    assert_eq!(code, 1);
    let messages: Vec<&str> = rule(&verdict, "no-dash")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("excepted_by").is_none())
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["dash 0.5.12-2 must go"]);
    assert_eq!(rule(&verdict, "no-telnet")["status"], "passed");
    let statuses: Vec<(&str, &str, u64)> = verdict["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["match"].as_str().unwrap(),
                e["status"].as_str().unwrap(),
                e["matched"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("pkg:deb/debian/apt", "applied", 1),
            ("pkg:deb/debian/tar", "expired", 1),
            ("pkg:npm/*", "unmatched", 0),
            ("runs as root", "applied", 1),
        ]
    );
    let gating: Vec<String> = findings(&verdict, "pkgs")
        .into_iter()
        .filter(|f| f.1 != "apt")
        .map(|f| f.1)
        .collect();
    assert_eq!(
        gating,
        ["sed", "tar"],
        "the expired exception no longer covers tar"
    );
    assert_eq!(verdict["summary"]["excepted_findings"], 2);
}

#[test]
fn a_saved_sbom_is_reused_and_must_match_the_image() {
    let base = debian_image();
    let dir = tempfile::tempdir().unwrap();
    let out = run_vouch(dir.path(), &["sbom", &base, "-o", "sbom.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sbom_path = dir.path().join("sbom.json").display().to_string();
    let policy = "version: \"1\"\nrules:\n  - id: p\n    action: deny\n    packages:\n      deny: [{purl: pkg:deb/debian/bash}]\n";
    let (code, verdict, _) = check(&base, Some(policy), &["--sbom", &sbom_path]);
    assert_eq!(code, 1);
    assert_eq!(findings(&verdict, "p"), [pair("packages.denied", "bash")]);

    let other = build_image(
        &tag("sbom-other"),
        "FROM scratch\nCOPY x /x\n",
        &[("x", b"y")],
    );
    let out = run_vouch(
        dir.path(),
        &["check", &other, "--sbom", "sbom.json", "--format", "json"],
    );
    docker(&["rmi", "-f", &other]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sbom.json describes image sha256:"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
}

/// Each invalid policy is rejected (exit 2) with its file, line and problem, before the image is
/// even looked at: the image named here does not exist.
#[test]
fn invalid_policies_are_rejected_with_their_line() {
    let rule = |body: &str| format!("version: \"1\"\nrules:\n  - id: r\n    action: deny\n{body}");
    let cases: Vec<(String, &str)> = vec![
        (rule("    tarball: {}\n"), "policy.yaml:5:5: rules[0].tarball: Unknown field `tarball`"),
        (
            rule("    packages:\n      deny: [{purl: pkg:pypi/x, versions: \"~> 1\"}]\n"),
            "policy.yaml:6:",
        ),
        (
            rule("    packages:\n      minimum: [\"pkg:pypi/x >= not-a-version\"]\n"),
            "`not-a-version` is not a valid PEP 440 version",
        ),
        (
            rule("    config:\n      required_labels: {a: \"(unclosed\"}\n"),
            "policy.yaml:6:",
        ),
        (
            rule("    rego:\n      module: \"package p\\ndeny contains x if {\"\n"),
            "the Rego module does not parse",
        ),
        (
            rule("    config:\n      non_root_user: maybe\n"),
            "policy.yaml:6:",
        ),
        (rule("    licenses: {deny: [Not-A-License]}\n"), "`Not-A-License` is not an SPDX license id"),
        (
            rule("    config: {healthcheck: true}\nexceptions:\n  - {rule: r, match: x, reason: y, expires: 31/12/2026}\n"),
            "policy.yaml:7:",
        ),
        ("version: \"1\"\nrules:\n  - id: r\n    action: block\n    config: {}\n".into(), "policy.yaml:4:"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (text, expected) in cases {
        std::fs::write(dir.path().join("policy.yaml"), &text).unwrap();
        let out = run_vouch(
            dir.path(),
            &[
                "check",
                "docker-archive:missing.tar",
                "--policy",
                "policy.yaml",
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{text}\n{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("invalid policy: policy.yaml:") && err.contains(expected),
            "{text}\nexpected {expected:?} in: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn the_default_policy_is_printed_and_valid() {
    let out = run_vouch(Path::new("."), &["check", "--print-default-policy"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("non_root_user: true"));
    validate_schema("policy.schema.json", text.as_bytes(), ".yaml");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policy.yaml");
    validate_schema(
        "policy.schema.json",
        &std::fs::read(&example).unwrap(),
        ".yaml",
    );
    // The example policy loads: rejected policies exit 2 before the (missing) image is looked at.
    let out = run_vouch(
        Path::new("."),
        &[
            "check",
            "docker-archive:/nonexistent.tar",
            "--policy",
            &example.display().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

/// The finding codes the rules emit, the codes the verdict schema allows and the codes docs/policy.md
/// documents are the same set.
#[test]
fn finding_codes_agree_across_code_schema_and_docs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let code = regex::Regex::new(
        r#"["`]((?:base-image|packages|licenses|config|files|file-content|secrets|history|vulnerabilities|rego)\.[a-z-]+)["`]"#,
    )
    .unwrap();
    let mut in_source = std::collections::BTreeSet::new();
    // Every code is declared once, in policy/diags.rs (the rules name them by the enum).
    let text = std::fs::read_to_string(root.join("src/policy/diags.rs")).unwrap();
    let declarations = text.split("codes! {").nth(1).unwrap();
    in_source.extend(code.captures_iter(declarations).map(|c| c[1].to_string()));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("schemas/verdict.schema.json")).unwrap(),
    )
    .unwrap();
    let in_schema: std::collections::BTreeSet<String> = schema
        .pointer("/$defs/finding/properties/code/enum")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let docs = std::fs::read_to_string(root.join("docs/policy.md")).unwrap();
    let table = docs.split("## Finding codes").nth(1).unwrap();
    let in_docs: std::collections::BTreeSet<String> = code
        .captures_iter(table.split("## The default policy").next().unwrap())
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(in_source.len(), 36, "{in_source:?}");
    assert_eq!(in_source, in_schema);
    assert_eq!(in_source, in_docs);
}
