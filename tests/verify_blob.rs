//! `docker vouch verify-blob` on Sigstore bundles made by a second implementation of the signing
//! side (`integration/sigstore_fixture.py`: a Fulcio-like CA with embedded SCTs, a Rekor-like log
//! with inclusion proofs, signed checkpoints and entry timestamps, a trusted root naming them), a
//! valid keyless bundle (a message signature in media types v0.1, v0.2 and v0.3, stamped by an
//! RFC 3161 timestamp authority too, logged as a Rekor v2 entry whose time comes from that authority,
//! and an in-toto statement in a DSSE envelope) and one per failure class, checked against the
//! reference verifier, sigstore-python (`integration/sigstore_reference.py`): vouch and it agree on
//! every case but one the fixture names (a timestamp from an untrusted authority beside a signed
//! entry timestamp: sigstore-python skips it, vouch refuses the bundle), and each refusal names its
//! check. Then identity regular expressions, the embedded public-good root,
//! key-signed bundles and unreadable inputs.

mod support;

use serde_json::Value;
use std::path::Path;
use support::*;

/// The identity and issuer the fixture's certificates name.
const IDENTITY: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The fixture's cases, made in `dir`.
fn fixture(dir: &Path) -> Vec<Value> {
    integration_helper(
        Some("python3"),
        "sigstore_fixture.py",
        &[dir],
        "needs python3 with cryptography: make deps",
    );
    serde_json::from_slice(&std::fs::read(dir.join("cases.json")).unwrap()).unwrap()
}

/// sigstore-python's outcome for each case, by name.
fn reference(dir: &Path) -> std::collections::BTreeMap<String, (bool, String)> {
    let python = integration_helper(
        None,
        "sigstore_python.sh",
        &[],
        "installs sigstore-python from PyPI; make deps runs it",
    );
    let python = String::from_utf8(python).unwrap().trim().to_string();
    let out = integration_helper(
        Some(&python),
        "sigstore_reference.py",
        &[dir],
        "sigstore-python",
    );
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            (
                v["name"].as_str().unwrap().to_string(),
                (
                    v["verified"].as_bool().unwrap(),
                    v["error"].as_str().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect()
}

fn verify_blob(dir: &Path, args: &[&str]) -> (Option<i32>, Value, String) {
    let mut all = vec!["verify-blob"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = run_vouch(dir, &all);
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), report, stderr(&out))
}

#[test]
fn keyless_bundles_are_judged_as_sigstore_python_judges_them() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let cases = fixture(dir);
    let reference = reference(dir);
    assert_eq!(cases.len(), 24);
    let mut checks = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let (code, report, err) = verify_blob(
            dir,
            &[
                case["artifact"].as_str().unwrap(),
                "--bundle",
                case["bundle"].as_str().unwrap(),
                "--certificate-identity",
                case["signer"]["identity"].as_str().unwrap(),
                "--certificate-oidc-issuer",
                case["signer"]["issuer"].as_str().unwrap(),
                "--trusted-root",
                "trusted_root.json",
            ],
        );
        let expected = case["expect"] == "verified";
        // Where sigstore-python is known to judge otherwise, the fixture says so.
        let reference_expected = case.get("reference").map_or(expected, |r| r == "verified");
        let (reference_verified, reference_error) = &reference[name];
        assert_eq!(
            *reference_verified, reference_expected,
            "{name}: sigstore-python disagrees with the fixture's intent: {reference_error}"
        );
        assert_eq!(
            code,
            Some(if expected { 0 } else { 1 }),
            "{name} ({}): vouch {report} {err}; sigstore-python: {reference_error}",
            case["about"]
        );
        assert_eq!(report["verified"], expected, "{name}: {report}");
        if !expected {
            checks.push((
                name.to_string(),
                report["check"].as_str().unwrap().to_string(),
            ));
        }
    }
    let check_of = |name: &str| {
        checks
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.as_str())
            .unwrap()
    };
    assert_eq!(check_of("wrong-identity"), "certificate identity");
    assert_eq!(check_of("wrong-issuer"), "certificate OIDC issuer");
    assert_eq!(check_of("bad-inclusion-proof"), "transparency log");
    assert_eq!(check_of("tampered-checkpoint"), "transparency log");
    assert_eq!(check_of("checkpoint-signature"), "transparency log");
    assert_eq!(check_of("other-artifact"), "artifact");
    assert_eq!(check_of("entry-for-another-artifact"), "artifact");
    assert_eq!(check_of("expired-certificate"), "certificate");
    assert_eq!(check_of("before-certificate"), "certificate");
    assert_eq!(check_of("dsse-other-subject"), "artifact");
    assert_eq!(check_of("no-sct"), "certificate");
    assert_eq!(check_of("bad-sct"), "certificate");
    assert_eq!(check_of("dsse-payload-altered"), "signature");
    assert_eq!(check_of("untrusted-ca"), "certificate");
    assert_eq!(check_of("rekor-v2-untrusted-tsa"), "timestamp");
    assert_eq!(check_of("rekor-v2-no-timestamp"), "timestamp");
    assert_eq!(check_of("tsa-untrusted-logged"), "timestamp");
    let differing: Vec<&str> = cases
        .iter()
        .filter(|c| c.get("reference").is_some())
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(differing, ["tsa-untrusted-logged"], "one known difference");
    // A Rekor v2 entry has no integrated time: the time verified is the timestamp authority's.
    let (code, report, err) = verify_blob(
        dir,
        &[
            "artifact.txt",
            "--bundle",
            "rekor-v2.sigstore.json",
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
            "--trusted-root",
            "trusted_root.json",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let details = &report["details"];
    assert!(details["integrated_time"].is_null(), "{report}");
    assert!(details["earliest_verified_time"].is_string(), "{report}");
    assert_eq!(details["transparency_log"], true, "{report}");
    eprintln!("refusals by check: {checks:?}");

    // The valid bundle with an identity flag, against the fixture's root or the embedded one.
    let valid = |flag: &str, identity: &str, root: bool| {
        let mut args = vec![
            "artifact.txt",
            "--bundle",
            "valid.sigstore.json",
            flag,
            identity,
            "--certificate-oidc-issuer",
            ISSUER,
        ];
        if root {
            args.extend_from_slice(&["--trusted-root", "trusted_root.json"]);
        }
        verify_blob(dir, &args)
    };
    // What was verified, as the valid case reports it.
    let (code, report, _) = valid(
        "--certificate-identity-regexp",
        "https://github\\.com/acme/app/\\.github/workflows/.*",
        true,
    );
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["details"]["identity"], IDENTITY);
    assert_eq!(report["details"]["issuer"], ISSUER);
    assert_eq!(report["details"]["transparency_log"], true);
    // The expression must match the whole identity, as cosign anchors it.
    for pattern in ["https://github\\.com/acme/other/.*", "acme/app"] {
        let (code, report, _) = valid("--certificate-identity-regexp", pattern, true);
        assert_eq!(code, Some(1), "{pattern}: {report}");
        assert_eq!(report["check"], "certificate identity");
    }
    // Without --trusted-root, the embedded public-good root: the test log is not one of its.
    let (code, report, _) = valid("--certificate-identity", IDENTITY, false);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["check"], "transparency log");
    assert!(
        report["detail"].as_str().unwrap().contains("No log key"),
        "{report}"
    );
}

#[test]
fn key_signed_bundles_and_unreadable_inputs() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    fixture(dir);
    let key = |extra: &[&str]| {
        let mut args = vec!["artifact.txt", "--bundle", "key.sigstore.json"];
        args.extend_from_slice(extra);
        verify_blob(dir, &args)
    };
    let (code, report, err) = key(&["--key", "signer.pub", "--trusted-root", "trusted_root.json"]);
    assert_eq!(code, Some(0), "{report} {err}");
    assert_eq!(report["details"]["transparency_log"], true);
    let (code, report, _) = key(&[
        "--key",
        "signer.pub",
        "--trusted-root",
        "trusted_root.json",
        "--insecure-ignore-tlog",
    ]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["details"]["transparency_log"], false);
    let (code, report, _) = key(&["--key", "other.pub", "--trusted-root", "trusted_root.json"]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["check"], "signature");
    // A bundle with neither a log entry nor a timestamp proves no signing time: refused, as the
    // bundle specification says, even with the log waived.
    let (code, report, _) = verify_blob(
        dir,
        &[
            "artifact.txt",
            "--bundle",
            "key-unlogged.sigstore.json",
            "--key",
            "signer.pub",
            "--insecure-ignore-tlog",
        ],
    );
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["check"], "transparency log");
    assert!(report["detail"]
        .as_str()
        .unwrap()
        .contains("at least one tlog entry or timestamp"));
    let (code, report, _) = verify_blob(
        dir,
        &[
            "other.txt",
            "--bundle",
            "key.sigstore.json",
            "--key",
            "signer.pub",
            "--trusted-root",
            "trusted_root.json",
        ],
    );
    assert_eq!(code, Some(1), "{report}");

    // Unreadable inputs: exit 3, one line naming the input.
    std::fs::write(dir.join("broken.json"), "{\"mediaType\": ").unwrap();
    for (args, says) in [
        (
            vec![
                "artifact.txt",
                "--bundle",
                "broken.json",
                "--key",
                "signer.pub",
            ],
            "broken.json: not a Sigstore bundle",
        ),
        (
            vec![
                "missing.txt",
                "--bundle",
                "key.sigstore.json",
                "--key",
                "signer.pub",
            ],
            "missing.txt",
        ),
        (
            vec![
                "artifact.txt",
                "--bundle",
                "valid.sigstore.json",
                "--certificate-identity",
                "x",
                "--certificate-oidc-issuer",
                "y",
                "--trusted-root",
                "broken.json",
            ],
            "broken.json: not a Sigstore trusted root",
        ),
    ] {
        let (code, _, err) = verify_blob(dir, &args);
        assert_eq!(code, Some(3), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // A device as the bundle is refused before it is read whole.
    let (code, _, err) = verify_blob(
        dir,
        &[
            "artifact.txt",
            "--bundle",
            "/dev/zero",
            "--key",
            "signer.pub",
        ],
    );
    assert_eq!(code, Some(3), "{err}");
    // Flags: an identity without its issuer, or no signer at all, is a usage error.
    for extra in [&["--certificate-identity", "x"][..], &[]] {
        let mut args = vec![
            "verify-blob",
            "artifact.txt",
            "--bundle",
            "valid.sigstore.json",
        ];
        args.extend_from_slice(extra);
        let out = run_vouch(dir, &args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
    }
}
