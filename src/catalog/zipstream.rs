//! Walking a zip archive (jar, war, ear, zipped Python egg) front to back as a stream, the way the layer pass delivers
//! it: local file headers one after another, deflated entries inflated until their stream ends, data
//! descriptors (which `java.util.zip` writes for every deflated entry) read after them. Nothing needs
//! the central directory, so the archive is never held in memory.
//!
//! The zip crate's streaming reader trusts the sizes in the local header, which are zero when a data
//! descriptor follows; hence this small walker.

use crate::zipfmt::{
    u16_at, u32_at, u64_at, zip64_extra, CENTRAL_HEADER, END, END64, LOCAL_HEADER,
};
use flate2::bufread::DeflateDecoder;
use std::cell::Cell;
use std::io::{self, BufRead, Read};

/// A reader that fails once a shared allowance of bytes is used up: how inflation is bounded across
/// an archive and all the archives nested in it (zip bombs).
pub struct Budgeted<'a, R> {
    pub inner: R,
    pub left: &'a Cell<u64>,
}

impl<R: Read> Read for Budgeted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left.get() == 0 {
            return Err(io::Error::other("inflation budget exhausted"));
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left.get()).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.left.set(self.left.get() - n as u64);
        Ok(n)
    }
}

const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
/// What may follow the last entry: the central directory, the end records (Zip64 and plain) and
/// the archive extra data record of encrypted central directories.
const AFTER_ENTRIES: [u32; 4] = [CENTRAL_HEADER, END, END64, 0x0806_4b50];
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;
const STORED: u16 = 0;
const DEFLATED: u16 = 8;

/// What the visitor decides for an entry.
pub enum Visit {
    Skip,
    /// Hand the entry's (uncompressed) bytes to the visitor's reader.
    Read,
}

/// One entry's header fields.
#[derive(Debug, Clone)]
pub struct EntryHeader {
    pub name: String,
    pub uncompressed_size: Option<u64>,
}

/// Why a walk stopped early.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("zip entry {name:?} uses compression method {method}, which cannot be streamed")]
    Unstreamable { name: String, method: u16 },
    #[error("damaged zip stream ({0})")]
    Io(#[from] io::Error),
    #[error("no entry and no central directory where the entry after {after:?} should start (bytes {found:08x}): the rest of the archive is not read")]
    Lost { after: String, found: u32 },
}

/// Walks every entry of the zip stream `reader`. For each entry `choose` says whether to read it;
/// entries chosen are passed to `read` as a reader of their uncompressed bytes (which it may leave
/// unfinished). Stops at the central directory.
pub fn walk<R: BufRead>(
    reader: &mut R,
    budget: &Cell<u64>,
    mut choose: impl FnMut(&EntryHeader) -> Visit,
    mut read: impl FnMut(&EntryHeader, &mut dyn Read) -> io::Result<()>,
) -> Result<(), WalkError> {
    let mut previous = String::from("(the start)");
    loop {
        let mut fixed = [0u8; 30];
        // A zip ends with its central directory; running out before it means the archive is cut short.
        reader.read_exact(&mut fixed[..4])?;
        let signature = u32_at(&fixed, 0);
        if AFTER_ENTRIES.contains(&signature) {
            return Ok(()); // no more entries
        }
        if signature != LOCAL_HEADER {
            // Lost: stopping quietly here would report half an archive as the whole.
            return Err(WalkError::Lost {
                after: previous,
                found: signature.swap_bytes(),
            });
        }
        reader.read_exact(&mut fixed[4..])?;
        let flags = u16_at(&fixed, 6);
        let method = u16_at(&fixed, 8);
        let mut compressed = u64::from(u32_at(&fixed, 18));
        let mut uncompressed = u64::from(u32_at(&fixed, 22));
        let name_len = usize::from(u16_at(&fixed, 26));
        let extra_len = usize::from(u16_at(&fixed, 28));
        let mut name = vec![0u8; name_len];
        reader.read_exact(&mut name)?;
        let mut extra = vec![0u8; extra_len];
        reader.read_exact(&mut extra)?;
        let zip64 = zip64_sizes(&extra);
        if let Some((u, c)) = zip64 {
            uncompressed = u;
            compressed = c;
        }
        let has_descriptor = flags & FLAG_DATA_DESCRIPTOR != 0;
        let header = EntryHeader {
            name: String::from_utf8_lossy(&name).into_owned(),
            uncompressed_size: (!has_descriptor).then_some(uncompressed),
        };
        let wanted = matches!(choose(&header), Visit::Read);
        match method {
            // Unwanted entries of known size are skipped without inflating them.
            _ if !wanted && !has_descriptor => skip_exactly(reader, compressed)?,
            DEFLATED => {
                let mut inflater = Budgeted {
                    inner: DeflateDecoder::new(&mut *reader),
                    left: budget,
                };
                if wanted {
                    read(&header, &mut inflater)?;
                }
                io::copy(&mut inflater, &mut io::sink())?;
            }
            STORED if !has_descriptor => {
                let mut body = (&mut *reader).take(compressed);
                if wanted {
                    read(&header, &mut body)?;
                }
                let left = body.limit();
                skip_exactly(reader, left)?;
            }
            // A wanted entry in another method: its bytes cannot be decoded here; skip them.
            _ if !has_descriptor => skip_exactly(reader, compressed)?,
            _ => {
                return Err(WalkError::Unstreamable {
                    name: header.name,
                    method,
                })
            }
        }
        if has_descriptor {
            skip_descriptor(reader, zip64.is_some())?;
        }
        previous = header.name;
    }
}

/// Skips exactly `n` bytes, failing if the stream ends first.
fn skip_exactly<R: Read>(reader: &mut R, n: u64) -> io::Result<()> {
    let skipped = io::copy(&mut reader.take(n), &mut io::sink())?;
    if skipped < n {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the archive ends inside an entry",
        ));
    }
    Ok(())
}

/// The sizes from a Zip64 extra field (id 0x0001), when present with both sizes.
fn zip64_sizes(extra: &[u8]) -> Option<(u64, u64)> {
    zip64_extra(extra)
        .filter(|data| data.len() >= 16)
        .map(|data| (u64_at(data, 0), u64_at(data, 8)))
}

/// Skips a data descriptor: an optional signature, the CRC, and two sizes (8 bytes each for Zip64).
/// The first four bytes are read whatever the reader's buffer holds (a signature straddling the
/// buffer's end once went unseen, and the walk lost its place).
fn skip_descriptor<R: Read>(reader: &mut R, zip64: bool) -> io::Result<()> {
    let mut first = [0u8; 4];
    reader.read_exact(&mut first)?;
    let sizes = if zip64 { 16 } else { 8 };
    // With the signature, the CRC follows; without, those four bytes were the CRC.
    let rest = if u32_at(&first, 0) == DATA_DESCRIPTOR {
        4 + sizes
    } else {
        sizes
    };
    skip_exactly(reader, rest as u64)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::{BufReader, Write};

    /// A zip written entry by entry with data descriptors, as java.util.zip.ZipOutputStream does.
    pub(crate) fn zip_with_descriptors(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, body) in entries {
            let mut deflated =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            deflated.write_all(body).unwrap();
            let deflated = deflated.finish().unwrap();
            out.extend_from_slice(&LOCAL_HEADER.to_le_bytes());
            out.extend_from_slice(&20u16.to_le_bytes()); // version
            out.extend_from_slice(&FLAG_DATA_DESCRIPTOR.to_le_bytes());
            out.extend_from_slice(&DEFLATED.to_le_bytes());
            out.extend_from_slice(&[0; 8]); // time, date, crc
            out.extend_from_slice(&[0; 8]); // sizes unknown
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&deflated);
            out.extend_from_slice(&DATA_DESCRIPTOR.to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&(deflated.len() as u32).to_le_bytes());
            out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(&0x0201_4b50u32.to_le_bytes()); // central directory starts
        out
    }

    #[test]
    fn walks_entries_with_data_descriptors() {
        let zip = zip_with_descriptors(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n"),
            ("com/example/A.class", &[0xca, 0xfe, 0xba, 0xbe]),
            (
                "META-INF/maven/g/a/pom.properties",
                b"groupId=g\nartifactId=a\nversion=1\n",
            ),
        ]);
        let mut seen = Vec::new();
        let mut read = Vec::new();
        walk(
            &mut BufReader::new(&zip[..]),
            &Cell::new(u64::MAX),
            |h| {
                seen.push(h.name.clone());
                if h.name.ends_with(".properties") {
                    Visit::Read
                } else {
                    Visit::Skip
                }
            },
            |_, r| {
                let mut s = String::new();
                r.read_to_string(&mut s)?;
                read.push(s);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(read, ["groupId=g\nartifactId=a\nversion=1\n"]);
    }

    /// The same archive wherever it sits relative to the reader's buffer (as a jar does at any
    /// offset in its layer): every entry is walked. A data descriptor's signature straddling the
    /// buffer's end once went unseen, and the walk stopped after that entry, saying nothing.
    #[test]
    fn walks_every_entry_at_every_buffer_alignment() {
        let entries: Vec<(String, Vec<u8>)> = (0..12)
            .map(|i| {
                (
                    format!("META-INF/e{i}.txt"),
                    vec![b'a' + i as u8; 50 + 37 * i],
                )
            })
            .collect();
        let borrowed: Vec<(&str, &[u8])> = entries
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        let zip = zip_with_descriptors(&borrowed);
        for capacity in [16, 61, 64, 509, 8192] {
            for offset in 0..capacity.min(64) {
                let mut data = vec![0u8; offset];
                data.extend_from_slice(&zip);
                let mut reader = BufReader::with_capacity(capacity, &data[..]);
                reader.read_exact(&mut vec![0u8; offset]).unwrap();
                let mut seen = 0;
                walk(
                    &mut reader,
                    &Cell::new(u64::MAX),
                    |_| {
                        seen += 1;
                        Visit::Skip
                    },
                    |_, _| Ok(()),
                )
                .unwrap_or_else(|e| panic!("capacity {capacity}, offset {offset}: {e}"));
                assert_eq!(seen, entries.len(), "capacity {capacity}, offset {offset}");
            }
        }
    }

    /// Bytes that are neither an entry nor the central directory where an entry should start stop
    /// the walk with an error naming the last entry read, never quietly.
    #[test]
    fn losing_the_way_is_an_error() {
        let mut zip = zip_with_descriptors(&[("a.txt", b"one"), ("b.txt", b"two")]);
        let second = zip
            .windows(4)
            .rposition(|w| w == LOCAL_HEADER.to_le_bytes())
            .unwrap();
        zip[second..second + 4].copy_from_slice(b"JUNK");
        let error = walk(
            &mut BufReader::new(&zip[..]),
            &Cell::new(u64::MAX),
            |_| Visit::Skip,
            |_, _| Ok(()),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("after \"a.txt\""), "{error}");
        assert!(error.contains("4a554e4b"), "{error}");
    }

    #[test]
    fn inflation_is_bounded() {
        let zeros = vec![0u8; 10 * 1024 * 1024];
        let zip = zip_with_descriptors(&[("bomb.bin", &zeros)]);
        assert!(
            zip.len() < 100 * 1024,
            "a small archive that inflates to 10 MiB"
        );
        let budget = Cell::new(1024 * 1024);
        let result = walk(
            &mut BufReader::new(&zip[..]),
            &budget,
            |_| Visit::Skip,
            |_, _| Ok(()),
        );
        assert!(result.unwrap_err().to_string().contains("budget exhausted"));
    }

    #[test]
    fn damaged_streams_are_errors_not_panics() {
        let zip = zip_with_descriptors(&[("a.txt", b"hello hello hello")]);
        for cut in [10, 35, 40, zip.len() - 8] {
            let result = walk(
                &mut BufReader::new(&zip[..cut]),
                &Cell::new(u64::MAX),
                |_| Visit::Read,
                |_, r| io::copy(r, &mut io::sink()).map(|_| ()),
            );
            assert!(result.is_err(), "cut at {cut}");
        }
    }
}
