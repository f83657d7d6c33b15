//! Private keys in image files, for the policy's `private_keys` check: a key is reported only when
//! it is one. A PEM block counts when its body decodes and parses as a key of the kind its label
//! names (PKCS#1 RSA, PKCS#8 plain and encrypted, SEC1 EC, OpenSSL's DSA, OpenSSH's
//! `openssh-key-v1`, cosign's encrypted keys), and a PuTTY `.ppk` file when its public and private
//! parts decode and name the same algorithm. Source code that holds a PEM marker as a string (Python's
//! `cryptography`, paramiko, Go's `crypto/x509`) is not a key: its "block" has no body, or one that
//! does not parse.
//!
//! Each key is described by kind, format and whether it is encrypted (`RSA 2048-bit (PKCS#1),
//! unencrypted`), never by its contents.

use der::asn1::{ObjectIdentifier, UintRef};
use der::{Decode, Reader, SliceReader};

/// The most bytes of a file looked at: keys are small.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// The most keys described per file (a bundle of many is described by its first ones).
const MAX_KEYS: usize = 8;

/// Whether a file that begins with `head` may hold a key for [`describe`] to find: it has a PEM
/// marker, or it is a PuTTY key file.
pub fn may_hold_key(bytes: &[u8]) -> bool {
    bytes.starts_with(PPK_PREFIX) || memchr::memmem::find(bytes, BEGIN).is_some()
}

/// The private keys in `file` (its first [`MAX_FILE_BYTES`]), each described; empty when there
/// are none.
pub fn describe(file: &[u8]) -> Vec<String> {
    let file = &file[..file.len().min(MAX_FILE_BYTES)];
    if file.starts_with(PPK_PREFIX) {
        return ppk(file).into_iter().collect();
    }
    pem_blocks(file)
        .filter_map(|(label, block)| pem_key(label, block))
        .take(MAX_KEYS)
        .collect()
}

/// Where every PEM block starts.
pub(crate) const BEGIN: &[u8] = b"-----BEGIN ";
const DASHES: &[u8] = b"-----";

/// Each `-----BEGIN LABEL-----` ... `-----END LABEL-----` block whose label names a private key, as
/// (label, the whole block's text).
fn pem_blocks(file: &[u8]) -> impl Iterator<Item = (&str, &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || loop {
        let start = at + memchr::memmem::find(&file[at..], BEGIN)?;
        let label_start = start + BEGIN.len();
        at = label_start;
        let label_len = memchr::memmem::find(&file[label_start..], DASHES)?;
        let label = &file[label_start..label_start + label_len];
        if label.len() > 64 || !label.ends_with(b"PRIVATE KEY") || label.contains(&b'\n') {
            continue;
        }
        let Ok(label) = std::str::from_utf8(label) else {
            continue;
        };
        let end_marker = format!("-----END {label}-----");
        let body_start = label_start + label_len + DASHES.len();
        let Some(end) = memchr::memmem::find(&file[body_start..], end_marker.as_bytes()) else {
            continue;
        };
        let block_end = body_start + end + end_marker.len();
        at = block_end;
        return Some((label, &file[start..block_end]));
    })
}

/// The key a PEM block holds, described; `None` when its body is not the key its label names.
fn pem_key(label: &str, block: &[u8]) -> Option<String> {
    if label == "OPENSSH PRIVATE KEY" {
        return openssh(block);
    }
    let parsed = pem::parse(block).ok()?;
    let der = parsed.contents();
    if der.is_empty() {
        return None;
    }
    // RFC 1421 encryption (`openssl genrsa -aes256` and other legacy tools): the body is
    // ciphertext, which only its length can be checked for.
    let legacy_encrypted = parsed
        .headers()
        .get("Proc-Type")
        .is_some_and(|v| v.contains("ENCRYPTED"));
    if legacy_encrypted {
        let cipher = parsed.headers().get("DEK-Info")?.split(',').next()?.trim();
        let kind = match label {
            "RSA PRIVATE KEY" => "RSA",
            "EC PRIVATE KEY" => "EC",
            "DSA PRIVATE KEY" => "DSA",
            _ => return None,
        };
        return (der.len() % 8 == 0)
            .then(|| format!("{kind} (traditional PEM), encrypted ({cipher})"));
    }
    let pkcs1 = || rsa(der).map(|bits| format!("RSA {bits}-bit (PKCS#1), unencrypted"));
    let sec1 = || ec(der).map(|kind| format!("{kind} (SEC1), unencrypted"));
    let pkcs8 = || pkcs8(der).map(|kind| format!("{kind} (PKCS#8), unencrypted"));
    match label {
        "RSA PRIVATE KEY" => pkcs1(),
        "EC PRIVATE KEY" => sec1(),
        "DSA PRIVATE KEY" => dsa(der).map(|bits| format!("DSA {bits}-bit (OpenSSL), unencrypted")),
        "PRIVATE KEY" => pkcs8(),
        "ENCRYPTED PRIVATE KEY" => encrypted_pkcs8(der),
        "ENCRYPTED SIGSTORE PRIVATE KEY" | "ENCRYPTED COSIGN PRIVATE KEY" => cosign(der),
        // Any other label (`ANY PRIVATE KEY`, a vendor's): a key when its body is one.
        _ => pkcs8().or_else(pkcs1).or_else(sec1),
    }
}

/// The modulus size of a PKCS#1 RSAPrivateKey.
fn rsa(der: &[u8]) -> Option<usize> {
    let key = pkcs1::RsaPrivateKey::from_der(der).ok()?;
    bits(key.modulus.as_bytes())
}

/// A SEC1 ECPrivateKey, with its curve when its parameters name one (`EC P-256`, else `EC`).
fn ec(der: &[u8]) -> Option<String> {
    let key = sec1::EcPrivateKey::from_der(der).ok()?;
    if key.private_key.is_empty() {
        return None;
    }
    Some(match key.parameters {
        None => "EC".to_string(),
        Some(parameters) => match parameters.named_curve() {
            Some(curve) => format!("EC {}", curve_name(curve)),
            None => "EC (explicit curve)".to_string(),
        },
    })
}

/// The size of `p` in OpenSSL's DSA private key: SEQUENCE { version, p, q, g, y, x }.
fn dsa(der: &[u8]) -> Option<usize> {
    let mut reader = SliceReader::new(der).ok()?;
    let p = reader
        .sequence(|seq| {
            let version = UintRef::decode(seq)?;
            let p = UintRef::decode(seq)?;
            for _ in 0..4 {
                UintRef::decode(seq)?;
            }
            Ok((version.as_bytes() == [0]).then_some(p))
        })
        .ok()??;
    bits(p.as_bytes())
}

/// What a PKCS#8 PrivateKeyInfo holds, when its inner key parses as its algorithm says.
fn pkcs8(der: &[u8]) -> Option<String> {
    let info = pkcs8::PrivateKeyInfo::from_der(der).ok()?;
    let inner = info.private_key;
    let algorithm = info.algorithm.oid;
    Some(match algorithm.to_string().as_str() {
        "1.2.840.113549.1.1.1" => format!("RSA {}-bit", rsa(inner)?),
        "1.2.840.113549.1.1.10" => format!("RSA-PSS {}-bit", rsa(inner)?),
        "1.2.840.10045.2.1" => {
            // The curve is in the algorithm's parameters; the inner SEC1 key may omit it.
            sec1::EcPrivateKey::from_der(inner).ok()?;
            let curve = info
                .algorithm
                .parameters_oid()
                .ok()
                .map_or_else(|| "(explicit curve)".to_string(), curve_name);
            format!("EC {curve}")
        }
        "1.2.840.10040.4.1" => {
            UintRef::from_der(inner).ok()?;
            "DSA".to_string()
        }
        oid => {
            let name = match oid {
                "1.3.101.112" => "Ed25519",
                "1.3.101.113" => "Ed448",
                "1.3.101.110" => "X25519",
                "1.3.101.111" => "X448",
                "1.2.840.113549.1.3.1" | "1.2.840.10046.2.1" => "DH",
                _ => return None,
            };
            // An OCTET STRING holding the raw key (RFC 8410), or an INTEGER for DH.
            let raw = der::asn1::OctetStringRef::from_der(inner)
                .map(|o| o.as_bytes().len())
                .or_else(|_| UintRef::from_der(inner).map(|u| u.as_bytes().len()))
                .ok()?;
            if raw == 0 {
                return None;
            }
            name.to_string()
        }
    })
}

/// A PKCS#8 EncryptedPrivateKeyInfo: its encryption scheme, and a ciphertext.
fn encrypted_pkcs8(der: &[u8]) -> Option<String> {
    let info = pkcs8::EncryptedPrivateKeyInfo::from_der(der).ok()?;
    if info.encrypted_data.is_empty() {
        return None;
    }
    let scheme = match &info.encryption_algorithm {
        pkcs8::pkcs5::EncryptionScheme::Pbes2(params) => match &params.kdf {
            pkcs8::pkcs5::pbes2::Kdf::Pbkdf2(_) => "PBES2, PBKDF2".to_string(),
            pkcs8::pkcs5::pbes2::Kdf::Scrypt(_) => "PBES2, scrypt".to_string(),
            _ => "PBES2".to_string(),
        },
        other => format!("{}", other.oid()),
    };
    Some(format!("private key (PKCS#8), encrypted ({scheme})"))
}

/// An OpenSSH `openssh-key-v1` key: its algorithm and whether it is encrypted.
fn openssh(block: &[u8]) -> Option<String> {
    let key = ssh_key::PrivateKey::from_openssh(block).ok()?;
    Some(format!(
        "{} (OpenSSH), {}",
        key.algorithm(),
        if key.is_encrypted() {
            "encrypted"
        } else {
            "unencrypted"
        }
    ))
}

/// cosign's `ENCRYPTED SIGSTORE PRIVATE KEY`: JSON naming its KDF and cipher, and a ciphertext.
fn cosign(body: &[u8]) -> Option<String> {
    let key: serde_json::Value = serde_json::from_slice(body).ok()?;
    let kdf = key["kdf"]["name"].as_str()?;
    let cipher = key["cipher"]["name"].as_str()?;
    key["ciphertext"].as_str().filter(|c| !c.is_empty())?;
    Some(format!("cosign/Sigstore key, encrypted ({kdf}, {cipher})"))
}

const PPK_PREFIX: &[u8] = b"PuTTY-User-Key-File-";

/// A PuTTY `.ppk` file (versions 2 and 3): the algorithm on its first line must be the one its
/// public blob names, and both blobs must decode.
fn ppk(file: &[u8]) -> Option<String> {
    use base64::Engine as _;
    let text = std::str::from_utf8(file).ok()?;
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    let first = lines.next()?;
    let (version, algorithm) = first
        .strip_prefix("PuTTY-User-Key-File-")?
        .split_once(": ")?;
    if version != "2" && version != "3" {
        return None;
    }
    let mut encryption = None;
    let blob = |count: &str, lines: &mut dyn Iterator<Item = &str>| -> Option<Vec<u8>> {
        let count: usize = count.trim().parse().ok()?;
        if count == 0 || count > 4096 {
            return None;
        }
        let mut encoded = String::new();
        for _ in 0..count {
            encoded.push_str(lines.next()?.trim());
        }
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
    };
    let (mut public, mut private, mut mac) = (None, None, false);
    while let Some(line) = lines.next() {
        let Some((key, value)) = line.split_once(": ") else {
            continue;
        };
        match key {
            "Encryption" => encryption = Some(value.trim().to_string()),
            "Public-Lines" => public = blob(value, &mut lines),
            "Private-Lines" => private = blob(value, &mut lines),
            "Private-MAC" | "Private-Hash" => mac = !value.trim().is_empty(),
            _ => {}
        }
    }
    let (public, private, encryption) = (public?, private?, encryption?);
    // The public blob opens with the algorithm name as an SSH string.
    let name_len = u32::from_be_bytes(public.get(..4)?.try_into().ok()?) as usize;
    if public.get(4..4 + name_len)? != algorithm.as_bytes() || private.is_empty() || !mac {
        return None;
    }
    Some(format!(
        "{algorithm} (PuTTY PPK v{version}), {}",
        if encryption == "none" {
            "unencrypted".to_string()
        } else {
            format!("encrypted ({encryption})")
        }
    ))
}

/// The size in bits of an unsigned big-endian integer (leading zeros dropped); `None` for zero.
fn bits(bytes: &[u8]) -> Option<usize> {
    let first = bytes.iter().position(|b| *b != 0)?;
    Some((bytes.len() - first) * 8 - bytes[first].leading_zeros() as usize)
}

fn curve_name(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.10045.3.1.7" => "P-256".into(),
        "1.3.132.0.34" => "P-384".into(),
        "1.3.132.0.35" => "P-521".into(),
        "1.3.132.0.10" => "secp256k1".into(),
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1".into(),
        other => format!("curve {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::pkcs8::{EncodePrivateKey, LineEnding};

    fn p256_key() -> p256::SecretKey {
        p256::SecretKey::from_slice(&[7u8; 32]).unwrap()
    }

    #[test]
    fn keys_are_described_by_kind_format_and_encryption() {
        let key = p256_key();
        let pkcs8 = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let sec1 = key.to_sec1_pem(LineEnding::CRLF).unwrap();
        assert_eq!(
            describe(pkcs8.as_bytes()),
            ["EC P-256 (PKCS#8), unencrypted"]
        );
        // p256 writes SEC1 without the curve (it is optional); OpenSSL names it.
        assert_eq!(describe(sec1.as_bytes()), ["EC (SEC1), unencrypted"]);
        // A certificate chain, then the key: the combined PEM HAProxy and others read.
        let mut bundle =
            String::from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        bundle.push_str(&pkcs8);
        bundle.push_str(&sec1);
        assert_eq!(describe(bundle.as_bytes()).len(), 2);
    }

    #[test]
    fn markers_without_a_key_are_not_keys() {
        let key = p256_key().to_pkcs8_pem(LineEnding::LF).unwrap();
        let body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
        let cases: Vec<(&str, String)> = vec![
            // Python's cryptography (serialization/ssh.py) and paramiko hold the markers as strings.
            (
                "source",
                "_SK_START = b\"-----BEGIN OPENSSH PRIVATE KEY-----\"\n_SK_END = b\"-----END OPENSSH PRIVATE KEY-----\"\n".into(),
            ),
            (
                "format string",
                "-----BEGIN {} PRIVATE KEY-----\n{}\n-----END {} PRIVATE KEY-----\n".into(),
            ),
            ("no end", key.replace("-----END PRIVATE KEY-----", "")),
            ("mismatched end", key.replace("END PRIVATE KEY", "END RSA PRIVATE KEY")),
            (
                "elided body (documentation)",
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n...\n-----END RSA PRIVATE KEY-----\n".into(),
            ),
            (
                "an EC key labelled RSA",
                format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"),
            ),
            (
                "not base64",
                "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n".into(),
            ),
            (
                "a public key",
                "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n".into(),
            ),
            ("cut short", key[..key.len() / 2].to_string()),
        ];
        for (what, text) in cases {
            assert_eq!(describe(text.as_bytes()), Vec::<String>::new(), "{what}");
        }
    }

    #[test]
    fn legacy_encrypted_pem_is_recognised_by_its_headers() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,0123456789ABCDEF0123456789ABCDEF\n\nAAAAAAAAAAAAAAAAAAAAAA==\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(
            describe(text.as_bytes()),
            ["RSA (traditional PEM), encrypted (AES-256-CBC)"]
        );
        let no_cipher = text.replace(
            "DEK-Info: AES-256-CBC,0123456789ABCDEF0123456789ABCDEF\n",
            "",
        );
        assert!(describe(no_cipher.as_bytes()).is_empty());
    }

    #[test]
    fn ppk_files_need_both_parts_and_one_algorithm() {
        use base64::Engine as _;
        let mut public = Vec::new();
        public.extend_from_slice(&11u32.to_be_bytes());
        public.extend_from_slice(b"ssh-ed25519");
        public.extend_from_slice(&32u32.to_be_bytes());
        public.extend_from_slice(&[1u8; 32]);
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let ppk = |algorithm: &str, encryption: &str, private: &[u8]| {
            format!(
                "PuTTY-User-Key-File-3: {algorithm}\r\nEncryption: {encryption}\r\nComment: k\r\nPublic-Lines: 1\r\n{}\r\nPrivate-Lines: 1\r\n{}\r\nPrivate-MAC: 00ff\r\n",
                b64(&public),
                b64(private)
            )
        };
        assert_eq!(
            describe(ppk("ssh-ed25519", "none", &[2u8; 36]).as_bytes()),
            ["ssh-ed25519 (PuTTY PPK v3), unencrypted"]
        );
        assert_eq!(
            describe(ppk("ssh-ed25519", "aes256-cbc", &[2u8; 48]).as_bytes()),
            ["ssh-ed25519 (PuTTY PPK v3), encrypted (aes256-cbc)"]
        );
        assert!(describe(ppk("ssh-rsa", "none", &[2u8; 36]).as_bytes()).is_empty());
        assert!(describe(ppk("ssh-ed25519", "none", &[]).as_bytes()).is_empty());
    }

    #[test]
    fn bits_counts_from_the_first_set_bit() {
        assert_eq!(bits(&[0, 0x80, 0]), Some(16));
        assert_eq!(bits(&[0x01]), Some(1));
        assert_eq!(bits(&[0, 0]), None);
    }
}
