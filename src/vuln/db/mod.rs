//! An offline OSV database, read in place: a directory of OSV JSON records (any depth), and/or the
//! per-ecosystem `all.zip` files osv.dev publishes (entries decompressed one at a time in memory,
//! nothing unpacked to disk). Only records about the packages being matched are kept: each record is
//! first read shallowly (ids and affected package names), and parsed whole only when it names one of
//! them. A damaged record costs that record, with a warning naming it.
//!
//! [`store`] is the local database `docker vouch db update` keeps ([`update`]) and that the
//! commands read when no `--vuln-db` is given.

pub mod store;
pub mod update;

use super::ecosystem::{normalize, scheme_of, Key};
use super::osv::Record;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::Path;

/// Largest record read (the biggest real OSV records are a few hundred KB).
const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// Why the database could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{path}: cannot read the vulnerability database: {detail}")]
    Unreadable { path: String, detail: String },
    #[error("{path}: not an OSV database (a directory of OSV JSON records or an osv.dev all.zip)")]
    NotADatabase { path: String },
}

/// The records that matter for one scan.
#[derive(Debug, Default)]
pub struct Database {
    pub records: HashMap<Key, Vec<std::sync::Arc<Record>>>,
    /// Records read (shallowly), in all.
    pub records_read: usize,
    pub warnings: Vec<String>,
    /// Ecosystems the records named that vouch does not match, with one record id each.
    unknown_ecosystems: BTreeMap<String, (String, usize)>,
}

/// A record read shallowly: its id, when it was modified, and the packages it names.
#[derive(Deserialize)]
struct Shallow {
    id: Option<String>,
    modified: Option<String>,
    #[serde(default)]
    affected: Vec<ShallowAffected>,
}

#[derive(Deserialize)]
struct ShallowAffected {
    package: Option<ShallowPackage>,
}

#[derive(Deserialize)]
struct ShallowPackage {
    ecosystem: String,
    name: String,
}

impl Database {
    /// Reads the database at `path`, keeping the records about `wanted` packages.
    pub fn load(path: &Path, wanted: &HashSet<Key>) -> Result<Database, DbError> {
        let mut db = Database::default();
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| DbError::Unreadable {
            path: shown.clone(),
            detail: e.to_string(),
        })?;
        if meta.is_dir() {
            db.read_dir(path, wanted)?;
        } else if is_zip(path) {
            db.read_zip(path, wanted)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            db.read_json_file(path, wanted);
        } else {
            return Err(DbError::NotADatabase { path: shown });
        }
        for (ecosystem, (example, count)) in std::mem::take(&mut db.unknown_ecosystems) {
            db.warnings.push(format!(
                "{count} record(s) of ecosystem `{ecosystem}` (e.g. {example}) are not matched: vouch does not catalog it"
            ));
        }
        Ok(db)
    }

    fn read_dir(&mut self, dir: &Path, wanted: &HashSet<Key>) -> Result<(), DbError> {
        let entries = std::fs::read_dir(dir).map_err(|e| DbError::Unreadable {
            path: dir.display().to_string(),
            detail: e.to_string(),
        })?;
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if path.is_dir() {
                self.read_dir(&path, wanted)?;
            } else if path.extension().is_some_and(|e| e == "json") {
                self.read_json_file(&path, wanted);
            } else if is_zip(&path) {
                if let Err(e) = self.read_zip(&path, wanted) {
                    self.warnings.push(e.to_string());
                }
            }
        }
        Ok(())
    }

    fn read_json_file(&mut self, path: &Path, wanted: &HashSet<Key>) {
        let shown = path.display().to_string();
        match std::fs::File::open(path).and_then(|f| read_capped(f, 0)) {
            Ok(bytes) => self.add(&bytes, &shown, wanted),
            Err(e) => self.warnings.push(format!("{shown}: {e}; skipped")),
        }
    }

    /// Reads an all.zip: its central directory parsed once, and its entries shared out among the
    /// cores, each reading through its own [`PositionalReader`] (the file is never held in memory:
    /// an all.zip runs to hundreds of megabytes); each entry is inflated in memory on its own.
    fn read_zip(&mut self, path: &Path, wanted: &HashSet<Key>) -> Result<(), DbError> {
        let shown = path.display().to_string();
        let unreadable = |detail: String| DbError::Unreadable {
            path: shown.clone(),
            detail,
        };
        let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
        let archive = zip::ZipArchive::new(PositionalReader::new(file))
            .map_err(|e| unreadable(format!("not a readable zip ({e})")))?;
        let entries = archive.len();
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8)
            .min(entries.max(1));
        let parts: Vec<Database> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|part| {
                    let mut archive = archive.clone();
                    let shown = &shown;
                    scope.spawn(move || {
                        let mut db = Database::default();
                        for index in (part..entries).step_by(threads) {
                            db.read_zip_entry(&mut archive, index, shown, wanted);
                        }
                        db
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        for part in parts {
            self.merge(part);
        }
        Ok(())
    }

    fn read_zip_entry<R: Read + std::io::Seek>(
        &mut self,
        archive: &mut zip::ZipArchive<R>,
        index: usize,
        shown: &str,
        wanted: &HashSet<Key>,
    ) {
        let mut entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(e) => {
                self.warnings
                    .push(format!("{shown}: entry {index}: {e}; skipped"));
                return;
            }
        };
        if entry.is_dir() || !entry.name().ends_with(".json") {
            return;
        }
        let name = format!("{shown}:{}", entry.name());
        if entry.size() > MAX_RECORD_BYTES {
            self.warnings.push(format!(
                "{name}: {} bytes is more than a record can be; skipped",
                entry.size()
            ));
            return;
        }
        let capacity = entry_size_hint(entry.size());
        match read_capped(&mut entry, capacity) {
            Ok(bytes) => self.add(&bytes, &name, wanted),
            Err(e) => self.warnings.push(format!("{name}: {e}; skipped")),
        }
    }

    /// Takes in what another part of the load found.
    fn merge(&mut self, other: Database) {
        for (key, records) in other.records {
            self.records.entry(key).or_default().extend(records);
        }
        self.records_read += other.records_read;
        self.warnings.extend(other.warnings);
        for (ecosystem, (example, count)) in other.unknown_ecosystems {
            let entry = self
                .unknown_ecosystems
                .entry(ecosystem)
                .or_insert_with(|| (example, 0));
            entry.1 += count;
        }
    }

    /// Reads one record: shallowly, then whole if it names a wanted package.
    fn add(&mut self, bytes: &[u8], origin: &str, wanted: &HashSet<Key>) {
        self.records_read += 1;
        let shallow: Shallow = match serde_json::from_slice(bytes) {
            Ok(s) => s,
            Err(e) => {
                self.warnings
                    .push(format!("{origin}: not an OSV record ({e}); skipped"));
                return;
            }
        };
        let id = shallow.id.clone().unwrap_or_else(|| origin.to_string());
        let mut keys = Vec::new();
        for affected in &shallow.affected {
            let Some(package) = &affected.package else {
                continue;
            };
            if scheme_of(&package.ecosystem).is_none() {
                let entry = self
                    .unknown_ecosystems
                    .entry(package.ecosystem.clone())
                    .or_insert_with(|| (id.clone(), 0));
                entry.1 += 1;
                continue;
            }
            let key = Key {
                ecosystem: normalize(&package.ecosystem).to_string(),
                name: package.name.clone(),
            };
            if wanted.contains(&key) && !keys.contains(&key) {
                keys.push(key);
            }
        }
        if keys.is_empty() {
            return;
        }
        let record: Record = match serde_json::from_slice(bytes) {
            Ok(r) => r,
            Err(e) => {
                self.warnings.push(format!(
                    "OSV record {id} ({origin}) does not follow the OSV schema ({e}); skipped"
                ));
                return;
            }
        };
        if record.withdrawn.is_some() {
            return;
        }
        let record = std::sync::Arc::new(record);
        for key in keys {
            self.records.entry(key).or_default().push(record.clone());
        }
    }
}

/// A buffered reader over a shared file that reads with `pread`, so that clones (one per thread)
/// each keep their own position, and that keeps its buffer across seeks that land inside it: the
/// zip reader seeks to every entry's header, and a thread's next entry is usually a few hundred
/// bytes further on.
struct PositionalReader {
    file: std::sync::Arc<std::fs::File>,
    pos: u64,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    buf_start: u64,
}

/// Bytes read from the file at a time.
const READ_AHEAD: usize = 64 * 1024;

impl PositionalReader {
    fn new(file: std::fs::File) -> PositionalReader {
        PositionalReader {
            file: std::sync::Arc::new(file),
            pos: 0,
            buf: Vec::new(),
            buf_start: 0,
        }
    }
}

impl Clone for PositionalReader {
    fn clone(&self) -> PositionalReader {
        PositionalReader {
            file: self.file.clone(),
            pos: self.pos,
            buf: Vec::new(),
            buf_start: 0,
        }
    }
}

impl Read for PositionalReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let buffered =
            self.pos >= self.buf_start && self.pos < self.buf_start + self.buf.len() as u64;
        if !buffered {
            if out.len() >= READ_AHEAD {
                let n = self.file.read_at(out, self.pos)?;
                self.pos += n as u64;
                return Ok(n);
            }
            self.buf.resize(READ_AHEAD, 0);
            let n = self.file.read_at(&mut self.buf, self.pos)?;
            self.buf.truncate(n);
            self.buf_start = self.pos;
            if n == 0 {
                return Ok(0);
            }
        }
        let offset = (self.pos - self.buf_start) as usize;
        let n = out.len().min(self.buf.len() - offset);
        out[..n].copy_from_slice(&self.buf[offset..offset + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for PositionalReader {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            std::io::SeekFrom::Start(n) => Some(n),
            std::io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            std::io::SeekFrom::End(d) => self.file.metadata()?.len().checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.pos)
    }
}

fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"PK\x03\x04"
}

/// Capacity to reserve for an entry that says it is `size` bytes (it may lie: the read is capped).
fn entry_size_hint(size: u64) -> usize {
    size.min(MAX_RECORD_BYTES) as usize
}

fn read_capped(reader: impl Read, capacity: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(capacity);
    reader.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(std::io::Error::other(format!(
            "more than {MAX_RECORD_BYTES} bytes, more than a record can be"
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom};

    #[test]
    fn positional_reader_reads_seeks_and_clones_independently() {
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &bytes).unwrap();
        let mut reader = PositionalReader::new(std::fs::File::open(file.path()).unwrap());
        let mut out = [0u8; 100];
        reader.seek(SeekFrom::Start(70_000)).unwrap();
        reader.read_exact(&mut out).unwrap();
        assert_eq!(&out[..], &bytes[70_000..70_100]);
        // Backwards inside the buffer, then past its end (a read straddling two fills).
        reader.seek(SeekFrom::Current(-150)).unwrap();
        reader.read_exact(&mut out).unwrap();
        assert_eq!(&out[..], &bytes[69_950..70_050]);
        reader
            .seek(SeekFrom::Start(70_000 + READ_AHEAD as u64 - 30))
            .unwrap();
        reader.read_exact(&mut out).unwrap();
        let at = 70_000 + READ_AHEAD - 30;
        assert_eq!(&out[..], &bytes[at..at + 100]);
        // A clone keeps its own position.
        let mut other = reader.clone();
        other.seek(SeekFrom::Start(5)).unwrap();
        other.read_exact(&mut out[..10]).unwrap();
        assert_eq!(&out[..10], &bytes[5..15]);
        reader.read_exact(&mut out[..10]).unwrap();
        assert_eq!(&out[..10], &bytes[at + 100..at + 110]);
        // The end: short reads, then nothing; reading a large block bypasses the buffer.
        reader.seek(SeekFrom::End(-10)).unwrap();
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, &bytes[bytes.len() - 10..]);
        let mut big = vec![0u8; READ_AHEAD * 2];
        reader.seek(SeekFrom::Start(1)).unwrap();
        reader.read_exact(&mut big).unwrap();
        assert_eq!(big, &bytes[1..1 + READ_AHEAD * 2]);
        assert!(reader.seek(SeekFrom::Current(-1_000_000)).is_err());
    }
}
