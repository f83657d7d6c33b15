//! Sigstore bundles of blobs, verified as `cosign verify-blob --bundle` and `sigstore verify` do
//! (`docker vouch verify-blob`): with a public key, or keyless (a Fulcio certificate chaining to a
//! certificate authority of the trusted root, its identity and OIDC issuer against the caller's, its
//! signed certificate timestamps, the transparency-log entry with its inclusion proof against a
//! signed checkpoint or its signed entry timestamp, RFC 3161 timestamps). The checks themselves are
//! the sigstore project's own verifier (`sigstore-verify`); this module reads the inputs within
//! bounds, chooses the policy, matches an identity regular expression (which that verifier does not
//! offer), and says which check failed.
//!
//! The trusted root is the one the caller names (`--trusted-root`, a private instance's
//! `trusted_root.json`), else what `trust update` last fetched ([`trust`]), else the Sigstore
//! public-good instance's, embedded in vouch.

pub mod cosign;
pub mod sign;
pub mod trust;

use sigstore_verify::trust_root::{TrustedRoot, SIGSTORE_PRODUCTION_TRUSTED_ROOT};
use sigstore_verify::types::{Artifact, ArtifactDigest, Bundle, DerPublicKey, Sha256Hash};
use sigstore_verify::{
    Policy, PublicKeyVerificationPolicy, VerificationPolicy, VerificationResult, Verifier,
};
use std::path::Path;

/// The largest bundle or trusted root read: both are kilobytes.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum Signer {
    /// The holder of this public key (PEM).
    Key(String),
    /// A keyless signer: the certificate's identity and its OIDC issuer, each given exactly or as
    /// a regular expression matching it whole.
    Identity { identity: Claim, issuer: Claim },
}

/// What a certificate claim (its identity, its OIDC issuer) must be.
#[derive(Debug, Clone)]
pub enum Claim {
    Exact(String),
    /// Anchored at both ends, as cosign anchors `--certificate-identity-regexp` and
    /// `--certificate-oidc-issuer-regexp`.
    Regex(regex::Regex),
}

impl Claim {
    /// A claim matching `pattern` whole (at most 1 MiB of compiled program: a flag is not a way
    /// to make vouch build an enormous automaton).
    pub fn regex(pattern: &str) -> Result<Claim, regex::Error> {
        regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
            .size_limit(1 << 20)
            .build()
            .map(Claim::Regex)
    }

    fn exact(&self) -> Option<&str> {
        match self {
            Claim::Exact(exact) => Some(exact),
            Claim::Regex(_) => None,
        }
    }

    /// Checks a claim the verifier could not (a regular expression) against what the certificate
    /// says.
    fn check(&self, check: &'static str, value: Option<&str>) -> Result<(), BundleError> {
        match self {
            Claim::Regex(regex) if !value.is_some_and(|v| regex.is_match(v)) => {
                Err(BundleError::failed(
                    check,
                    format!(
                        "`{}` does not match `{}`",
                        value.unwrap_or("(none)"),
                        regex.as_str()
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// What a verification established.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verified {
    /// The certificate's identity (email or URI), when keyless.
    pub identity: Option<String>,
    /// The certificate's OIDC issuer, when keyless.
    pub issuer: Option<String>,
    /// The signing time a Rekor v1 log's signed entry timestamp vouches for (RFC 3339).
    pub integrated_time: Option<String>,
    /// The earliest time any verified source vouches for: the log, or an RFC 3339 timestamp
    /// authority (the only source for a Rekor v2 entry).
    pub earliest_verified_time: Option<String>,
    /// Whether the transparency-log entry was verified.
    pub transparency_log: bool,
}

impl Verified {
    /// When the signature is known to have existed, for a line of output: `, logged at T`,
    /// `, in the transparency log, timestamped at T`, ...
    pub fn when(&self) -> String {
        match (
            &self.integrated_time,
            &self.earliest_verified_time,
            self.transparency_log,
        ) {
            (Some(time), _, true) => format!(", logged at {time}"),
            (None, Some(time), true) => format!(", in the transparency log, timestamped at {time}"),
            (_, _, true) => ", in the transparency log".to_string(),
            (_, Some(time), false) => {
                format!(", timestamped at {time}, transparency log not checked")
            }
            (_, None, false) => ", transparency log not checked".to_string(),
        }
    }
}

/// Why a blob's bundle is not accepted: an input that cannot be read (exit 3), or a check that
/// failed (exit 1), named.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{0}")]
    Unreadable(String),
    #[error("{check}: {detail}")]
    Failed { check: &'static str, detail: String },
}

impl BundleError {
    pub(crate) fn failed(check: &'static str, detail: impl Into<String>) -> BundleError {
        BundleError::Failed {
            check,
            detail: detail.into(),
        }
    }
}

/// The trusted root at `named`, else the one `trust update` stored (in the directory `env`
/// names, [`trust::default_dir`]), else the embedded public-good one.
pub fn trusted_root(
    named: Option<&Path>,
    env: &std::collections::HashMap<String, String>,
) -> Result<TrustedRoot, BundleError> {
    let updated = trust::updated_root(&trust::default_dir(env));
    match named.or(updated.as_deref()) {
        None => TrustedRoot::from_json(SIGSTORE_PRODUCTION_TRUSTED_ROOT).map_err(|e| {
            BundleError::Unreadable(format!("the embedded Sigstore trusted root: {e}"))
        }),
        Some(path) => {
            let text = read_text(path, "trusted root")?;
            TrustedRoot::from_json(&text).map_err(|e| {
                BundleError::Unreadable(format!(
                    "{}: not a Sigstore trusted root: {e}",
                    path.display()
                ))
            })
        }
    }
}

/// The bundle at `path` (any media type v0.1 to v0.3).
pub fn read_bundle(path: &Path) -> Result<Bundle, BundleError> {
    let text = read_text(path, "bundle")?;
    Bundle::from_json(&text).map_err(|e| {
        BundleError::Unreadable(format!("{}: not a Sigstore bundle: {e}", path.display()))
    })
}

/// The bundle of a DSSE `envelope` and the verification `material` that came with it (as a
/// registry layout carries them apart), read as `media_type`.
pub fn statement_bundle(
    media_type: &str,
    material: &serde_json::Value,
    envelope: &impl serde::Serialize,
) -> Result<Bundle, BundleError> {
    let document = serde_json::json!({
        "mediaType": media_type,
        "verificationMaterial": material,
        "dsseEnvelope": envelope,
    });
    Bundle::from_json(&document.to_string())
        .map_err(|e| BundleError::failed("bundle", format!("not a Sigstore bundle: {e}")))
}

fn read_text(path: &Path, what: &str) -> Result<String, BundleError> {
    let bytes = crate::fsio::read_limited(path, MAX_DOCUMENT_BYTES)
        .map_err(|e| BundleError::Unreadable(format!("{} ({what}): {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|_| {
        BundleError::Unreadable(format!("{} ({what}): not UTF-8 text", path.display()))
    })
}

/// Verifies `bundle` over the blob `artifact` yields (read to its end in constant memory) as
/// `signer` signed it, against `root`. `check_tlog: false` accepts a bundle without transparency
/// log evidence (a key-signed bundle made offline, as cosign's `--insecure-ignore-tlog`).
pub fn verify_blob(
    artifact: impl std::io::Read,
    bundle: &Bundle,
    signer: &Signer,
    root: &TrustedRoot,
    check_tlog: bool,
) -> Result<Verified, BundleError> {
    verify_with(signer, root, check_tlog, |verifier, policy| {
        verifier.verify_reader(artifact, bundle, policy)
    })
}

/// Verifies a bundle carrying a DSSE envelope whose in-toto statement names `subject` (`sha256:`
/// hex) as `signer` signed it, against `root`, the transparency log included: the signature over
/// the envelope, the certificate, the log entry's consistency with the envelope, and that
/// `subject` is among the statement's subjects.
pub fn verify_statement(
    bundle: &Bundle,
    subject: &str,
    signer: &Signer,
    root: &TrustedRoot,
) -> Result<Verified, BundleError> {
    let digest = subject
        .strip_prefix("sha256:")
        .and_then(|hex| Sha256Hash::from_hex(hex).ok())
        .ok_or_else(|| {
            BundleError::failed("artifact", format!("{subject:?} is not a sha256 digest"))
        })?;
    verify_with(signer, root, true, |verifier, policy| {
        verifier.verify(
            Artifact::Digest(ArtifactDigest::sha256(digest)),
            bundle,
            policy,
        )
    })
}

/// Runs `verify` with the policy `signer` and `check_tlog` make, then checks what that policy
/// cannot (regular expressions) and says what was established.
fn verify_with(
    signer: &Signer,
    root: &TrustedRoot,
    check_tlog: bool,
    verify: impl FnOnce(&Verifier, &dyn Policy) -> sigstore_verify::Result<VerificationResult>,
) -> Result<Verified, BundleError> {
    let verifier = Verifier::new(root)
        .map_err(|e| BundleError::Unreadable(format!("the trusted root: {e}")))?;
    let result = match signer {
        Signer::Key(pem) => {
            let key = DerPublicKey::from_pem(pem)
                .map_err(|e| BundleError::Unreadable(format!("the public key: {e}")))?;
            let mut policy = PublicKeyVerificationPolicy::new(key);
            if !check_tlog {
                policy = policy.skip_tlog_unsafe();
            }
            verify(&verifier, &policy)
        }
        Signer::Identity { identity, issuer } => {
            let mut policy = VerificationPolicy::any_identity();
            if let Some(exact) = identity.exact() {
                policy = policy.require_identity(exact.to_string());
            }
            if let Some(exact) = issuer.exact() {
                policy = policy.require_issuer(exact.to_string());
            }
            if !check_tlog {
                policy = policy.skip_tlog_unsafe();
            }
            verify(&verifier, &policy)
        }
    }
    .map_err(named)?;
    let identity = result.identity().map(|i| i.as_str().to_string());
    if let Signer::Identity {
        identity: wanted_identity,
        issuer: wanted_issuer,
    } = signer
    {
        wanted_identity.check("certificate identity", identity.as_deref())?;
        wanted_issuer.check("certificate OIDC issuer", result.issuer())?;
    }
    Ok(Verified {
        identity,
        issuer: result.issuer().map(str::to_string),
        integrated_time: result.integrated_time().map(|t| t.to_string()),
        earliest_verified_time: result
            .verified_timestamps()
            .iter()
            .min()
            .map(|t| t.to_string()),
        transparency_log: result.tlog_verified(),
    })
}

/// The check a verifier error belongs to.
fn named(error: sigstore_verify::Error) -> BundleError {
    use sigstore_verify::Error as E;
    let check = match &error {
        E::IdentityMismatch { .. } => "certificate identity",
        E::IssuerMismatch { .. } => "certificate OIDC issuer",
        E::SignatureInvalid(_) => "signature",
        E::ArtifactMismatch(_) => "artifact",
        E::Certificate(_) => "certificate",
        E::TransparencyLog(_) => "transparency log",
        E::Timestamp(_) => "timestamp",
        // The bundle's own consistency checks include its log entries' (an inclusion proof's
        // root against its checkpoint's).
        E::Bundle(e)
            if ["inclusion", "checkpoint", "tlog"]
                .iter()
                .any(|w| e.to_string().contains(w)) =>
        {
            "transparency log"
        }
        E::InvalidBundle(_) | E::UnsupportedBundle(_) | E::Bundle(_) | E::Types(_) => "bundle",
        E::InvalidTrustRoot(_) | E::TrustRoot(_) | E::TrustedCertificate(_) => "trusted root",
        E::ArtifactRead(_) => return BundleError::Unreadable(format!("the blob: {error}")),
        _ => "verification",
    };
    BundleError::failed(check, error.to_string())
}
