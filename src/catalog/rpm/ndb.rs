//! rpm's own "NDB" package database, `Packages.db` (SUSE since SLE 15 SP3 / openSUSE): a 32-byte
//! header, slot pages of 16-byte slots naming each package's block range, and per package a blob
//! framed by a head (`BlbS`, package index, timestamp, length) and a tail (Adler-32, length, `BlbE`),
//! as `lib/backend/ndb/rpmpkg.c` writes it. Everything is little-endian and checked against the
//! file's bounds; a damaged blob costs that package only.

use super::Blobs;

const DB_MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_HEAD_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const BLOB_TAIL_MAGIC: u32 = u32::from_le_bytes(*b"BlbE");
const HEADER_SIZE: usize = 32;
const SLOT_SIZE: usize = 16;
const BLOCK_SIZE: usize = 16;
const SLOT_PAGE_SIZE: usize = 4096;
const BLOB_HEAD_SIZE: usize = 16;
const BLOB_TAIL_SIZE: usize = 12;

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(raw))
}

/// True when `bytes` start like an NDB `Packages.db`.
pub fn is_ndb(bytes: &[u8]) -> bool {
    le32(bytes, 0) == Some(DB_MAGIC)
}

/// Reads every package header blob from an NDB `Packages.db`.
pub fn header_blobs(bytes: &[u8]) -> Result<Blobs, String> {
    if !is_ndb(bytes) {
        return Err("not an rpm NDB database".into());
    }
    let version = le32(bytes, 4).unwrap_or(u32::MAX);
    if version != 0 {
        return Err(format!("NDB version {version} is not supported"));
    }
    let slot_pages = le32(bytes, 12).unwrap_or(0) as usize;
    let slots_end = slot_pages.saturating_mul(SLOT_PAGE_SIZE);
    if slot_pages == 0 || slots_end > bytes.len() {
        return Err(format!(
            "the database claims {slot_pages} slot pages but the file holds {} bytes",
            bytes.len()
        ));
    }
    let first_block = slots_end / BLOCK_SIZE;
    let mut out = Blobs::default();
    for at in (HEADER_SIZE..slots_end).step_by(SLOT_SIZE) {
        let field = |n: usize| le32(bytes, at + 4 * n).unwrap_or(0);
        if field(0) != SLOT_MAGIC {
            return Err(format!("bad slot magic at byte {at}"));
        }
        let (index, block, count) = (field(1), field(2) as usize, field(3) as usize);
        if block == 0 {
            continue; // a free slot
        }
        match blob(bytes, index, block, count, first_block) {
            Ok(b) => out.blobs.push(b.to_vec()),
            Err(e) => out
                .warnings
                .push(format!("package {index}: {e}; it is missing")),
        }
    }
    Ok(out)
}

/// The blob of package `index`, stored in `count` blocks from block `block`.
fn blob(
    bytes: &[u8],
    index: u32,
    block: usize,
    count: usize,
    first_block: usize,
) -> Result<&[u8], String> {
    let start = block.saturating_mul(BLOCK_SIZE);
    let end = start.saturating_add(count.saturating_mul(BLOCK_SIZE));
    if index == 0 || block < first_block || end > bytes.len() {
        return Err(format!(
            "its slot points to blocks {block}+{count}, outside the data area"
        ));
    }
    let stored = &bytes[start..end];
    if le32(stored, 0) != Some(BLOB_HEAD_MAGIC) || le32(stored, 4) != Some(index) {
        return Err("its blob head is damaged".into());
    }
    let length = le32(stored, 12).unwrap_or(0) as usize;
    if count != (BLOB_HEAD_SIZE + length + BLOB_TAIL_SIZE).div_ceil(BLOCK_SIZE) {
        return Err(format!(
            "its blob length {length} does not fit its {count} blocks"
        ));
    }
    let tail = stored.len() - BLOB_TAIL_SIZE;
    if le32(stored, tail + 4) != Some(length as u32)
        || le32(stored, tail + 8) != Some(BLOB_TAIL_MAGIC)
    {
        return Err("its blob tail is damaged".into());
    }
    if le32(stored, tail) != Some(adler2::adler32_slice(&stored[..tail])) {
        return Err("its blob checksum does not match".into());
    }
    Ok(&stored[BLOB_HEAD_SIZE..BLOB_HEAD_SIZE + length])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_count_past_the_file_is_an_error() {
        let mut bytes = vec![0u8; 64];
        bytes[0..4].copy_from_slice(b"RpmP");
        bytes[12..16].copy_from_slice(&3u32.to_le_bytes());
        assert!(header_blobs(&bytes)
            .err()
            .unwrap()
            .contains("claims 3 slot pages"));
    }

    #[test]
    fn an_unknown_version_is_an_error() {
        let mut bytes = vec![0u8; 64];
        bytes[0..4].copy_from_slice(b"RpmP");
        bytes[4..8].copy_from_slice(&7u32.to_le_bytes());
        assert!(header_blobs(&bytes).err().unwrap().contains("version 7"));
    }
}
