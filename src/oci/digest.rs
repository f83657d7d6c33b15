//! Content digests as OCI writes them (`sha256:<64 lowercase hex>`): the one check every reader of
//! manifests, indexes and layouts makes before a digest names a blob, a path or a request; and a
//! reader that computes the sha256 of everything read through it ([`HashingReader`]): how a
//! compressed layer blob's digest is checked while the decompressor reads it, without a second read
//! (what is left after the tar ends is hashed straight from the buffer, [`HashingReader::finish`]).
//! (The diffID of an uncompressed layer is hashed beside the parser, in `layers/pipe.rs`.)

use sha2::{Digest, Sha256};
use std::io::{self, BufRead, Read};

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
    finished(Sha256::new_with_prefix(bytes))
}

/// `sha256:<hex>` of what a hasher was fed: the one way a digest is written.
pub fn finished(hasher: Sha256) -> String {
    format!("sha256:{:x}", hasher.finalize())
}

/// Wraps a reader and hashes every byte read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }
}

impl<R: BufRead> HashingReader<R> {
    /// Hashes and drops up to `amount` bytes straight from the inner buffer; returns how many there
    /// were before the stream ended.
    fn skip(&mut self, amount: u64) -> io::Result<u64> {
        let mut left = amount;
        while left > 0 {
            let buffered = self.inner.fill_buf()?;
            if buffered.is_empty() {
                break;
            }
            let take = buffered
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            self.hasher.update(&buffered[..take]);
            self.inner.consume(take);
            self.bytes += take as u64;
            left -= take as u64;
        }
        Ok(amount - left)
    }

    /// Reads the rest of the stream (so the digest covers all of it) and returns
    /// `("sha256:<hex>", byte count)`.
    pub fn finish(mut self) -> io::Result<(String, u64)> {
        self.skip(u64::MAX)?;
        Ok((finished(self.hasher), self.bytes))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_what_passes_through() {
        let mut r = HashingReader::new(&b"abc"[..]);
        let mut first = [0u8; 1];
        r.read_exact(&mut first).unwrap();
        let (digest, n) = r.finish().unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            digest,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_digest(b"abc"), digest);
    }

    #[test]
    fn finishing_hashes_what_was_not_read() {
        let data = b"0123456789".repeat(1000);
        let mut r = HashingReader::new(io::BufReader::with_capacity(7, &data[..]));
        let mut first = [0u8; 3];
        r.read_exact(&mut first).unwrap();
        let (digest, n) = r.finish().unwrap();
        assert_eq!((digest, n), (sha256_digest(&data), 10_000));
    }

    #[test]
    fn validates_digest_form() {
        let good = format!("sha256:{}", "a".repeat(64));
        assert!(sha256_hex(&good).is_some());
        assert!(sha256_hex("sha256:../../etc/passwd").is_none());
        assert!(sha256_hex(&format!("sha512:{}", "a".repeat(64))).is_none());
        assert!(sha256_hex(&format!("sha256:{}", "A".repeat(64))).is_none());
    }
}
