//! The registry client against a registry that lies (`integration/hostile_registry.py`, on
//! 127.0.0.1, started here): a token service's answer, redirects, huge manifests and tokens, and
//! error bodies carrying secrets, forged log lines and terminal escapes. vouch must ask nothing it
//! was not told to, read nothing past its caps, and echo nothing of what answered.

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use support::*;

struct Hostile {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Hostile {
    fn start() -> Hostile {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests.log");
        let mut child = Command::new("python3")
            .arg(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("integration/hostile_registry.py"),
            )
            .arg(&log)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the hostile registry");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .expect("the hostile registry prints its port");
        Hostile {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    /// `sbom registry:127.0.0.1:PORT/REPO/app:1` with no credentials and no engine.
    fn sbom(&self, repo: &str) -> Output {
        let config = tempfile::tempdir().unwrap();
        vouch()
            .args([
                "sbom",
                &format!("registry:127.0.0.1:{}/{repo}/app:1", self.port),
            ])
            .env("DOCKER_CONFIG", config.path())
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .output()
            .expect("docker-vouch runs")
    }

    fn requests(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn refused(out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(!err.contains("SECRET"), "an answer was echoed: {err}");
    assert!(
        !err.contains('\u{1b}'),
        "a terminal escape reached stderr: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn a_token_service_answer_is_not_echoed() {
    let hostile = Hostile::start();
    let err = refused(&hostile.sbom("echo"));
    assert!(
        err.contains("the token service at 127.0.0.1 answered HTTP 500"),
        "{err}"
    );
}

#[test]
fn redirects_are_not_followed_for_manifests() {
    let hostile = Hostile::start();
    let err = refused(&hostile.sbom("redirect"));
    assert!(err.contains("HTTP 302"), "{err}");
    assert!(
        !hostile.requests().contains("/secret"),
        "the redirect was followed: {}",
        hostile.requests()
    );
}

#[test]
fn a_realm_that_is_not_https_is_not_asked() {
    let hostile = Hostile::start();
    let err = refused(&hostile.sbom("scheme"));
    assert!(
        err.contains("\"file:///etc/passwd\" is not HTTPS: not asked"),
        "{err}"
    );
}

#[test]
fn huge_answers_are_cut_while_they_stream() {
    let hostile = Hostile::start();
    let err = refused(&hostile.sbom("huge"));
    assert!(
        err.contains("the registry sent more than 4194304 bytes"),
        "{err}"
    );
    // The server learns the connection was dropped once its buffers fill: a few MiB, not 1 GiB.
    let mut streamed = None;
    for _ in 0..50 {
        streamed = hostile.requests().lines().find_map(|l| {
            l.strip_prefix("streamed ")
                .and_then(|r| r.split(' ').next()?.parse::<u64>().ok())
        });
        if streamed.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let streamed = streamed.expect("the server logged what it streamed");
    assert!(streamed < 64 * 1024 * 1024, "{streamed} bytes were taken");

    let err = refused(&hostile.sbom("bigtoken"));
    assert!(
        err.contains("the registry sent more than 65536 bytes"),
        "{err}"
    );
}

#[test]
fn error_bodies_are_cut_and_escaped() {
    let hostile = Hostile::start();
    let err = refused(&hostile.sbom("errors"));
    assert!(err.contains("HTTP 403 (DENIED: xxxx"), "{err}");
    assert!(
        !err.contains("INFO vouch: verified"),
        "the forged line came through: {err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    let err = refused(&hostile.sbom("html"));
    assert!(err.contains("the registry answered HTTP 502"), "{err}");
}
