//! Signed attestations end to end: `keygen`, `attest` and `verify` on `docker save` archives and on an
//! engine image; every envelope checked by a second implementation (`integration/dsse_tool.py`:
//! Python's cryptography, hashlib and PyNaCl), keys made by that implementation (scrypt N of 2^15,
//! 2^16 and 2^17, both PEM labels) loaded by vouch, and the tamper suite: each way of forging or
//! misusing an attestation is refused with its own check and message (exit 1).

mod support;

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

const PASSWORD: &str = "correct horse";

fn vouch_pw(cwd: &Path, password: &str, args: &[&str]) -> Output {
    vouch()
        .args(args)
        .current_dir(cwd)
        .env("VOUCH_PASSWORD", password)
        .env_remove("COSIGN_PASSWORD")
        .output()
        .expect("docker-vouch runs")
}

fn tool(cwd: &Path, args: &[&str]) -> Output {
    Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/dsse_tool.py"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("python3 runs (make deps installs cryptography and PyNaCl)")
}

fn archive(dir: &Path, name: &str, marker: &str) -> String {
    let layer = Layer::new()
        .file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
        .file(
            "var/lib/dpkg/status",
            &format!(
                "{}{}",
                dpkg_paragraph("base-files", "12.4"),
                dpkg_paragraph(marker, "1.0")
            ),
        )
        .bytes();
    std::fs::write(
        dir.join(name),
        TestImage::new(vec![layer]).docker_archive(&format!("example/{marker}:1")),
    )
    .unwrap();
    format!("docker-archive:{name}")
}

fn set_dir(stdout: &[u8]) -> PathBuf {
    let text = String::from_utf8_lossy(stdout);
    PathBuf::from(
        text.trim()
            .rsplit_once("attestations in ")
            .expect("attest names the set")
            .1,
    )
}

/// Runs `verify --format json`; returns the exit code and the failed checks as (name, detail).
fn verify(
    cwd: &Path,
    image: &str,
    attestations: &Path,
    extra: &[&str],
) -> (i32, Vec<(String, String)>) {
    let mut args = vec![
        "verify",
        image,
        "--key",
        "cosign.pub",
        "--format",
        "json",
        "--attestations",
    ];
    let dir = attestations.display().to_string();
    args.push(&dir);
    args.extend(extra);
    let out = run_vouch(cwd, &args);
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    (out.status.code().unwrap_or(-1), failed_checks(&report))
}

fn copy_set(from: &Path, to_root: &Path, name: &str) -> PathBuf {
    let to = to_root.join(name);
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

fn payload(envelope: &Value) -> Value {
    serde_json::from_slice(
        &BASE64
            .decode(envelope["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap()
}

fn expect_failure(result: (i32, Vec<(String, String)>), check: &str, detail: &str) {
    let (code, failed) = result;
    assert_eq!(code, 1, "{failed:?}");
    assert!(
        failed
            .iter()
            .any(|(name, d)| name == check && d.contains(detail)),
        "expected {check} to fail with {detail:?}: {failed:?}"
    );
}

#[test]
fn attest_verify_and_the_tamper_suite() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let out = vouch_pw(w, PASSWORD, &["keygen"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = std::fs::metadata(w.join("cosign.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the private key is readable by its owner only"
    );
    let key_text = std::fs::read_to_string(w.join("cosign.key")).unwrap();
    assert!(key_text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    let out = vouch_pw(w, PASSWORD, &["keygen"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an existing key is kept: {}",
        stderr(&out)
    );

    let a = archive(w, "a.tar", "alpha");
    let b = archive(w, "b.tar", "beta");
    let out = vouch_pw(
        w,
        PASSWORD,
        &["attest", &a, "--key", "cosign.key", "--output-dir", "att"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let set = w.join(set_dir(&out.stdout));
    let mut files: Vec<String> = std::fs::read_dir(&set)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "sbom.cdx.json",
            "sbom.dsse.json",
            "sbom.sigstore.json",
            "verdict.dsse.json",
            "verdict.json",
            "verdict.sigstore.json"
        ]
    );
    let names: Vec<_> = std::fs::read_dir(w.join("att")).unwrap().collect();
    assert_eq!(
        names.len(),
        1,
        "nothing but the set under the output directory"
    );

    // A second implementation checks both envelopes: PAE and ECDSA, and the Statement v1 rules.
    for (file, predicate) in [
        ("sbom.dsse.json", "https://cyclonedx.org/bom"),
        (
            "verdict.dsse.json",
            "https://slsa.dev/verification_summary/v1",
        ),
    ] {
        let out = tool(
            w,
            &[
                "verify",
                &set.join(file).display().to_string(),
                "cosign.pub",
            ],
        );
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stdout) + stderr(&out).as_str()
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), predicate);
    }
    let sbom_envelope = read_json(&set.join("sbom.dsse.json"));
    let verdict_envelope = read_json(&set.join("verdict.dsse.json"));
    let statement = payload(&sbom_envelope);
    assert_eq!(statement["subject"][0]["name"], "example/alpha");
    assert_eq!(statement["predicate"]["bomFormat"], "CycloneDX");
    let vsa = payload(&verdict_envelope)["predicate"].clone();
    assert_eq!(vsa["verificationResult"], "PASSED");
    assert_eq!(vsa["verifier"]["id"], "https://github.com/vouch-dev/vouch");
    let sbom_digest = format!(
        "{:x}",
        Sha256::digest(
            BASE64
                .decode(sbom_envelope["payload"].as_str().unwrap())
                .unwrap()
        )
    );
    assert_eq!(
        vsa["inputAttestations"][0]["digest"]["sha256"],
        json!(sbom_digest)
    );
    assert_eq!(
        vsa["vouch"]["verdict"],
        read_json(&set.join("verdict.json"))
    );
    // Sigstore bundle v0.3: the same envelope, and the key's hint (base64 SHA-256 of the SPKI DER).
    let bundle = read_json(&set.join("sbom.sigstore.json"));
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(bundle["dsseEnvelope"], sbom_envelope);
    let spki: String = std::fs::read_to_string(w.join("cosign.pub"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let hint = BASE64.encode(Sha256::digest(BASE64.decode(spki).unwrap()));
    assert_eq!(
        bundle["verificationMaterial"]["publicKey"]["hint"],
        json!(hint)
    );

    // The untouched set verifies.
    let (code, failed) = verify(
        w,
        &a,
        &w.join("att"),
        &["--require-pass", "--max-age", "1h"],
    );
    assert_eq!((code, failed), (0, vec![]));

    let tamper = |name: &str| {
        copy_set(
            &set,
            &w.join(format!("t-{name}")),
            set.file_name().unwrap().to_str().unwrap(),
        )
    };
    let root = |name: &str| w.join(format!("t-{name}"));

    // Another key.
    let other = vouch_pw(w, "", &["keygen", "--output-key-prefix", "other"]);
    assert!(other.status.success());
    let out = run_vouch(
        w,
        &["verify", &a, "--key", "other.pub", "--attestations", "att"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("no signature verifies with the given key(s) (other.pub)"));

    // A payload changed by one byte.
    let dir = tamper("byte");
    let mut envelope = sbom_envelope.clone();
    let mut bytes = BASE64
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    envelope["payload"] = json!(BASE64.encode(&bytes));
    write_json(&dir.join("sbom.dsse.json"), &envelope);
    expect_failure(
        verify(w, &a, &root("byte"), &[]),
        "sbom.signature",
        "no signature verifies",
    );

    // The signature of the other statement.
    let dir = tamper("swapped");
    let mut envelope = sbom_envelope.clone();
    envelope["signatures"] = verdict_envelope["signatures"].clone();
    write_json(&dir.join("sbom.dsse.json"), &envelope);
    expect_failure(
        verify(w, &a, &root("swapped"), &[]),
        "sbom.signature",
        "no signature verifies",
    );

    // No signatures at all.
    let dir = tamper("unsigned");
    let mut envelope = verdict_envelope.clone();
    envelope["signatures"] = json!([]);
    write_json(&dir.join("verdict.dsse.json"), &envelope);
    expect_failure(
        verify(w, &a, &root("unsigned"), &[]),
        "verdict.signature",
        "the envelope has no signatures",
    );

    // The set of image A presented for image B.
    let b_id = {
        let out = vouch_pw(
            w,
            PASSWORD,
            &["attest", &b, "--key", "cosign.key", "--output-dir", "att-b"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        set_dir(&out.stdout)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    copy_set(&set, &w.join("t-other-image"), &b_id);
    expect_failure(
        verify(w, &b, &root("other-image"), &[]),
        "sbom.subject",
        "not this image",
    );

    // Validly signed, but the wrong payload type; a Statement v0.1; a verdict three days old.
    let sign = |payload: &Value, payload_type: &str, out: &Path| {
        let file = w.join("payload.json");
        std::fs::write(&file, serde_json::to_vec(payload).unwrap()).unwrap();
        let done = tool(
            w,
            &[
                "sign",
                &file.display().to_string(),
                payload_type,
                "cosign.key",
                PASSWORD,
                &out.display().to_string(),
            ],
        );
        assert!(done.status.success(), "{}", stderr(&done));
    };
    let dir = tamper("type");
    sign(&statement, "application/json", &dir.join("sbom.dsse.json"));
    expect_failure(
        verify(w, &a, &root("type"), &[]),
        "sbom.payload-type",
        "\"application/json\"",
    );

    let dir = tamper("v01");
    let mut old = statement.clone();
    old["_type"] = json!("https://in-toto.io/Statement/v0.1");
    sign(
        &old,
        "application/vnd.in-toto+json",
        &dir.join("sbom.dsse.json"),
    );
    expect_failure(
        verify(w, &a, &root("v01"), &[]),
        "sbom.statement",
        "Statement v0.1",
    );

    let dir = tamper("old");
    let mut stale = payload(&verdict_envelope);
    let three_days_ago = time::OffsetDateTime::now_utc() - time::Duration::days(3);
    stale["predicate"]["timeVerified"] = json!(three_days_ago
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap());
    sign(
        &stale,
        "application/vnd.in-toto+json",
        &dir.join("verdict.dsse.json"),
    );
    expect_failure(
        verify(w, &a, &root("old"), &["--max-age", "24h"]),
        "verdict.age",
        "older than --max-age",
    );
    assert_eq!(verify(w, &a, &root("old"), &["--max-age", "4d"]).0, 0);

    // The SBOM of another run: the verdict does not name it.
    let out = vouch_pw(
        w,
        PASSWORD,
        &[
            "attest",
            &a,
            "--key",
            "cosign.key",
            "--output-dir",
            "att-again",
        ],
    );
    assert!(out.status.success());
    let dir = tamper("rerun");
    std::fs::copy(
        w.join(set_dir(&out.stdout)).join("sbom.dsse.json"),
        dir.join("sbom.dsse.json"),
    )
    .unwrap();
    expect_failure(
        verify(w, &a, &root("rerun"), &[]),
        "verdict.sbom-binding",
        "different runs",
    );

    // Another policy's digest; a FAILED verdict where PASSED is required.
    expect_failure(
        verify(
            w,
            &a,
            &w.join("att"),
            &["--policy-digest", &format!("sha256:{}", "0".repeat(64))],
        ),
        "verdict.policy",
        "not sha256:0000",
    );
    std::fs::write(w.join("strict.yaml"), "version: \"1\"\nrules:\n  - id: labels\n    action: deny\n    config: {required_labels: {org.example.owner: \".+\"}}\n").unwrap();
    let out = vouch_pw(
        w,
        PASSWORD,
        &[
            "attest",
            &a,
            "--key",
            "cosign.key",
            "--policy",
            "strict.yaml",
            "--output-dir",
            "att-failed",
        ],
    );
    assert!(
        out.status.success(),
        "a FAILED verdict is attested too: {}",
        stderr(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("verdict FAILED"));
    expect_failure(
        verify(w, &a, &w.join("att-failed"), &["--require-pass"]),
        "verdict.result",
        "the verdict is FAILED",
    );
    assert_eq!(
        verify(w, &a, &w.join("att-failed"), &[]).0,
        0,
        "without --require-pass a FAILED verdict is reported, not refused"
    );

    // No attestations for the image at all: not verified (exit 1); a wrong password: exit 3.
    let out = run_vouch(
        w,
        &[
            "verify",
            &a,
            "--key",
            "cosign.pub",
            "--attestations",
            "nowhere",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = vouch_pw(
        w,
        "wrong",
        &["attest", &a, "--key", "cosign.key", "--output-dir", "att-x"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("cosign.key: wrong password"),
        "{}",
        stderr(&out)
    );
    assert!(!w.join("att-x").exists(), "nothing written");
}

#[test]
fn keys_written_by_another_implementation_load() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let a = archive(w, "a.tar", "alpha");
    for (log_n, label) in [
        (15, "ENCRYPTED SIGSTORE PRIVATE KEY"),
        (16, "ENCRYPTED COSIGN PRIVATE KEY"),
        (17, "ENCRYPTED SIGSTORE PRIVATE KEY"),
    ] {
        let prefix = format!("py{log_n}");
        let out = tool(w, &["keygen", &prefix, &log_n.to_string(), label, PASSWORD]);
        assert!(out.status.success(), "{}", stderr(&out));
        let dir = format!("att-{log_n}");
        let out = vouch_pw(
            w,
            PASSWORD,
            &[
                "attest",
                &a,
                "--key",
                &format!("{prefix}.key"),
                "--output-dir",
                &dir,
            ],
        );
        assert!(
            out.status.success(),
            "N=2^{log_n} {label}: {}",
            stderr(&out)
        );
        let out = run_vouch(
            w,
            &[
                "verify",
                &a,
                "--key",
                &format!("{prefix}.pub"),
                "--attestations",
                &dir,
            ],
        );
        assert!(
            out.status.success(),
            "N=2^{log_n}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn engine_image_with_a_failed_verdict() {
    let image = debian_image();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    assert!(vouch_pw(w, PASSWORD, &["keygen"]).status.success());
    let out = vouch_pw(
        w,
        PASSWORD,
        &["attest", &image, "--key", "cosign.key", "-q"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("verdict FAILED"),
        "the root user fails the default policy"
    );
    let out = run_vouch(
        w,
        &["verify", &image, "--key", "cosign.pub", "--require-pass"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("FAIL  verdict.result"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run_vouch(w, &["verify", &image, "--key", "cosign.pub"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn with_no_flags_the_key_and_the_sets_are_where_design_says() {
    // design.md, "Defaults": the key from --key, VOUCH_KEY or ./cosign.key; the sets under
    // ./.vouch/sha256-<hex>/, where verify looks by default.
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    assert!(vouch_pw(w, PASSWORD, &["keygen"]).status.success());
    let a = archive(w, "a.tar", "alpha");

    let out = vouch_pw(w, PASSWORD, &["attest", &a]);
    assert!(out.status.success(), "{}", stderr(&out));
    let set = set_dir(&out.stdout);
    assert!(
        set.starts_with(".vouch")
            && set
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("sha256-"),
        "{}",
        set.display()
    );
    assert!(w.join(&set).join("verdict.dsse.json").is_file());
    let out = run_vouch(w, &["verify", &a, "--key", "cosign.pub"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // VOUCH_KEY names a key elsewhere; with no key at all, the error says which file was looked for.
    std::fs::create_dir(w.join("keys")).unwrap();
    std::fs::rename(w.join("cosign.key"), w.join("keys/signing.key")).unwrap();
    let out = vouch()
        .args(["attest", &a, "--output-dir", "elsewhere"])
        .current_dir(w)
        .env("VOUCH_PASSWORD", PASSWORD)
        .env("VOUCH_KEY", "keys/signing.key")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = vouch()
        .args(["attest", &a])
        .current_dir(w)
        .env("VOUCH_PASSWORD", PASSWORD)
        .env_remove("VOUCH_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("cosign.key"), "{}", stderr(&out));
    // A first try: no key and no password. The error is the missing key (and how to make one), not
    // the missing password, and no password is asked for.
    for command in [vec!["attest", a.as_str()], vec!["build", "-t", "x:1", "."]] {
        let out = vouch()
            .args(&command)
            .current_dir(w)
            .env_remove("VOUCH_PASSWORD")
            .env_remove("COSIGN_PASSWORD")
            .env_remove("VOUCH_KEY")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{command:?}: {said}");
        assert!(
            said.contains("no key at cosign.key: run `docker vouch keygen`")
                && said.contains("--key PATH")
                && !said.contains("password"),
            "{command:?}: {said}"
        );
    }
}
