//! Who may have signed a statement `verify` trusts: the holders of the given public keys (a DSSE
//! signature checked against each key), and keyless signers (a Fulcio certificate naming the given
//! identity and OIDC issuer, chaining to a certificate authority of the trusted root, with its
//! transparency-log entry, checked by [`crate::bundles::verify_statement`] on the material that came
//! with the statement). A statement is trusted when any of them signed it; when none did, every
//! refusal is said.

use crate::attest::keys::PublicKey;
use crate::attest::set::{KeylessMaterial, Signed};
use crate::attest::statement::Statement;
use crate::bundles::{self, Signer};
use sigstore_verify::trust_root::TrustedRoot;

/// The signers whose statements are accepted.
#[derive(Debug, Clone, Default)]
pub struct Signers {
    pub keys: Vec<PublicKey>,
    pub keyless: Option<Keyless>,
}

/// A keyless signer and the roots its certificates and log entries are checked against.
#[derive(Debug, Clone)]
pub struct Keyless {
    /// Always [`Signer::Identity`].
    pub signer: Signer,
    pub root: TrustedRoot,
}

impl Signers {
    /// Signers holding these keys only.
    pub fn keys(keys: Vec<PublicKey>) -> Signers {
        Signers {
            keys,
            keyless: None,
        }
    }

    /// The payload of `signed` and who signed it, when one of the signers did. `digests` are the
    /// image's: a keyless statement is verified as being about the first of them it names (else
    /// about the first digest it names, which the subject check then refuses).
    pub fn verify(&self, signed: &Signed, digests: &[String]) -> Result<(Vec<u8>, String), String> {
        let mut refusals = Vec::new();
        if !self.keys.is_empty() {
            match signed.envelope.verify(&self.keys) {
                Ok((payload, key)) => return Ok((payload, format!("signed by {}", key.origin))),
                Err(e) => refusals.push(e.to_string()),
            }
        }
        if let Some(keyless) = &self.keyless {
            let outcome = match &signed.keyless {
                None => Err("no signing certificate came with it (not signed keylessly)".into()),
                Some(Err(e)) => Err(format!("its keyless material is unreadable: {e}")),
                Some(Ok(material)) => keyless.verify(material, signed, digests),
            };
            match outcome {
                Ok(verified) => return Ok(verified),
                Err(e) => refusals.push(e),
            }
        }
        Err(refusals.join("; "))
    }
}

impl Keyless {
    fn verify(
        &self,
        material: &KeylessMaterial,
        signed: &Signed,
        digests: &[String],
    ) -> Result<(Vec<u8>, String), String> {
        let payload = signed.envelope.payload_bytes().map_err(|e| e.to_string())?;
        // Which subject to verify the bundle for is read from the payload before it is trusted:
        // the verifier then checks the signature over exactly these bytes, and vouch's own subject
        // check compares the subjects with the image's digests.
        let claimed: Statement<serde::de::IgnoredAny> = serde_json::from_slice(&payload)
            .map_err(|e| format!("the payload is not an in-toto statement ({e})"))?;
        let subject = digests
            .iter()
            .find(|d| claimed.names_digest(d))
            .cloned()
            .or_else(|| {
                claimed
                    .subject
                    .iter()
                    .find_map(|s| s.digest.get("sha256").map(|hex| format!("sha256:{hex}")))
            })
            .ok_or("the statement names no sha256 subject")?;
        let bundle =
            bundles::statement_bundle(&material.media_type, &material.material, &signed.envelope)
                .map_err(|e| e.to_string())?;
        let verified = bundles::verify_statement(&bundle, &subject, &self.signer, &self.root)
            .map_err(|e| format!("keyless: {e}"))?;
        let logged = verified.when();
        Ok((
            payload,
            format!(
                "signed keylessly by {} ({}){logged}",
                verified.identity.as_deref().unwrap_or("?"),
                verified.issuer.as_deref().unwrap_or("?")
            ),
        ))
    }
}
