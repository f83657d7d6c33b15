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
use std::collections::BTreeMap;

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
    /// The key the bundles name, when signed with one.
    public: Option<&'a keys::PublicKey>,
    sbom_statement: dsse::Signed,
    verdict_statement: dsse::Signed,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("writing the {0} statement: {1}")]
    Statement(&'static str, serde_json::Error),
    #[error("signing keylessly: {0}")]
    Keyless(String),
}

/// What signs statements: a key, offline, or a keyless signer (a short-lived certificate for an
/// identity, the signature recorded in a transparency log).
pub trait StatementSigner {
    /// Signs the in-toto statement `payload` into a DSSE signature (with its keyless proof when
    /// keyless).
    fn sign_statement(&self, payload: Vec<u8>) -> Result<dsse::Signed, SignError>;
    /// The key the bundles name, when signing with one.
    fn public_key(&self) -> Option<&keys::PublicKey>;
}

impl StatementSigner for PrivateKey {
    fn sign_statement(&self, payload: Vec<u8>) -> Result<dsse::Signed, SignError> {
        Ok(dsse::Signed::new(
            dsse::IN_TOTO_PAYLOAD_TYPE,
            payload,
            self,
        )?)
    }

    fn public_key(&self) -> Option<&keys::PublicKey> {
        Some(self.public())
    }
}

/// Signs the SBOM `sbom` (a CycloneDX document, serialized here as the statement's predicate) and
/// the verdict of `input` for its subject.
pub fn signed_set<'a, S: Serialize>(
    input: &SetInput<'a>,
    sbom: &'a S,
    signer: &'a dyn StatementSigner,
) -> Result<SignedSet<'a, S>, SignError> {
    let sbom_payload = serde_json::to_vec(&Statement::new(input.subject, SBOM_PREDICATE, sbom))
        .map_err(|e| SignError::Statement("SBOM", e))?;
    let verdict_statement = signed_verdict(input, &sbom_payload, signer)?;
    let sbom_statement = signer.sign_statement(sbom_payload)?;
    if signer.public_key().is_none() && sbom_statement.keyless.is_none() {
        return Err(SignError::Keyless(
            "the signer gave neither a key nor a certificate and log entry".into(),
        ));
    }
    Ok(SignedSet {
        sbom,
        verdict: input.verdict,
        public: signer.public_key(),
        sbom_statement,
        verdict_statement,
    })
}

/// Signs the verdict statement of `input`, naming the SBOM statement `sbom_statement` (its payload
/// bytes) as its input: the one just signed, or (`attest --from-attestation`) one already verified.
pub fn signed_verdict(
    input: &SetInput,
    sbom_statement: &[u8],
    signer: &dyn StatementSigner,
) -> Result<dsse::Signed, SignError> {
    let sbom_digest = crate::oci::digest::sha256_digest(sbom_statement);
    let predicate = verification_summary(input, &sbom_digest, set::SBOM_ENVELOPE);
    let payload = serde_json::to_vec(&Statement::new(input.subject, VSA_PREDICATE, predicate))
        .map_err(|e| SignError::Statement("verdict", e))?;
    signer.sign_statement(payload)
}

/// The file of the bundle carrying `signed`: its keyless proof, else the hint of the key `public`.
fn bundle_file<'a>(
    name: &'static str,
    signed: &'a dsse::Signed,
    public: Option<&'a keys::PublicKey>,
) -> set::SetFile<'a> {
    match (&signed.keyless, public) {
        (Some(proof), _) => {
            set::SetFile::json(name, bundle::keyless_bundle(signed.envelope(), proof))
        }
        (None, Some(public)) => set::SetFile::json(name, bundle::bundle(signed.envelope(), public)),
        // A statement neither keyless nor key-signed is not made; its bundle carries no material.
        (None, None) => set::SetFile::json(name, serde_json::json!({})),
    }
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
            bundle_file(set::SBOM_BUNDLE, &self.sbom_statement, self.public),
            bundle_file(set::VERDICT_BUNDLE, &self.verdict_statement, self.public),
        ]
    }

    /// The `.att` layers of the SBOM and verdict statements: each envelope as compact JSON (for a
    /// keyless signature, the bytes its log entry's envelope hash covers, which cosign compares).
    pub fn att_layers(&self) -> [Vec<u8>; 2] {
        [
            self.sbom_statement.envelope_json(),
            self.verdict_statement.envelope_json(),
        ]
    }

    /// The annotations cosign gives the `.att` layers of the SBOM and verdict statements beyond
    /// the predicate type: the keyless proof, when keyless.
    pub fn cosign_annotations(&self) -> [BTreeMap<String, String>; 2] {
        let of = |signed: &dsse::Signed| {
            signed
                .keyless
                .as_ref()
                .map(|proof| proof.cosign_annotations.clone())
                .unwrap_or_default()
        };
        [of(&self.sbom_statement), of(&self.verdict_statement)]
    }
}
