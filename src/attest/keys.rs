//! Signing keys in cosign's formats: an ECDSA P-256 private key as PKCS#8, encrypted with scrypt and
//! NaCl secretbox inside an `ENCRYPTED SIGSTORE PRIVATE KEY` (or `ENCRYPTED COSIGN PRIVATE KEY`) PEM
//! block, and the public key as an SPKI `PUBLIC KEY` PEM block. Key generation, encryption and
//! signing go through the `sigstore` crate; decryption is done here with the same primitives
//! (`scrypt`, `crypto_secretbox`) because sigstore's reader refuses scrypt's N = 2^17, which some key
//! files use (cosign reads N up to 2^17 too). Passwords come from `VOUCH_PASSWORD`, else
//! `COSIGN_PASSWORD`, else a prompt on the terminal.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use crypto_secretbox::aead::{Aead, KeyInit};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sigstore::crypto::signing_key::ecdsa::ec::EcdsaKeys;
use sigstore::crypto::signing_key::ecdsa::ECDSAKeys;
use sigstore::crypto::signing_key::{KeyPair, SigStoreKeyPair, SigStoreSigner};
use sigstore::crypto::{CosignVerificationKey, Signature, SigningScheme};
use std::path::Path;
use zeroize::Zeroizing;

const SIGSTORE_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
const COSIGN_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
const PUBLIC_LABEL: &str = "PUBLIC KEY";
/// scrypt cost parameters (log2 N) a key file may use: cosign writes 2^15, older tools 2^16, and
/// 2^17 is the most cosign reads. Anything else is refused before any work is done (a hostile file
/// could ask for hours of scrypt).
const SCRYPT_LOG_N: [u8; 3] = [15, 16, 17];
/// Largest key file read.
const MAX_KEY_FILE: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: cannot read the key: {detail}")]
    Unreadable { path: String, detail: String },
    #[error("{path}: {detail}")]
    Invalid { path: String, detail: String },
    #[error("{path}: wrong password (or the key file is damaged)")]
    WrongPassword { path: String },
    #[error(
        "no password: set VOUCH_PASSWORD (or COSIGN_PASSWORD), or run on a terminal to be asked"
    )]
    NoPassword,
    #[error("cannot make a key: {0}")]
    Generate(String),
}

/// A loaded private key, ready to sign.
pub struct PrivateKey {
    signer: SigStoreSigner,
    public: PublicKey,
}

/// A public key, for verification and as the `keyid`/hint of signatures.
#[derive(Debug, Clone)]
pub struct PublicKey {
    key: CosignVerificationKey,
    /// The SPKI DER bytes.
    der: Vec<u8>,
    /// Where it came from, for messages.
    pub origin: String,
}

impl PublicKey {
    /// Reads an SPKI `PUBLIC KEY` PEM file (cosign.pub).
    pub fn load(path: &Path) -> Result<PublicKey, KeyError> {
        let shown = path.display().to_string();
        let bytes = read_key_file(path)?;
        PublicKey::from_pem(&bytes, &shown)
    }

    pub fn from_pem(bytes: &[u8], origin: &str) -> Result<PublicKey, KeyError> {
        let invalid = |detail: String| KeyError::Invalid {
            path: origin.to_string(),
            detail,
        };
        let block = pem::parse(bytes).map_err(|e| invalid(format!("not a PEM file ({e})")))?;
        if block.tag() != PUBLIC_LABEL {
            return Err(invalid(format!(
                "a `{}` PEM block, where a `{PUBLIC_LABEL}` was expected",
                block.tag()
            )));
        }
        PublicKey::from_der(block.contents().to_vec(), origin)
    }

    /// An SPKI DER public key.
    fn from_der(der: Vec<u8>, origin: &str) -> Result<PublicKey, KeyError> {
        let key = CosignVerificationKey::from_der(&der, &SigningScheme::ECDSA_P256_SHA256_ASN1)
            .map_err(|e| KeyError::Invalid {
                path: origin.to_string(),
                detail: format!("not an ECDSA P-256 public key ({e})"),
            })?;
        Ok(PublicKey {
            key,
            der,
            origin: origin.to_string(),
        })
    }

    /// The key id cosign and Sigstore bundles use as a hint: base64 of the SPKI DER's SHA-256.
    pub fn hint(&self) -> String {
        BASE64.encode(Sha256::digest(&self.der))
    }

    /// Whether `signature` (ASN.1 DER ECDSA) is this key's over `message`.
    pub fn verifies(&self, signature: &[u8], message: &[u8]) -> bool {
        self.key
            .verify_signature(Signature::Raw(signature), message)
            .is_ok()
    }
}

impl PrivateKey {
    /// Reads an encrypted cosign private key with `password`.
    pub fn load(path: &Path, password: &[u8]) -> Result<PrivateKey, KeyError> {
        let shown = path.display().to_string();
        let bytes = read_key_file(path)?;
        PrivateKey::from_encrypted_pem(&bytes, password, &shown)
    }

    pub fn from_encrypted_pem(
        bytes: &[u8],
        password: &[u8],
        origin: &str,
    ) -> Result<PrivateKey, KeyError> {
        let invalid = |detail: String| KeyError::Invalid {
            path: origin.to_string(),
            detail,
        };
        let block = pem::parse(bytes).map_err(|e| invalid(format!("not a PEM file ({e})")))?;
        if block.tag() != SIGSTORE_LABEL && block.tag() != COSIGN_LABEL {
            return Err(invalid(format!(
                "a `{}` PEM block, where an encrypted cosign key (`{SIGSTORE_LABEL}`) was expected",
                block.tag()
            )));
        }
        let der = decrypt(block.contents(), password, origin)?;
        let keys = EcdsaKeys::<p256::NistP256>::from_der(&der)
            .map_err(|e| invalid(format!("not an ECDSA P-256 key ({e})")))?;
        PrivateKey::from_keys(keys, origin)
    }

    fn from_keys(keys: EcdsaKeys<p256::NistP256>, origin: &str) -> Result<PrivateKey, KeyError> {
        let invalid = |detail: String| KeyError::Invalid {
            path: origin.to_string(),
            detail,
        };
        let public_der = keys
            .public_key_to_der()
            .map_err(|e| invalid(e.to_string()))?;
        let pair = SigStoreKeyPair::ECDSA(ECDSAKeys::P256(keys));
        let signer = pair
            .to_sigstore_signer(&SigningScheme::ECDSA_P256_SHA256_ASN1)
            .map_err(|e| invalid(e.to_string()))?;
        let public = PublicKey::from_der(public_der, origin)?;
        Ok(PrivateKey { signer, public })
    }

    /// ECDSA P-256 SHA-256 signature (ASN.1 DER) over `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.signer.sign(message).map_err(|e| KeyError::Invalid {
            path: self.public.origin.clone(),
            detail: format!("signing failed: {e}"),
        })
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }
}

/// A new key pair: the encrypted private key PEM (scrypt N = 2^15, as cosign writes) and the public
/// key PEM.
pub fn generate(password: &[u8]) -> Result<(Zeroizing<String>, String), KeyError> {
    let keys = EcdsaKeys::<p256::NistP256>::new().map_err(|e| KeyError::Generate(e.to_string()))?;
    let private = keys
        .private_key_to_encrypted_pem(password)
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let public = keys
        .public_key_to_pem()
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    Ok((private, public))
}

fn read_key_file(path: &Path) -> Result<Vec<u8>, KeyError> {
    crate::fsio::read_limited(path, MAX_KEY_FILE).map_err(|detail| KeyError::Unreadable {
        path: path.display().to_string(),
        detail,
    })
}

#[derive(Deserialize)]
struct Encrypted {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// The PKCS#8 DER inside an encrypted key block (its contents: cosign's JSON envelope).
fn decrypt(contents: &[u8], password: &[u8], origin: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let invalid = |detail: String| KeyError::Invalid {
        path: origin.to_string(),
        detail,
    };
    let envelope: Encrypted = serde_json::from_slice(contents)
        .map_err(|e| invalid(format!("not a cosign encrypted key ({e})")))?;
    if envelope.kdf.name != "scrypt" || envelope.cipher.name != "nacl/secretbox" {
        return Err(invalid(format!(
            "encrypted with {} and {}, where cosign uses scrypt and nacl/secretbox",
            envelope.kdf.name, envelope.cipher.name
        )));
    }
    let KdfParams { n, r, p } = envelope.kdf.params;
    let log_n = SCRYPT_LOG_N
        .into_iter()
        .find(|l| 1u64 << l == n)
        .filter(|_| r == 8 && p == 1)
        .ok_or_else(|| {
            invalid(format!(
                "scrypt parameters N={n} r={r} p={p}: cosign keys use N = 2^15, 2^16 or 2^17 with r=8, p=1"
            ))
        })?;
    let decode = |what: &str, text: &str| {
        BASE64
            .decode(text)
            .map_err(|e| invalid(format!("its {what} is not base64 ({e})")))
    };
    let salt = decode("salt", &envelope.kdf.salt)?;
    let nonce = decode("nonce", &envelope.cipher.nonce)?;
    let ciphertext = decode("ciphertext", &envelope.ciphertext)?;
    if nonce.len() != 24 {
        return Err(invalid(format!(
            "a {}-byte nonce, where secretbox uses 24",
            nonce.len()
        )));
    }
    let params = scrypt::Params::new(log_n, r, p, 32).map_err(|e| invalid(e.to_string()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, &salt, &params, key.as_mut()).map_err(|e| invalid(e.to_string()))?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(key.as_ref().into());
    cipher
        .decrypt(nonce.as_slice().into(), ciphertext.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| KeyError::WrongPassword {
            path: origin.to_string(),
        })
}

/// The key password: `VOUCH_PASSWORD`, else `COSIGN_PASSWORD` (either may be empty), else asked on
/// the terminal (`confirm` asks twice, for a new key).
pub fn password(prompt: &str, confirm: bool) -> Result<Zeroizing<String>, KeyError> {
    for name in ["VOUCH_PASSWORD", "COSIGN_PASSWORD"] {
        if let Ok(value) = std::env::var(name) {
            return Ok(Zeroizing::new(value));
        }
    }
    let ask = |text: &str| {
        rpassword::prompt_password(text)
            .map(Zeroizing::new)
            .map_err(|_| KeyError::NoPassword)
    };
    let first = ask(prompt)?;
    if confirm {
        let again = ask("Enter password for private key again: ")?;
        if *first != *again {
            return Err(KeyError::Generate("the two passwords differ".into()));
        }
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_load_sign_and_verify() {
        let (private, public) = generate(b"s3cret").unwrap();
        assert!(private.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
        let key = PrivateKey::from_encrypted_pem(private.as_bytes(), b"s3cret", "k").unwrap();
        let public = PublicKey::from_pem(public.as_bytes(), "p").unwrap();
        assert_eq!(key.public().hint(), public.hint());
        let signature = key.sign(b"message").unwrap();
        assert!(public.verifies(&signature, b"message"));
        assert!(!public.verifies(&signature, b"messagf"));
        assert!(matches!(
            PrivateKey::from_encrypted_pem(private.as_bytes(), b"wrong", "k"),
            Err(KeyError::WrongPassword { .. })
        ));
    }

    #[test]
    fn hostile_or_foreign_key_files_are_refused() {
        let (private, public) = generate(b"").unwrap();
        // The public key where the private one is expected, and the other way round.
        let err = PrivateKey::from_encrypted_pem(public.as_bytes(), b"", "k")
            .err()
            .unwrap();
        assert!(err.to_string().contains("`PUBLIC KEY`"), "{err}");
        assert!(PublicKey::from_pem(private.as_bytes(), "p").is_err());
        // scrypt N = 2^20 would take seconds and a gigabyte: refused before any work.
        let block = pem::parse(private.as_bytes()).unwrap();
        let mut envelope: serde_json::Value = serde_json::from_slice(block.contents()).unwrap();
        envelope["kdf"]["params"]["N"] = serde_json::json!(1u64 << 20);
        let hostile = pem::encode(&pem::Pem::new(
            SIGSTORE_LABEL,
            serde_json::to_vec(&envelope).unwrap(),
        ));
        let err = PrivateKey::from_encrypted_pem(hostile.as_bytes(), b"", "k")
            .err()
            .unwrap();
        assert!(err.to_string().contains("N=1048576"), "{err}");
        assert!(PrivateKey::from_encrypted_pem(b"garbage", b"", "k").is_err());
    }
}
