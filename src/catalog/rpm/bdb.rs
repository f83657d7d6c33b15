//! The Berkeley DB hash database that rpm used for `Packages` before 4.16 (RHEL/CentOS 5-8, Amazon
//! Linux 2, older SUSE): read from the bytes the layer pass kept, without libdb. Only what rpm stores
//! there is understood: a hash database whose keys are 4-byte package instance numbers and whose
//! values are header blobs, held on the hash page itself or, usually, on a chain of overflow pages.
//! Every page number, offset and length is checked against the file, as the file comes from the image.

use super::Blobs;
use std::collections::HashSet;

/// The magic number of a hash database's metadata page.
const HASH_MAGIC: u32 = 0x0006_1561;
/// Bytes in the header every page starts with (`PAGE` in libdb's `db_page.h`).
const PAGE_HEADER: usize = 26;
const PAGE_TYPE_HASH_UNSORTED: u8 = 2;
const PAGE_TYPE_OVERFLOW: u8 = 7;
const PAGE_TYPE_HASH: u8 = 13;
/// Hash item types (`H_KEYDATA`, `H_DUPLICATE`, `H_OFFPAGE`, `H_OFFDUP`).
const ITEM_KEYDATA: u8 = 1;
const ITEM_OFFPAGE: u8 = 3;

/// True when `bytes` start like a Berkeley DB hash database, in either byte order.
pub fn is_bdb(bytes: &[u8]) -> bool {
    magic(bytes).is_some()
}

/// The database's byte order, told by its magic number: `true` when it is big-endian.
fn magic(bytes: &[u8]) -> Option<bool> {
    let raw: [u8; 4] = bytes.get(12..16)?.try_into().ok()?;
    if u32::from_le_bytes(raw) == HASH_MAGIC {
        Some(false)
    } else if u32::from_be_bytes(raw) == HASH_MAGIC {
        Some(true)
    } else {
        None
    }
}

/// A database held in memory, with its byte order and page size.
struct Db<'a> {
    bytes: &'a [u8],
    big_endian: bool,
    page_size: usize,
    last_page: u32,
}

impl<'a> Db<'a> {
    fn u16_at(&self, at: usize) -> Option<u16> {
        let raw: [u8; 2] = self.bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(raw)
        } else {
            u16::from_le_bytes(raw)
        })
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let raw: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(raw)
        } else {
            u32::from_le_bytes(raw)
        })
    }

    fn page(&self, number: u32) -> Option<&'a [u8]> {
        let start = (number as usize).checked_mul(self.page_size)?;
        self.bytes.get(start..start.checked_add(self.page_size)?)
    }

    /// The value an off-page item points to: `length` bytes on a chain of overflow pages.
    fn overflow(&self, first: u32, length: usize) -> Result<Vec<u8>, String> {
        if length > self.bytes.len() {
            return Err(format!(
                "an overflow item claims {length} bytes, more than the file holds"
            ));
        }
        let mut value = Vec::with_capacity(length);
        let mut number = first;
        let mut seen = HashSet::new();
        while value.len() < length {
            if number == 0 || number > self.last_page || !seen.insert(number) {
                return Err(format!(
                    "overflow chain from page {first} is broken at page {number}"
                ));
            }
            let page = self
                .page(number)
                .ok_or_else(|| format!("overflow page {number} is past the end of the file"))?;
            if page[25] != PAGE_TYPE_OVERFLOW {
                return Err(format!("page {number} is not an overflow page"));
            }
            let start = number as usize * self.page_size;
            let used = self.u16_at(start + 22).unwrap_or(0) as usize;
            let data = page
                .get(PAGE_HEADER..PAGE_HEADER + used)
                .ok_or_else(|| format!("overflow page {number} claims {used} bytes"))?;
            value.extend_from_slice(data);
            number = self.u32_at(start + 16).unwrap_or(0);
        }
        if value.len() != length {
            return Err(format!(
                "overflow chain from page {first} holds {} bytes, not {length}",
                value.len()
            ));
        }
        Ok(value)
    }

    /// Where item `index` of a hash page starts in the file, and its bytes: from its offset to the
    /// previous item's offset (items are stored from the end of the page backwards).
    fn item(&self, page: &'a [u8], start: usize, index: usize) -> Option<(usize, &'a [u8])> {
        let offset = self.u16_at(start + PAGE_HEADER + 2 * index)? as usize;
        let end = if index == 0 {
            self.page_size
        } else {
            self.u16_at(start + PAGE_HEADER + 2 * (index - 1))? as usize
        };
        let item = page.get(offset..end).filter(|item| !item.is_empty())?;
        Some((start + offset, item))
    }
}

/// Reads every package header blob from a Berkeley DB hash `Packages` file.
pub fn header_blobs(bytes: &[u8]) -> Result<Blobs, String> {
    let big_endian = magic(bytes).ok_or("not a Berkeley DB hash database")?;
    let mut db = Db {
        bytes,
        big_endian,
        page_size: 0,
        last_page: 0,
    };
    let page_size = db.u32_at(20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("Berkeley DB page size {page_size} is not valid"));
    }
    if bytes.get(24).copied().unwrap_or(0) != 0 {
        return Err("the Berkeley DB database is encrypted".into());
    }
    db.page_size = page_size;
    db.last_page = db.u32_at(32).unwrap_or(0);
    let pages_in_file = bytes.len() / page_size;
    if db.last_page as usize >= pages_in_file {
        return Err(format!(
            "the database claims {} pages but the file holds {pages_in_file}",
            db.last_page as u64 + 1
        ));
    }
    let mut out = Blobs::default();
    for number in 1..=db.last_page {
        let Some(page) = db.page(number) else { break };
        if page[25] != PAGE_TYPE_HASH && page[25] != PAGE_TYPE_HASH_UNSORTED {
            continue;
        }
        let start = number as usize * page_size;
        let entries = db.u16_at(start + 20).unwrap_or(0) as usize;
        if PAGE_HEADER + 2 * entries > page_size {
            out.warnings.push(format!(
                "hash page {number} claims {entries} items; skipped"
            ));
            continue;
        }
        // Items come in pairs: a key, then its value.
        for pair in 0..entries / 2 {
            let key = db.item(page, start, 2 * pair);
            let value = db.item(page, start, 2 * pair + 1);
            let (Some((_, key)), Some((item_start, value))) = (key, value) else {
                out.warnings.push(format!(
                    "hash page {number}: item {} is out of bounds; skipped",
                    2 * pair
                ));
                continue;
            };
            // Instance 0 holds rpm's next-instance counter, not a package.
            if key[0] == ITEM_KEYDATA && key[1..].iter().all(|b| *b == 0) {
                continue;
            }
            match value[0] {
                ITEM_KEYDATA => out.blobs.push(value[1..].to_vec()),
                ITEM_OFFPAGE if value.len() >= 12 => {
                    let first = db.u32_at(item_start + 4).unwrap_or(0);
                    let length = db.u32_at(item_start + 8).unwrap_or(0) as usize;
                    match db.overflow(first, length) {
                        Ok(v) => out.blobs.push(v),
                        Err(e) => out
                            .warnings
                            .push(format!("hash page {number}: {e}; a package is missing")),
                    }
                }
                other => out.warnings.push(format!(
                    "hash page {number}: value item of type {other} is not a package header; skipped"
                )),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_either_byte_order() {
        let mut bytes = vec![0u8; 16];
        bytes[12..16].copy_from_slice(&HASH_MAGIC.to_le_bytes());
        assert_eq!(magic(&bytes), Some(false));
        bytes[12..16].copy_from_slice(&HASH_MAGIC.to_be_bytes());
        assert_eq!(magic(&bytes), Some(true));
        assert!(!is_bdb(b"SQLite format 3\0"));
    }

    #[test]
    fn a_bad_page_size_is_an_error() {
        let mut bytes = vec![0u8; 512];
        bytes[12..16].copy_from_slice(&HASH_MAGIC.to_le_bytes());
        bytes[20..24].copy_from_slice(&1000u32.to_le_bytes());
        assert!(header_blobs(&bytes).unwrap_err().contains("page size 1000"));
    }

    #[test]
    fn a_page_count_past_the_file_is_an_error() {
        let mut bytes = vec![0u8; 4096];
        bytes[12..16].copy_from_slice(&HASH_MAGIC.to_le_bytes());
        bytes[20..24].copy_from_slice(&4096u32.to_le_bytes());
        bytes[32..36].copy_from_slice(&9u32.to_le_bytes());
        assert!(header_blobs(&bytes)
            .unwrap_err()
            .contains("claims 10 pages"));
    }
}
