//! The OCI layer, below everything that reads images or attestations: references ([`parse_reference`]),
//! platforms and how a client picks one ([`platform`]), the one walk of an image index ([`walk`]),
//! resolving a reference to the image a client takes ([`resolve`]), digests ([`digest`]), media types ([`media`]), and the
//! registry client ([`client`]) with the docker CLI's credentials ([`auth`]). It knows nothing of
//! attestations or policies.

pub mod auth;
pub mod client;
pub mod digest;
pub mod media;
pub mod platform;
pub mod resolve;
pub mod walk;

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
    #[error("{reference}: the image index has no {platform} image (it has: {available})")]
    NoPlatform {
        reference: String,
        platform: String,
        available: String,
    },
}

/// Parses an image reference the way docker does (`name`, `host:port/name:tag`, `name@sha256:…`).
pub fn parse_reference(text: &str) -> Result<Reference, RegistryError> {
    text.parse::<Reference>()
        .map_err(|e| RegistryError::BadReference(text.to_string(), e.to_string()))
}
