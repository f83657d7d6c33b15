//! Sigstore bundles v0.3 (`application/vnd.dev.sigstore.bundle.v0.3+json`) carrying a DSSE
//! envelope and, as verification material, the hint of the public key that signed it (base64 of the
//! SHA-256 of its SPKI DER): what `cosign verify-blob-attestation --bundle` and OCI referrers expect.
//! No transparency log entry: vouch signs offline with a key.

use super::dsse::Envelope;
use super::keys::PublicKey;
use serde_json::{json, Value};

pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

pub fn bundle(envelope: &Envelope, key: &PublicKey) -> Value {
    json!({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": key.hint()}},
        "dsseEnvelope": envelope,
    })
}
