//! An offline OSV database, read in place: a directory of OSV JSON records (any depth), and/or the
//! per-ecosystem `all.zip` files osv.dev publishes (entries decompressed one at a time in memory,
//! nothing unpacked to disk). Only records about the packages being matched are kept: each record is
//! first read shallowly (ids and affected package names), and parsed whole only when it names one of
//! them. A damaged record costs that record, with a warning naming it.
//!
//! [`index`] indexes a database once for many loads. [`store`] is the local database `docker vouch db update` keeps ([`update`]) and that the
//! commands read when no `--vuln-db` is given.

mod entries;
pub mod index;
pub mod store;
pub mod update;
mod walk;

use super::ecosystem::{normalize, scheme_of, Key};
use super::osv::Record;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use walk::{walk, Opened, Place, Visitor};

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

impl DbError {
    /// Whether the user named something that is not a database (exit 2), rather than the machine
    /// failing to read one (exit 3).
    pub fn is_usage(&self) -> bool {
        matches!(self, DbError::NotADatabase { .. })
    }
}

/// The records that matter for one scan.
#[derive(Debug, Default)]
pub struct Database {
    pub records: HashMap<Key, Vec<std::sync::Arc<Record>>>,
    /// Records read (shallowly), in all.
    pub records_read: usize,
    pub warnings: Vec<String>,
    /// Ecosystems the records named that vouch does not match, with one record id each.
    unknown_ecosystems: Unknown,
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

/// A load in progress: the records about the `wanted` packages.
struct Loading<'a> {
    db: Database,
    wanted: &'a HashSet<Key>,
}

impl Visitor for Loading<'_> {
    fn record(&mut self, bytes: &[u8], origin: &str, _: Place) {
        self.db.add(bytes, origin, self.wanted);
    }

    fn warn(&mut self, warning: String) {
        self.db.warnings.push(warning);
    }

    fn merge(&mut self, other: Self) {
        self.db.merge(other.db);
    }
}

impl Database {
    /// Reads the database at `path`, keeping the records about `wanted` packages.
    pub fn load(path: &Path, wanted: &HashSet<Key>) -> Result<Database, DbError> {
        let fresh = || Loading {
            db: Database::default(),
            wanted,
        };
        let mut loading = fresh();
        walk(path, &mut loading, &fresh, &mut Opened::default())?;
        let mut db = loading.db;
        db.warnings
            .extend(std::mem::take(&mut db.unknown_ecosystems).warnings());
        Ok(db)
    }

    /// Takes in what another part of the load found.
    fn merge(&mut self, other: Database) {
        for (key, records) in other.records {
            self.records.entry(key).or_default().extend(records);
        }
        self.records_read += other.records_read;
        self.warnings.extend(other.warnings);
        self.unknown_ecosystems.merge(other.unknown_ecosystems);
    }

    /// Reads one record: shallowly, then whole if it names a wanted package.
    fn add(&mut self, bytes: &[u8], origin: &str, wanted: &HashSet<Key>) {
        self.records_read += 1;
        let (id, mut keys) = match shallow_keys(bytes, origin, &mut self.unknown_ecosystems) {
            Ok(found) => found,
            Err(warning) => return self.warnings.push(warning),
        };
        keys.retain(|key| wanted.contains(key));
        if keys.is_empty() {
            return;
        }
        match serde_json::from_slice::<Record>(bytes) {
            Ok(record) => self.keep(std::sync::Arc::new(record), keys),
            Err(e) => self.warnings.push(format!(
                "OSV record {id} ({origin}) does not follow the OSV schema ({e}); skipped"
            )),
        }
    }

    /// Reads a record known to name a wanted package (found through an index): parsed whole at
    /// once, kept under the `wanted` keys it names, and returned for the index's cache.
    fn add_known(
        &mut self,
        bytes: &[u8],
        origin: &str,
        wanted: &HashSet<Key>,
    ) -> Option<std::sync::Arc<Record>> {
        match serde_json::from_slice::<Record>(bytes) {
            Ok(record) => {
                let record = std::sync::Arc::new(record);
                self.keep_known(&record, wanted);
                Some(record)
            }
            Err(e) => {
                self.warnings.push(format!(
                    "{origin} does not follow the OSV schema ({e}); skipped"
                ));
                None
            }
        }
    }

    /// Keeps a parsed record under the `wanted` keys it names.
    fn keep_known(&mut self, record: &std::sync::Arc<Record>, wanted: &HashSet<Key>) {
        let packages = record
            .affected
            .iter()
            .filter_map(|a| a.package.as_ref())
            .map(|p| (p.ecosystem.as_str(), p.name.as_str()));
        let mut keys = keys_of(packages, &record.id, &mut Unknown::default());
        keys.retain(|key| wanted.contains(key));
        self.keep(record.clone(), keys);
    }

    /// Keeps `record` under `keys`, unless it was withdrawn.
    fn keep(&mut self, record: std::sync::Arc<Record>, keys: Vec<Key>) {
        if record.withdrawn.is_some() || keys.is_empty() {
            return;
        }
        for key in keys {
            self.records.entry(key).or_default().push(record.clone());
        }
    }
}

/// The records of ecosystems vouch does not match: ecosystem → an example record id and a count.
#[derive(Debug, Default)]
struct Unknown(BTreeMap<String, (String, usize)>);

impl Unknown {
    fn count(&mut self, ecosystem: &str, id: &str) {
        self.0
            .entry(ecosystem.to_string())
            .or_insert_with(|| (id.to_string(), 0))
            .1 += 1;
    }

    fn merge(&mut self, other: Unknown) {
        for (ecosystem, (example, count)) in other.0 {
            self.0.entry(ecosystem).or_insert((example, 0)).1 += count;
        }
    }

    /// One warning per ecosystem.
    fn warnings(self) -> impl Iterator<Item = String> {
        self.0.into_iter().map(|(ecosystem, (example, count))| {
            format!(
                "{count} record(s) of ecosystem `{ecosystem}` (e.g. {example}) are not matched: vouch does not catalog it"
            )
        })
    }
}

/// A record read shallowly: its id (else `origin`) and the lookup keys of the packages it names (see
/// [`keys_of`]); a warning when it is not an OSV record.
fn shallow_keys(
    bytes: &[u8],
    origin: &str,
    unknown: &mut Unknown,
) -> Result<(String, Vec<Key>), String> {
    let shallow: Shallow = serde_json::from_slice(bytes)
        .map_err(|e| format!("{origin}: not an OSV record ({e}); skipped"))?;
    let id = shallow.id.clone().unwrap_or_else(|| origin.to_string());
    let packages = shallow
        .affected
        .iter()
        .filter_map(|a| a.package.as_ref())
        .map(|p| (p.ecosystem.as_str(), p.name.as_str()));
    let keys = keys_of(packages, &id, unknown);
    Ok((id, keys))
}

/// The lookup keys of the packages a record names (each once), in ecosystems vouch matches; the
/// others are counted in `unknown` (ecosystem → an example record id and a count).
fn keys_of<'a>(
    packages: impl Iterator<Item = (&'a str, &'a str)>,
    id: &str,
    unknown: &mut Unknown,
) -> Vec<Key> {
    let mut keys = Vec::new();
    for (ecosystem, name) in packages {
        if scheme_of(ecosystem).is_none() {
            unknown.count(ecosystem, id);
            continue;
        }
        let key = Key {
            ecosystem: normalize(ecosystem).to_string(),
            name: name.to_string(),
        };
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// A buffered reader over a shared file that reads with `pread`, so that clones (one per thread)
/// each keep their own position, and that keeps its buffer across seeks that land inside it: the
/// zip reader seeks to every entry's header, and a thread's next entry is usually a few hundred
/// bytes further on. A read that lands just past the buffer (within [`RANDOM_READ`] of its end:
/// reading on) fills [`READ_AHEAD`]; one that jumps further (an index loading one record here, one
/// there) fills only [`RANDOM_READ`], about a small record's header and data.
struct PositionalReader {
    file: std::sync::Arc<std::fs::File>,
    pos: u64,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    buf_start: u64,
}

/// Bytes read from the file at a time, reading on.
const READ_AHEAD: usize = 64 * 1024;

/// Bytes read from the file after a jump.
const RANDOM_READ: usize = 4 * 1024;

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
            let end = self.buf_start + self.buf.len() as u64;
            let reading_on = !self.buf.is_empty()
                && self.pos >= self.buf_start
                && self.pos < end + RANDOM_READ as u64;
            let size = if reading_on {
                READ_AHEAD
            } else {
                RANDOM_READ.max(out.len())
            };
            self.buf.resize(size, 0);
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
