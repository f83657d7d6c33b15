//! A guard between a layer's bytes and the tar parser: the tar crate reads a GNU long name or long
//! link (`L`, `K`) and a PAX extended header (`x`, `g`) whole into memory before the entry it
//! describes, whatever size the header declares (a 1 MB archive could ask for gigabytes). The guard
//! follows the tar block structure as the bytes pass and, for such a header over
//! [`EXTENSION_LIMIT`], hands the parser the header with its size set to zero (checksum redone) and
//! skips its data underneath (still hashed by the reader below, so the diffID stays right): the
//! entry it described loses its long name or attributes, with a warning, and the rest of the layer
//! is read as usual.

use std::io::{self, Read, Seek, SeekFrom};

/// The largest long name, long link or PAX header read.
pub const EXTENSION_LIMIT: u64 = 1024 * 1024;

const BLOCK: u64 = 512;

pub struct HeaderGuard<R> {
    inner: R,
    /// Offset in the stream the parser sees.
    position: u64,
    /// Where the next header block starts, in that stream.
    next_header: u64,
    /// The next header block, as it arrives.
    header: [u8; BLOCK as usize],
    filled: usize,
    /// GNU sparse extension blocks still to come before the entry's data.
    sparse_extensions: bool,
    /// Header bytes held back (rewritten), still to hand out.
    pending: Vec<u8>,
    pub warnings: Vec<String>,
}

impl<R: Read + Seek> HeaderGuard<R> {
    pub fn new(inner: R) -> Self {
        HeaderGuard {
            inner,
            position: 0,
            next_header: 0,
            header: [0; BLOCK as usize],
            filled: 0,
            sparse_extensions: false,
            pending: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// A tar numeric field: octal, or base-256 when its top bit is set.
    fn number(field: &[u8]) -> u64 {
        if field.first().is_some_and(|b| b & 0x80 != 0) {
            return field[1..]
                .iter()
                .fold(0u64, |n, &b| n.saturating_mul(256).saturating_add(b as u64));
        }
        field
            .iter()
            .skip_while(|b| **b == b' ')
            .take_while(|b| (b'0'..=b'7').contains(b))
            .fold(0u64, |n, &b| {
                n.saturating_mul(8).saturating_add((b - b'0') as u64)
            })
    }

    /// A complete header block has arrived at `start`: where the next one starts, and whether its
    /// data must be skipped (the header is then rewritten in place).
    fn header_done(&mut self, start: u64) -> u64 {
        let block = &self.header;
        if self.sparse_extensions {
            // A GNU sparse extension block: another follows when its flag is set.
            self.sparse_extensions = block[504] != 0;
            return start + BLOCK;
        }
        if block.iter().all(|b| *b == 0) {
            return start + BLOCK;
        }
        let kind = block[156];
        let size = Self::number(&block[124..136]);
        if kind == b'S' && block[482] != 0 {
            self.sparse_extensions = true;
        }
        start
            .saturating_add(BLOCK)
            .saturating_add(size.div_ceil(BLOCK).saturating_mul(BLOCK))
    }

    /// Whether the header just completed is an extension over the limit; if so it is rewritten to
    /// declare no data, and the size its data occupies is returned.
    fn oversized_extension(&mut self) -> Option<u64> {
        if self.sparse_extensions || self.header.iter().all(|b| *b == 0) {
            return None;
        }
        let kind = self.header[156];
        let size = Self::number(&self.header[124..136]);
        if !matches!(kind, b'L' | b'K' | b'x' | b'g') || size <= EXTENSION_LIMIT {
            return None;
        }
        let what = match kind {
            b'L' => "a long name",
            b'K' => "a long link target",
            _ => "a PAX extended header",
        };
        self.warnings.push(format!(
            "{what} of {size} bytes (over the {EXTENSION_LIMIT}-byte limit) at offset {} of the layer: not read; the entry it belongs to is read without it",
            self.position
        ));
        self.header[124..136].copy_from_slice(b"00000000000\0");
        self.header[148..156].copy_from_slice(b"        ");
        let sum: u32 = self.header.iter().map(|&b| b as u32).sum();
        self.header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        Some(size.div_ceil(BLOCK).saturating_mul(BLOCK))
    }
}

impl<R: Read + Seek> Read for HeaderGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.pending.is_empty() {
            let n = buf.len().min(self.pending.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            self.position += n as u64;
            return Ok(n);
        }
        if self.position == self.next_header || self.filled > 0 {
            // Collect the whole header block before handing any of it out.
            while self.filled < BLOCK as usize {
                let n = self.inner.read(&mut self.header[self.filled..])?;
                if n == 0 {
                    break;
                }
                self.filled += n;
            }
            let block_len = self.filled;
            self.filled = 0;
            if block_len < BLOCK as usize {
                // A short stream: hand out what there is; the parser reports the truncation.
                self.pending = self.header[..block_len].to_vec();
            } else {
                let skip = self.oversized_extension();
                self.next_header = if skip.is_some() {
                    self.position + BLOCK
                } else {
                    self.header_done(self.position)
                };
                if let Some(skip) = skip {
                    // Consumed below (hashed there), never shown to the parser.
                    self.inner
                        .seek(SeekFrom::Current(i64::try_from(skip).unwrap_or(i64::MAX)))?;
                }
                self.pending = self.header.to_vec();
            }
            if self.pending.is_empty() {
                return Ok(0);
            }
            return self.read(buf);
        }
        // Entry data: never past the next header.
        let room = self.next_header.saturating_sub(self.position);
        let len = if room == 0 {
            buf.len()
        } else {
            buf.len().min(usize::try_from(room).unwrap_or(usize::MAX))
        };
        let n = self.inner.read(&mut buf[..len])?;
        self.position += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for HeaderGuard<R> {
    /// Only forward skips within an entry's data, as the tar parser makes them.
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let SeekFrom::Current(delta) = to else {
            return Err(io::Error::other("the layer stream only skips forward"));
        };
        if delta < 0 || !self.pending.is_empty() || self.filled > 0 {
            return Err(io::Error::other("the layer stream only skips forward"));
        }
        let delta = delta as u64;
        // A skip never crosses a header unseen: stop there and read the header through `read`.
        let allowed = if self.next_header > self.position {
            delta.min(self.next_header - self.position)
        } else {
            delta
        };
        self.inner.seek(SeekFrom::Current(allowed as i64))?;
        self.position += allowed;
        if allowed < delta {
            // Rare (the parser skips exactly an entry's padded data); read the rest through.
            io::copy(&mut (&mut *self).take(delta - allowed), &mut io::sink())?;
        }
        Ok(self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with_long_name(name_len: usize, follow: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let long: String = "d/".repeat(name_len / 2) + "f";
        let mut header = tar::Header::new_gnu();
        header.set_size(3);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, &long, &b"abc"[..])
            .unwrap();
        for (path, body) in follow {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            builder.append_data(&mut header, path, *body).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn paths(bytes: Vec<u8>) -> (Vec<String>, Vec<String>) {
        let mut guard = HeaderGuard::new(io::Cursor::new(bytes));
        let mut names = Vec::new();
        {
            let mut archive = tar::Archive::new(&mut guard);
            for entry in archive.entries_with_seek().unwrap() {
                let entry = entry.unwrap();
                names.push(String::from_utf8_lossy(&entry.path_bytes()).into_owned());
            }
        }
        (names, guard.warnings)
    }

    #[test]
    fn ordinary_archives_pass_unchanged() {
        let bytes = tar_with_long_name(300, &[("etc/os-release", b"ID=debian\n")]);
        let (names, warnings) = paths(bytes);
        assert_eq!(names.len(), 2);
        assert!(names[0].len() > 300);
        assert_eq!(names[1], "etc/os-release");
        assert!(warnings.is_empty());
    }

    #[test]
    fn an_oversized_long_name_is_skipped_and_the_rest_read() {
        let bytes = tar_with_long_name(
            EXTENSION_LIMIT as usize + 10,
            &[("var/lib/dpkg/status", b"Package: bash\n")],
        );
        let (names, warnings) = paths(bytes);
        assert_eq!(
            names.last().map(String::as_str),
            Some("var/lib/dpkg/status")
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("a long name of"), "{warnings:?}");
    }

    #[test]
    fn a_huge_declared_size_does_not_overflow() {
        // Found by the fuzz smoke run: a base-256 size near u64::MAX overflowed the next header's
        // offset. The parser refuses the entry; the guard must not panic first.
        let mut header = tar::Header::new_gnu();
        header.set_path("x").unwrap();
        header.set_entry_type(tar::EntryType::Regular);
        header.as_mut_bytes()[124] = 0x80;
        for b in &mut header.as_mut_bytes()[125..136] {
            *b = 0xff;
        }
        header.set_cksum();
        let mut bytes = header.as_bytes().to_vec();
        bytes.extend_from_slice(&[0; 1024]);
        let mut guard = HeaderGuard::new(io::Cursor::new(bytes));
        let mut archive = tar::Archive::new(&mut guard);
        if let Ok(entries) = archive.entries_with_seek() {
            for entry in entries {
                let _ = entry;
            }
        }
    }

    #[test]
    fn numbers_in_both_encodings() {
        assert_eq!(
            HeaderGuard::<io::Cursor<Vec<u8>>>::number(b"00000001000\0"),
            512
        );
        assert_eq!(HeaderGuard::<io::Cursor<Vec<u8>>>::number(b" 777 "), 511);
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[11] = 2;
        big[10] = 1;
        assert_eq!(HeaderGuard::<io::Cursor<Vec<u8>>>::number(&big), 258);
    }
}
