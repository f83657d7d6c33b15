//! Keyless attestations in a real registry, as CI signs them with Sigstore: vouch's SBOM and verdict
//! statements, attached by `attest --push` in both layouts, are signed again keylessly by the test's
//! signing side (`integration/registry_tool.py keyless`, with `integration/sigstore_fixture.py`'s
//! Fulcio-like CA and Rekor-like log): cosign's `.att` layers carry the keyless envelope with
//! cosign's certificate, chain and Rekor bundle annotations, and the referrers carry Sigstore
//! bundles (the `.att` SBOM logged as a dsse 0.0.1 entry as cosign 2.5 logs it, the verdict as an
//! intoto 0.0.2 entry as older cosign did). The reference verifier is cosign itself (Debian trixie's 2.5.0,
//! `integration/cosign.sh`): it must accept what vouch accepts and refuse what vouch refuses, and
//! it first checks the layouts and key signatures vouch's own `attest --push` wrote.
//! `verify` accepts the statements for the identity and issuer that signed them (exactly or by
//! regular expression, in each layout alone), and refuses another identity, another issuer, the
//! public-good roots, a key instead of the identity, and a statement changed after signing, naming
//! the check.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use support::registry::*;
use support::*;

const PASSWORD: &str = "keyless test";
const IDENTITY: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const SBOM: &str = "https://cyclonedx.org/bom";
const VSA: &str = "https://slsa.dev/verification_summary/v1";

fn vouch_in(w: &Path, args: &[&str]) -> Output {
    vouch()
        .args(args)
        .current_dir(w)
        .env("VOUCH_PASSWORD", PASSWORD)
        .env("DOCKER_CONFIG", w.join("docker-config"))
        // No `trust update` result: the default roots are the embedded public-good ones.
        .env("VOUCH_TRUST_DIR", w.join("no-trust-update"))
        .output()
        .expect("docker-vouch runs")
}

/// One set of a report: where it was found, whether it verified, and its failed checks (name,
/// detail).
type Set = (String, bool, Vec<(String, String)>);

/// `verify registry:IMAGE --format json` with `flags`: the exit code and, per set, (location,
/// verified, [(failed check, detail)]).
fn verify(w: &Path, image: &str, flags: &[&str]) -> (i32, Vec<Set>) {
    let reference = format!("registry:{image}");
    let mut args = vec!["verify", &reference, "--format", "json"];
    args.extend_from_slice(flags);
    let out = vouch_in(w, &args);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "verify {flags:?}: exit {code}: {}",
        stderr(&out)
    );
    let reports: Vec<Value> = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let sets = reports
        .iter()
        .map(|r| {
            (
                r["attestations"].as_str().unwrap().to_string(),
                r["verified"] == true,
                failed_checks(r),
            )
        })
        .collect();
    (code, sets)
}

/// Every set refused for the same two signature checks, each naming `reason`.
fn refused_for(sets: &[Set], reason: &str) {
    assert_eq!(sets.len(), 2, "{sets:?}");
    for (location, verified, failed) in sets {
        assert!(!verified, "{location}");
        let names: Vec<&str> = failed.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["sbom.signature", "verdict.signature"],
            "{location}: {failed:?}"
        );
        assert!(
            failed.iter().all(|(_, detail)| detail.contains(reason)),
            "{location}: {reason:?} not in {failed:?}"
        );
    }
}

/// Who cosign is to check signed a statement.
#[derive(Clone, Copy)]
enum By<'a> {
    /// The key (no transparency log: vouch signs offline).
    Key(&'a Path),
    /// A keyless signer, by [`ISSUER`].
    Identity(&'a str),
}

/// cosign verify-attestation, the reference, on one layout: `.att`, with a keyless signer's roots
/// in cosign's environment variables, or the referrers' bundles (`--new-bundle-format`) with the
/// trusted root in `trust`. Whether it verified, and its output.
fn cosign_verifies(
    trust: &Path,
    image: &str,
    layout: &str,
    predicate: &str,
    by: By,
) -> (bool, String) {
    let cosign = String::from_utf8(integration_helper(
        None,
        "cosign.sh",
        &[],
        "fetches cosign from Debian trixie; make deps runs it",
    ))
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new(cosign.trim());
    command
        .args([
            "verify-attestation",
            "--allow-http-registry",
            "--offline",
            "--type",
            predicate,
        ])
        .env("HOME", home.path());
    match by {
        By::Key(key) => {
            command.args(["--insecure-ignore-tlog", "--key"]).arg(key);
        }
        By::Identity(identity) => {
            command
                .args([
                    "--certificate-identity",
                    identity,
                    "--certificate-oidc-issuer",
                    ISSUER,
                ])
                .env("SIGSTORE_ROOT_FILE", trust.join("fulcio.pem"))
                .env("SIGSTORE_REKOR_PUBLIC_KEY", trust.join("rekor.pub"))
                .env("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", trust.join("ctlog.pub"));
        }
    }
    if layout == "referrers" {
        command
            .args(["--new-bundle-format", "--trusted-root"])
            .arg(trust.join("trusted_root.json"));
    }
    let out = command.arg(image).output().expect("cosign runs");
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out)),
    )
}

/// cosign verifies both statements in both layouts, signed as `by` says.
fn cosign_verifies_all(trust: &Path, image: &str, by: By) {
    for layout in ["att", "referrers"] {
        for predicate in [SBOM, VSA] {
            let (ok, said) = cosign_verifies(trust, image, layout, predicate, by);
            assert!(
                ok,
                "cosign refuses the {layout} {predicate} statement: {said}"
            );
        }
    }
}

/// The flags of a keyless signer `identity` (issued by [`ISSUER`]) trusting the roots at `root`.
fn keyless_flags<'a>(identity: &'a str, root: &'a str) -> Vec<&'a str> {
    vec![
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        ISSUER,
        "--trusted-root",
        root,
    ]
}

#[test]
fn keylessly_signed_attestations_verify_for_their_identity_in_both_layouts() {
    require_registries();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::create_dir(w.join("docker-config")).unwrap();
    assert!(vouch_in(w, &["keygen"]).status.success());
    let registry = open_registry();
    let name = app_image(&registry, "keyless");
    let out = vouch_in(w, &["attest", &name, "--key", "cosign.key", "--push"]);
    assert!(out.status.success(), "attest --push: {}", stderr(&out));
    let digest = repo_digest(&name, &registry);
    let repo = "vouch-test/keyless";
    let by_digest = format!("{registry}/{repo}@{digest}");
    // First, as vouch attached them: cosign verifies vouch's key-signed statements in both layouts.
    let any_root = w.join("any-root");
    integration_helper(
        Some("python3"),
        "sigstore_fixture.py",
        &[&any_root],
        "needs python3 with cryptography: make deps",
    );
    cosign_verifies_all(&any_root, &by_digest, By::Key(&w.join("cosign.pub")));

    let trust = w.join("trust");
    sign_keylessly(&registry, repo, &digest, &trust, IDENTITY);
    let root = trust.join("trusted_root.json").display().to_string();
    let keyless = |identity| keyless_flags(identity, &root);

    // The identity that signed: both layouts verify, each alone too, and the check says who signed.
    let (code, sets) = verify(w, &name, &keyless(IDENTITY));
    assert_eq!(code, 0, "{sets:?}");
    assert_eq!(sets.len(), 2, "{sets:?}");
    assert!(sets.iter().all(|s| s.1), "{sets:?}");
    assert!(
        sets[0].0.contains("referrers of") && sets[1].0.ends_with(".att"),
        "{sets:?}"
    );
    for layout in ["att", "referrers"] {
        let mut flags = keyless(IDENTITY);
        flags.extend(["--layout", layout, "--require-pass"]);
        let (code, sets) = verify(w, &by_digest, &flags);
        assert_eq!((code, sets.len()), (0, 1), "{layout}: {sets:?}");
    }
    let reference = format!("registry:{name}");
    let mut args = vec!["verify", reference.as_str()];
    args.extend(keyless(IDENTITY));
    let out = vouch_in(w, &args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "sbom.signature         signed keylessly by {IDENTITY} ({ISSUER}), logged at"
        )),
        "{text}"
    );
    // cosign agrees, on each layout and both statements.
    cosign_verifies_all(&trust, &by_digest, By::Identity(IDENTITY));

    // Regular expressions must match whole, as cosign's do.
    let mut flags = vec![
        "--certificate-identity-regexp",
        r"https://github\.com/acme/app/\.github/workflows/release\.yml@refs/heads/.*",
        "--certificate-oidc-issuer-regexp",
        r"https://token\.actions\.githubusercontent\.com",
        "--trusted-root",
        &root,
    ];
    let (code, _) = verify(w, &name, &flags);
    assert_eq!(code, 0);
    flags[1] = "https://github.com/acme/app";
    let (code, sets) = verify(w, &name, &flags);
    assert_eq!(code, 1);
    refused_for(&sets, "certificate identity: `https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main` does not match");

    // Another identity or another issuer: refused by both, naming the check.
    let nightly = "https://github.com/acme/app/.github/workflows/nightly.yml@refs/heads/main";
    let (code, sets) = verify(w, &name, &keyless(nightly));
    assert_eq!(code, 1);
    refused_for(&sets, "keyless: certificate identity");
    for layout in ["att", "referrers"] {
        let (ok, said) = cosign_verifies(&trust, &by_digest, layout, SBOM, By::Identity(nightly));
        assert!(!ok, "cosign accepts another identity on {layout}: {said}");
    }
    let other_issuer = [
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        "https://accounts.google.com",
        "--trusted-root",
        &root,
    ];
    let (code, sets) = verify(w, &name, &other_issuer);
    assert_eq!(code, 1);
    refused_for(&sets, "keyless: certificate OIDC issuer");

    // The public-good roots know neither the test CA nor its log.
    let (code, sets) = verify(
        w,
        &name,
        &[
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_eq!(code, 1);
    refused_for(
        &sets,
        "keyless: transparency log: invalid inclusion promise: No log key valid",
    );

    // The key that signed the statements first no longer signs them; given beside the identity,
    // either signer is accepted, and both refusals are said when neither signed.
    let (code, sets) = verify(w, &name, &["--key", "cosign.pub"]);
    assert_eq!(code, 1);
    refused_for(&sets, "no signature verifies with the given key(s)");
    let mut flags = keyless(IDENTITY);
    flags.extend(["--key", "cosign.pub"]);
    let (code, _) = verify(w, &name, &flags);
    assert_eq!(code, 0);
    let mut flags = keyless(nightly);
    flags.extend(["--key", "cosign.pub"]);
    let (code, sets) = verify(w, &name, &flags);
    assert_eq!(code, 1);
    refused_for(
        &sets,
        "no signature verifies with the given key(s) (cosign.pub); keyless: certificate identity",
    );

    // An identity without its issuer, or a pattern that does not compile, is a usage error.
    let out = vouch_in(
        w,
        &["verify", &reference, "--certificate-identity", IDENTITY],
    );
    fails_with(
        &out,
        2,
        "--certificate-identity needs --certificate-oidc-issuer",
    );
    let out = vouch_in(
        w,
        &[
            "verify",
            &reference,
            "--certificate-identity-regexp",
            "(",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    fails_with(&out, 2, "--certificate-identity-regexp");
    let out = vouch_in(w, &["verify", &reference]);
    fails_with(&out, 2, "give --key, or a keyless signer");

    // A statement changed after it was signed and logged (as an attacker with push rights could):
    // that layout is refused by both verifiers; the untouched one still verifies the image.
    let out = registry_tool(&["tamper-att", &registry, repo, &digest]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, sets) = verify(w, &name, &keyless(IDENTITY));
    assert_eq!(code, 0, "{sets:?}");
    assert!(sets[0].1 && !sets[1].1, "{sets:?}");
    assert_eq!(sets[1].2.len(), 1, "{sets:?}");
    assert_eq!(sets[1].2[0].0, "sbom.signature", "{sets:?}");
    let (ok, said) = cosign_verifies(&trust, &by_digest, "att", SBOM, By::Identity(IDENTITY));
    assert!(!ok, "cosign accepts the altered .att statement: {said}");
    let (ok, _) = cosign_verifies(&trust, &by_digest, "att", VSA, By::Identity(IDENTITY));
    assert!(ok, "the verdict's layer was not altered");
    // The verdict's layer, logged as an intoto 0.0.2 entry, altered too: both refuse it.
    let out = registry_tool(&["tamper-att", &registry, repo, &digest, VSA]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, sets) = verify(w, &name, &keyless(IDENTITY));
    let failed: Vec<&str> = sets[1].2.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(failed, ["sbom.signature", "verdict.signature"], "{sets:?}");
    let (ok, said) = cosign_verifies(&trust, &by_digest, "att", VSA, By::Identity(IDENTITY));
    assert!(!ok, "cosign accepts the altered .att verdict: {said}");
}

/// `integration/sigstore_services.py`: Fulcio and Rekor on a loopback port, issuing what chains to
/// the trusted root it writes into its directory; stopped when dropped.
struct Services {
    child: std::process::Child,
    url: String,
}

impl Services {
    fn start(dir: &Path) -> Services {
        use std::io::BufRead;
        let mut child = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/sigstore_services.py"))
            .arg(dir)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs sigstore_services.py");
        let mut port = String::new();
        let stdout = child.stdout.take().expect("stdout piped");
        std::io::BufReader::new(stdout)
            .read_line(&mut port)
            .expect("the services print their port");
        assert!(
            !port.trim().is_empty(),
            "sigstore_services.py did not start (needs python3 with cryptography and asn1crypto: make deps)"
        );
        Services {
            child,
            url: format!("http://127.0.0.1:{}", port.trim()),
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OIDC identity token as a CI's provider issues one (unsigned here: the test's Fulcio reads
/// its claims, as the real one does once it has checked the signature).
fn identity_token(subject: &str) -> String {
    use base64::Engine;
    let encode =
        |value: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!(
        "{}.{}.c2lnbmF0dXJl",
        encode(serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        encode(serde_json::json!({
            "iss": ISSUER, "sub": subject, "aud": "sigstore", "iat": now, "exp": now + 600,
        }))
    )
}

#[test]
fn attest_keyless_signs_with_fulcio_and_rekor_as_cosign_does() {
    require_registries();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::create_dir(w.join("docker-config")).unwrap();
    let trust = w.join("trust");
    std::fs::create_dir(&trust).unwrap();
    let services = Services::start(&trust);
    let registry = open_registry();
    let name = app_image(&registry, "attest-keyless");
    std::fs::write(w.join("token.jwt"), identity_token(IDENTITY)).unwrap();
    let out = vouch_in(
        w,
        &[
            "attest",
            &name,
            "--keyless",
            "--identity-token",
            "@token.jwt",
            "--fulcio-url",
            &services.url,
            "--rekor-url",
            &services.url,
            "--push",
        ],
    );
    assert!(out.status.success(), "attest --keyless: {}", stderr(&out));
    assert!(!w.join("cosign.key").exists(), "no key was made or needed");
    let digest = repo_digest(&name, &registry);
    let by_digest = format!("{registry}/vouch-test/attest-keyless@{digest}");
    let root = trust.join("trusted_root.json").display().to_string();

    // Both registry layouts and the local set verify for the identity of the token.
    let (code, sets) = verify(w, &name, &keyless_flags(IDENTITY, &root));
    assert_eq!(code, 0, "{sets:?}");
    assert_eq!(sets.len(), 2, "{sets:?}");
    let mut args = vec!["verify", name.as_str(), "--format", "json"];
    args.extend(keyless_flags(IDENTITY, &root));
    let out = vouch_in(w, &args);
    assert!(out.status.success(), "the local set: {}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["attestations"].as_str().unwrap().contains(".vouch"),
        "{report}"
    );
    // cosign verifies what vouch signed, in both layouts.
    cosign_verifies_all(&trust, &by_digest, By::Identity(IDENTITY));
    // Another identity is refused by both.
    let nightly = "https://github.com/acme/app/.github/workflows/nightly.yml@refs/heads/main";
    let (code, sets) = verify(w, &name, &keyless_flags(nightly, &root));
    assert_eq!(code, 1);
    refused_for(&sets, "keyless: certificate identity");
    let (ok, _) = cosign_verifies(&trust, &by_digest, "att", SBOM, By::Identity(nightly));
    assert!(!ok, "cosign accepts another identity");

    // A token that is not a JWT, and services that do not answer, are clear errors that sign and
    // attach nothing; a trusted root without a keyless signer to use it is a usage error.
    let out = vouch_in(
        w,
        &[
            "attest",
            &name,
            "--keyless",
            "--identity-token",
            "not-a-jwt",
        ],
    );
    fails_with(&out, 2, "the identity token");
    let out = vouch_in(
        w,
        &[
            "verify",
            &name,
            "--key",
            "cosign.pub",
            "--trusted-root",
            &root,
        ],
    );
    fails_with(&out, 2, "--trusted-root is for keyless signers");
    let closed = "http://127.0.0.1:9";
    let other = app_image(&registry, "attest-keyless-unreachable");
    let out = vouch_in(
        w,
        &[
            "attest",
            &other,
            "--keyless",
            "--identity-token",
            "@token.jwt",
            "--fulcio-url",
            closed,
            "--rekor-url",
            closed,
        ],
    );
    fails_with(&out, 3, "signing keylessly");
    assert!(
        std::fs::read_dir(w.join(".vouch")).unwrap().count() == 1,
        "no set was written for the image that could not be signed"
    );
}
