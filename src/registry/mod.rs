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

/// An image as the registry holds it now.
#[derive(Debug, Clone)]
pub struct RegistryImage {
    /// The image manifest: the one the reference names, or, when it names an image index, the
    /// index's entry for this machine's platform (as `docker pull` chooses).
    pub manifest: Manifest,
    /// The index the reference named, when it named one.
    pub index: Option<Manifest>,
    /// The image config digest (the image ID).
    pub config_digest: Option<String>,
}

impl RegistryImage {
    /// The digests an attestation subject may name: the image manifest digest, the image ID, and
    /// the index the reference named (what cosign attests when given the tag of an index).
    pub fn digests(&self) -> Vec<String> {
        std::iter::once(self.manifest.digest.clone())
            .chain(self.config_digest.clone())
            .chain(self.index.as_ref().map(|index| index.digest.clone()))
            .collect()
    }
}

/// Resolves `reference` (a tag or digest) in `repository` to an image manifest, following an image
/// index to `platform`, else this machine's platform (see [`crate::image::platform`]).
pub fn resolve(
    repository: &Repository,
    reference: &Reference,
    platform: Option<&crate::image::Platform>,
) -> Result<RegistryImage, RegistryError> {
    let tag_or_digest = reference
        .digest()
        .or(reference.tag())
        .unwrap_or("latest")
        .to_string();
    let not_found = || RegistryError::NotFound {
        reference: reference.whole(),
    };
    let mut manifest = repository.manifest(&tag_or_digest)?.ok_or_else(not_found)?;
    let mut index = None;
    // An index of indexes is allowed by the spec; follow a few levels, as layouts are.
    for _depth in 0..4 {
        let parsed = manifest_json(reference, &manifest)?;
        let Some(entries) = parsed["manifests"].as_array() else {
            let config_digest = parsed["config"]["digest"].as_str().map(str::to_string);
            return Ok(RegistryImage {
                manifest,
                index,
                config_digest,
            });
        };
        let platforms: Vec<crate::image::platform::EntryPlatform> = entries
            .iter()
            .map(|e| {
                let p = &e["platform"];
                Some((
                    p["os"].as_str()?,
                    p["architecture"].as_str()?,
                    p["variant"].as_str(),
                ))
            })
            .collect();
        let chosen = match crate::image::choose_platform(&platforms, platform) {
            Some(i) => entries[i]["digest"].as_str(),
            None => match platform {
                Some(wanted) => {
                    return Err(RegistryError::NoPlatform {
                        reference: reference.whole(),
                        platform: wanted.to_string(),
                        available: crate::image::platform::describe_platforms(&platforms),
                    })
                }
                None => None,
            },
        }
        .ok_or_else(|| RegistryError::Invalid {
            what: format!("image index {} of {}", manifest.digest, reference.whole()),
            detail: "it lists no image manifest".into(),
        })?;
        if crate::layers::digest::sha256_hex(chosen).is_none() {
            return Err(RegistryError::Invalid {
                what: format!("image index {} of {}", manifest.digest, reference.whole()),
                detail: format!("{chosen:?} is not a sha256 digest"),
            });
        }
        let next = repository
            .manifest(chosen)?
            .ok_or_else(|| RegistryError::Invalid {
                what: format!("image index {} of {}", manifest.digest, reference.whole()),
                detail: format!("it names manifest {chosen}, which the registry does not have"),
            })?;
        index.get_or_insert(manifest);
        manifest = next;
    }
    Err(RegistryError::Invalid {
        what: format!("manifest of {}", reference.whole()),
        detail: "image indexes nest more than 4 deep".into(),
    })
}

/// The platforms of the images an index lists (`os/architecture[/variant]`), leaving out
/// `unknown/unknown` entries (buildx's attestation manifests, not runnable images); an entry with no
/// platform counts as one.
pub fn index_platforms(
    reference: &Reference,
    index: &Manifest,
) -> Result<Vec<String>, RegistryError> {
    let parsed = manifest_json(reference, index)?;
    let entries = parsed["manifests"].as_array().cloned().unwrap_or_default();
    Ok(entries
        .iter()
        .filter_map(|entry| {
            let platform = &entry["platform"];
            let os = platform["os"].as_str().unwrap_or("unknown");
            let architecture = platform["architecture"].as_str().unwrap_or("unknown");
            if platform.is_object() && os == "unknown" && architecture == "unknown" {
                return None;
            }
            let mut name = format!("{os}/{architecture}");
            if let Some(variant) = platform["variant"].as_str() {
                name.push('/');
                name.push_str(variant);
            }
            Some(name)
        })
        .collect())
}

fn manifest_json(
    reference: &Reference,
    manifest: &Manifest,
) -> Result<serde_json::Value, RegistryError> {
    serde_json::from_slice(&manifest.bytes).map_err(|e| RegistryError::Invalid {
        what: format!("manifest {} of {}", manifest.digest, reference.whole()),
        detail: format!("not JSON ({e})"),
    })
}
