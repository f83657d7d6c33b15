//! Signing statements keylessly (`attest --keyless`), as `cosign attest` does in CI: for each
//! statement a fresh key is certified by Fulcio for the identity an OIDC token names, the DSSE
//! signature is recorded in Rekor (a `dsse` entry), and the statement leaves with its proof: the
//! Sigstore bundle's verification material (certificate, log entry with its inclusion proof and
//! signed entry timestamp) and the same as cosign's `.att` annotations. The Sigstore project's Rust
//! signer (`sigstore-sign`) talks to the services; this module bounds the token, runs it, and reads
//! the proof out of what it returns, checking that the envelope signed is the statement given.

use super::cosign::{CERTIFICATE_ANNOTATION, REKOR_BUNDLE_ANNOTATION};
use crate::attest::bundle::KeylessProof;
use crate::attest::dsse::{self, IN_TOTO_PAYLOAD_TYPE};
use crate::attest::keys::PublicKey;
use crate::attest::{SignError, StatementSigner};
use base64::Engine;
use serde_json::{json, Value};
use sha2::Digest;
use std::collections::BTreeMap;

/// The public-good instance's services.
pub const DEFAULT_FULCIO_URL: &str = "https://fulcio.sigstore.dev";
pub const DEFAULT_REKOR_URL: &str = "https://rekor.sigstore.dev";

/// The largest identity token taken (an OIDC JWT is a few kilobytes).
const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// A keyless signer: the identity token and the services, and the runtime the signer's requests
/// run on.
pub struct KeylessSigner {
    signer: sigstore_sign::Signer,
    runtime: tokio::runtime::Runtime,
}

impl KeylessSigner {
    /// A signer for the OIDC `token` (a JWT, read but not checked here: Fulcio checks it), else
    /// the CI's ambient one (GitHub Actions with `id-token: write`, GitLab's, Buildkite's ...),
    /// against Fulcio at `fulcio_url` and Rekor (v1 API) at `rekor_url`.
    pub fn new(
        token: Option<&str>,
        fulcio_url: &str,
        rekor_url: &str,
    ) -> Result<KeylessSigner, SignError> {
        let client = super::trust::http_client().map_err(|e| SignError::Keyless(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SignError::Keyless(format!("a runtime: {e}")))?;
        let token = match token.map(str::trim) {
            Some(token) if token.len() > MAX_TOKEN_BYTES => {
                return Err(SignError::Keyless(format!(
                    "the identity token is {} bytes (at most {MAX_TOKEN_BYTES})",
                    token.len()
                )))
            }
            Some(token) => sigstore_sign::oidc::IdentityToken::from_jwt(token)
                .map_err(|e| SignError::Keyless(format!("the identity token: {e}")))?,
            None => runtime
                .block_on(sigstore_sign::oidc::IdentityToken::detect_ambient())
                .map_err(|e| SignError::Keyless(e.to_string()))?
                .ok_or_else(|| {
                    SignError::Keyless(
                        "no identity token: give --identity-token TOKEN (or @FILE) or SIGSTORE_ID_TOKEN; none was found in the CI's environment either".into(),
                    )
                })?,
        };
        let context = sigstore_sign::SigningContext::new(sigstore_sign::SigningServices::new(
            fulcio_url, rekor_url,
        ))
        .with_http_client(client);
        Ok(KeylessSigner {
            signer: context.signer(token),
            runtime,
        })
    }
}

impl StatementSigner for KeylessSigner {
    fn sign_statement(&self, payload: Vec<u8>) -> Result<dsse::Signed, SignError> {
        let bundle = self
            .runtime
            .block_on(self.signer.sign_raw_statement(&payload))
            .map_err(|e| SignError::Keyless(e.to_string()))?;
        let document = serde_json::to_value(&bundle)
            .map_err(|e| SignError::Keyless(format!("the bundle: {e}")))?;
        let signature = signed_over(&document, &payload)?;
        let verification_material = document["verificationMaterial"].clone();
        let cosign_annotations = cosign_annotations(&verification_material)?;
        let signed = dsse::Signed {
            payload_type: IN_TOTO_PAYLOAD_TYPE,
            payload,
            signature,
            keyless: Some(KeylessProof {
                verification_material,
                cosign_annotations,
            }),
        };
        logged_as_attached(&document["verificationMaterial"], &signed.envelope_json())?;
        Ok(signed)
    }

    fn public_key(&self) -> Option<&PublicKey> {
        None
    }
}

/// The signature of the bundle's envelope, once the envelope is seen to carry `payload` as an
/// in-toto statement with one signature.
fn signed_over(bundle: &Value, payload: &[u8]) -> Result<Vec<u8>, SignError> {
    let engine = base64::engine::general_purpose::STANDARD;
    let envelope = &bundle["dsseEnvelope"];
    let carried = envelope["payload"]
        .as_str()
        .and_then(|p| engine.decode(p).ok());
    if envelope["payloadType"] != IN_TOTO_PAYLOAD_TYPE || carried.as_deref() != Some(payload) {
        return Err(SignError::Keyless(
            "the signer's bundle does not carry the statement given".into(),
        ));
    }
    match envelope["signatures"].as_array().map(Vec::as_slice) {
        Some([signature]) => signature["sig"]
            .as_str()
            .and_then(|s| engine.decode(s).ok())
            .ok_or_else(|| SignError::Keyless("the bundle's signature is not base64".into())),
        _ => Err(SignError::Keyless(
            "the bundle's envelope does not carry exactly one signature".into(),
        )),
    }
}

/// Checks that the log's `dsse` entry records the envelope vouch attaches (`envelope`, compact
/// JSON): cosign compares the entry's envelope hash with the `.att` layer's bytes, so an envelope
/// serialized otherwise than the signer submitted it would be refused there.
fn logged_as_attached(material: &Value, envelope: &[u8]) -> Result<(), SignError> {
    let engine = base64::engine::general_purpose::STANDARD;
    let body: Value = material["tlogEntries"][0]["canonicalizedBody"]
        .as_str()
        .and_then(|b| engine.decode(b).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| SignError::Keyless("the log entry's body is unreadable".into()))?;
    if body["kind"] != "dsse" {
        return Ok(());
    }
    let logged = body["spec"]["envelopeHash"]["value"].as_str().unwrap_or("");
    let attached = hex::encode(sha2::Sha256::digest(envelope));
    if logged != attached {
        return Err(SignError::Keyless(format!(
            "the log recorded an envelope of sha256 {logged}, not the one attached (sha256 {attached})"
        )));
    }
    Ok(())
}

/// cosign's `.att` annotations of a keyless signature: the certificate (PEM) and the Rekor entry as
/// cosign's bundle (`SignedEntryTimestamp`, `Payload`: body, integrated time, log index, log ID in
/// hex). No chain annotation: the signer keeps only the leaf, and verifiers take the chain from
/// their trusted root (cosign's too, when the annotation is absent).
fn cosign_annotations(material: &Value) -> Result<BTreeMap<String, String>, SignError> {
    let engine = base64::engine::general_purpose::STANDARD;
    let missing = |what: &str| SignError::Keyless(format!("the signer's bundle has no {what}"));
    let certificate = material["certificate"]["rawBytes"]
        .as_str()
        .and_then(|c| engine.decode(c).ok())
        .ok_or_else(|| missing("certificate"))?;
    let entry = &material["tlogEntries"][0];
    let log_id = entry["logId"]["keyId"]
        .as_str()
        .and_then(|k| engine.decode(k).ok())
        .ok_or_else(|| missing("log ID"))?;
    let number = |field: &str| {
        entry[field]
            .as_str()
            .and_then(|n| n.parse::<i64>().ok())
            .ok_or_else(|| missing(field))
    };
    let rekor_bundle = json!({
        "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"]
            .as_str()
            .ok_or_else(|| missing("signed entry timestamp"))?,
        "Payload": {
            "body": entry["canonicalizedBody"].as_str().ok_or_else(|| missing("log entry body"))?,
            "integratedTime": number("integratedTime")?,
            "logIndex": number("logIndex")?,
            "logID": hex::encode(log_id),
        },
    });
    let pem = pem::encode(&pem::Pem::new("CERTIFICATE", certificate));
    Ok(BTreeMap::from([
        (CERTIFICATE_ANNOTATION.to_string(), pem),
        (
            REKOR_BUNDLE_ANNOTATION.to_string(),
            rekor_bundle.to_string(),
        ),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_over_another_statement_is_refused() {
        let engine = base64::engine::general_purpose::STANDARD;
        let bundle = json!({"dsseEnvelope": {
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "payload": engine.encode(b"{\"other\":1}"),
            "signatures": [{"sig": engine.encode(b"sig")}],
        }});
        assert!(signed_over(&bundle, b"{\"other\":1}").is_ok());
        let error = signed_over(&bundle, b"{\"mine\":1}").unwrap_err();
        assert!(
            error.to_string().contains("does not carry the statement"),
            "{error}"
        );
    }

    /// `{"apiVersion":"0.0.1","kind":"dsse","spec":{}}`
    const BODY: &str = "eyJhcGlWZXJzaW9uIjoiMC4wLjEiLCJraW5kIjoiZHNzZSIsInNwZWMiOnt9fQ==";

    #[test]
    fn the_log_entry_becomes_cosigns_bundle_annotation() {
        let material = json!({
            "certificate": {"rawBytes": "AQID"},
            "tlogEntries": [{
                "logIndex": "7", "logId": {"keyId": "Cgs="}, "integratedTime": "1700000000",
                "inclusionPromise": {"signedEntryTimestamp": "c2V0"}, "canonicalizedBody": BODY,
            }],
        });
        let annotations = cosign_annotations(&material).unwrap();
        assert!(annotations[CERTIFICATE_ANNOTATION].starts_with("-----BEGIN CERTIFICATE-----"));
        let rekor: Value = serde_json::from_str(&annotations[REKOR_BUNDLE_ANNOTATION]).unwrap();
        assert_eq!(
            rekor,
            json!({"SignedEntryTimestamp": "c2V0", "Payload": {
                "body": BODY, "integratedTime": 1700000000, "logIndex": 7, "logID": "0a0b"}})
        );
        // And back: what vouch reads from a layer is the entry it came from.
        let read = super::super::cosign::verification_material(&annotations)
            .unwrap()
            .unwrap()
            .material;
        assert_eq!(read["tlogEntries"][0]["logId"]["keyId"], "Cgs=");
        assert_eq!(read["tlogEntries"][0]["integratedTime"], "1700000000");
    }
}
