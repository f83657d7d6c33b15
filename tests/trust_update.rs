//! `docker vouch trust update` against a TUF repository made by python-tuf, the reference
//! implementation (`integration/tuf_repo.py`), served on a loopback port: the first update from
//! its root; a root rotation (a fresh client bootstrapped from version 1 chains to version 2, and
//! an updated one follows without the root given again); then refusals that leave the stored root
//! as it was: a tampered target (refused by a client that fetches it), an expired timestamp, a next root not signed by the current root's
//! keys. The root an update stores is what `verify-blob` then trusts by default.

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

/// Serves the files under `root` over HTTP on a loopback port (GET only; 404 for what is not
/// there); returns the base URL.
fn serve(root: PathBuf) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let n = stream.read(&mut request).unwrap_or(0);
            let line = String::from_utf8_lossy(&request[..n]).to_string();
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let file = root.join(path.trim_start_matches('/'));
            let reply = match (path.contains(".."), std::fs::read(&file)) {
                (false, Ok(body)) => {
                    let mut reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    reply.extend_from_slice(&body);
                    reply
                }
                _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&reply);
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// The python of sigstore-python's environment, which has python-tuf.
fn tuf_python() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(root.join("integration/sigstore_python.sh"))
        .output()
        .expect("integration/sigstore_python.sh runs");
    assert!(
        out.status.success(),
        "sigstore_python.sh (python-tuf comes with sigstore-python; make deps): {}",
        stderr(&out)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn script(python: &str, name: &str, args: &[&Path]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python)
        .arg(root.join("integration").join(name))
        .args(args)
        .output()
        .expect("the script runs");
    assert!(out.status.success(), "{name}: {}", stderr(&out));
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
    let url = serve(repo.join("repo"));
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
