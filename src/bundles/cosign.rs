//! cosign's keyless verification material, as `cosign attest` writes it beside each statement layer
//! of a `sha256-<hex>.att` manifest, read into the verification material of a Sigstore bundle
//! (media type v0.1, the one that carries a log entry with only its signed entry timestamp) so
//! that the same verifier checks it as any bundle:
//!
//! - `dev.sigstore.cosign/certificate`: the signing certificate (PEM);
//! - `dev.sigstore.cosign/chain`: its chain (PEM), not used: the chain is built from the trusted
//!   root's certificate authorities alone, so a chain an attacker attaches adds no trust;
//! - `dev.sigstore.cosign/bundle`: the Rekor entry (`SignedEntryTimestamp`, and `Payload` with
//!   `body`, `integratedTime`, `logIndex`, `logID`);
//! - `dev.sigstore.cosign/rfc3161timestamp`: an RFC 3161 timestamp (`SignedRFC3161Timestamp`).

use crate::attest::set::KeylessMaterial;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
pub const REKOR_BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
pub const TIMESTAMP_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";

/// The bundle media type the material is read as.
pub const BUNDLE_V01_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";

/// The verification material a layer's annotations carry (read as a bundle of media type v0.1),
/// or `None` when the layer has no certificate (a key-signed statement). An annotation that is
/// there but unreadable is an error: the statement is then not verified keylessly, and says why.
pub fn verification_material(
    annotations: &BTreeMap<String, String>,
) -> Option<Result<KeylessMaterial, String>> {
    let certificate = annotations.get(CERTIFICATE_ANNOTATION)?;
    Some(
        material(
            certificate,
            annotations.get(REKOR_BUNDLE_ANNOTATION),
            annotations.get(TIMESTAMP_ANNOTATION),
        )
        .map(|material| KeylessMaterial {
            media_type: BUNDLE_V01_MEDIA_TYPE.to_string(),
            material,
        }),
    )
}

fn material(
    certificate: &str,
    rekor: Option<&String>,
    timestamp: Option<&String>,
) -> Result<Value, String> {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let leaf = pem::parse_many(certificate.as_bytes())
        .map_err(|e| format!("{CERTIFICATE_ANNOTATION}: not PEM ({e})"))?
        .into_iter()
        .find(|block| block.tag() == "CERTIFICATE")
        .ok_or_else(|| format!("{CERTIFICATE_ANNOTATION}: no certificate in it"))?;
    let mut material = json!({
        "x509CertificateChain": {"certificates": [{"rawBytes": b64(leaf.contents())}]},
        "tlogEntries": [],
    });
    if let Some(rekor) = rekor {
        material["tlogEntries"] = json!([log_entry(rekor)?]);
    }
    if let Some(timestamp) = timestamp {
        #[derive(serde::Deserialize)]
        struct Timestamp {
            #[serde(rename = "SignedRFC3161Timestamp")]
            signed: String,
        }
        let parsed: Timestamp =
            serde_json::from_str(timestamp).map_err(|e| format!("{TIMESTAMP_ANNOTATION}: {e}"))?;
        material["timestampVerificationData"] =
            json!({"rfc3161Timestamps": [{"signedTimestamp": parsed.signed}]});
    }
    Ok(material)
}

/// cosign's Rekor bundle as a bundle's transparency-log entry: the body's kind and version are
/// the body's own (a verifier checks the body against the envelope whatever it claims).
fn log_entry(rekor: &str) -> Result<Value, String> {
    #[derive(serde::Deserialize)]
    struct RekorBundle {
        #[serde(rename = "SignedEntryTimestamp")]
        signed_entry_timestamp: String,
        #[serde(rename = "Payload")]
        payload: Payload,
    }
    #[derive(serde::Deserialize)]
    struct Payload {
        body: String,
        #[serde(rename = "integratedTime")]
        integrated_time: i64,
        #[serde(rename = "logIndex")]
        log_index: i64,
        #[serde(rename = "logID")]
        log_id: String,
    }
    #[derive(serde::Deserialize)]
    struct Body {
        kind: String,
        #[serde(rename = "apiVersion")]
        api_version: String,
    }
    let what = REKOR_BUNDLE_ANNOTATION;
    let parsed: RekorBundle =
        serde_json::from_str(rekor).map_err(|e| format!("{what}: not a Rekor bundle ({e})"))?;
    let engine = base64::engine::general_purpose::STANDARD;
    let body = engine
        .decode(&parsed.payload.body)
        .map_err(|e| format!("{what}: the body is not base64 ({e})"))?;
    let kind: Body = serde_json::from_slice(&body)
        .map_err(|e| format!("{what}: the body is not a Rekor entry ({e})"))?;
    let log_id = hex::decode(&parsed.payload.log_id)
        .map_err(|e| format!("{what}: logID is not hex ({e})"))?;
    Ok(json!({
        "logIndex": parsed.payload.log_index.to_string(),
        "logId": {"keyId": engine.encode(log_id)},
        "kindVersion": {"kind": kind.kind, "version": kind.api_version},
        "integratedTime": parsed.payload.integrated_time.to_string(),
        "inclusionPromise": {"signedEntryTimestamp": parsed.signed_entry_timestamp},
        "canonicalizedBody": parsed.payload.body,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";

    #[test]
    fn a_layer_without_a_certificate_is_key_signed() {
        assert!(
            verification_material(&annotations(&[("dev.cosignproject.cosign/signature", "")]))
                .is_none()
        );
    }

    #[test]
    fn cosign_annotations_become_a_log_entry() {
        let body = base64::engine::general_purpose::STANDARD
            .encode(br#"{"apiVersion":"0.0.1","kind":"dsse","spec":{}}"#);
        let rekor = format!(
            r#"{{"SignedEntryTimestamp":"c2V0","Payload":{{"body":"{body}","integratedTime":1700000000,"logIndex":7,"logID":"0a0b"}}}}"#
        );
        let material = verification_material(&annotations(&[
            (CERTIFICATE_ANNOTATION, CERT),
            (CHAIN_ANNOTATION, CERT),
            (REKOR_BUNDLE_ANNOTATION, &rekor),
        ]))
        .unwrap()
        .unwrap()
        .material;
        assert_eq!(
            material["x509CertificateChain"]["certificates"][0]["rawBytes"],
            "AQID"
        );
        let entry = &material["tlogEntries"][0];
        assert_eq!(
            entry["kindVersion"],
            json!({"kind": "dsse", "version": "0.0.1"})
        );
        assert_eq!(entry["logId"]["keyId"], "Cgs=");
        assert_eq!(entry["integratedTime"], "1700000000");
        assert_eq!(entry["logIndex"], "7");
        assert_eq!(entry["canonicalizedBody"], body.as_str());
    }

    #[test]
    fn unreadable_annotations_say_which() {
        for (pairs, expected) in [
            (vec![(CERTIFICATE_ANNOTATION, "not pem")], "no certificate"),
            (
                vec![
                    (CERTIFICATE_ANNOTATION, CERT),
                    (REKOR_BUNDLE_ANNOTATION, "{}"),
                ],
                "not a Rekor bundle",
            ),
            (
                vec![
                    (CERTIFICATE_ANNOTATION, CERT),
                    (
                        REKOR_BUNDLE_ANNOTATION,
                        r#"{"SignedEntryTimestamp":"","Payload":{"body":"e30=","integratedTime":1,"logIndex":1,"logID":"00"}}"#,
                    ),
                ],
                "not a Rekor entry",
            ),
        ] {
            let error = verification_material(&annotations(&pairs))
                .unwrap()
                .unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }
}
