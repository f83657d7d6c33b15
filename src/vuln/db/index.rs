//! An OSV database indexed once, matched many times: where a long-running judge (`serve
//! --rejudge`, `verify --rejudge` over several sets, the re-judgment benchmark) needs the records of
//! one SBOM after another. [`Index::build`] reads every record shallowly, as [`Database::load`]
//! does, but keeps only where each package's records are (a zip entry's number, or a file); then
//! [`Index::load`] reads and parses just the records of the packages one SBOM names, from the zips
//! in place. The index holds package names and places (some 30 bytes per package a record names),
//! and the records loads parsed, up to [`CACHE_BYTES`] of their JSON, for the loads to come.

use super::walk::{read_entry, walk, Opened, Place, Visitor};
use super::{read_capped, shallow_keys, Database, DbError, PositionalReader, Unknown};
use crate::vuln::ecosystem::Key;
use crate::vuln::osv::Record;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Fewer places than this are read on one thread (a thread costs more than it saves).
const MIN_PLACES_PER_THREAD: usize = 256;

/// How much record JSON an index keeps parsed for the loads to come, counted by the records' JSON
/// size (a parsed record, without its details and references, is smaller): an SBOM judged again
/// shares most of its records with the images judged before it.
const CACHE_BYTES: usize = 256 * 1024 * 1024;

/// Parsed records by place, and the JSON bytes they were parsed from.
#[derive(Default)]
struct Cache {
    records: HashMap<Place, Arc<Record>>,
    bytes: usize,
}

/// The places of every package's records.
pub struct Index {
    opened: Opened,
    places: HashMap<Key, Vec<Place>>,
    /// Records already parsed, by place.
    cache: Mutex<Cache>,
    /// Records read (shallowly), in all.
    pub records_read: usize,
    /// What could not be read, and the ecosystems not matched.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("zips", &self.opened.zips.len())
            .field("files", &self.opened.files.len())
            .field("packages", &self.places.len())
            .field("records_read", &self.records_read)
            .finish()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the build (or one thread's part of a zip) found.
#[derive(Default)]
struct Part {
    places: HashMap<Key, Vec<Place>>,
    records_read: usize,
    warnings: Vec<String>,
    unknown: Unknown,
}

impl Visitor for Part {
    fn record(&mut self, bytes: &[u8], origin: &str, place: Place) {
        self.records_read += 1;
        match shallow_keys(bytes, origin, &mut self.unknown) {
            Ok((_, keys)) => {
                for key in keys {
                    self.places.entry(key).or_default().push(place);
                }
            }
            Err(warning) => self.warnings.push(warning),
        }
    }

    fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    fn merge(&mut self, other: Part) {
        for (key, places) in other.places {
            self.places.entry(key).or_default().extend(places);
        }
        self.records_read += other.records_read;
        self.warnings.extend(other.warnings);
        self.unknown.merge(other.unknown);
    }
}

impl Index {
    /// Indexes the database at `path` (a directory of records and/or all.zip files, a zip, or a
    /// record).
    pub fn build(path: &Path) -> Result<Index, DbError> {
        let mut found = Part::default();
        let mut opened = Opened::default();
        walk(path, &mut found, &Part::default, &mut opened)?;
        for places in found.places.values_mut() {
            places.sort();
            places.dedup();
        }
        let mut warnings = found.warnings;
        warnings.extend(found.unknown.warnings());
        Ok(Index {
            opened,
            places: found.places,
            cache: Mutex::new(Cache::default()),
            records_read: found.records_read,
            warnings,
        })
    }

    /// The records of the `wanted` packages, read and parsed now (a record that cannot be read
    /// any more costs that record, with a warning), shared out among the cores in runs of places
    /// next to each other.
    pub fn load(&self, wanted: &HashSet<Key>) -> Database {
        let mut places: Vec<Place> = wanted
            .iter()
            .filter_map(|key| self.places.get(key))
            .flatten()
            .copied()
            .collect();
        places.sort();
        places.dedup();
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8)
            .min(places.len().div_ceil(MIN_PLACES_PER_THREAD).max(1));
        let run = places.len().div_ceil(threads).max(1);
        let parts: Vec<Database> = std::thread::scope(|scope| {
            let handles: Vec<_> = places
                .chunks(run)
                .map(|chunk| scope.spawn(move || self.load_places(chunk, wanted)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut db = Database::default();
        for part in parts {
            db.merge(part);
        }
        db.records_read = self.records_read;
        db
    }

    /// The record at `place`, when a load parsed it before.
    fn cached(&self, place: &Place) -> Option<Arc<Record>> {
        lock(&self.cache).records.get(place).cloned()
    }

    /// Keeps a parsed record (of `size` JSON bytes) for the loads to come, while the cache has room
    /// (when it is full, what it holds stays: a flood of new records never flushes it).
    fn remember(&self, place: Place, record: Arc<Record>, size: usize) {
        let mut cache = lock(&self.cache);
        if cache.bytes + size <= CACHE_BYTES && cache.records.insert(place, record).is_none() {
            cache.bytes += size;
        }
    }

    fn load_places(&self, places: &[Place], wanted: &HashSet<Key>) -> Database {
        let mut db = Database::default();
        let mut archives: HashMap<u32, zip::ZipArchive<PositionalReader>> = HashMap::new();
        for place in places {
            if let Some(record) = self.cached(place) {
                db.keep_known(&record, wanted);
                continue;
            }
            let read = match *place {
                Place::Zip { zip, entry } => {
                    let Some((shown, archive)) = self.opened.zips.get(zip as usize) else {
                        continue;
                    };
                    let archive = archives.entry(zip).or_insert_with(|| archive.clone());
                    read_entry(archive, entry as usize, shown)
                }
                Place::File(number) => {
                    let Some(path) = self.opened.files.get(number as usize) else {
                        continue;
                    };
                    let shown = path.display().to_string();
                    std::fs::File::open(path)
                        .and_then(|f| read_capped(f, 0))
                        .map(|bytes| Some((shown.clone(), bytes)))
                        .map_err(|e| format!("{shown}: {e}; skipped"))
                }
            };
            match read {
                Ok(Some((name, bytes))) => {
                    if let Some(record) = db.add_known(&bytes, &name, wanted) {
                        self.remember(*place, record, bytes.len());
                    }
                }
                Ok(None) => {}
                Err(warning) => db.warnings.push(warning),
            }
        }
        db
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn record(id: &str, ecosystem: &str, name: &str) -> String {
        format!(
            r#"{{"id":"{id}","modified":"2026-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"{ecosystem}","name":"{name}"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"2.0"}}]}}]}}]}}"#
        )
    }

    /// What the index loads for a set of packages is what loading the database for them reads,
    /// from zips and loose files alike, and nothing of the other packages.
    #[test]
    fn the_index_loads_what_the_database_loads() {
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("PyPI/all.zip");
        std::fs::create_dir_all(zip_path.parent().unwrap()).unwrap();
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        for (i, name) in ["requests", "flask", "requests", "jinja2"]
            .iter()
            .enumerate()
        {
            writer
                .start_file(
                    format!("PYSEC-{i}.json"),
                    zip::write::SimpleFileOptions::default(),
                )
                .unwrap();
            writer
                .write_all(record(&format!("PYSEC-{i}"), "PyPI", name).as_bytes())
                .unwrap();
        }
        writer
            .start_file("bad.json", zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(b"<html>").unwrap();
        writer.finish().unwrap();
        std::fs::write(
            dir.path().join("GHSA-x.json"),
            record("GHSA-x", "npm", "lodash"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("other.json"),
            record("X-1", "Hackage", "aeson"),
        )
        .unwrap();

        let index = Index::build(dir.path()).unwrap();
        let key = |ecosystem: &str, name: &str| Key {
            ecosystem: ecosystem.into(),
            name: name.into(),
        };
        let wanted: HashSet<Key> = [key("PyPI", "requests"), key("npm", "lodash")].into();
        let from_index = index.load(&wanted);
        let from_db = Database::load(dir.path(), &wanted).unwrap();
        let ids = |db: &Database, k: &Key| -> Vec<String> {
            let mut ids: Vec<String> = db.records[k].iter().map(|r| r.id.clone()).collect();
            ids.sort();
            ids
        };
        for k in &wanted {
            assert_eq!(ids(&from_index, k), ids(&from_db, k), "{k:?}");
        }
        // A second load, from the records the first parsed, is the same.
        let again = index.load(&wanted);
        for k in &wanted {
            assert_eq!(ids(&again, k), ids(&from_db, k), "{k:?}");
        }
        assert_eq!(lock(&index.cache).records.len(), 3);
        assert_eq!(
            ids(&from_index, &key("PyPI", "requests")),
            ["PYSEC-0", "PYSEC-2"]
        );
        assert_eq!(from_index.records.len(), 2);
        assert_eq!(from_index.records_read, from_db.records_read);
        assert!(
            index.warnings.iter().any(|w| w.contains("bad.json")),
            "{:?}",
            index.warnings
        );
        assert!(
            index.warnings.iter().any(|w| w.contains("Hackage")),
            "{:?}",
            index.warnings
        );
        assert!(index.load(&HashSet::new()).records.is_empty());
    }
}
