//! Every record of an OSV database visited once, wherever it is: a directory of records and/or
//! all.zip files (any depth, in path order), one zip, or one record file. A zip's central directory
//! is parsed once and its entries shared out among the cores, each thread reading through its own
//! [`PositionalReader`] (the file is never held in memory: an all.zip runs to hundreds of megabytes)
//! into a part of its own, merged at the end; each entry is inflated in memory on its own, within
//! the record cap. Loading a database ([`super::Database::load`]) and indexing one
//! ([`super::index::Index::build`]) are two visitors of this one walk.

use super::{is_zip, read_capped, DbError, PositionalReader, MAX_RECORD_BYTES};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where a record is: what the index keeps to read it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Place {
    /// Entry `entry` of the zip numbered `zip` in [`Opened::zips`].
    Zip { zip: u32, entry: u32 },
    /// The file numbered `file` in [`Opened::files`].
    File(u32),
}

/// What a walk does with each record.
pub(super) trait Visitor: Send + Sized {
    fn record(&mut self, bytes: &[u8], origin: &str, place: Place);
    fn warn(&mut self, warning: String);
    /// Takes in what another thread's part visited.
    fn merge(&mut self, other: Self);
}

/// The zips and record files a walk opened, numbered as [`Place`]s name them.
#[derive(Default)]
pub(super) struct Opened {
    pub zips: Vec<(String, zip::ZipArchive<PositionalReader>)>,
    pub files: Vec<PathBuf>,
}

/// Visits every record of the database at `path`; `fresh` makes the visitor of each thread's part
/// of a zip.
pub(super) fn walk<V: Visitor>(
    path: &Path,
    found: &mut V,
    fresh: &(dyn Fn() -> V + Sync),
    opened: &mut Opened,
) -> Result<(), DbError> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| DbError::Unreadable {
        path: shown.clone(),
        detail: e.to_string(),
    })?;
    if meta.is_dir() {
        walk_dir(path, found, fresh, opened)
    } else if is_zip(path) {
        walk_zip(path, found, fresh, opened)
    } else if path.extension().is_some_and(|e| e == "json") {
        visit_file(path, found, opened);
        Ok(())
    } else {
        Err(DbError::NotADatabase { path: shown })
    }
}

fn walk_dir<V: Visitor>(
    dir: &Path,
    found: &mut V,
    fresh: &(dyn Fn() -> V + Sync),
    opened: &mut Opened,
) -> Result<(), DbError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DbError::Unreadable {
        path: dir.display().to_string(),
        detail: e.to_string(),
    })?;
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk_dir(&path, found, fresh, opened)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            visit_file(&path, found, opened);
        } else if is_zip(&path) {
            if let Err(e) = walk_zip(&path, found, fresh, opened) {
                found.warn(e.to_string());
            }
        }
    }
    Ok(())
}

fn visit_file<V: Visitor>(path: &Path, found: &mut V, opened: &mut Opened) {
    let shown = path.display().to_string();
    match std::fs::File::open(path).and_then(|f| read_capped(f, 0)) {
        Ok(bytes) => {
            let place = Place::File(opened.files.len() as u32);
            opened.files.push(path.to_path_buf());
            found.record(&bytes, &shown, place);
        }
        Err(e) => found.warn(format!("{shown}: {e}; skipped")),
    }
}

fn walk_zip<V: Visitor>(
    path: &Path,
    found: &mut V,
    fresh: &(dyn Fn() -> V + Sync),
    opened: &mut Opened,
) -> Result<(), DbError> {
    let shown = path.display().to_string();
    let unreadable = |detail: String| DbError::Unreadable {
        path: shown.clone(),
        detail,
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let archive = zip::ZipArchive::new(PositionalReader::new(file))
        .map_err(|e| unreadable(format!("not a readable zip ({e})")))?;
    let zip = opened.zips.len() as u32;
    let entries = archive.len();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
        .min(entries.max(1));
    let parts: Vec<V> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|part| {
                let mut archive = archive.clone();
                let shown = &shown;
                scope.spawn(move || {
                    let mut found = fresh();
                    for entry in (part..entries).step_by(threads) {
                        match read_entry(&mut archive, entry, shown) {
                            Ok(Some((name, bytes))) => found.record(
                                &bytes,
                                &name,
                                Place::Zip {
                                    zip,
                                    entry: entry as u32,
                                },
                            ),
                            Ok(None) => {}
                            Err(warning) => found.warn(warning),
                        }
                    }
                    found
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    let mut lost = fresh();
                    lost.warn(format!("{shown}: a part of the zip could not be read"));
                    lost
                })
            })
            .collect()
    });
    for part in parts {
        found.merge(part);
    }
    opened.zips.push((shown, archive));
    Ok(())
}

/// Entry `index` of `archive`: its name (`ZIP:NAME`) and bytes, `None` for what is not a JSON
/// record, a warning when it cannot be read. The entry's raw bytes are inflated here, by an inflater
/// each thread keeps (a fresh one per entry, as the zip reader makes, costs more than a small
/// record's inflating), within the record cap, and checked against the entry's CRC-32.
pub(super) fn read_entry(
    archive: &mut zip::ZipArchive<PositionalReader>,
    index: usize,
    shown: &str,
) -> Result<Option<(String, Vec<u8>)>, String> {
    let entry = archive
        .by_index_raw(index)
        .map_err(|e| format!("{shown}: entry {index}: {e}; skipped"))?;
    if entry.is_dir() || !entry.name().ends_with(".json") {
        return Ok(None);
    }
    let name = format!("{shown}:{}", entry.name());
    let (size, packed, crc, method) = (
        entry.size(),
        entry.compressed_size(),
        entry.crc32(),
        entry.compression(),
    );
    if size > MAX_RECORD_BYTES || packed > MAX_RECORD_BYTES {
        return Err(format!(
            "{name}: {size} bytes is more than a record can be; skipped"
        ));
    }
    let mut raw = Vec::with_capacity(packed as usize);
    entry
        .take(packed)
        .read_to_end(&mut raw)
        .map_err(|e| format!("{name}: {e}; skipped"))?;
    let bytes = match method {
        zip::CompressionMethod::Stored => raw,
        zip::CompressionMethod::Deflated => {
            inflate(&raw, size).map_err(|e| format!("{name}: does not inflate ({e}); skipped"))?
        }
        other => {
            return Err(format!(
                "{name}: compressed with {other}, which vouch does not read; skipped"
            ))
        }
    };
    if bytes.len() as u64 != size || crc32fast::hash(&bytes) != crc {
        return Err(format!(
            "{name}: its bytes do not match the zip's size and CRC-32 (damaged); skipped"
        ));
    }
    Ok(Some((name, bytes)))
}

thread_local! {
    /// The raw-deflate inflater of this thread, reset for each entry.
    static INFLATER: std::cell::RefCell<flate2::Decompress> =
        std::cell::RefCell::new(flate2::Decompress::new(false));
}

/// Inflates a raw deflate stream said to be `size` bytes (read no further than the record cap).
pub(super) fn inflate(raw: &[u8], size: u64) -> Result<Vec<u8>, String> {
    INFLATER.with(|cell| {
        let mut inflater = cell.borrow_mut();
        inflater.reset(false);
        let mut out = Vec::with_capacity(size.min(MAX_RECORD_BYTES) as usize + 1);
        loop {
            if out.len() == out.capacity() {
                if out.len() as u64 > MAX_RECORD_BYTES {
                    return Err("more than a record can be".into());
                }
                out.reserve(out.capacity().max(4096));
            }
            let consumed = inflater.total_in() as usize;
            let produced = inflater.total_out();
            let rest = raw.get(consumed..).unwrap_or_default();
            let status = inflater
                .decompress_vec(rest, &mut out, flate2::FlushDecompress::Finish)
                .map_err(|e| e.to_string())?;
            if status == flate2::Status::StreamEnd {
                return Ok(out);
            }
            let stalled =
                inflater.total_in() as usize == consumed && inflater.total_out() == produced;
            if stalled && out.len() < out.capacity() {
                return Err("the stream ends early".into());
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(method: zip::CompressionMethod, body: &[u8]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut writer = zip::ZipWriter::new(file.reopen().unwrap());
        writer
            .start_file(
                "A-1.json",
                zip::write::SimpleFileOptions::default().compression_method(method),
            )
            .unwrap();
        writer.write_all(body).unwrap();
        writer.finish().unwrap();
        file
    }

    fn archive(file: &tempfile::NamedTempFile) -> zip::ZipArchive<PositionalReader> {
        zip::ZipArchive::new(PositionalReader::new(file.reopen().unwrap())).unwrap()
    }

    /// Entries are inflated (or taken as stored) and checked against their CRC-32: a damaged one is
    /// a warning naming it, never a record.
    #[test]
    fn entries_are_inflated_and_checked() {
        let body = br#"{"id":"A-1","affected":[]}"#.repeat(50);
        for method in [
            zip::CompressionMethod::Deflated,
            zip::CompressionMethod::Stored,
        ] {
            let file = zip_with(method, &body);
            let (name, bytes) = read_entry(&mut archive(&file), 0, "db.zip")
                .unwrap()
                .unwrap();
            assert_eq!(name, "db.zip:A-1.json");
            assert_eq!(bytes, body);
            // One byte of the data changed (past the local header and the name).
            let mut damaged = std::fs::read(file.path()).unwrap();
            damaged[30 + "A-1.json".len() + 5] ^= 0x01;
            std::fs::write(file.path(), &damaged).unwrap();
            let err = read_entry(&mut archive(&file), 0, "db.zip").unwrap_err();
            assert!(
                err.contains("CRC-32") || err.contains("does not inflate"),
                "{method:?}: {err}"
            );
        }
    }
}
