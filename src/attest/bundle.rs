//! Sigstore bundles v0.3 (`application/vnd.dev.sigstore.bundle.v0.3+json`) carrying a DSSE
//! envelope and, as verification material, the hint of the public key that signed it (base64 of the
//! SHA-256 of its SPKI DER): what `cosign verify-blob-attestation --bundle` and OCI referrers expect.
//! No transparency log entry: vouch signs offline with a key. A keyless signature's bundle carries
//! the material its signer got instead ([`KeylessProof`]: the Fulcio certificate, the Rekor entry).

use super::keys::PublicKey;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What proves a keyless signature: the verification material of its Sigstore bundle (the signing
/// certificate, the transparency-log entry, any timestamps), and the same material as cosign puts
/// it in the annotations of an `.att` layer (certificate, chain, Rekor bundle).
#[derive(Debug, Clone)]
pub struct KeylessProof {
    pub verification_material: Value,
    pub cosign_annotations: BTreeMap<String, String>,
}

/// The bundle carrying `envelope` signed keylessly, with its `proof`.
pub fn keyless_bundle<'a, E: Serialize + 'a>(
    envelope: E,
    proof: &'a KeylessProof,
) -> impl Serialize + 'a {
    #[derive(Serialize)]
    struct Bundle<'a, E> {
        #[serde(rename = "mediaType")]
        media_type: &'static str,
        #[serde(rename = "verificationMaterial")]
        verification_material: &'a Value,
        #[serde(rename = "dsseEnvelope")]
        dsse_envelope: E,
    }
    Bundle {
        media_type: BUNDLE_MEDIA_TYPE,
        verification_material: &proof.verification_material,
        dsse_envelope: envelope,
    }
}

pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// The bundle carrying `envelope` (an [`super::dsse::Envelope`], or a written
/// [`super::dsse::Signed::envelope`]) signed by `key`.
pub fn bundle<E: Serialize>(envelope: E, key: &PublicKey) -> impl Serialize {
    #[derive(Serialize)]
    struct Bundle<E> {
        #[serde(rename = "mediaType")]
        media_type: &'static str,
        #[serde(rename = "verificationMaterial")]
        verification_material: Value,
        #[serde(rename = "dsseEnvelope")]
        dsse_envelope: E,
    }
    Bundle {
        media_type: BUNDLE_MEDIA_TYPE,
        verification_material: json!({"publicKey": {"hint": key.hint()}}),
        dsse_envelope: envelope,
    }
}
