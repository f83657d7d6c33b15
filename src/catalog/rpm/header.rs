//! The rpm header blob, as the rpm database stores one per package: an index of (tag, type, offset,
//! count) entries followed by a data store. Only what the cataloger needs is decoded; every offset and
//! count is checked against the blob's bounds, as the blob comes from the image.

/// Why a header blob could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("header blob too short ({0} bytes)")]
    TooShort(usize),
    #[error("header index of {entries} entries and {data} data bytes does not fit in {len} bytes")]
    BadSize { entries: u32, data: u32, len: usize },
}

pub const NAME: u32 = 1000;
pub const VERSION: u32 = 1001;
pub const RELEASE: u32 = 1002;
pub const EPOCH: u32 = 1003;
pub const VENDOR: u32 = 1011;
pub const LICENSE: u32 = 1014;
pub const ARCH: u32 = 1022;
pub const SOURCERPM: u32 = 1044;
pub const PROVIDENAME: u32 = 1047;
pub const REQUIRENAME: u32 = 1049;
pub const DIRINDEXES: u32 = 1116;
pub const BASENAMES: u32 = 1117;
pub const DIRNAMES: u32 = 1118;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// One index entry.
#[derive(Debug, Clone, Copy)]
struct IndexEntry {
    tag: u32,
    kind: u32,
    offset: usize,
    count: usize,
}

/// A parsed header: its index and its data store.
#[derive(Debug)]
pub struct Header<'a> {
    entries: Vec<IndexEntry>,
    data: &'a [u8],
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

impl<'a> Header<'a> {
    pub fn parse(blob: &'a [u8]) -> Result<Header<'a>, HeaderError> {
        let (Some(il), Some(dl)) = (be32(blob, 0), be32(blob, 4)) else {
            return Err(HeaderError::TooShort(blob.len()));
        };
        let index_end = 8usize.checked_add((il as usize).saturating_mul(16));
        let data_end = index_end.and_then(|e| e.checked_add(dl as usize));
        let (Some(index_end), Some(data_end)) = (index_end, data_end) else {
            return Err(HeaderError::BadSize {
                entries: il,
                data: dl,
                len: blob.len(),
            });
        };
        if data_end > blob.len() {
            return Err(HeaderError::BadSize {
                entries: il,
                data: dl,
                len: blob.len(),
            });
        }
        let entries = (0..il as usize)
            .filter_map(|i| {
                let at = 8 + i * 16;
                Some(IndexEntry {
                    tag: be32(blob, at)?,
                    kind: be32(blob, at + 4)?,
                    offset: be32(blob, at + 8)? as usize,
                    count: be32(blob, at + 12)? as usize,
                })
            })
            .collect();
        Ok(Header {
            entries,
            data: &blob[index_end..data_end],
        })
    }

    fn entry(&self, tag: u32) -> Option<IndexEntry> {
        self.entries.iter().copied().find(|e| e.tag == tag)
    }

    /// NUL-terminated strings starting at `offset`, at most `count` of them.
    fn strings(&self, offset: usize, count: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = offset;
        while out.len() < count && at < self.data.len() {
            let end = self.data[at..]
                .iter()
                .position(|&b| b == 0)
                .map(|p| at + p)
                .unwrap_or(self.data.len());
            out.push(String::from_utf8_lossy(&self.data[at..end]).into_owned());
            at = end + 1;
        }
        out
    }

    /// A string tag (STRING, or the first of an I18NSTRING).
    pub fn string(&self, tag: u32) -> Option<String> {
        let e = self.entry(tag)?;
        match e.kind {
            TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY => {
                self.strings(e.offset, 1).into_iter().next()
            }
            _ => None,
        }
    }

    /// A STRING_ARRAY tag.
    pub fn string_array(&self, tag: u32) -> Vec<String> {
        match self.entry(tag) {
            Some(e) if e.kind == TYPE_STRING_ARRAY => self.strings(e.offset, e.count),
            _ => Vec::new(),
        }
    }

    /// An INT32 array tag.
    pub fn int32_array(&self, tag: u32) -> Vec<u32> {
        match self.entry(tag) {
            Some(e) if e.kind == TYPE_INT32 => (0..e.count)
                .map_while(|i| be32(self.data, e.offset + i * 4))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The first value of an INT32 tag.
    pub fn int32(&self, tag: u32) -> Option<u32> {
        self.int32_array(tag).into_iter().next()
    }

    /// The package's file paths (DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]).
    pub fn file_paths(&self) -> Vec<String> {
        let dirs = self.string_array(DIRNAMES);
        let indexes = self.int32_array(DIRINDEXES);
        self.string_array(BASENAMES)
            .into_iter()
            .zip(indexes)
            .filter_map(|(base, i)| dirs.get(i as usize).map(|d| format!("{d}{base}")))
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a header blob from (tag, type, values) the way rpm lays it out.
    pub fn blob(tags: &[(u32, u32, Vec<&str>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, kind, values) in tags {
            let offset = data.len() as u32;
            if *kind == TYPE_INT32 {
                while data.len() % 4 != 0 {
                    data.push(0);
                }
                let offset = data.len() as u32;
                for v in values {
                    data.extend_from_slice(&v.parse::<u32>().unwrap().to_be_bytes());
                }
                index.extend_from_slice(
                    &[
                        tag.to_be_bytes(),
                        kind.to_be_bytes(),
                        offset.to_be_bytes(),
                        (values.len() as u32).to_be_bytes(),
                    ]
                    .concat(),
                );
                continue;
            }
            for v in values {
                data.extend_from_slice(v.as_bytes());
                data.push(0);
            }
            index.extend_from_slice(
                &[
                    tag.to_be_bytes(),
                    kind.to_be_bytes(),
                    offset.to_be_bytes(),
                    (values.len() as u32).to_be_bytes(),
                ]
                .concat(),
            );
        }
        let mut out = (tags.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    #[test]
    fn reads_strings_arrays_and_ints() {
        let b = blob(&[
            (NAME, TYPE_STRING, vec!["bash"]),
            (EPOCH, TYPE_INT32, vec!["2"]),
            (
                REQUIRENAME,
                TYPE_STRING_ARRAY,
                vec!["/bin/sh", "libc.so.6()(64bit)"],
            ),
            (DIRNAMES, TYPE_STRING_ARRAY, vec!["/usr/bin/", "/etc/"]),
            (BASENAMES, TYPE_STRING_ARRAY, vec!["bash", "bashrc"]),
            (DIRINDEXES, TYPE_INT32, vec!["0", "1"]),
        ]);
        let h = Header::parse(&b).unwrap();
        assert_eq!(h.string(NAME).as_deref(), Some("bash"));
        assert_eq!(h.int32(EPOCH), Some(2));
        assert_eq!(
            h.string_array(REQUIRENAME),
            ["/bin/sh", "libc.so.6()(64bit)"]
        );
        assert_eq!(h.file_paths(), ["/usr/bin/bash", "/etc/bashrc"]);
        assert_eq!(h.string(VERSION), None);
    }

    #[test]
    fn hostile_sizes_are_errors() {
        assert!(matches!(
            Header::parse(&[0, 0]),
            Err(HeaderError::TooShort(2))
        ));
        let mut b = blob(&[(NAME, TYPE_STRING, vec!["x"])]);
        b[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            Header::parse(&b),
            Err(HeaderError::BadSize { .. })
        ));
        // An offset past the data store yields nothing rather than a panic.
        let mut b = blob(&[(NAME, TYPE_STRING, vec!["x"])]);
        b[16..20].copy_from_slice(&1000u32.to_be_bytes());
        assert_eq!(Header::parse(&b).unwrap().string(NAME), None);
    }
}
