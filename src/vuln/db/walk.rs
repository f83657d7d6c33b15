//! Every record of an OSV database visited once, wherever it is: a directory of records and/or
//! all.zip files (any depth, in path order), one zip, or one record file. A zip's central directory
//! is parsed once and its entries shared out among the cores, each thread reading through its own
//! [`PositionalReader`] (the file is never held in memory: an all.zip runs to hundreds of megabytes)
//! into a part of its own, merged at the end; each entry is inflated in memory on its own, within
//! the record cap. Loading a database ([`super::Database::load`]) and indexing one
//! ([`super::index::Index::build`]) are two visitors of this one walk.

use super::{is_zip, read_capped, DbError, PositionalReader, MAX_RECORD_BYTES};
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
/// record, a warning when it cannot be read.
pub(super) fn read_entry(
    archive: &mut zip::ZipArchive<PositionalReader>,
    index: usize,
    shown: &str,
) -> Result<Option<(String, Vec<u8>)>, String> {
    let mut entry = archive
        .by_index(index)
        .map_err(|e| format!("{shown}: entry {index}: {e}; skipped"))?;
    if entry.is_dir() || !entry.name().ends_with(".json") {
        return Ok(None);
    }
    let name = format!("{shown}:{}", entry.name());
    if entry.size() > MAX_RECORD_BYTES {
        return Err(format!(
            "{name}: {} bytes is more than a record can be; skipped",
            entry.size()
        ));
    }
    // Reserve what the entry says it is (it may lie: the read is capped).
    let capacity = entry.size().min(MAX_RECORD_BYTES) as usize;
    read_capped(&mut entry, capacity)
        .map(|bytes| Some((name.clone(), bytes)))
        .map_err(|e| format!("{name}: {e}; skipped"))
}
