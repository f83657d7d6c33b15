//! Attestation speed (not a test): signing and writing a set (SBOM of 1,000 components, a verdict of
//! 50 rules) beyond SBOM generation and the key's scrypt, and verifying a local set including loading
//! the public key. Prints medians of 30 runs; the targets are under 50 ms and under 20 ms.
//!
//! `cargo bench --bench attest`

use serde_json::json;
use std::time::{Duration, Instant};
use vouch::attest::keys::{generate, PrivateKey, PublicKey};
use vouch::attest::set::{load_set, write_set};
use vouch::attest::statement::AttestedImage;
use vouch::attest::{signed_set, SetInput};
use vouch::verify::{verify, Requirements, Signers};

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (private_pem, public_pem) = generate(b"bench").expect("a key");
    std::fs::write(dir.path().join("cosign.pub"), &public_pem).expect("written");
    // The scrypt decryption happens once per attest and its cost is the key file's: not timed.
    let key = PrivateKey::from_encrypted_pem(private_pem.as_bytes(), b"bench", "cosign.key")
        .expect("the key loads");
    let sbom = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "components": (0..1000).map(|i| json!({
            "type": "library", "name": format!("pkg-{i}"), "version": "1.2.3",
            "purl": format!("pkg:deb/debian/pkg-{i}@1.2.3?arch=amd64&distro=debian-12"),
            "bom-ref": format!("pkg:deb/debian/pkg-{i}@1.2.3?arch=amd64&distro=debian-12"),
            "licenses": [{"license": {"id": "MIT"}}],
            "properties": [{"name": "vouch:layerIndex", "value": "0"}, {"name": "vouch:path", "value": "/var/lib/dpkg/status"}]
        })).collect::<Vec<_>>()
    });
    let verdict = json!({
        "verificationResult": "PASSED",
        "rules": (0..50).map(|i| json!({"id": format!("rule-{i}"), "status": "passed", "findings": []})).collect::<Vec<_>>()
    });
    let subject = AttestedImage {
        name: "registry.example/team/app".into(),
        manifest_digest: None,
        config_digest: format!("sha256:{}", "ab".repeat(32)),
        index_digest: None,
    };
    let out = dir.path().join("attestations");

    let policy_digest = format!("sha256:{}", "cd".repeat(32));
    let mut attest_times = Vec::new();
    for _ in 0..30 {
        let start = Instant::now();
        let signed = signed_set(
            &SetInput {
                subject: &subject,
                verdict: &verdict,
                result: "PASSED",
                time_verified: "2026-11-23T00:00:00Z",
                policy_source: "policy.yaml",
                policy_digest: &policy_digest,
            },
            &sbom,
            &key,
        )
        .unwrap();
        write_set(&out, &subject.config_digest, &signed.files()).unwrap();
        attest_times.push(start.elapsed());
    }

    let digests = vec![subject.config_digest.clone()];
    let mut verify_times = Vec::new();
    for _ in 0..30 {
        let start = Instant::now();
        let keys = Signers::keys(vec![
            PublicKey::load(&dir.path().join("cosign.pub")).unwrap()
        ]);
        let set = load_set(&out, &digests, false).unwrap();
        let report = verify(
            "bench",
            &digests,
            &set,
            &keys,
            &Requirements {
                require_pass: true,
                max_age: None,
                policy_digest: None,
            },
            time::OffsetDateTime::now_utc(),
        );
        assert!(report.verified, "{:?}", report.checks);
        verify_times.push(start.elapsed());
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "attestations: sign + write a set (1000-component SBOM, 50-rule verdict): median {:.1} ms; verify a local set with key loading: median {:.1} ms",
        ms(median(attest_times)),
        ms(median(verify_times))
    );
}
