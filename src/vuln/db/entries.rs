//! A zip's entries read one at a time through its central directory, holding one entry at a time:
//! how `db update` checks a fetched all.zip whole before it replaces the kept one.
//!
//! The `zip` crate (which [`super::walk`] reads databases with) parses the whole central directory
//! into memory first, about 400 bytes per entry and twice that while it builds its name index: 125
//! MiB of peak for a 200,000-record all.zip, against issue 18's 100 MiB for the whole update. No
//! crate of the field reads the directory as a stream (`rc-zip` and `piz` hold it whole too; the
//! zip crate's `read_zipfile_from_stream` walks local headers, which a hostile zip can make say
//! other than the directory every reader trusts), so the directory is read here, entry by entry,
//! and each entry's data found through its local header, which must agree with it.
//!
//! Fails closed on what vouch's reader could take differently from another's: a zip split over
//! disks, encrypted entries, a local header whose name is not the directory's, entries out of
//! order or overlapping (how zip bombs make many entries of one stream), a directory whose size and
//! count disagree, methods other than stored and deflate, and more inflated bytes in all than
//! [`MAX_RATIO`] times the zip.

use super::MAX_RECORD_BYTES;
use crate::zipfmt::{
    u16_at, u32_at, u64_at, zip64_extra, CENTRAL_HEADER as CENTRAL_SIGNATURE, END as END_SIGNATURE,
    END64 as END64_SIGNATURE, END64_LOCATOR as END64_LOCATOR_SIGNATURE,
    LOCAL_HEADER as LOCAL_SIGNATURE,
};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

const END_LEN: usize = 22;
const END64_LOCATOR_LEN: usize = 20;
const END64_LEN: usize = 56;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;

/// Most bytes inflated in all, per byte of the zip (OSV's JSON compresses about 6 to 1).
pub const MAX_RATIO: u64 = 64;

/// Where the central directory is, as the end records say.
#[derive(Debug, PartialEq, Eq)]
struct Directory {
    offset: u64,
    size: u64,
    entries: u64,
    /// Where the end records begin: the directory must end before.
    end: u64,
}

/// One central directory entry: what is needed to find, read and check its data.
struct Central {
    name: Vec<u8>,
    flags: u16,
    method: u16,
    crc: u32,
    packed: u64,
    size: u64,
    local: u64,
}

/// Calls `visit` with each entry's name and inflated, CRC-checked bytes (directories skipped), in
/// the directory's order; stops at the first error, its or the zip's. Returns the entries visited.
pub fn each(
    path: &Path,
    mut visit: impl FnMut(&str, &[u8]) -> Result<(), String>,
) -> Result<u64, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let directory = directory(&file, len).map_err(|e| format!("not a readable zip ({e})"))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file.try_clone().map_err(io)?);
    reader.seek(SeekFrom::Start(directory.offset)).map_err(io)?;
    let mut listed = reader.take(directory.size);
    let max_inflated = len.saturating_mul(MAX_RATIO);
    let (mut inflated, mut visited, mut next_free) = (0u64, 0u64, 0u64);
    let mut raw = Vec::new();
    for index in 0..directory.entries {
        let entry = central(&mut listed).map_err(|e| format!("entry {index}: {e}"))?;
        let name = String::from_utf8_lossy(&entry.name).into_owned();
        let shown = crate::text::excerpt(&name, 120);
        if entry.local < next_free {
            return Err(format!(
                "{shown}: its data overlaps the entry before it, or comes before it: \
                 not a zip vouch reads"
            ));
        }
        let data = data_start(&file, &entry).map_err(|e| format!("{shown}: {e}"))?;
        next_free = data
            .checked_add(entry.packed)
            .filter(|end| *end <= directory.offset)
            .ok_or_else(|| format!("{shown}: its data runs into the central directory"))?;
        if name.ends_with('/') {
            continue;
        }
        if entry.flags & 1 != 0 {
            return Err(format!("{shown}: encrypted"));
        }
        if entry.size > MAX_RECORD_BYTES || entry.packed > MAX_RECORD_BYTES {
            return Err(format!(
                "{shown}: {} bytes, over the {MAX_RECORD_BYTES}-byte record limit",
                entry.size.max(entry.packed)
            ));
        }
        inflated += entry.size;
        if inflated > max_inflated {
            return Err(format!(
                "{shown}: more than {MAX_RATIO} times the zip's size inflated in all: a zip bomb"
            ));
        }
        raw.resize(entry.packed as usize, 0);
        file.read_exact_at(&mut raw, data)
            .map_err(|e| format!("{shown}: {e}"))?;
        let bytes = match entry.method {
            0 => std::mem::take(&mut raw),
            8 => super::walk::inflate(&raw, entry.size)
                .map_err(|e| format!("{shown}: does not inflate ({e})"))?,
            other => {
                return Err(format!(
                    "{shown}: compressed with method {other}, which vouch does not read"
                ))
            }
        };
        if bytes.len() as u64 != entry.size || crc32fast::hash(&bytes) != entry.crc {
            return Err(format!(
                "{shown}: its bytes do not match the zip's size and CRC-32 (damaged)"
            ));
        }
        visit(&name, &bytes)?;
        if entry.method == 0 {
            raw = bytes;
        }
        visited += 1;
    }
    if listed.limit() != 0 {
        return Err(format!(
            "the central directory holds more than its {} entries: not a zip vouch reads",
            directory.entries
        ));
    }
    Ok(visited)
}

fn io(e: std::io::Error) -> String {
    e.to_string()
}

/// Finds the end of central directory record (the last one whose comment fits in the file) and,
/// when a zip64 locator precedes it, the zip64 end record it points at.
fn directory(file: &std::fs::File, len: u64) -> Result<Directory, String> {
    let tail_len = len.min((END_LEN + 0xFFFF) as u64) as usize;
    if tail_len < END_LEN {
        return Err("too short to be a zip".to_string());
    }
    let tail_start = len - tail_len as u64;
    let mut tail = vec![0; tail_len];
    file.read_exact_at(&mut tail, tail_start).map_err(io)?;
    let at = (0..=tail_len - END_LEN)
        .rev()
        .find(|&p| {
            u32_at(&tail, p) == END_SIGNATURE
                && p + END_LEN + usize::from(u16_at(&tail, p + 20)) <= tail_len
        })
        .ok_or("no end of central directory record")?;
    let end = &tail[at..];
    if u16_at(end, 4) != 0 || u16_at(end, 6) != 0 {
        return Err("a zip split over several disks, which vouch does not read".to_string());
    }
    let end_at = tail_start + at as u64;
    let mut directory = Directory {
        offset: u64::from(u32_at(end, 16)),
        size: u64::from(u32_at(end, 12)),
        entries: u64::from(u16_at(end, 10)),
        end: end_at,
    };
    if let Some(locator_at) = end_at.checked_sub(END64_LOCATOR_LEN as u64) {
        let mut locator = [0; END64_LOCATOR_LEN];
        file.read_exact_at(&mut locator, locator_at).map_err(io)?;
        if u32_at(&locator, 0) == END64_LOCATOR_SIGNATURE {
            let end64_at = u64_at(&locator, 8);
            let mut end64 = [0; END64_LEN];
            if end64_at.saturating_add(END64_LEN as u64) > locator_at
                || file.read_exact_at(&mut end64, end64_at).is_err()
                || u32_at(&end64, 0) != END64_SIGNATURE
            {
                return Err("its zip64 end record is missing or damaged".to_string());
            }
            directory = Directory {
                offset: u64_at(&end64, 48),
                size: u64_at(&end64, 40),
                entries: u64_at(&end64, 32),
                end: end64_at,
            };
        }
    }
    if directory
        .offset
        .checked_add(directory.size)
        .is_none_or(|e| e > directory.end)
    {
        return Err("its central directory lies outside the file".to_string());
    }
    // Each entry takes at least its fixed part: a count beyond that is a lie told to make work.
    if directory.entries > directory.size / CENTRAL_LEN as u64 {
        return Err(format!(
            "its central directory cannot hold the {} entries it counts",
            directory.entries
        ));
    }
    Ok(directory)
}

/// Reads one central directory entry, its zip64 sizes and offset taken from its extra field.
fn central(listed: &mut impl Read) -> Result<Central, String> {
    let mut fixed = [0; CENTRAL_LEN];
    listed
        .read_exact(&mut fixed)
        .map_err(|_| "the central directory ends early".to_string())?;
    if u32_at(&fixed, 0) != CENTRAL_SIGNATURE {
        return Err("not a central directory entry".to_string());
    }
    let lengths = [u16_at(&fixed, 28), u16_at(&fixed, 30), u16_at(&fixed, 32)];
    let mut variable = vec![0; lengths.iter().map(|l| usize::from(*l)).sum()];
    listed
        .read_exact(&mut variable)
        .map_err(|_| "the central directory ends early".to_string())?;
    let name_len = usize::from(lengths[0]);
    let extra = &variable[name_len..name_len + usize::from(lengths[1])];
    let mut entry = Central {
        name: variable[..name_len].to_vec(),
        flags: u16_at(&fixed, 8),
        method: u16_at(&fixed, 10),
        crc: u32_at(&fixed, 16),
        packed: u64::from(u32_at(&fixed, 20)),
        size: u64::from(u32_at(&fixed, 24)),
        local: u64::from(u32_at(&fixed, 42)),
    };
    if u16_at(&fixed, 34) != 0 && u16_at(&fixed, 34) != 0xFFFF {
        return Err("on another disk".to_string());
    }
    let saturated = |v: u64| v == 0xFFFF_FFFF;
    if saturated(entry.size) || saturated(entry.packed) || saturated(entry.local) {
        let zip64 = zip64_extra(extra).ok_or("a zip64 size or offset without its extra field")?;
        let mut fields = zip64.chunks_exact(8).map(|c| u64_at(c, 0));
        for value in [&mut entry.size, &mut entry.packed, &mut entry.local] {
            if saturated(*value) {
                *value = fields
                    .next()
                    .ok_or("a zip64 extra field too short for its sizes")?;
            }
        }
    }
    Ok(entry)
}

/// Where `entry`'s data begins: after its local header, which must be one and name the entry as
/// the directory does.
fn data_start(file: &std::fs::File, entry: &Central) -> Result<u64, String> {
    let mut local = vec![0; LOCAL_LEN + entry.name.len()];
    file.read_exact_at(&mut local, entry.local)
        .map_err(|_| "its local header lies outside the file".to_string())?;
    if u32_at(&local, 0) != LOCAL_SIGNATURE {
        return Err("no local header where the central directory says".to_string());
    }
    let (name_len, extra_len) = (
        usize::from(u16_at(&local, 26)),
        u64::from(u16_at(&local, 28)),
    );
    if name_len != entry.name.len() || local[LOCAL_LEN..] != entry.name[..] {
        return Err(
            "its local header names another file than the central directory: not a zip vouch reads"
                .to_string(),
        );
    }
    Ok(entry.local + (LOCAL_LEN + name_len) as u64 + extra_len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in entries {
            let options = zip::write::SimpleFileOptions::default().compression_method(method);
            writer.start_file(*name, options).unwrap();
            writer.write_all(body).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), bytes).unwrap();
        let mut seen = Vec::new();
        let count = each(file.path(), |name, data| {
            seen.push((name.to_string(), data.to_vec()));
            Ok(())
        })?;
        assert_eq!(count as usize, seen.len());
        Ok(seen)
    }

    #[test]
    fn entries_come_back_as_written_stored_or_deflated() {
        let body = br#"{"id":"A-1"}"#.repeat(40);
        for method in [
            zip::CompressionMethod::Deflated,
            zip::CompressionMethod::Stored,
        ] {
            let zip = zip_of(&[("a/A-1.json", &body), ("B-2.json", b"{}")], method);
            let seen = read_all(&zip).unwrap();
            assert_eq!(
                seen,
                vec![
                    ("a/A-1.json".to_string(), body.clone()),
                    ("B-2.json".to_string(), b"{}".to_vec())
                ]
            );
        }
    }

    /// Python's zipfile, as osv.dev's exporter and bench/osv_fixture.py write all.zip, switches to
    /// zip64 end records past 65,535 entries: the count must come from them.
    #[test]
    fn zip64_end_records_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.zip");
        let status = std::process::Command::new("python3")
            .arg("-c")
            .arg(
                "import sys, zipfile\n\
                 with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n\
                 \x20   for i in range(70000): z.writestr(f'R-{i}.json', '{\"id\":\"R-%d\"}' % i)\n",
            )
            .arg(&path)
            .status()
            .expect("python3 runs");
        assert!(status.success());
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.windows(4).any(|w| w == END64_SIGNATURE.to_le_bytes()));
        let mut last = String::new();
        let count = each(&path, |name, data| {
            assert_eq!(
                data,
                format!("{{\"id\":\"{}\"}}", name.trim_end_matches(".json")).as_bytes()
            );
            last = name.to_string();
            Ok(())
        })
        .unwrap();
        assert_eq!((count, last.as_str()), (70_000, "R-69999.json"));
    }

    #[test]
    fn damage_is_refused_with_what_is_wrong() {
        let body = br#"{"id":"A-1","affected":[]}"#.repeat(20);
        let good = zip_of(
            &[("A-1.json", &body), ("A-2.json", &body)],
            zip::CompressionMethod::Deflated,
        );
        // A byte of the first entry's data flipped.
        let mut flipped = good.clone();
        flipped[LOCAL_LEN + "A-1.json".len() + 3] ^= 0x40;
        let err = read_all(&flipped).unwrap_err();
        assert!(
            err.contains("A-1.json") && (err.contains("CRC-32") || err.contains("inflate")),
            "{err}"
        );
        // The second local header renamed: it no longer agrees with the directory.
        let mut renamed = good.clone();
        let second = good
            .windows(4)
            .enumerate()
            .filter(|(_, w)| *w == LOCAL_SIGNATURE.to_le_bytes())
            .nth(1)
            .unwrap()
            .0;
        renamed[second + LOCAL_LEN] = b'Z';
        assert!(read_all(&renamed)
            .unwrap_err()
            .contains("names another file"));
        // Cut short, or not a zip at all.
        assert!(read_all(&good[..good.len() - 30]).is_err());
        assert!(read_all(b"<html>not found</html>")
            .unwrap_err()
            .contains("not a readable zip (no end of central directory record)"));
        assert!(read_all(b"").unwrap_err().contains("too short"));
    }

    /// The classic overlapping bomb: two directory entries pointing at the same data. Each would
    /// inflate within the record cap; together they are refused, as is a count the directory
    /// cannot hold.
    #[test]
    fn overlapping_entries_and_inflated_counts_are_refused() {
        let body = br#"{"id":"A-1"}"#.repeat(20);
        let one = zip_of(&[("A-1.json", &body)], zip::CompressionMethod::Deflated);
        let cd = one
            .windows(4)
            .position(|w| w == CENTRAL_SIGNATURE.to_le_bytes())
            .unwrap();
        let end = one.len() - END_LEN;
        let entry = one[cd..end].to_vec();
        let mut twice = one[..end].to_vec();
        twice.extend_from_slice(&entry);
        let mut record = one[end..].to_vec();
        record[8..10].copy_from_slice(&2u16.to_le_bytes());
        record[10..12].copy_from_slice(&2u16.to_le_bytes());
        record[12..16].copy_from_slice(&((2 * entry.len()) as u32).to_le_bytes());
        twice.extend_from_slice(&record);
        assert!(read_all(&twice).unwrap_err().contains("overlaps"));

        let mut counted = one.clone();
        counted[end + 10..end + 12].copy_from_slice(&9u16.to_le_bytes());
        assert!(read_all(&counted).unwrap_err().contains("cannot hold"));
    }

    #[test]
    fn inflating_more_than_the_ratio_is_a_bomb() {
        let zeros = vec![b'0'; 4 * 1024 * 1024];
        let zip = zip_of(&[("Z.json", &zeros)], zip::CompressionMethod::Deflated);
        assert!((zeros.len() as u64) > zip.len() as u64 * MAX_RATIO);
        assert!(read_all(&zip).unwrap_err().contains("zip bomb"));
    }
}
