//! Recognising how a layer blob is compressed (plain tar, gzip or zstd) from its first bytes, and
//! wrapping the stream in the matching decoder. Media types lie often enough that the bytes decide.

use std::io::{self, BufRead, BufReader, Read};

/// The compressions a layer blob may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Identifies the compression from a blob's leading bytes.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Returns a reader of the uncompressed bytes of `blob`, and the compression found.
pub fn decompressed<'a, R: Read + 'a>(blob: R) -> io::Result<(Box<dyn Read + 'a>, Compression)> {
    let mut buffered = BufReader::with_capacity(64 * 1024, blob);
    let compression = Compression::sniff(buffered.fill_buf()?);
    let reader: Box<dyn Read + 'a> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
    };
    Ok((reader, compression))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn round_trips_each_compression() {
        let plain = b"hello layer".to_vec();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&plain[..], 1).unwrap();
        for (bytes, want) in [
            (plain.clone(), Compression::None),
            (gz, Compression::Gzip),
            (zst, Compression::Zstd),
        ] {
            let (mut r, found) = decompressed(&bytes[..]).unwrap();
            assert_eq!(found, want);
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, plain);
        }
    }
}
