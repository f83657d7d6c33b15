//! Signed attestations: cosign-compatible keys ([`keys`]), in-toto statements about the image
//! ([`statement`]: the SBOM, and the verdict as a SLSA verification summary), DSSE envelopes
//! ([`dsse`]), Sigstore bundles ([`bundle`]), and the attestation set on disk ([`set`]).

pub mod bundle;
pub mod dsse;
pub mod keys;
pub mod set;
pub mod statement;

use keys::{KeyError, PrivateKey};
use serde::Serialize;
use serde_json::Value;
use statement::{verification_summary, AttestedImage, Statement, SBOM_PREDICATE, VSA_PREDICATE};

/// The largest DSSE envelope vouch reads (from a registry or a local set) and so the largest it
/// signs: about 48 MiB of compact SBOM JSON once base64-encoded into its envelope (some 60,000
/// dpkg packages).
pub const ENVELOPE_LIMIT: u64 = 64 * 1024 * 1024;

/// The size of the envelope that carries a statement of `statement_bytes` (base64, plus the
/// envelope's fields and a signature), rounded up.
pub fn envelope_size(statement_bytes: u64) -> u64 {
    statement_bytes.div_ceil(3) * 4 + 4096
}

/// What an attestation set says besides the SBOM (and the verification summary: the verdict's
/// outcome, time and policy).
pub struct SetInput<'a> {
    pub subject: &'a AttestedImage,
    /// The verdict document, and its outcome, time and policy.
    pub verdict: &'a Value,
    pub result: &'a str,
    pub time_verified: &'a str,
    pub policy_source: &'a str,
    pub policy_digest: &'a str,
}

/// A signed set: the SBOM and verdict documents and both statements signed. The verdict statement
/// names the SBOM statement's digest, binding the two. Its files ([`SignedSet::files`]) are made as
/// they are written: of an SBOM, only the statement's bytes are held.
pub struct SignedSet<'a, S> {
    sbom: &'a S,
    verdict: &'a Value,
    public: &'a keys::PublicKey,
    sbom_statement: dsse::Signed,
    verdict_statement: dsse::Signed,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("writing the {0} statement: {1}")]
    Statement(&'static str, serde_json::Error),
}

/// Signs the SBOM `sbom` (a CycloneDX document, serialized here as the statement's predicate) and
/// the verdict of `input` for its subject.
pub fn signed_set<'a, S: Serialize>(
    input: &SetInput<'a>,
    sbom: &'a S,
    key: &'a PrivateKey,
) -> Result<SignedSet<'a, S>, SignError> {
    let sbom_payload = serde_json::to_vec(&Statement::new(input.subject, SBOM_PREDICATE, sbom))
        .map_err(|e| SignError::Statement("SBOM", e))?;
    let verdict_statement = signed_verdict(input, &sbom_payload, key)?;
    let sbom_statement = dsse::Signed::new(dsse::IN_TOTO_PAYLOAD_TYPE, sbom_payload, key)?;
    Ok(SignedSet {
        sbom,
        verdict: input.verdict,
        public: key.public(),
        sbom_statement,
        verdict_statement,
    })
}

/// Signs the verdict statement of `input`, naming the SBOM statement `sbom_statement` (its payload
/// bytes) as its input: the one just signed, or (`attest --from-attestation`) one already verified.
pub fn signed_verdict(
    input: &SetInput,
    sbom_statement: &[u8],
    key: &PrivateKey,
) -> Result<dsse::Signed, SignError> {
    let sbom_digest = crate::oci::digest::sha256_digest(sbom_statement);
    let predicate = verification_summary(input, &sbom_digest, set::SBOM_ENVELOPE);
    let payload = serde_json::to_vec(&Statement::new(input.subject, VSA_PREDICATE, predicate))
        .map_err(|e| SignError::Statement("verdict", e))?;
    Ok(dsse::Signed::new(dsse::IN_TOTO_PAYLOAD_TYPE, payload, key)?)
}

impl<S: Serialize> SignedSet<'_, S> {
    /// The set's files, for [`set::write_set`]: the SBOM and verdict documents, each statement's
    /// DSSE envelope and its Sigstore bundle.
    pub fn files(&self) -> Vec<set::SetFile<'_>> {
        use set::SetFile;
        vec![
            SetFile::json(set::SBOM_FILE, self.sbom),
            SetFile::json(set::VERDICT_FILE, self.verdict),
            SetFile::json(set::SBOM_ENVELOPE, self.sbom_statement.envelope()),
            SetFile::json(set::VERDICT_ENVELOPE, self.verdict_statement.envelope()),
            SetFile::json(
                set::SBOM_BUNDLE,
                bundle::bundle(self.sbom_statement.envelope(), self.public),
            ),
            SetFile::json(
                set::VERDICT_BUNDLE,
                bundle::bundle(self.verdict_statement.envelope(), self.public),
            ),
        ]
    }
}
