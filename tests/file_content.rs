//! `file_content` rules on images built on the engine from Debian's own files: the sshd_config
//! openssh-server installs, with a drop-in in sshd_config.d read through its real `Include`; the
//! base's /etc/login.defs (`PASS_MAX_DAYS 99999`); procps' /etc/sysctl.conf with a sysctl.d file;
//! and an application's properties file. What vouch reads as sshd's settings is checked against
//! OpenSSH's own reading (`sshd -T`, Debian's sshd run in the image) in both images.

mod support;

use serde_json::Value;
use std::path::Path;
use support::*;

const POLICY: &str = r#"version: "1"
name: os-standards
rules:
  - id: sshd-hardening
    action: deny
    file_content:
      path: /etc/ssh/sshd_config
      format: sshd
      require:
        PermitRootLogin: "no"
        PasswordAuthentication: "no"
  - id: password-ageing
    action: deny
    file_content:
      path: /etc/login.defs
      format: login.defs
      require:
        PASS_MAX_DAYS: "<= 90"
  - id: no-forwarding
    action: deny
    file_content:
      path: /etc/sysctl.conf
      format: sysctl
      require:
        net.ipv4.ip_forward: "0"
  - id: no-debug
    action: deny
    file_content:
      path: /srv/app/**/*.properties
      format: text
      must_not_match: ["(?m)^debug\\s*=\\s*true"]
  - id: app-env
    action: warn
    file_content:
      path: /srv/app/.env
      format: env
      required: true
      require:
        APP_ENV: "production"
"#;

/// Debian's openssh-server (and the libraries its sshd needs that the base lacks) and procps,
/// unpacked as dpkg would install their files, with the sshd_config its postinst puts in place.
fn packages_root(root: &Path) {
    unpack_debs(
        &[
            "openssh-server",
            "libwrap0",
            "libnsl2",
            "libtirpc3",
            "libtirpc-common",
            "libgssapi-krb5-2",
            "libkrb5-3",
            "libk5crypto3",
            "libkrb5support0",
            "libkeyutils1",
            "libssl3",
            "procps",
        ],
        root,
    );
    // Debian 12 merges /bin, /sbin and /lib into /usr: dpkg installs through those links.
    for dir in ["bin", "sbin", "lib", "lib64"] {
        if root.join(dir).is_dir() {
            std::fs::create_dir_all(root.join("usr").join(dir)).unwrap();
            let merged = std::process::Command::new("cp")
                .arg("-a")
                .arg(root.join(dir).join("."))
                .arg(root.join("usr").join(dir))
                .status()
                .unwrap();
            assert!(merged.success());
            std::fs::remove_dir_all(root.join(dir)).unwrap();
        }
    }
    std::fs::create_dir_all(root.join("etc/ssh/sshd_config.d")).unwrap();
    std::fs::copy(
        root.join("usr/share/openssh/sshd_config"),
        root.join("etc/ssh/sshd_config"),
    )
    .unwrap();
    let key = root.join("etc/ssh/ssh_host_ed25519_key");
    let _ = std::fs::remove_file(&key);
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen runs");
    assert!(made.status.success(), "{}", stderr(&made));
}

/// OpenSSH's own reading of the image's sshd_config: `sshd -T` in a container of it.
fn sshd_t(tag: &str) -> Vec<String> {
    let out = std::process::Command::new("docker")
        .args(["run", "--rm", "--network", "none", "--user", "0", tag])
        .args(["/usr/sbin/sshd", "-T"])
        .output()
        .expect("docker runs");
    assert!(out.status.success(), "sshd -T: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn check(dir: &Path, tag: &str) -> (Option<i32>, Value) {
    let out = run_vouch(
        dir,
        &["check", tag, "--policy", "policy.yaml", "--format", "json"],
    );
    validate_schema("verdict.schema.json", &out.stdout, ".json");
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out))),
    )
}

fn findings<'a>(verdict: &'a Value, rule: &str) -> Vec<&'a Value> {
    verdict["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == rule)
        .unwrap_or_else(|| panic!("{rule}"))["findings"]
        .as_array()
        .unwrap()
        .iter()
        .collect()
}

/// The 1-based line of `root/path` that starts with `prefix`.
fn line_of(root: &Path, path: &str, prefix: &str) -> u64 {
    let text = std::fs::read_to_string(root.join(path)).unwrap();
    text.lines().position(|l| l.starts_with(prefix)).unwrap() as u64 + 1
}

#[test]
fn configuration_files_are_judged_as_their_programs_read_them() {
    let base = debian_image();
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    packages_root(&root);
    validate_schema("policy.schema.json", POLICY.as_bytes(), ".yaml");
    std::fs::write(work.path().join("policy.yaml"), POLICY).unwrap();
    let tar = |name: &str, dir: &Path| {
        let out = std::process::Command::new("tar")
            .arg("-C")
            .arg(dir)
            .args(["-cf", "-", "."])
            .output()
            .unwrap();
        (name.to_string(), out.stdout)
    };
    // The image as Debian leaves it, with an app whose properties turn debugging on and whose .env
    // says staging; procps' sysctl.conf has everything commented out, and a drop-in turns
    // forwarding on.
    let (name, bytes) = tar("pkgs.tar", &root);
    let tag_bad = format!("vouch-test/file-content-bad:{}", std::process::id());
    let dockerfile = |extra: &str| {
        format!(
            "FROM {base}\nADD pkgs.tar /\n\
             RUN echo 'sshd:x:100:65534::/run/sshd:/usr/sbin/nologin' >> /etc/passwd && mkdir -p /run/sshd /srv/app/conf\n\
             RUN printf 'name=shop\\ndebug = true\\n' > /srv/app/conf/app.properties && printf 'export APP_ENV=\"staging\"\\n' > /srv/app/.env && echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/60-forward.conf\n{extra}"
        )
    };
    build_image(
        &tag_bad,
        &dockerfile(""),
        &[(name.as_str(), bytes.as_slice())],
    );
    let (code, verdict) = check(work.path(), &tag_bad);
    assert_eq!(code, Some(1));

    // sshd: Debian's file sets neither (both are comment lines), and sshd -T agrees they are not no.
    let sshd = findings(&verdict, "sshd-hardening");
    let codes: Vec<(&str, &str)> = sshd
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert!(
        codes.iter().all(|(c, _)| *c == "file-content.missing"),
        "{codes:?}"
    );
    let reference = sshd_t(&tag_bad);
    assert!(reference.contains(&"permitrootlogin without-password".to_string()));
    assert!(reference.contains(&"passwordauthentication yes".to_string()));

    // login.defs: the real line of the real file.
    let ageing = findings(&verdict, "password-ageing");
    assert_eq!(ageing.len(), 1);
    assert_eq!(ageing[0]["code"], "file-content.mismatch");
    assert_eq!(ageing[0]["evidence"]["path"], "/etc/login.defs");
    assert_eq!(ageing[0]["evidence"]["value"], "99999");
    assert_eq!(
        ageing[0]["evidence"]["line"].as_u64().unwrap(),
        line_of(&debian_rootfs(), "etc/login.defs", "PASS_MAX_DAYS")
    );

    // sysctl: the drop-in's value, named by its file.
    let forwarding = findings(&verdict, "no-forwarding");
    assert_eq!(forwarding.len(), 1, "{forwarding:?}");
    assert_eq!(
        forwarding[0]["evidence"]["path"],
        "/etc/sysctl.d/60-forward.conf"
    );
    assert_eq!(forwarding[0]["evidence"]["value"], "1");

    let debug = findings(&verdict, "no-debug");
    assert_eq!(debug.len(), 1);
    assert_eq!(debug[0]["code"], "file-content.forbidden-match");
    assert_eq!(debug[0]["evidence"]["path"], "/srv/app/conf/app.properties");
    assert_eq!(debug[0]["evidence"]["line"], 2);
    let env = findings(&verdict, "app-env");
    assert_eq!(env[0]["evidence"]["value"], "staging");
    // An exception by file and key sets the ageing finding aside.
    std::fs::write(
        work.path().join("excepted.yaml"),
        format!("{POLICY}exceptions:\n  - rule: password-ageing\n    match: /etc/login.defs:PASS_MAX_DAYS\n    reason: accounts are locked; no passwords\n"),
    )
    .unwrap();
    let out = run_vouch(
        work.path(),
        &[
            "check",
            &tag_bad,
            "--policy",
            "excepted.yaml",
            "--format",
            "json",
        ],
    );
    let excepted: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ageing = findings(&excepted, "password-ageing");
    assert!(ageing[0]["excepted_by"].is_number(), "{ageing:?}");
    assert_eq!(
        excepted["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "password-ageing")
            .unwrap()["status"],
        "passed"
    );

    // Fixed: a drop-in through Debian's own Include line, the standard's ageing, forwarding off in
    // /etc/sysctl.conf (read after the sysctl.d files), debugging off, production.
    let tag_good = format!("vouch-test/file-content-good:{}", std::process::id());
    let fixed = "RUN printf 'PermitRootLogin no\\nPasswordAuthentication no\\n' > /etc/ssh/sshd_config.d/50-hardening.conf \
         && sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\\t90/' /etc/login.defs \
         && echo 'net.ipv4.ip_forward = 0' >> /etc/sysctl.conf \
         && sed -i 's/^debug = true/debug = false/' /srv/app/conf/app.properties \
         && printf 'APP_ENV=production\\n' > /srv/app/.env\n";
    build_image(
        &tag_good,
        &dockerfile(fixed),
        &[(name.as_str(), bytes.as_slice())],
    );
    let (code, verdict) = check(work.path(), &tag_good);
    let failed: Vec<&Value> = verdict["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "passed")
        .collect();
    assert_eq!(code, Some(0), "{failed:#?}");
    let reference = sshd_t(&tag_good);
    assert!(
        reference.contains(&"permitrootlogin no".to_string()),
        "{reference:?}"
    );
    assert!(reference.contains(&"passwordauthentication no".to_string()));

    // First value wins, as sshd reads it: a drop-in sorted earlier says yes.
    let tag_first = format!("vouch-test/file-content-first:{}", std::process::id());
    let earlier = format!(
        "{fixed}RUN printf 'PermitRootLogin yes\\n' > /etc/ssh/sshd_config.d/10-early.conf\n"
    );
    build_image(
        &tag_first,
        &dockerfile(&earlier),
        &[(name.as_str(), bytes.as_slice())],
    );
    let (code, verdict) = check(work.path(), &tag_first);
    assert_eq!(code, Some(1));
    let sshd = findings(&verdict, "sshd-hardening");
    assert_eq!(sshd.len(), 1, "{sshd:?}");
    assert_eq!(
        sshd[0]["evidence"]["path"],
        "/etc/ssh/sshd_config.d/10-early.conf"
    );
    assert_eq!(sshd[0]["evidence"]["value"], "yes");
    assert!(sshd_t(&tag_first).contains(&"permitrootlogin yes".to_string()));
    for tag in [&tag_bad, &tag_good, &tag_first] {
        docker(&["rmi", "-f", tag]);
    }
}
