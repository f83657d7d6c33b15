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

pub mod trust;

use sigstore_verify::trust_root::{TrustedRoot, SIGSTORE_PRODUCTION_TRUSTED_ROOT};
use sigstore_verify::types::{Bundle, DerPublicKey};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};
use std::path::Path;

/// The largest bundle or trusted root read: both are kilobytes.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// Who must have signed.
#[derive(Debug)]
pub enum Signer {
    /// The holder of this public key (PEM).
    Key(String),
    /// A keyless signer: the certificate's identity (exactly, or a regular expression matching it
    /// whole) and its OIDC issuer.
    Identity {
        identity: IdentityMatch,
        issuer: String,
    },
}

#[derive(Debug)]
pub enum IdentityMatch {
    Exact(String),
    /// Anchored at both ends, as cosign anchors `--certificate-identity-regexp`.
    Regex(regex::Regex),
}

/// What a verification established.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verified {
    /// The certificate's identity (email or URI), when keyless.
    pub identity: Option<String>,
    /// The certificate's OIDC issuer, when keyless.
    pub issuer: Option<String>,
    /// The signing time the log or a timestamp authority vouches for (RFC 3339).
    pub integrated_time: Option<String>,
    /// Whether the transparency-log entry was verified.
    pub transparency_log: bool,
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
            verifier.verify_reader(artifact, bundle, &policy)
        }
        Signer::Identity { identity, issuer } => {
            let mut policy = VerificationPolicy::any_identity().require_issuer(issuer.clone());
            if let IdentityMatch::Exact(exact) = identity {
                policy = policy.require_identity(exact.clone());
            }
            if !check_tlog {
                policy = policy.skip_tlog_unsafe();
            }
            verifier.verify_reader(artifact, bundle, &policy)
        }
    }
    .map_err(named)?;
    let identity = result.identity().map(|i| i.as_str().to_string());
    if let Signer::Identity {
        identity: IdentityMatch::Regex(regex),
        ..
    } = signer
    {
        if !identity.as_deref().is_some_and(|i| regex.is_match(i)) {
            return Err(BundleError::failed(
                "certificate identity",
                format!(
                    "`{}` does not match `{}`",
                    identity.as_deref().unwrap_or("(none)"),
                    regex.as_str()
                ),
            ));
        }
    }
    Ok(Verified {
        identity,
        issuer: result.issuer().map(str::to_string),
        integrated_time: result.integrated_time().map(|t| t.to_string()),
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
