//! Finding an image's signed statements in its registry, for `verify registry:REF`: the cosign
//! `sha256-<hex>.att` manifest (DSSE layers) and the OCI 1.1 referrers carrying Sigstore bundles
//! (through the referrers API or its fallback tag). Each layout found becomes one
//! [`LoadedSet`]; the envelopes are sorted into the SBOM and verdict slots by the predicate type
//! their payload claims, which is only trusted later, when `crate::verify` has checked the
//! signature. Blobs are size-limited and digest-checked by [`Repository::blob`].

use super::attach::{
    digest_tag, BUNDLE_MEDIA_TYPE, BUNDLE_PREDICATE_ANNOTATION, CREATED_ANNOTATION,
    DSSE_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION,
};
use crate::attest::dsse::Envelope;
use crate::attest::set::{BundleParts, LoadedSet, Signed};
use crate::attest::statement::{SBOM_PREDICATE, VSA_PREDICATE};
use crate::bundles::cosign;
use crate::oci::client::Repository;
use crate::oci::resolve::RegistryImage;
use crate::oci::RegistryError;
use oci_client::manifest::OciImageManifest;

/// The largest envelope or bundle read (the SBOM of an image of 20,000 packages is about 30 MiB).
const STATEMENT_LIMIT: u64 = crate::attest::ENVELOPE_LIMIT;
/// The most statement layers of an `.att` manifest fetched (only those claiming vouch's predicate
/// types are fetched at all).
const ATT_LAYER_LIMIT: usize = 16;
/// The most referrers looked at.
const REFERRER_LIMIT: usize = 200;

/// Where in the registry to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// cosign's `sha256-<hex>.att` tag
    Att,
    /// OCI 1.1 referrers (Sigstore bundles), or their fallback tag
    Referrers,
}

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::Att => "att",
            Layout::Referrers => "referrers",
        }
    }
}

/// A slot being filled: the SBOM or the verdict statement.
#[derive(Default)]
struct Slots {
    sbom: Option<Result<Signed, String>>,
    verdict: Option<Result<Signed, String>>,
}

impl Slots {
    fn put(&mut self, predicate: &str, envelope: Result<Signed, String>) {
        match predicate {
            SBOM_PREDICATE => self.sbom = Some(envelope),
            VSA_PREDICATE => self.verdict = Some(envelope),
            _ => {}
        }
    }

    fn into_set(self, location: String) -> Option<LoadedSet> {
        if self.sbom.is_none() && self.verdict.is_none() {
            return None;
        }
        let missing = |what: &str| Err(format!("no {what} statement at {location}"));
        Some(LoadedSet {
            sbom: self.sbom.unwrap_or_else(|| missing("SBOM")),
            verdict: self.verdict.unwrap_or_else(|| missing("verdict")),
            location,
        })
    }
}

/// The predicate type an envelope's (not yet verified) payload claims.
fn claimed_predicate(envelope: &Envelope) -> Option<String> {
    let payload = envelope.payload_bytes().ok()?;
    let statement: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    statement["predicateType"].as_str().map(str::to_string)
}

fn parse_envelope(bytes: &[u8], what: &str) -> Result<Envelope, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("{what}: not a DSSE envelope ({e})"))
}

/// The statements under the image's `.att` tag, if it has one.
pub fn att_set(repository: &Repository, digest: &str) -> Result<Option<LoadedSet>, RegistryError> {
    let tag = format!("{}.att", digest_tag(digest)?);
    let location = format!("{}:{tag}", repository.display());
    let Some(manifest) = repository.manifest(&tag)? else {
        return Ok(None);
    };
    let manifest: OciImageManifest =
        serde_json::from_slice(&manifest.bytes).map_err(|e| RegistryError::Invalid {
            what: location.clone(),
            detail: format!("not an OCI image manifest ({e})"),
        })?;
    let mut slots = Slots::default();
    // Other tools' statements (other predicate types) are not fetched; ours are, up to a limit.
    let ours: Vec<_> = manifest
        .layers
        .iter()
        .filter(|l| l.media_type == DSSE_MEDIA_TYPE)
        .filter(|l| {
            l.annotations
                .as_ref()
                .and_then(|a| a.get(PREDICATE_TYPE_ANNOTATION))
                .is_none_or(|p| p == SBOM_PREDICATE || p == VSA_PREDICATE)
        })
        .collect();
    if ours.len() > ATT_LAYER_LIMIT {
        return Err(RegistryError::Invalid {
            what: location,
            detail: format!(
                "{} statement layers claim vouch's predicate types (at most {ATT_LAYER_LIMIT} are read)",
                ours.len()
            ),
        });
    }
    for layer in ours {
        let annotated = layer
            .annotations
            .as_ref()
            .and_then(|a| a.get(PREDICATE_TYPE_ANNOTATION))
            .cloned();
        let what = format!("{location} layer {}", layer.digest);
        match repository.blob(layer, STATEMENT_LIMIT) {
            Ok(bytes) => {
                let envelope = parse_envelope(&bytes, &what);
                let predicate = envelope
                    .as_ref()
                    .ok()
                    .and_then(claimed_predicate)
                    .or(annotated);
                // cosign's keyless material rides in the layer's annotations.
                let keyless = layer
                    .annotations
                    .as_ref()
                    .and_then(cosign::verification_material);
                if let Some(predicate) = predicate {
                    slots.put(
                        &predicate,
                        envelope.map(|envelope| Signed { envelope, keyless }),
                    );
                }
            }
            // A layer that cannot be fetched intact fails the slot it claims to fill.
            Err(e) => {
                if let Some(predicate) = annotated {
                    slots.put(&predicate, Err(e.to_string()));
                }
            }
        }
    }
    Ok(slots.into_set(location))
}

/// The newest bundle per predicate type among the image's referrers.
pub fn referrers_set(
    repository: &Repository,
    digest: &str,
) -> Result<Option<LoadedSet>, RegistryError> {
    let location = format!("{} referrers of {digest}", repository.display());
    let index = repository.referrers(digest, BUNDLE_MEDIA_TYPE)?;
    let mut newest: Vec<(String, String, String)> = Vec::new(); // (predicate, created, digest)
    for entry in index.manifests.iter().take(REFERRER_LIMIT) {
        let annotation = |key: &str| {
            entry
                .annotations
                .as_ref()
                .and_then(|a| a.get(key))
                .cloned()
                .unwrap_or_default()
        };
        let predicate = annotation(BUNDLE_PREDICATE_ANNOTATION);
        if predicate != SBOM_PREDICATE && predicate != VSA_PREDICATE {
            continue;
        }
        let created = annotation(CREATED_ANNOTATION);
        match newest.iter_mut().find(|(p, _, _)| *p == predicate) {
            Some(found) if found.1 < created => *found = (predicate, created, entry.digest.clone()),
            Some(_) => {}
            None => newest.push((predicate, created, entry.digest.clone())),
        }
    }
    let mut slots = Slots::default();
    for (predicate, _, manifest_digest) in newest {
        slots.put(&predicate, bundle_envelope(repository, &manifest_digest));
    }
    Ok(slots.into_set(location))
}

/// The DSSE envelope inside the bundle a referrer manifest carries, with the bundle's keyless
/// verification material when it has a certificate.
fn bundle_envelope(repository: &Repository, manifest_digest: &str) -> Result<Signed, String> {
    let what = format!("referrer {manifest_digest}");
    let manifest = repository
        .manifest(manifest_digest)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{what}: listed but not in the registry"))?;
    let manifest: OciImageManifest = serde_json::from_slice(&manifest.bytes)
        .map_err(|e| format!("{what}: not an OCI image manifest ({e})"))?;
    let layer = manifest
        .layers
        .iter()
        .find(|l| l.media_type == BUNDLE_MEDIA_TYPE)
        .ok_or_else(|| format!("{what}: has no Sigstore bundle layer"))?;
    let bytes = repository
        .blob(layer, STATEMENT_LIMIT)
        .map_err(|e| e.to_string())?;
    // Only the envelope and the verification material are taken from the bundle (the rest is
    // skipped as it is parsed): the payload, tens of megabytes for an SBOM, is never copied.
    let bundle: BundleParts<Envelope> = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{what}: the bundle is not a Sigstore bundle ({e})"))?;
    let (envelope, keyless) = bundle.split();
    let envelope = envelope.ok_or_else(|| format!("{what}: the bundle has no DSSE envelope"))?;
    Ok(Signed {
        envelope,
        keyless: keyless.map(Ok),
    })
}

/// The sets attached to `image`: to its manifest, then, when the reference named an image index
/// holding no other runnable image, to that index (where `cosign attest` on the tag puts them, and
/// `attest --push` too). Statements at an index of several images say nothing of any one of them
/// and are not read. A location that cannot be read is a message when the other gives sets.
pub fn image_attestation_sets(
    repository: &Repository,
    image: &RegistryImage,
    layouts: &[Layout],
) -> Result<(Vec<LoadedSet>, Vec<String>), RegistryError> {
    let at_manifest = attestation_sets(repository, &image.manifest.digest, layouts);
    let Some(index) = image.index_as_subject() else {
        return at_manifest;
    };
    let at_index = attestation_sets(repository, &index.digest, layouts);
    let of_index = |messages: Vec<String>| {
        messages
            .into_iter()
            .map(|m| format!("at the index {}: {m}", index.digest))
    };
    match (at_manifest, at_index) {
        (Ok((mut sets, mut unreadable)), Ok((index_sets, index_unreadable))) => {
            sets.extend(index_sets);
            unreadable.extend(of_index(index_unreadable));
            Ok((sets, unreadable))
        }
        (Ok((sets, mut unreadable)), Err(e)) => {
            unreadable.extend(of_index(vec![format!("could not be read: {e}")]));
            Ok((sets, unreadable))
        }
        (Err(e), Ok((sets, unreadable))) if !sets.is_empty() => {
            let mut messages = vec![format!(
                "at the manifest {}: could not be read: {e}",
                image.manifest.digest
            )];
            messages.extend(of_index(unreadable));
            Ok((sets, messages))
        }
        (Err(e), _) => Err(e),
    }
}

/// The sets found in the asked layouts, in the order asked, and a message per layout that could
/// not be read (one unreadable layout does not hide the others; only when none could be read is it
/// an error).
pub fn attestation_sets(
    repository: &Repository,
    digest: &str,
    layouts: &[Layout],
) -> Result<(Vec<LoadedSet>, Vec<String>), RegistryError> {
    let mut sets = Vec::new();
    let mut unreadable = Vec::new();
    let mut first_error = None;
    for layout in layouts {
        let found = match layout {
            Layout::Att => att_set(repository, digest),
            Layout::Referrers => referrers_set(repository, digest),
        };
        match found {
            Ok(found) => sets.extend(found),
            Err(e) => {
                unreadable.push(format!(
                    "the {} layout could not be read: {e}",
                    layout.name()
                ));
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(error) if sets.is_empty() => Err(error),
        _ => Ok((sets, unreadable)),
    }
}
