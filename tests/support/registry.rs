//! Helpers for the tests that need the test registries (`integration/registry.sh`).

use super::{build_image, docker, require_engine, stderr, Compression, Layer, TestImage};
use std::path::Path;
use std::process::{Command, Output};

pub fn open_registry() -> String {
    format!(
        "127.0.0.1:{}",
        std::env::var("VOUCH_REGISTRY_PORT").unwrap_or_else(|_| "5000".into())
    )
}

pub fn auth_registry() -> String {
    format!(
        "127.0.0.1:{}",
        std::env::var("VOUCH_REGISTRY_AUTH_PORT").unwrap_or_else(|_| "5001".into())
    )
}

/// Fails unless the test registries answer (the TLS one is checked by [`tls_registry`]).
pub fn require_registries() {
    require_engine();
    for registry in [open_registry(), auth_registry()] {
        let answers = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "5",
            ])
            .arg(format!("http://{registry}/v2/"))
            .output()
            .map(|o| matches!(o.stdout.as_slice(), b"200" | b"401"))
            .unwrap_or(false);
        assert!(
            answers,
            "no registry answers on {registry}: start them with `integration/registry.sh start` (make test does this)"
        );
    }
}

pub fn registry_tool(args: &[&str]) -> Output {
    Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/registry_tool.py"))
        .args(args)
        .output()
        .expect("python3 runs")
}

/// Signs vouch's statements attached to `digest` in `repo` again keylessly, as `identity`
/// (`registry_tool.py keyless`: the test's Fulcio-like CA and Rekor-like log, kept in `trust`,
/// which then holds the trusted root and cosign's root files); the test fails if it cannot.
#[allow(dead_code)]
pub fn sign_keylessly(registry: &str, repo: &str, digest: &str, trust: &Path, identity: &str) {
    let out = registry_tool(&[
        "keyless",
        registry,
        repo,
        digest,
        &trust.display().to_string(),
        identity,
    ]);
    assert!(
        out.status.success(),
        "registry_tool keyless: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The registry's manifest digest of `name` (what `docker push` printed, via the engine).
pub fn repo_digest(name: &str, registry: &str) -> String {
    let digests = docker(&["inspect", "--format", "{{json .RepoDigests}}", name]);
    let digests: Vec<String> = serde_json::from_str(digests.trim()).unwrap();
    digests
        .iter()
        .find(|d| d.starts_with(registry))
        .and_then(|d| d.split_once('@'))
        .map(|(_, d)| d.to_string())
        .unwrap_or_else(|| panic!("{name} has no repo digest in {registry}: {digests:?}"))
}

/// Asserts the exit code and a part of the message.
pub fn fails_with(out: &Output, code: i32, message: &str) {
    assert_eq!(out.status.code(), Some(code), "{}", stderr(out));
    assert!(
        stderr(out).contains(message),
        "{:?} not in: {}",
        message,
        stderr(out)
    );
}

/// A small image of its own (the content is unique to this run, so its manifest digest is new and
/// the registry holds nothing for it from an earlier run).
pub fn app_image(registry: &str, name: &str) -> String {
    let tag = format!("{registry}/vouch-test/{name}:{}", std::process::id());
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    build_image(
        &tag,
        &format!("FROM scratch\nCOPY app /app\nLABEL marker={name}\nUSER 1000\nCMD [\"/app\"]\n"),
        &[("app", format!("#!{name} {nonce}\n").as_bytes())],
    )
}

/// The HTTPS registry `integration/registry.sh` starts on this machine's non-loopback address:
/// its `ADDRESS:PORT` and the CA certificate that signed its certificate.
pub fn tls_registry() -> (String, std::path::PathBuf) {
    let state = std::path::PathBuf::from(
        std::env::var("VOUCH_REGISTRY_STATE").unwrap_or_else(|_| "/tmp/vouch-registry".into()),
    );
    let address = std::fs::read_to_string(state.join("tls/address")).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: the TLS registry is not running; start it with `integration/registry.sh start` (make test does this)",
            state.join("tls/address").display()
        )
    });
    (address.trim().to_string(), state.join("tls/ca.crt"))
}

/// The digest a `registry_tool put-*index` command printed.
pub fn put_index(args: &[&str]) -> String {
    let out = registry_tool(args);
    assert!(out.status.success(), "{}: {}", args[0], stderr(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// This machine's architecture as OCI platforms name it.
pub fn index_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// Pushes `image` to `reference` in the open registry: written as an OCI layout under `work`, copied
/// by skopeo (as CI pushes what buildx made, never through the engine).
pub fn push_layout(image: &TestImage, work: &Path, reference: &str) {
    let layout = work.join("pushed-layout");
    image.write_oci_dir(&layout, Compression::Gzip, &image.architecture);
    let copied = Command::new("skopeo")
        .args(["copy", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(format!("docker://{reference}"))
        .output()
        .expect("skopeo runs");
    assert!(copied.status.success(), "skopeo copy: {}", stderr(&copied));
}

/// A small image of another architecture (content unique to this run), written as an OCI layout
/// under `work` and pushed by skopeo to `registry/repo:TAG`: its manifest digest.
pub fn push_image_of(architecture: &str, work: &Path, registry: &str, repo: &str) -> String {
    let layout = work.join(format!("{architecture}-layout"));
    let nonce = format!("{architecture} {:?}", std::time::SystemTime::now());
    let mut image = TestImage::new(vec![Layer::new().file("app", &nonce).bytes()]);
    image.architecture = architecture.into();
    image.write_oci_dir(&layout, Compression::Gzip, architecture);
    let digest_file = work.join(format!("{architecture}.digest"));
    let copied = Command::new("skopeo")
        .args(["copy", "--dest-tls-verify=false", "--digestfile"])
        .arg(&digest_file)
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(format!(
            "docker://{registry}/{repo}:{architecture}-{}",
            std::process::id()
        ))
        .output()
        .expect("skopeo runs");
    assert!(copied.status.success(), "skopeo copy: {}", stderr(&copied));
    std::fs::read_to_string(&digest_file)
        .expect("skopeo wrote the digest")
        .trim()
        .to_string()
}
