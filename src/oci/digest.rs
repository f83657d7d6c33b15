//! Content digests as OCI writes them (`sha256:<64 lowercase hex>`): the one check every reader of
//! manifests, indexes and layouts makes before a digest names a blob, a path or a request.

/// Checks that `digest` is `sha256:` followed by 64 lowercase hex digits and returns the hex part.
/// Digests come from manifests an attacker may write, and name files: nothing else may pass.
pub fn sha256_hex(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(hex)
}

/// `sha256:<hex>` of a byte slice.
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{:x}", sha2::Sha256::digest(bytes))
}
