//! Signed attestations: cosign-compatible keys ([`keys`]), in-toto statements about the image
//! ([`statement`]: the SBOM, and the verdict as a SLSA verification summary), DSSE envelopes
//! ([`dsse`]), Sigstore bundles ([`bundle`]), and the attestation set on disk ([`set`]).

pub mod bundle;
pub mod dsse;
pub mod keys;
pub mod set;
pub mod statement;

use keys::{KeyError, PrivateKey};

/// The largest DSSE envelope vouch reads (from a registry or a local set) and so the largest it
/// signs: an SBOM of about 47 MiB, some 40,000 packages, once base64-encoded into its envelope.
pub const ENVELOPE_LIMIT: u64 = 64 * 1024 * 1024;

/// The size of the envelope that carries a statement of `statement_bytes` (base64, plus the
/// envelope's fields and a signature), rounded up.
pub fn envelope_size(statement_bytes: u64) -> u64 {
    statement_bytes.div_ceil(3) * 4 + 4096
}
use serde_json::Value;
use sha2::{Digest, Sha256};
use statement::{verification_summary, AttestedImage, Statement, SBOM_PREDICATE, VSA_PREDICATE};

/// What an attestation set is made of (and the verification summary: the verdict's outcome, time
/// and policy).
pub struct SetInput<'a> {
    pub subject: &'a AttestedImage,
    /// The CycloneDX SBOM.
    pub sbom: &'a Value,
    /// The verdict document, and its outcome, time and policy.
    pub verdict: &'a Value,
    pub result: &'a str,
    pub time_verified: &'a str,
    pub policy_source: &'a str,
    pub policy_digest: &'a str,
}

/// The files of a signed set ([`set::write_set`] writes them): the SBOM and verdict documents, each
/// statement's DSSE envelope and its Sigstore bundle. The verdict statement names the SBOM
/// statement's digest, binding the two.
pub fn signed_set(
    input: &SetInput,
    key: &PrivateKey,
) -> Result<Vec<(&'static str, Vec<u8>)>, KeyError> {
    let encode = |value: &Value| {
        let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    };
    let statement_bytes = |statement: &Statement| serde_json::to_vec(statement).unwrap_or_default();
    let sbom_payload = statement_bytes(&Statement::new(
        input.subject,
        SBOM_PREDICATE,
        input.sbom.clone(),
    ));
    let sbom_envelope = dsse::sign(dsse::IN_TOTO_PAYLOAD_TYPE, &sbom_payload, key)?;
    let predicate = verification_summary(
        input,
        &format!("sha256:{:x}", Sha256::digest(&sbom_payload)),
        set::SBOM_ENVELOPE,
    );
    let verdict_payload = statement_bytes(&Statement::new(input.subject, VSA_PREDICATE, predicate));
    let verdict_envelope = dsse::sign(dsse::IN_TOTO_PAYLOAD_TYPE, &verdict_payload, key)?;
    let as_value = |e: &dsse::Envelope| serde_json::to_value(e).unwrap_or_default();
    Ok(vec![
        (set::SBOM_FILE, encode(input.sbom)),
        (set::VERDICT_FILE, encode(input.verdict)),
        (set::SBOM_ENVELOPE, encode(&as_value(&sbom_envelope))),
        (set::VERDICT_ENVELOPE, encode(&as_value(&verdict_envelope))),
        (
            set::SBOM_BUNDLE,
            encode(&bundle::bundle(&sbom_envelope, key.public())),
        ),
        (
            set::VERDICT_BUNDLE,
            encode(&bundle::bundle(&verdict_envelope, key.public())),
        ),
    ])
}
