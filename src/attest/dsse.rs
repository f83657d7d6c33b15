//! DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1): the payload and its
//! type, signed over the pre-authentication encoding
//! `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal. Payload and
//! signatures are standard base64, as cosign and the in-toto tools write them.

use super::keys::{KeyError, PrivateKey, PublicKey};
use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use serde::{Deserialize, Serialize};

/// The payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Base64 of the payload bytes.
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// Base64 of the signature bytes (ASN.1 DER ECDSA).
    pub sig: String,
}

/// The most signatures one envelope may carry (cosign writes one; a few keys or co-signers more).
pub const MAX_SIGNATURES: usize = 16;

/// The pre-authentication encoding of a payload.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A payload and its signature, to be written as an envelope ([`Signed::envelope`]) without its
/// base64 form ever held whole: an SBOM statement runs to tens of megabytes.
#[derive(Debug, Clone)]
pub struct Signed {
    pub payload_type: &'static str,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    /// For a keyless signature: the certificate and transparency-log entry that prove it.
    pub keyless: Option<super::bundle::KeylessProof>,
}

impl Signed {
    /// Signs `payload` as `payload_type`.
    pub fn new(
        payload_type: &'static str,
        payload: Vec<u8>,
        key: &PrivateKey,
    ) -> Result<Self, KeyError> {
        let signature = key.sign(&pae(payload_type, &payload))?;
        Ok(Signed {
            payload_type,
            payload,
            signature,
            keyless: None,
        })
    }

    /// The envelope, as a value that serializes to the same JSON as [`Envelope`] does, encoding
    /// the payload as it is written.
    pub fn envelope(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Written<'a> {
            #[serde(rename = "payloadType")]
            payload_type: &'a str,
            payload: Base64<'a>,
            signatures: [EnvelopeSignature; 1],
        }
        Written {
            payload_type: self.payload_type,
            payload: Base64(&self.payload),
            signatures: [EnvelopeSignature {
                keyid: String::new(),
                sig: BASE64.encode(&self.signature),
            }],
        }
    }

    /// The envelope as compact JSON: the bytes a keyless signer submitted to the transparency log
    /// (whose `dsse` entry records their SHA-256), and so the bytes of a cosign `.att` layer.
    pub fn envelope_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.envelope()).unwrap_or_default()
    }
}

/// Bytes serialized as their standard base64 string, encoded a few kilobytes at a time as the
/// serializer writes them.
struct Base64<'a>(&'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl std::fmt::Display for Base64<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Whole 3-byte groups encode without padding, so the pieces join into one encoding.
        let mut buffer = String::with_capacity(4 * 1024);
        for chunk in self.0.chunks(3 * 1024) {
            buffer.clear();
            BASE64.encode_string(chunk, &mut buffer);
            f.write_str(&buffer)?;
        }
        Ok(())
    }
}

/// Why an envelope did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the envelope has no signatures")]
    NoSignatures,
    #[error("the payload is not base64 ({0})")]
    PayloadEncoding(String),
    #[error("no signature verifies with the given key(s) ({0})")]
    NoValidSignature(String),
    #[error("the envelope carries {0} signatures (at most {MAX_SIGNATURES} are checked): refused")]
    TooManySignatures(usize),
}

impl Envelope {
    /// The decoded payload.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, EnvelopeError> {
        BASE64
            .decode(&self.payload)
            .map_err(|e| EnvelopeError::PayloadEncoding(e.to_string()))
    }

    /// The payload, when one of the signatures verifies over its PAE with one of `keys`; returns the
    /// payload and the key that verified.
    pub fn verify<'k>(
        &self,
        keys: &'k [PublicKey],
    ) -> Result<(Vec<u8>, &'k PublicKey), EnvelopeError> {
        if self.signatures.is_empty() {
            return Err(EnvelopeError::NoSignatures);
        }
        // Each signature costs a verification per key: an envelope carrying thousands is refused.
        if self.signatures.len() > MAX_SIGNATURES {
            return Err(EnvelopeError::TooManySignatures(self.signatures.len()));
        }
        let payload = self.payload_bytes()?;
        let message = pae(&self.payload_type, &payload);
        for signature in &self.signatures {
            let Ok(bytes) = BASE64.decode(&signature.sig) else {
                continue;
            };
            if let Some(key) = keys.iter().find(|k| k.verifies(&bytes, &message)) {
                return Ok((payload, key));
            }
        }
        let names: Vec<&str> = keys.iter().map(|k| k.origin.as_str()).collect();
        Err(EnvelopeError::NoValidSignature(names.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_spec_test_vector() {
        // From the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    /// The envelope written from a [`Signed`] is the [`Envelope`] of the same payload and
    /// signature, for payloads of every length modulo 3 and across the encoder's chunks.
    #[test]
    fn written_envelopes_are_envelopes() {
        let (private, public) = super::super::keys::generate(b"").unwrap();
        let key = PrivateKey::from_encrypted_pem(private.as_bytes(), b"", "k").unwrap();
        let public = [PublicKey::from_pem(public.as_bytes(), "cosign.pub").unwrap()];
        for length in [0, 1, 2, 3, 3071, 3072, 3073, 10_000, 100_001] {
            let payload: Vec<u8> = (0..length).map(|i| (i * 7 % 251) as u8).collect();
            let signed = Signed::new(IN_TOTO_PAYLOAD_TYPE, payload.clone(), &key).unwrap();
            let written = serde_json::to_vec_pretty(&signed.envelope()).unwrap();
            let envelope: Envelope = serde_json::from_slice(&written).unwrap();
            assert_eq!(envelope.payload, BASE64.encode(&payload), "{length}");
            assert_eq!(envelope.signatures[0].sig, BASE64.encode(&signed.signature));
            assert_eq!(envelope.verify(&public).unwrap().0, payload, "{length}");
        }
    }

    /// The envelope of `payload` as vouch writes it, read back.
    fn sign(
        payload_type: &'static str,
        payload: &[u8],
        key: &PrivateKey,
    ) -> Result<Envelope, KeyError> {
        let signed = Signed::new(payload_type, payload.to_vec(), key)?;
        let written = serde_json::to_vec(&signed.envelope()).unwrap();
        Ok(serde_json::from_slice(&written).unwrap())
    }

    #[test]
    fn signed_envelopes_verify_and_tampering_is_caught() {
        let (private, public) = super::super::keys::generate(b"").unwrap();
        let key = PrivateKey::from_encrypted_pem(private.as_bytes(), b"", "k").unwrap();
        let public = [PublicKey::from_pem(public.as_bytes(), "cosign.pub").unwrap()];
        let envelope = sign(IN_TOTO_PAYLOAD_TYPE, b"{\"a\":1}", &key).unwrap();
        assert_eq!(envelope.verify(&public).unwrap().0, b"{\"a\":1}");

        let mut changed = envelope.clone();
        changed.payload = BASE64.encode(b"{\"a\":2}");
        assert!(changed.verify(&public).is_err());
        let mut retyped = envelope.clone();
        retyped.payload_type = "text/plain".into();
        assert!(retyped.verify(&public).is_err(), "the type is signed too");
        let mut crowded = envelope.clone();
        crowded.signatures = vec![envelope.signatures[0].clone(); MAX_SIGNATURES + 1];
        assert_eq!(
            crowded.verify(&public).unwrap_err(),
            EnvelopeError::TooManySignatures(MAX_SIGNATURES + 1)
        );
        let mut unsigned = envelope.clone();
        unsigned.signatures.clear();
        assert_eq!(
            unsigned.verify(&public).unwrap_err(),
            EnvelopeError::NoSignatures
        );
        let (_, other) = super::super::keys::generate(b"").unwrap();
        let other = [PublicKey::from_pem(other.as_bytes(), "other.pub").unwrap()];
        assert!(matches!(
            envelope.verify(&other),
            Err(EnvelopeError::NoValidSignature(_))
        ));
    }
}
