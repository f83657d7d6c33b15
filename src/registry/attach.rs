//! Attaching signed statements to an image in its registry, in the two layouts verifiers read:
//!
//! - cosign's tag scheme: the OCI manifest tagged `sha256-<hex>.att`, one layer per statement
//!   (the DSSE envelope, `application/vnd.dsse.envelope.v1+json`, annotated with its
//!   `predicateType`), and a config that lists the layers as an image's `rootfs`, as cosign writes it.
//!   Layers another tool attached are kept; ours (same predicate types) are replaced.
//! - OCI 1.1 referrers: per statement, an artifact manifest (`artifactType` = the Sigstore bundle
//!   type, the empty config, the bundle as its layer) whose `subject` is the image manifest. When the
//!   registry has no referrers API, the referrers index under the fallback tag `sha256-<hex>` is
//!   updated too (older vouch entries of the same predicate type replaced).
//!
//! Blobs are pushed before the manifests that name them, and the image's own manifest is never
//! touched; every step's outcome is recorded so a failure says what was and was not written.

use crate::oci::client::{Manifest, Repository};
use crate::oci::RegistryError;
use oci_client::manifest::{OciDescriptor, OciImageIndex, OciImageManifest};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
pub use crate::attest::bundle::BUNDLE_MEDIA_TYPE;
use crate::oci::media::{OCI_CONFIG, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST};
/// cosign marks every signature/attestation layer with this (empty for DSSE: the signature is
/// inside the envelope).
pub const COSIGN_SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
pub const BUNDLE_CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
pub const BUNDLE_PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// One signed statement to attach.
pub struct Statement<'a> {
    pub predicate_type: &'a str,
    /// The DSSE envelope JSON.
    pub envelope: &'a [u8],
    /// The Sigstore bundle JSON carrying the same envelope.
    pub bundle: &'a [u8],
    /// Annotations of its `.att` layer beyond cosign's signature mark and the predicate type (a
    /// keyless signature's certificate, chain and Rekor bundle, as cosign writes them).
    pub att_annotations: &'a BTreeMap<String, String>,
}

/// What was written (manifest digests), for the summary and for a partial failure.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Attached {
    /// `REPO:sha256-<hex>.att` and its manifest digest.
    pub att: Option<(String, String)>,
    /// Referrer manifest digests.
    pub referrers: Vec<String>,
    /// The fallback referrers tag, when the registry has no referrers API.
    pub referrers_tag: Option<String>,
}

impl Attached {
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some((tag, digest)) = &self.att {
            parts.push(format!("{tag} ({digest})"));
        }
        if !self.referrers.is_empty() {
            parts.push(format!("{} referrer manifest(s)", self.referrers.len()));
        }
        if let Some(tag) = &self.referrers_tag {
            parts.push(format!("referrers index {tag}"));
        }
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join(", ")
        }
    }
}

/// `sha256-<hex>` for `sha256:<hex>` (the tag schemes' spelling of a digest).
pub fn digest_tag(digest: &str) -> Result<String, RegistryError> {
    crate::attest::set::dir_name(digest).map_err(|e| RegistryError::Invalid {
        what: "image digest".into(),
        detail: e.to_string(),
    })
}

/// A failed attach: the error, and what had been written before it.
#[derive(Debug)]
pub struct AttachFailure {
    pub error: RegistryError,
    pub written: Attached,
}

/// Attaches `statements` to the image manifest `subject` of `repository`, in both layouts.
pub fn attach(
    repository: &Repository,
    subject: &Manifest,
    statements: &[Statement],
    created: &str,
) -> Result<Attached, Box<AttachFailure>> {
    let mut attached = Attached::default();
    let failure = |error, written| Box::new(AttachFailure { error, written });
    match attach_att(repository, subject, statements) {
        Ok(written) => attached.att = Some(written),
        Err(e) => return Err(failure(e, attached)),
    }
    if let Err(e) = attach_referrers(repository, subject, statements, created, &mut attached) {
        return Err(failure(e, attached));
    }
    Ok(attached)
}

/// The cosign `.att` manifest: existing foreign layers kept, ours replaced.
fn attach_att(
    repository: &Repository,
    subject: &Manifest,
    statements: &[Statement],
) -> Result<(String, String), RegistryError> {
    let tag = format!("{}.att", digest_tag(&subject.digest)?);
    let ours: Vec<&str> = statements.iter().map(|s| s.predicate_type).collect();
    let mut layers: Vec<OciDescriptor> = match repository.manifest(&tag)? {
        Some(existing) => serde_json::from_slice::<OciImageManifest>(&existing.bytes)
            .map(|m| m.layers)
            .unwrap_or_default()
            .into_iter()
            .filter(|layer| {
                let predicate = layer
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(PREDICATE_TYPE_ANNOTATION));
                !predicate.is_some_and(|p| ours.contains(&p.as_str()))
            })
            .collect(),
        None => Vec::new(),
    };
    for statement in statements {
        let mut layer = repository.put_blob(statement.envelope, DSSE_MEDIA_TYPE)?;
        let mut annotations = statement.att_annotations.clone();
        annotations.extend([
            (COSIGN_SIGNATURE_ANNOTATION.to_string(), String::new()),
            (
                PREDICATE_TYPE_ANNOTATION.to_string(),
                statement.predicate_type.to_string(),
            ),
        ]);
        layer.annotations = Some(annotations);
        layers.push(layer);
    }
    // cosign's config: an image config whose rootfs lists the layers (they are not compressed,
    // so their diffIDs are their digests).
    let config = json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {
            "type": "layers",
            "diff_ids": layers.iter().map(|l| l.digest.clone()).collect::<Vec<_>>(),
        },
        "config": {},
    });
    let config = repository.put_blob(&to_bytes(&config), OCI_CONFIG)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": layers,
    });
    let digest = repository.put_manifest(&tag, &to_bytes(&manifest), OCI_MANIFEST)?;
    Ok((format!("{}:{tag}", repository.display()), digest))
}

/// One OCI 1.1 referrer per statement, and the fallback index when the registry needs one.
fn attach_referrers(
    repository: &Repository,
    subject: &Manifest,
    statements: &[Statement],
    created: &str,
    attached: &mut Attached,
) -> Result<(), RegistryError> {
    let empty = repository.put_blob(b"{}", OCI_EMPTY)?;
    let mut entries = Vec::new();
    for statement in statements {
        let layer = repository.put_blob(statement.bundle, BUNDLE_MEDIA_TYPE)?;
        let annotations = BTreeMap::from([
            (
                BUNDLE_CONTENT_ANNOTATION.to_string(),
                "dsse-envelope".to_string(),
            ),
            (
                BUNDLE_PREDICATE_ANNOTATION.to_string(),
                statement.predicate_type.to_string(),
            ),
            (CREATED_ANNOTATION.to_string(), created.to_string()),
        ]);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": BUNDLE_MEDIA_TYPE,
            "config": empty,
            "layers": [layer],
            "subject": subject.descriptor(),
            "annotations": annotations.clone(),
        });
        let bytes = to_bytes(&manifest);
        let digest = crate::oci::digest::sha256_digest(&bytes);
        repository.put_manifest(&digest, &bytes, OCI_MANIFEST)?;
        attached.referrers.push(digest.clone());
        entries.push(OciDescriptor {
            media_type: OCI_MANIFEST.to_string(),
            digest,
            size: bytes.len() as i64,
            artifact_type: Some(BUNDLE_MEDIA_TYPE.to_string()),
            annotations: Some(annotations),
            ..Default::default()
        });
    }
    // A registry with the referrers API lists the new manifests by itself; one without it answers
    // from the fallback tag, which does not list them yet.
    let listed = repository.referrers(&subject.digest, BUNDLE_MEDIA_TYPE)?;
    if entries
        .iter()
        .all(|e| listed.manifests.iter().any(|m| m.digest == e.digest))
    {
        return Ok(());
    }
    let tag = digest_tag(&subject.digest)?;
    let mut index: OciImageIndex = match repository.manifest(&tag)? {
        Some(existing) => {
            serde_json::from_slice(&existing.bytes).map_err(|e| RegistryError::Invalid {
                what: format!("referrers index {}:{tag}", repository.display()),
                detail: format!("not an OCI image index ({e})"),
            })?
        }
        None => serde_json::from_value(json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [],
        }))
        .map_err(|e| RegistryError::Invalid {
            what: "referrers index".into(),
            detail: e.to_string(),
        })?,
    };
    let ours: Vec<&str> = statements.iter().map(|s| s.predicate_type).collect();
    index.manifests.retain(|entry| {
        let predicate = entry
            .annotations
            .as_ref()
            .and_then(|a| a.get(BUNDLE_PREDICATE_ANNOTATION));
        !(entry.artifact_type.as_deref() == Some(BUNDLE_MEDIA_TYPE)
            && predicate.is_some_and(|p| ours.contains(&p.as_str())))
    });
    let mut index = serde_json::to_value(&index).map_err(|e| RegistryError::Invalid {
        what: "referrers index".into(),
        detail: e.to_string(),
    })?;
    if let Some(manifests) = index["manifests"].as_array_mut() {
        for entry in &entries {
            manifests.push(serde_json::to_value(entry).unwrap_or(Value::Null));
        }
    }
    repository.put_manifest(&tag, &to_bytes(&index), OCI_INDEX)?;
    attached.referrers_tag = Some(format!("{}:{tag}", repository.display()));
    Ok(())
}

fn to_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}
