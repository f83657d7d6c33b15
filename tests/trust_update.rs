//! `docker vouch trust update` against a TUF repository made by python-tuf, the reference
//! implementation (`integration/tuf_repo.py`), served on a loopback port: the first update from
//! its root; a root rotation (a fresh client bootstrapped from version 1 chains to version 2, and
//! an updated one follows without the root given again); then refusals that leave the stored root
//! as it was: a tampered target (refused by a client that fetches it), an expired timestamp, a
//! next root not signed by the current root's keys. The root an update stores is what
//! `verify-blob` then trusts by default.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::*;

/// The python of sigstore-python's environment, which has python-tuf.
fn tuf_python() -> String {
    let python = integration_helper(
        None,
        "sigstore_python.sh",
        &[],
        "python-tuf comes with sigstore-python; make deps",
    );
    String::from_utf8(python).unwrap().trim().to_string()
}

fn script(python: &str, name: &str, args: &[&Path]) {
    integration_helper(Some(python), name, args, "the TUF test's helper");
}

fn step(python: &str, repo: &Path, step: &str, target: Option<&Path>) {
    let mut args = vec![repo, Path::new(step)];
    args.extend(target);
    script(python, "tuf_repo.py", &args);
}

fn update(dir: &Path, url: &str, root: Option<&Path>) -> Output {
    let mut args = vec![
        "trust".to_string(),
        "update".into(),
        "--tuf-url".into(),
        url.into(),
        "--dir".into(),
        dir.join("trust").display().to_string(),
    ];
    if let Some(root) = root {
        args.extend(["--tuf-root".into(), root.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_vouch(dir, &args)
}

/// The transparency log ID of a trusted root file.
fn log_id(path: &Path) -> String {
    let root: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    root["tlogs"][0]["logId"]["keyId"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn trusted_roots_come_through_tuf_with_rotation_and_refusals() {
    let python = tuf_python();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    // Two instances' trust material (the verify-blob fixture's), the repository serving the
    // first, then the second after a rotation.
    let (first, second, repo) = (dir.join("first"), dir.join("second"), dir.join("tuf"));
    for instance in [&first, &second] {
        script("python3", "sigstore_fixture.py", &[instance]);
    }
    step(
        &python,
        &repo,
        "init",
        Some(&first.join("trusted_root.json")),
    );
    let url = serve_dir(repo.join("repo"));
    let stored = dir.join("trust/trusted_root.json");

    let out = update(dir, &url, Some(&repo.join("root.json")));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("1 certificate authorities, 1 transparency logs"));
    assert_eq!(log_id(&stored), log_id(&first.join("trusted_root.json")));
    // A later update from the same repository needs no root: the first is kept.
    let out = update(dir, &url, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Another repository's first update does need one.
    let out = update(dir, "http://127.0.0.1:9/", None);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("needs its root (--tuf-root root.json)"));

    // verify-blob trusts the stored root when none is named.
    let blob = |trust: &Path| {
        Command::new(env!("CARGO_BIN_EXE_docker-vouch"))
            .current_dir(&first)
            .env("VOUCH_TRUST_DIR", trust)
            .args([
                "verify-blob",
                "artifact.txt",
                "--bundle",
                "valid.sigstore.json",
                "--certificate-identity",
                "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
                "--certificate-oidc-issuer",
                "https://token.actions.githubusercontent.com",
            ])
            .output()
            .unwrap()
    };
    assert_eq!(blob(&dir.join("trust")).status.code(), Some(0));
    assert_eq!(blob(&dir.join("no-trust")).status.code(), Some(1));

    // Root rotation: version 2 (new root and timestamp keys, signed by the old root key too)
    // serves the second instance's root.
    step(
        &python,
        &repo,
        "rotate",
        Some(&second.join("trusted_root.json")),
    );
    let out = update(dir, &url, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(log_id(&stored), log_id(&second.join("trusted_root.json")));
    // A client that only ever had version 1 chains to version 2 on its first update.
    let fresh = tempfile::tempdir().unwrap();
    let out = update(fresh.path(), &url, Some(&repo.join("root.json")));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        log_id(&fresh.path().join("trust/trusted_root.json")),
        log_id(&second.join("trusted_root.json"))
    );

    // Refusals, each leaving the stored root as it was.
    let before = std::fs::read(&stored).unwrap();
    let refused = |what: &str, says: &str| {
        let out = update(dir, &url, None);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{what}: {}", stderr(&out));
        assert_eq!(std::fs::read(&stored).unwrap(), before, "{what}");
    };
    // A target changed on the server: a client with it cached keeps its verified copy; one
    // fetching it refuses it, and stores nothing.
    step(&python, &repo, "tamper", None);
    let out = update(dir, &url, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read(&stored).unwrap(), before);
    let fresh = tempfile::tempdir().unwrap();
    let out = update(fresh.path(), &url, Some(&repo.join("root.json")));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("trust update refused: TUF:"),
        "{}",
        stderr(&out)
    );
    assert!(!fresh.path().join("trust/trusted_root.json").exists());
    assert!(!fresh.path().join("trust/tuf-root.json").exists());
    step(&python, &repo, "expire", None);
    refused("an expired timestamp", "expired");
    step(
        &python,
        &repo,
        "rotate",
        Some(&second.join("trusted_root.json")),
    );
    step(&python, &repo, "rogue-rotate", None);
    refused(
        "a root its predecessor did not sign",
        "trust update refused: TUF:",
    );
}
