//! The registry end of the pipeline: pushing a built image through the engine ([`push`]), attaching
//! its signed statements beside it the way cosign and OCI 1.1 verifiers look for them ([`attach`]),
//! and finding them again at deploy time ([`fetch`]), over an OCI distribution client
//! ([`client`]) with the docker CLI's credentials ([`auth`]).

pub mod attach;
pub mod auth;
pub mod client;
pub mod fetch;
pub mod push;

use client::{Manifest, Repository};
use oci_client::Reference;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0:?} is not an image reference: {1}")]
    BadReference(String, String),
    #[error("{what}: {detail}")]
    Request { what: String, detail: String },
    #[error("{what}: {detail}")]
    Invalid { what: String, detail: String },
    #[error("{what}: {detail}")]
    Io { what: String, detail: String },
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error("{reference}: no such image in the registry")]
    NotFound { reference: String },
}

/// Parses an image reference the way docker does (`name`, `host:port/name:tag`, `name@sha256:…`).
pub fn parse_reference(text: &str) -> Result<Reference, RegistryError> {
    text.parse::<Reference>()
        .map_err(|e| RegistryError::BadReference(text.to_string(), e.to_string()))
}

/// An image as the registry holds it now.
#[derive(Debug, Clone)]
pub struct RegistryImage {
    /// The manifest (or index) the reference names.
    pub manifest: Manifest,
    /// The image config digest (the image ID), when the manifest is an image manifest.
    pub config_digest: Option<String>,
}

impl RegistryImage {
    /// The digests an attestation subject may name: the manifest digest and the image ID.
    pub fn digests(&self) -> Vec<String> {
        std::iter::once(self.manifest.digest.clone())
            .chain(self.config_digest.clone())
            .collect()
    }
}

/// Resolves `reference` (a tag or digest) in `repository`.
pub fn resolve(
    repository: &Repository,
    reference: &Reference,
) -> Result<RegistryImage, RegistryError> {
    let tag_or_digest = reference
        .digest()
        .or(reference.tag())
        .unwrap_or("latest")
        .to_string();
    let manifest = repository
        .manifest(&tag_or_digest)?
        .ok_or_else(|| RegistryError::NotFound {
            reference: reference.whole(),
        })?;
    let parsed: serde_json::Value =
        serde_json::from_slice(&manifest.bytes).map_err(|e| RegistryError::Invalid {
            what: format!("manifest of {}", reference.whole()),
            detail: format!("not JSON ({e})"),
        })?;
    let config_digest = parsed["config"]["digest"].as_str().map(str::to_string);
    Ok(RegistryImage {
        manifest,
        config_digest,
    })
}
