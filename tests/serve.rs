//! `docker vouch serve`, the admission webhook, as the Kubernetes API server uses it: the real
//! binary listening with a certificate made by openssl, AdmissionReview requests POSTed over TLS by
//! curl (checking the server against that certificate), about images pushed to and attested in the
//! test registry (`integration/registry.sh`). Covers allowed and refused pods and workloads (each
//! refusal naming the container and the failed check), operations that run nothing, an unreachable
//! registry, malformed requests, the digest-keyed cache (a tampered attestation is still served
//! from it; a moved tag never is; without a cache the tampering is caught), and startup errors.

mod support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use support::registry::*;
use support::*;

const PASSWORD: &str = "serve test";

/// A directory with a key pair, a TLS certificate for 127.0.0.1 and an empty docker config.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("docker-config")).unwrap();
        let out = run(dir.path(), &["keygen"]);
        assert!(out.status.success(), "keygen: {}", stderr(&out));
        self_signed(dir.path(), "tls");
        Workspace { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    vouch()
        .args(args)
        .current_dir(cwd)
        .env("VOUCH_PASSWORD", PASSWORD)
        .env("DOCKER_CONFIG", cwd.join("docker-config"))
        .output()
        .expect("docker-vouch runs")
}

/// `docker vouch serve` with the workspace's key and certificate, on a port the system chooses.
const SERVE: [&str; 9] = [
    "serve",
    "--key",
    "cosign.pub",
    "--tls-cert",
    "tls.crt",
    "--tls-key",
    "tls.key",
    "--listen",
    "127.0.0.1:0",
];

/// A running `docker vouch serve`, stopped when dropped; its stderr lines are collected.
struct Server {
    child: Child,
    address: String,
    cert: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(w: &Workspace, extra: &[&str]) -> Server {
        let mut child = vouch()
            .args(SERVE)
            .args(extra)
            .current_dir(w.path())
            .env("DOCKER_CONFIG", w.path().join("docker-config"))
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker-vouch serve starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = line
                    .split("listening on https://")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                {
                    let _ = tx.send(address.to_string());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let address = match rx.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                panic!("serve did not start listening: {:?}", log.lock().unwrap());
            }
        };
        Server {
            child,
            address,
            cert: w.path().join("tls.crt"),
            log,
        }
    }

    /// `curl` against the server, checking its certificate; (HTTP status, body).
    fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, String) {
        let out = self.curl(&self.cert, method, path, body);
        assert!(out.status.success(), "curl: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, status) = text.rsplit_once('\n').expect("a status line");
        (
            status.trim().parse().expect("an HTTP status"),
            body.to_string(),
        )
    }

    /// `curl` trusting only the certificate `ca`; its whole output.
    fn curl(&self, ca: &Path, method: &str, path: &str, body: Option<&[u8]>) -> Output {
        let mut command = Command::new("curl");
        command
            .args(["-sS", "--max-time", "60", "-X", method, "--cacert"])
            .arg(ca)
            .args(["-w", "\n%{http_code}"])
            .arg(format!("https://{}{path}", self.address));
        if body.is_some() {
            command
                .args([
                    "-H",
                    "Content-Type: application/json",
                    "--data-binary",
                    "@-",
                ])
                .stdin(Stdio::piped());
        }
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("curl runs");
        if let Some(body) = body {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(body).unwrap();
        }
        child.wait_with_output().expect("curl finishes")
    }

    /// POSTs an AdmissionReview and returns its `response`.
    fn review(&self, review: &Value) -> Value {
        let (status, body) = self.request(
            "POST",
            "/validate",
            Some(&serde_json::to_vec(review).unwrap()),
        );
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).expect("a JSON AdmissionReview");
        assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(answer["kind"], "AdmissionReview");
        assert_eq!(answer["response"]["uid"], review["request"]["uid"]);
        answer["response"].clone()
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Whether a log line holding `needle` arrives within 10 s (the server's stderr is read by
    /// another thread: a line written just before a client saw the effect may not be there yet).
    fn logs_within(&self, needle: &str) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if self.log().iter().any(|l| l.contains(needle)) {
                return true;
            }
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn admission(uid: &str, operation: &str, kind: &str, object: Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": kind},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "operation": operation,
            "namespace": "team",
            "userInfo": {"username": "alice"},
            "object": object,
            "dryRun": false
        }
    })
}

fn pod(images: &[&str]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
        .collect();
    json!({"metadata": {"name": "web"}, "spec": {"containers": containers}})
}

/// Pushes `name` and attests it with --push (the set beside it in the registry).
fn push_and_attest(w: &Workspace, name: &str) {
    let out = run(w.path(), &["attest", name, "--key", "cosign.key", "--push"]);
    assert!(
        out.status.success(),
        "attest --push {name}: {}",
        stderr(&out)
    );
}

#[test]
fn the_webhook_admits_verified_images_and_refuses_the_rest() {
    require_registries();
    let w = Workspace::new();
    let registry = open_registry();
    let good = app_image(&registry, "serve-good");
    push_and_attest(&w, &good);
    // Runs as root: the default policy's verdict is FAILED.
    let failing = build_image(
        &format!("{registry}/vouch-test/serve-root:{}", std::process::id()),
        &format!(
            "FROM scratch\nCOPY app /app\nCMD [\"/app\"]\nLABEL nonce=\"{:?}\"\n",
            std::time::SystemTime::now()
        ),
        &[("app", b"root")],
    );
    push_and_attest(&w, &failing);
    let bare = app_image(&registry, "serve-bare");
    docker(&["push", &bare]);

    let server = Server::start(&w, &["--require-pass", "--cache-ttl", "1h"]);
    let (status, body) = server.request("GET", "/healthz", None);
    assert_eq!((status, body.trim()), (200, "ok"));

    // A pod of a verified image is admitted.
    let response = server.review(&admission("u-1", "CREATE", "Pod", pod(&[&good])));
    assert_eq!(response["allowed"], true, "{response:#}");

    // A Deployment whose template runs an unattested init container and a FAILED image beside the
    // good one: refused, naming both containers and why, not the good one.
    let deployment = json!({"metadata": {"name": "api"}, "spec": {"template": {"spec": {
        "initContainers": [{"name": "init", "image": bare}],
        "containers": [{"name": "ok", "image": good}, {"name": "root", "image": failing}],
    }}}});
    let response = server.review(&admission("u-2", "CREATE", "Deployment", deployment));
    assert_eq!(response["allowed"], false, "{response:#}");
    assert_eq!(response["status"]["code"], 403);
    let message = response["status"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("spec.initContainers[0] image {bare} (sha256:"))
            && message.contains("NOT VERIFIED: no vouch attestations beside it"),
        "{message}"
    );
    assert!(
        message.contains(&format!("spec.containers[1] image {failing}"))
            && message.contains("verdict.result"),
        "{message}"
    );
    assert!(!message.contains("spec.containers[0]"), "{message}");

    // Deleting runs nothing; an image whose registry cannot be reached is refused (fail closed).
    let response = server.review(&admission("u-3", "DELETE", "Pod", pod(&[&bare])));
    assert_eq!(response["allowed"], true, "{response:#}");
    let response = server.review(&admission(
        "u-4",
        "CREATE",
        "Pod",
        pod(&["127.0.0.1:1/x:1"]),
    ));
    assert_eq!(response["allowed"], false);
    assert!(
        response["status"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot be resolved in its registry")),
        "{response:#}"
    );

    // Requests that are not reviews.
    let (status, body) = server.request("POST", "/validate", Some(b"{not json"));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not JSON"), "{body}");
    let v1beta1 = json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"uid": "x"}});
    let (status, body) = server.request(
        "POST",
        "/validate",
        Some(&serde_json::to_vec(&v1beta1).unwrap()),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("admission.k8s.io/v1"), "{body}");
    assert_eq!(server.request("GET", "/validate", None).0, 405);
    assert_eq!(server.request("GET", "/other", None).0, 404);

    // The outcome is cached by digest: the good image's attestations tampered with in both layouts
    // are not looked at again within the TTL...
    let digest = repo_digest(&good, &registry);
    let repo = good
        .trim_start_matches(&format!("{registry}/"))
        .rsplit_once(':')
        .map(|(repo, _)| repo.to_string())
        .unwrap();
    for command in ["tamper-att", "tamper-referrers"] {
        let out = registry_tool(&[command, &registry, &repo, &digest]);
        assert!(out.status.success(), "{command}: {}", stderr(&out));
    }
    let response = server.review(&admission("u-5", "CREATE", "Pod", pod(&[&good])));
    assert_eq!(response["allowed"], true, "{response:#}");
    assert!(
        server
            .log()
            .iter()
            .any(|line| line.contains(&format!("allowed: {good} ({digest}, cached)"))),
        "{:?}",
        server.log()
    );
    // ...a server without a cache catches the tampering...
    let fresh = Server::start(&w, &["--require-pass", "--cache-ttl", "0s"]);
    let response = fresh.review(&admission("u-6", "CREATE", "Pod", pod(&[&good])));
    assert_eq!(response["allowed"], false, "{response:#}");
    assert!(
        response["status"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("sbom.signature")),
        "{response:#}"
    );
    // ...and a tag moved to another image is resolved again, never answered from the cache.
    docker(&["tag", &bare, &good]);
    docker(&["push", &good]);
    let response = server.review(&admission("u-7", "CREATE", "Pod", pod(&[&good])));
    assert_eq!(response["allowed"], false, "{response:#}");
    assert!(
        response["status"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no vouch attestations")),
        "{response:#}"
    );
    // Every review was logged with its outcome.
    let log = server.log();
    assert!(
        log.iter()
            .any(|l| l.contains("CREATE Deployment team/api: refused")),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("DELETE Pod team/web: allowed")),
        "{log:?}"
    );
}

#[test]
fn serve_refuses_to_start_without_its_keys_and_certificate() {
    let w = Workspace::new();
    // (--key, --tls-cert, --tls-key, --listen; the exit code and message). Each fails before
    // listening: a bug that let one start would hang here, not pass.
    let cases = [
        (
            "absent.pub",
            "tls.crt",
            "tls.key",
            "127.0.0.1:0",
            3,
            "absent.pub",
        ),
        (
            "cosign.pub",
            "cosign.pub",
            "tls.key",
            "127.0.0.1:0",
            3,
            "cosign.pub: holds no PEM certificate",
        ),
        // The signing key's file is not the TLS key.
        (
            "cosign.pub",
            "tls.crt",
            "cosign.key",
            "127.0.0.1:0",
            3,
            "cosign.key: not a PEM private key",
        ),
        (
            "cosign.pub",
            "tls.crt",
            "tls.key",
            "256.0.0.1:1",
            3,
            "cannot listen on 256.0.0.1:1",
        ),
    ];
    for (key, cert, tls_key, listen, code, message) in cases {
        let out = run(
            w.path(),
            &[
                "serve",
                "--key",
                key,
                "--tls-cert",
                cert,
                "--tls-key",
                tls_key,
                "--listen",
                listen,
            ],
        );
        fails_with(&out, code, message);
    }
    let out = run(
        w.path(),
        &["serve", "--key", "cosign.pub", "--tls-key", "tls.key"],
    );
    fails_with(&out, 2, "--tls-cert");
}

#[test]
fn a_renewed_certificate_is_served_without_a_restart() {
    let w = Workspace::new();
    let server = Server::start(&w, &[]);
    // (A copy: tls.crt itself is about to be replaced.)
    let first = w.path().join("first.crt");
    std::fs::copy(w.path().join("tls.crt"), &first).unwrap();
    assert!(server
        .curl(&first, "GET", "/healthz", None)
        .status
        .success());

    // Renewed as a mounted Secret is: new files written beside, then moved into place.
    self_signed(w.path(), "renewed");
    let renewed = w.path().join("renewed.crt");
    std::fs::copy(w.path().join("renewed.key"), w.path().join("next.key")).unwrap();
    std::fs::copy(&renewed, w.path().join("next.crt")).unwrap();
    std::fs::rename(w.path().join("next.key"), w.path().join("tls.key")).unwrap();
    std::fs::rename(w.path().join("next.crt"), w.path().join("tls.crt")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let out = server.curl(&renewed, "GET", "/healthz", None);
    assert!(
        out.status.success(),
        "the renewed certificate: {}",
        stderr(&out)
    );
    let out = server.curl(&first, "GET", "/healthz", None);
    assert!(
        !out.status.success(),
        "the old certificate is no longer served"
    );
    assert!(
        server.logs_within("reloaded the TLS certificate"),
        "{:?}",
        server.log()
    );

    // A broken rotation keeps the certificate in use, with a warning.
    std::fs::write(w.path().join("tls.crt"), "not a certificate").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let out = server.curl(&renewed, "GET", "/healthz", None);
    assert!(out.status.success(), "still served: {}", stderr(&out));
    server.logs_within("still serving the previous certificate");
    assert!(
        server.log().iter().any(|l| l.contains("cannot be loaded")
            && l.contains("still serving the previous certificate")),
        "{:?}",
        server.log()
    );
}

#[test]
fn every_platform_of_an_index_must_verify() {
    // The webhook cannot know which node (and so which image of an index) a pod will get: an index
    // of two platforms is admitted only when both images verify.
    require_registries();
    let w = Workspace::new();
    let registry = open_registry();
    let repo = "vouch-test/serve-multi";
    let host = app_image(&registry, "serve-multi");
    let in_repo = format!("{registry}/{repo}:host-{}", std::process::id());
    docker(&["tag", &host, &in_repo]);
    push_and_attest(&w, &in_repo);
    let host_digest = repo_digest(&in_repo, &registry);
    let s390x_digest = push_image_of("s390x", w.path(), &registry, repo);
    let tag = format!("multi-{}", std::process::id());
    put_index(&[
        "put-index",
        &registry,
        repo,
        &tag,
        &host_digest,
        &s390x_digest,
        index_arch(),
    ]);
    let multi = format!("{registry}/{repo}:{tag}");

    let server = Server::start(&w, &["--cache-ttl", "0s"]);
    let response = server.review(&admission("u-m1", "CREATE", "Pod", pod(&[&multi])));
    assert_eq!(response["allowed"], false, "{response:#}");
    let message = response["status"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!(
            "its linux/s390x image {s390x_digest}: NOT VERIFIED: no vouch attestations"
        )),
        "{message}"
    );
    assert!(
        !message.contains(&format!("its linux/{} image", index_arch())),
        "the host's image verified: {message}"
    );

    // Once the s390x image is attested too, the index is admitted.
    let out = run(
        w.path(),
        &[
            "attest",
            &format!("registry:{multi}"),
            "--platform",
            "linux/s390x",
            "--push",
        ],
    );
    assert!(out.status.success(), "attest --platform: {}", stderr(&out));
    let response = server.review(&admission("u-m2", "CREATE", "Pod", pod(&[&multi])));
    assert_eq!(response["allowed"], true, "{response:#}");
    docker(&["rmi", &in_repo, &host]);
}

#[test]
fn sigterm_lets_the_review_in_progress_finish_then_stops() {
    let w = Workspace::new();
    let mut server = Server::start(&w, &[]);
    assert_eq!(server.request("GET", "/healthz", None).0, 200);

    // A review whose body is still being uploaded (curl streams stdin, chunked) when SIGTERM comes.
    let body =
        serde_json::to_vec(&admission("u-drain", "DELETE", "Pod", pod(&["busybox"]))).unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut curl = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "30",
            "-X",
            "POST",
            "-T",
            "-",
            "--cacert",
        ])
        .arg(&server.cert)
        .args([
            "-H",
            "Content-Type: application/json",
            "-w",
            "\n%{http_code}",
        ])
        .arg(format!("https://{}/validate", server.address))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curl runs");
    let mut upload = curl.stdin.take().unwrap();
    {
        use std::io::Write;
        upload.write_all(first).unwrap();
        upload.flush().unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(700)); // the request is in the server

    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server left with a review in progress: {:?}",
        server.log()
    );
    // New connections are refused while it drains.
    let late = server.curl(&server.cert, "GET", "/healthz", None);
    assert!(
        !late.status.success(),
        "a new connection was accepted while stopping"
    );

    {
        use std::io::Write;
        upload.write_all(rest).unwrap();
    }
    drop(upload);
    let out = curl.wait_with_output().expect("curl finishes");
    assert!(out.status.success(), "curl: {}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (answer, status) = text.rsplit_once('\n').expect("a status line");
    assert_eq!(status, "200", "{answer}");
    let answer: Value = serde_json::from_str(answer).expect("a JSON AdmissionReview");
    assert_eq!(answer["response"]["uid"], "u-drain");
    assert_eq!(answer["response"]["allowed"], true);

    // Then it stops by itself (no SIGKILL from Drop), exit 0, and says so.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 15 s after SIGTERM: {:?}",
            server.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(0), "{:?}", server.log());
    std::thread::sleep(std::time::Duration::from_millis(200)); // the log reader catches up
    let log = server.log();
    assert!(
        log.iter()
            .any(|l| l.contains("stopping: no new connections")),
        "{log:?}"
    );
    assert!(
        log.iter().any(|l| l.ends_with("vouch serve: stopped")),
        "{log:?}"
    );
}

/// `verify --format json` of a registry image: the exit code (3 is a failure to run at all).
fn verify_code(w: &Workspace, image: &str, extra: &[&str]) -> (i32, String) {
    let reference = format!("registry:{image}");
    let mut args = vec!["verify", &reference, "--key", "cosign.pub"];
    args.extend_from_slice(extra);
    let out = run(w.path(), &args);
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(code, 3, "verify could not run: {}", stderr(&out));
    (
        code,
        format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out)),
    )
}

/// `attest registry:REFERENCE --push` with `extra` flags, which must succeed.
fn attest_in_registry(w: &Workspace, reference: &str, extra: &[&str]) -> Output {
    let image = format!("registry:{reference}");
    let mut args = vec!["attest", &image, "--key", "cosign.key", "--push"];
    args.extend_from_slice(extra);
    let out = run(w.path(), &args);
    assert!(out.status.success(), "attest {image}: {}", stderr(&out));
    out
}

/// The message of a review of a pod running `image`, which must be refused.
fn refusal(server: &Server, uid: &str, image: &str) -> String {
    let response = server.review(&admission(uid, "CREATE", "Pod", pod(&[image])));
    assert_eq!(response["allowed"], false, "{response:#}");
    response["status"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Indexes an attacker controls: each manifest a client could pull is found by the one index walk
/// and judged by its own digest (never by re-resolving a platform name), through nested indexes;
/// an index digest vouches for nothing when the index holds several images; a statement naming only
/// the image ID does not vouch for another manifest reusing that config; the webhook's cache is
/// keyed by repository as well as digest.
#[test]
fn hostile_indexes_are_judged_by_every_manifest_they_reach() {
    require_registries();
    let w = Workspace::new();
    let registry = open_registry();
    let repo = "vouch-test/serve-hostile";
    let arch = index_arch();
    let pid = std::process::id();
    // A: attested. B: never attested. Both run on this machine.
    let a_local = app_image(&registry, "hostile-a");
    let a = format!("{registry}/{repo}:a-{pid}");
    docker(&["tag", &a_local, &a]);
    push_and_attest(&w, &a);
    let a_digest = repo_digest(&a, &registry);
    let b_local = app_image(&registry, "hostile-b");
    let b = format!("{registry}/{repo}:b-{pid}");
    docker(&["tag", &b_local, &b]);
    docker(&["push", &b]);
    let b_digest = repo_digest(&b, &registry);
    let server = Server::start(&w, &["--cache-ttl", "0s"]);

    // 1. The attested image as ARCH/v3 listed first, the unattested one as plain ARCH: a client
    // asking for plain ARCH (docker 20.10, containerd 1.x) pulls B.
    let variant = if arch == "amd64" { "v3" } else { "v8.2" };
    let tag = format!("variants-{pid}");
    put_index(&[
        "put-entries",
        &registry,
        repo,
        &tag,
        &format!("{a_digest}=linux/{arch}/{variant}"),
        &format!("{b_digest}=linux/{arch}"),
    ]);
    let variants = format!("{registry}/{repo}:{tag}");
    let message = refusal(&server, "h1", &variants);
    assert!(
        message.contains(&format!("its linux/{arch} image {b_digest}: NOT VERIFIED")),
        "{message}"
    );
    assert!(!message.contains(&a_digest), "A verifies: {message}");
    let (code, said) = verify_code(&w, &variants, &[]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains(&b_digest), "{said}");
    // Asked for the variant, a client takes A only.
    let (code, said) = verify_code(
        &w,
        &variants,
        &["--platform", &format!("linux/{arch}/{variant}")],
    );
    assert_eq!(code, 0, "{said}");
    // The image read for this machine is the one containerd takes: B.
    let out = run(w.path(), &["sbom", &format!("registry:{variants}")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sbom: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        sbom["metadata"]["component"]
            .to_string()
            .contains(&b_digest),
        "{}",
        sbom["metadata"]["component"]
    );

    // 2. An outer index whose only entry (no platform) is an inner index of A (ARCH) and B
    // (s390x as the index says): attesting the outer tag for ARCH must not sign the outer index.
    let inner_tag = format!("inner-{pid}");
    let inner = put_index(&[
        "put-entries",
        &registry,
        repo,
        &inner_tag,
        &format!("{a_digest}=linux/{arch}"),
        &format!("{b_digest}=linux/s390x"),
    ]);
    let outer_tag = format!("outer-{pid}");
    let outer = put_index(&[
        "put-entries",
        &registry,
        repo,
        &outer_tag,
        &format!("{inner}=-"),
    ]);
    let outer_ref = format!("{registry}/{repo}:{outer_tag}");
    let out = attest_in_registry(&w, &outer_ref, &["--platform", &format!("linux/{arch}")]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&format!("@{outer}")),
        "the outer index was attested: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let (code, said) = verify_code(&w, &outer_ref, &["--platform", "linux/s390x"]);
    assert_eq!(code, 1, "B verified through the outer index: {said}");
    let (code, said) = verify_code(&w, &outer_ref, &["--platform", &format!("linux/{arch}")]);
    assert_eq!(code, 0, "{said}");
    let message = refusal(&server, "h2", &outer_ref);
    assert!(
        message.contains(&format!("its linux/s390x image {b_digest}: NOT VERIFIED")),
        "{message}"
    );

    // Attesting the index without --platform attests each image it reaches; then it is admitted.
    let out = attest_in_registry(&w, &outer_ref, &[]);
    assert!(
        stderr(&out).contains("an index of 2 runnable images"),
        "{}",
        stderr(&out)
    );
    let response = server.review(&admission("h3", "CREATE", "Pod", pod(&[&outer_ref])));
    assert_eq!(response["allowed"], true, "{response:#}");

    // 3. A manifest reusing A's config with another first layer: statements naming only the
    // config digest (the image ID: an attested `docker save` archive has no manifest digest) must
    // not vouch for it, nor for any registry manifest.
    let forged_tag = format!("forged-{pid}");
    let out = registry_tool(&[
        "forge-layer",
        &registry,
        repo,
        &forged_tag,
        &a_digest,
        &b_digest,
    ]);
    assert!(out.status.success(), "forge-layer: {}", stderr(&out));
    let forged = format!("{registry}/{repo}:{forged_tag}");
    docker(&[
        "save",
        "-o",
        &w.path().join("a.tar").display().to_string(),
        &a,
    ]);
    let out = run(
        w.path(),
        &[
            "attest",
            "docker-archive:a.tar",
            "--key",
            "cosign.key",
            "--output-dir",
            "by-id",
        ],
    );
    assert!(out.status.success(), "attest: {}", stderr(&out));
    let sets: Vec<String> = std::fs::read_dir(w.path().join("by-id"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert!(
        !sets[0].contains(&a_digest[7..]),
        "named by the image ID: {sets:?}"
    );
    for image in [&forged, &a] {
        let (code, said) = verify_code(&w, image, &["--attestations", "by-id"]);
        assert_eq!(
            code, 1,
            "an image-ID-only statement verified {image}: {said}"
        );
    }

    // 4. The cache: A's digest refused in a repository where it has no attestations, then
    // admitted in its own (a bare-digest cache key refused it for everyone).
    let elsewhere_repo = "vouch-test/serve-hostile-elsewhere";
    let elsewhere = format!("{registry}/{elsewhere_repo}:a-{pid}");
    docker(&["tag", &a, &elsewhere]);
    docker(&["push", &elsewhere]);
    let server = Server::start(&w, &["--cache-ttl", "10m"]);
    let by_digest_elsewhere = format!("{registry}/{elsewhere_repo}@{a_digest}");
    let response = server.review(&admission(
        "h4",
        "CREATE",
        "Pod",
        pod(&[&by_digest_elsewhere]),
    ));
    assert_eq!(response["allowed"], false, "{response:#}");
    let by_digest_home = format!("{registry}/{repo}@{a_digest}");
    let response = server.review(&admission("h5", "CREATE", "Pod", pod(&[&by_digest_home])));
    assert_eq!(response["allowed"], true, "{response:#}");
    docker(&["rmi", &a, &b, &elsewhere, &a_local, &b_local]);
}

/// A review about an object that ran `old` before this UPDATE and runs `new` now.
fn update(uid: &str, old: &[&str], new: &[&str]) -> Value {
    let mut review = admission(uid, "UPDATE", "Pod", pod(new));
    review["request"]["oldObject"] = pod(old);
    review
}

/// A peer on 127.0.0.1 that accepts connections (up to 64) and never answers: its port, and the
/// connections it holds.
fn silent_registry() -> (u16, Arc<Mutex<Vec<std::net::TcpStream>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let holder = held.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64).flatten() {
            holder.lock().unwrap().push(stream);
        }
    });
    (port, held)
}

/// A registry that accepts connections and never answers: every review about its images is
/// refused within the review deadline, and the server stays responsive meanwhile.
#[test]
fn a_registry_that_never_answers_is_refused_within_the_deadline() {
    let w = Workspace::new();
    let (port, held) = silent_registry();
    let server = Server::start(&w, &["--review-timeout", "3s"]);
    let images: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|name| format!("127.0.0.1:{port}/silent/{name}:1"))
        .collect();
    let refs: Vec<&str> = images.iter().map(String::as_str).collect();
    let started = std::time::Instant::now();
    let response = server.review(&admission("slow1", "CREATE", "Pod", pod(&refs)));
    let took = started.elapsed();
    assert_eq!(response["allowed"], false, "{response:#}");
    let message = response["status"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("not decided within 3 s"), "{message}");
    assert!(took.as_secs_f64() < 6.0, "decided after {took:?}");
    // The server is not stuck behind it.
    assert_eq!(server.request("GET", "/healthz", None).0, 200);
    assert!(!held.lock().unwrap().is_empty(), "the registry was asked");
}

/// An UPDATE that leaves the images as they were (scaling, a finalizer removed) runs nothing
/// new: allowed without asking any registry, unless `--reverify-updates`; a changed image is
/// verified.
#[test]
fn updates_that_change_no_image_are_allowed() {
    let w = Workspace::new();
    // Nothing answers there: verifying it is always a refusal.
    let unverifiable = "127.0.0.1:1/team/app:1";
    let server = Server::start(&w, &[]);
    let response = server.review(&update("up1", &[unverifiable], &[unverifiable]));
    assert_eq!(response["allowed"], true, "{response:#}");
    let response = server.review(&update("up2", &["127.0.0.1:1/team/app:0"], &[unverifiable]));
    assert_eq!(
        response["allowed"], false,
        "a changed image is verified: {response:#}"
    );
    let response = server.review(&admission("up3", "CREATE", "Pod", pod(&[unverifiable])));
    assert_eq!(response["allowed"], false, "{response:#}");
    drop(server);
    let server = Server::start(&w, &["--reverify-updates"]);
    let response = server.review(&update("up4", &[unverifiable], &[unverifiable]));
    assert_eq!(response["allowed"], false, "{response:#}");
}

/// Peers that open connections and send nothing: each is closed after the handshake timeout;
/// over `--max-connections` a new connection is closed at once, and served again once the idle
/// ones are gone.
#[test]
fn idle_and_excess_connections_are_closed() {
    use std::io::Read;
    let w = Workspace::new();
    let server = Server::start(&w, &["--max-connections", "2"]);
    let idle: Vec<std::net::TcpStream> = (0..2)
        .map(|_| std::net::TcpStream::connect(&server.address).unwrap())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = server.curl(&server.cert, "GET", "/healthz", None);
    assert!(!out.status.success(), "a third connection was served");
    assert!(
        server.logs_within("2 connections are open (the limit)"),
        "{:?}",
        server.log()
    );
    // The idle ones are closed by the server (read gives end of stream) within the handshake
    // timeout, and the slots come back.
    for mut stream in idle {
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(15)))
            .unwrap();
        let mut buf = [0u8; 16];
        let started = std::time::Instant::now();
        let read = stream.read(&mut buf).unwrap_or(0);
        assert_eq!(read, 0, "closed without a word");
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    }
    assert_eq!(server.request("GET", "/healthz", None).0, 200);
}

/// Reviews of one image at the same time share one judgement (the registry is asked once); a
/// registry error is remembered for a few seconds, so a dead registry is not asked on every review.
#[test]
fn concurrent_reviews_share_one_judgement_and_errors_are_remembered() {
    let w = Workspace::new();
    let (port, held) = silent_registry();
    let server = Arc::new(Server::start(&w, &["--review-timeout", "3s"]));
    let image = format!("127.0.0.1:{port}/silent/shared:1");
    let reviews: Vec<_> = (0..4)
        .map(|i| {
            let server = server.clone();
            let image = image.clone();
            std::thread::spawn(move || {
                server.review(&admission(
                    &format!("co{i}"),
                    "CREATE",
                    "Pod",
                    pod(&[&image]),
                ))
            })
        })
        .collect();
    for review in reviews {
        let response = review.join().unwrap();
        assert_eq!(response["allowed"], false, "{response:#}");
    }
    assert_eq!(
        held.lock().unwrap().len(),
        1,
        "four reviews of one image asked the registry once"
    );

    // Nothing listens on port 1: the first review finds out, the next is told from memory.
    let dead = "127.0.0.1:1/team/app:1";
    let first = server.review(&admission("dead1", "CREATE", "Pod", pod(&[dead])));
    let message = first["status"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("cannot reach the registry"), "{message}");
    let second = server.review(&admission("dead2", "CREATE", "Pod", pod(&[dead])));
    let message = second["status"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("the registry error of"), "{message}");
}

/// `serve --rejudge`: an image whose attestation passed is admitted while the local database finds
/// nothing new, and refused once `db update` brings an advisory that its attested policy gates on
/// (the snapshot is part of the cache key, so the cached admission does not outlive the data); a
/// server asked to rejudge without a database does not start.
#[test]
fn rejudge_refuses_an_image_that_todays_data_fails() {
    use support::osv::{all_zip, critical_requests_advisory, requests_advisory};
    require_registries();
    let w = Workspace::new();
    let dir = w.path().join("db");
    let mirror = w.path().join("mirror");
    std::fs::create_dir_all(mirror.join("PyPI")).unwrap();
    let publish = |records: &[(&str, Value)]| {
        std::fs::write(mirror.join("PyPI/all.zip"), all_zip(records)).unwrap();
        let out = run(
            w.path(),
            &[
                "db",
                "update",
                "--source",
                mirror.to_str().unwrap(),
                "--ecosystems",
                "PyPI",
                "--db-dir",
                dir.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "db update: {}", stderr(&out));
    };
    publish(&[requests_advisory()]);

    // requests 2.31.0, pushed by skopeo, attested with --push against that database.
    let mut image = TestImage::new(vec![Layer::new()
        .file(
            "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n",
        )
        .bytes()]);
    image.architecture = index_arch().into();
    let reference = format!(
        "{}/vouch-test/serve-rejudge:{}",
        open_registry(),
        std::process::id()
    );
    push_layout(&image, w.path(), &reference);
    let out = vouch()
        .args([
            "attest",
            &format!("registry:{reference}"),
            "--key",
            "cosign.key",
            "--push",
        ])
        .current_dir(w.path())
        .env("VOUCH_PASSWORD", PASSWORD)
        .env("DOCKER_CONFIG", w.path().join("docker-config"))
        .env("VOUCH_DB_DIR", &dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "attest: {}", stderr(&out));

    let db_dir = dir.to_str().unwrap();
    let server = Server::start(&w, &["--rejudge", "--db-dir", db_dir, "--require-pass"]);
    let response = server.review(&admission("r1", "CREATE", "Pod", pod(&[&reference])));
    assert_eq!(response["allowed"], true, "{response:#}");

    // A critical advisory with a fix: the default policy gates on it, so the image is refused now,
    // though its cached admission is minutes from expiring.
    publish(&[requests_advisory(), critical_requests_advisory()]);
    let message = refusal(&server, "r2", &reference);
    assert!(
        message.contains("verdict.rejudged")
            && message.contains("GHSA-crit-ical-0001 in pkg:pypi/requests@2.31.0"),
        "{message}"
    );
    drop(server);

    // Asked to rejudge with no database, the server says so and does not listen.
    let out = vouch()
        .args(SERVE)
        .args(["--rejudge", "--db-dir", "no-db"])
        .current_dir(w.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no vulnerability database"),
        "{}",
        stderr(&out)
    );
}

/// The policy's `runtime` rules weigh what each container of a pod asks for: a privileged
/// container, a host path, an added capability the deny rule does not allow are refused, naming the
/// container and the rule; a `warn` rule's findings come back as AdmissionReview warnings. At
/// `/validate/audit` (a webhook for namespaces labelled `vouch.dev/mode: audit`) the same pod is
/// admitted, with what enforce would refuse in a warning and the `vouch.dev/would-refuse` audit
/// annotation. An UPDATE that leaves a container's privileges as they were is not weighed again.
#[test]
fn runtime_rules_and_audit_mode() {
    require_registries();
    let w = Workspace::new();
    let registry = open_registry();
    let good = app_image(&registry, "serve-runtime");
    docker(&["push", &good]);
    push_and_attest(&w, &good);
    std::fs::write(
        w.path().join("runtime.yaml"),
        "version: \"1\"\nrules:\n  - id: least-privilege\n    action: deny\n    runtime:\n      allow_capabilities: [NET_BIND_SERVICE]\n  - id: watch\n    action: warn\n    runtime: {allow_privileged: true}\n",
    )
    .unwrap();
    let server = Server::start(&w, &["--policy", "runtime.yaml"]);
    let clean = server.review(&admission("r-1", "CREATE", "Pod", pod(&[&good])));
    assert_eq!(clean["allowed"], true, "{clean:#}");
    assert!(clean["warnings"].is_null(), "{clean:#}");

    let privileged = json!({"metadata": {"name": "web"}, "spec": {
    "volumes": [{"name": "etc", "hostPath": {"path": "/etc"}}],
    "containers": [
        {"name": "ok", "image": &good, "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}},
        {"name": "bad", "image": &good, "volumeMounts": [{"name": "etc", "mountPath": "/host"}],
         "securityContext": {"privileged": true, "capabilities": {"add": ["SYS_ADMIN"]}}}
    ]}});
    let refused = server.review(&admission("r-2", "CREATE", "Pod", privileged.clone()));
    assert_eq!(refused["allowed"], false, "{refused:#}");
    let message = refused["status"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "spec.containers[1]: rule least-privilege: privileged, capability SYS_ADMIN, host path /etc"
        ) && !message.contains("spec.containers[0]"),
        "{message}"
    );
    assert!(
        refused["warnings"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w
                .as_str()
                .unwrap()
                .starts_with("spec.containers[1]: rule watch: capability SYS_ADMIN"))),
        "{refused:#}"
    );

    let review = admission("r-3", "CREATE", "Pod", privileged.clone());
    let (status, body) = server.request(
        "POST",
        "/validate/audit",
        Some(&serde_json::to_vec(&review).unwrap()),
    );
    assert_eq!(status, 200, "{body}");
    let audited: Value = serde_json::from_str(&body).unwrap();
    let audited = &audited["response"];
    assert_eq!(audited["allowed"], true, "{audited:#}");
    assert!(audited["status"].is_null());
    assert_eq!(
        audited["auditAnnotations"]["vouch.dev/would-refuse"].as_str(),
        Some(message)
    );
    assert!(
        audited["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("would be refused in enforce mode: vouch: spec.containers[1]"),
        "{audited:#}"
    );
    assert!(server.logs_within("would refuse (audit: allowed)"));

    // Root asked for explicitly: the image's declared user is not read here, so it is refused.
    let as_root = json!({"metadata": {"name": "root"}, "spec": {
        "securityContext": {"runAsNonRoot": false},
        "containers": [{"name": "a", "image": &good}]}});
    let refused = server.review(&admission("r-5", "CREATE", "Pod", as_root));
    assert!(
        refused["status"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("spec.containers[0]: rule least-privilege: user root")),
        "{refused:#}"
    );

    // Scaling the workload admitted before the rule: its containers ask for what they asked.
    let mut update = admission("r-4", "UPDATE", "Pod", privileged.clone());
    update["request"]["oldObject"] = privileged;
    let scaled = server.review(&update);
    assert_eq!(scaled["allowed"], true, "{scaled:#}");
}

/// Keyless: statements CI signed keylessly (re-signed by the test's Sigstore signing side,
/// `registry_tool.py keyless`; tests/keyless.rs checks them against cosign) are admitted when the
/// webhook names the identity and issuer that signed them, and refused, naming the check, when it
/// names another identity.
#[test]
fn keylessly_signed_images_are_admitted_for_their_identity_only() {
    require_registries();
    let w = Workspace::new();
    let registry = open_registry();
    let image = app_image(&registry, "serve-keyless");
    push_and_attest(&w, &image);
    let digest = repo_digest(&image, &registry);
    let trust = w.path().join("trust");
    let identity = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
    sign_keylessly(
        &registry,
        "vouch-test/serve-keyless",
        &digest,
        &trust,
        identity,
    );
    let root = trust.join("trusted_root.json").display().to_string();
    let signer = |identity| {
        [
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com",
            "--trusted-root",
            &root,
            "--require-pass",
        ]
    };
    let server = Server::start(&w, &signer(identity));
    let response = server.review(&admission("k-1", "CREATE", "Pod", pod(&[&image])));
    assert_eq!(response["allowed"], true, "{response:#}");
    drop(server);

    // The workspace's key (SERVE's --key) signed nothing here any more; another identity is refused.
    let nightly = "https://github.com/acme/app/.github/workflows/nightly.yml@refs/heads/main";
    let server = Server::start(&w, &signer(nightly));
    let message = refusal(&server, "k-2", &image);
    assert!(
        message.contains("sbom.signature")
            && message.contains(&format!(
                "keyless: certificate identity: identity mismatch: expected {nightly}"
            )),
        "{message}"
    );
}
