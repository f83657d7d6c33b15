//! The zip format's fixed records, as APPNOTE.TXT lays them out: their signatures, their
//! little-endian fields and the zip64 extended-information extra field. Shared by the two zip
//! readers vouch has beside the `zip` crate: `catalog::zipstream` (archives inside layers, walked
//! front to back as a stream) and `vuln::db::entries` (an all.zip checked through its central
//! directory, one entry at a time).

/// A local file header.
pub const LOCAL_HEADER: u32 = 0x0403_4b50;
/// A central directory entry.
pub const CENTRAL_HEADER: u32 = 0x0201_4b50;
/// The end of central directory record.
pub const END: u32 = 0x0605_4b50;
/// The zip64 end of central directory record.
pub const END64: u32 = 0x0606_4b50;
/// The zip64 end of central directory locator.
pub const END64_LOCATOR: u32 = 0x0706_4b50;
/// The extra field's id of zip64 sizes and offsets.
const ZIP64_EXTRA: u16 = 0x0001;

/// The little-endian `u16` at `at`; 0 past the end (callers read records whose length they hold).
pub fn u16_at(bytes: &[u8], at: usize) -> u16 {
    bytes
        .get(at..at + 2)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
}

/// The little-endian `u32` at `at`; 0 past the end.
pub fn u32_at(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The little-endian `u64` at `at`; 0 past the end.
pub fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from(u32_at(bytes, at)) | (u64::from(u32_at(bytes, at + 4)) << 32)
}

/// The data of the zip64 extra field among an entry's `extra` fields: the 8-byte values of the
/// header fields that hold 0xFFFFFFFF, in the order uncompressed size, compressed size, local
/// header offset. `None` when there is none, or the fields are damaged before it.
pub fn zip64_extra(mut extra: &[u8]) -> Option<&[u8]> {
    while extra.len() >= 4 {
        let (id, len) = (u16_at(extra, 0), usize::from(u16_at(extra, 2)));
        let data = extra.get(4..4 + len)?;
        if id == ZIP64_EXTRA {
            return Some(data);
        }
        extra = &extra[4 + len..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_the_zip64_extra() {
        let bytes = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(u16_at(&bytes, 0), 0x0201);
        assert_eq!(u32_at(&bytes, 4), 0x0807_0605);
        assert_eq!(u64_at(&bytes, 0), 0x0807_0605_0403_0201);
        assert_eq!(u32_at(&bytes, 6), 0, "past the end");
        // An unrelated field (0x5455, extended time), then the zip64 one.
        let extra = [0x55, 0x54, 1, 0, 9, 1, 0, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(zip64_extra(&extra), Some(&bytes[..]));
        assert_eq!(zip64_extra(&extra[..5]), None);
        assert_eq!(
            zip64_extra(&[0x55, 0x54, 200, 0, 1]),
            None,
            "a length past the end"
        );
    }
}
