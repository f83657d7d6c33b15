//! The local vulnerability database that `docker vouch db update` keeps: one osv.dev `all.zip` per
//! ecosystem under `DIR/osv/<ecosystem>/all.zip`, and `DIR/manifest.json` saying where each came
//! from, when it was fetched and last checked, its validators (ETag, Last-Modified), digest, size and
//! record count; and, when asked for, the exploitation feeds (`DIR/feeds/kev.json`,
//! `DIR/feeds/epss.csv.gz`, see [`crate::vuln::feeds`]) with the same entries. `DIR` is `$VOUCH_DB_DIR`, else `$XDG_CACHE_HOME/vouch/db`, else
//! `~/.cache/vouch/db`. The manifest is replaced atomically, after the zips it names.

use crate::vuln::feeds::Feed;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// The manifest's name in the database directory.
pub const MANIFEST: &str = "manifest.json";

/// Largest manifest read (it lists a few dozen ecosystems).
const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// The ecosystems of the images read with this database, for `db update --ecosystems auto`.
pub const SEEN: &str = "seen.json";

/// What [`SEEN`] holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Seen {
    ecosystems: std::collections::BTreeSet<String>,
}

/// Where the database lives, from the environment.
pub fn default_dir(env: &HashMap<String, String>) -> PathBuf {
    crate::fsio::cache_dir(env, "VOUCH_DB_DIR", "db")
}

/// What the manifest records of one ecosystem's zip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetched {
    /// Where it was fetched from (a URL or a path).
    pub from: String,
    /// When its current bytes were fetched (RFC 3339).
    pub fetched: String,
    /// When the source last said it was current (a 304, or the same bytes).
    pub checked: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// `sha256:<hex>` of the zip.
    pub digest: String,
    pub bytes: u64,
    pub records: u64,
}

/// The database's manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub ecosystems: BTreeMap<String, Fetched>,
    /// The exploitation feeds fetched (`kev`, `epss`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub feeds: BTreeMap<String, Fetched>,
}

/// Why the local database could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {detail}")]
    Io { path: String, detail: String },
    #[error("{path}: not a vouch database manifest ({detail})")]
    BadManifest { path: String, detail: String },
}

/// The database directory.
#[derive(Debug, Clone)]
pub struct Store {
    pub dir: PathBuf,
}

impl Store {
    pub fn new(dir: PathBuf) -> Store {
        Store { dir }
    }

    /// The directory of the zips, as `--vuln-db` reads it.
    pub fn osv_dir(&self) -> PathBuf {
        self.dir.join("osv")
    }

    /// Where an ecosystem's zip is kept.
    pub fn zip_path(&self, ecosystem: &str) -> PathBuf {
        self.osv_dir().join(ecosystem).join("all.zip")
    }

    /// Where an exploitation feed is kept (`DIR/feeds/kev.json`).
    pub fn feed_path(&self, feed: Feed) -> PathBuf {
        self.dir.join("feeds").join(feed.file_name())
    }

    /// The feed's file, when the manifest names it and it is there.
    pub fn feed(&self, manifest: &Manifest, feed: Feed) -> Option<(PathBuf, Fetched)> {
        let path = self.feed_path(feed);
        let fetched = manifest.feeds.get(feed.name())?;
        path.is_file().then(|| (path, fetched.clone()))
    }

    /// The feeds the manifest names that are there, as sources of exploitation data.
    pub fn feed_files(&self, manifest: &Manifest) -> Vec<crate::vuln::sources::FeedFile> {
        Feed::ALL
            .into_iter()
            .filter_map(|feed| {
                self.feed(manifest, feed)
                    .map(|(path, fetched)| crate::vuln::sources::FeedFile {
                        feed,
                        path,
                        digest: fetched.digest,
                    })
            })
            .collect()
    }

    /// The manifest; an empty one when the database was never updated.
    pub fn manifest(&self) -> Result<Manifest, StoreError> {
        let path = self.dir.join(MANIFEST);
        let shown = path.display().to_string();
        if !path.exists() {
            return Ok(Manifest::default());
        }
        let bytes = crate::fsio::read_limited(&path, MAX_MANIFEST_BYTES).map_err(|detail| {
            StoreError::Io {
                path: shown.clone(),
                detail,
            }
        })?;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::BadManifest {
            path: shown,
            detail: e.to_string(),
        })
    }

    /// The ecosystems (osv.dev's names, `Debian`, `PyPI`) of the packages of the images judged with
    /// this database; empty when none was, or the record cannot be read.
    pub fn seen(&self) -> std::collections::BTreeSet<String> {
        crate::fsio::read_limited(&self.dir.join(SEEN), MAX_MANIFEST_BYTES)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Seen>(&bytes).ok())
            .map(|seen| seen.ecosystems)
            .unwrap_or_default()
    }

    /// Adds `ecosystems` to those [`Store::seen`] lists (written only when one is new, beside the
    /// old record and renamed over it).
    pub fn remember(
        &self,
        ecosystems: &std::collections::BTreeSet<String>,
    ) -> Result<(), StoreError> {
        let mut seen = Seen {
            ecosystems: self.seen(),
        };
        let before = seen.ecosystems.len();
        seen.ecosystems.extend(ecosystems.iter().cloned());
        if seen.ecosystems.len() == before {
            return Ok(());
        }
        self.replace(SEEN, &seen)
    }

    /// Replaces the manifest (written beside it, then renamed over it).
    pub fn write_manifest(&self, manifest: &Manifest) -> Result<(), StoreError> {
        self.replace(MANIFEST, manifest)
    }

    /// Replaces the JSON file `name` of the directory with `value` (written beside it under a name
    /// of this process, then renamed over it).
    fn replace(&self, name: &str, value: &impl Serialize) -> Result<(), StoreError> {
        let path = self.dir.join(name);
        let io = |e: std::io::Error| StoreError::Io {
            path: path.display().to_string(),
            detail: e.to_string(),
        };
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| StoreError::Io {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        bytes.push(b'\n');
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let partial = self
            .dir
            .join(format!(".{name}.{}.partial", std::process::id()));
        std::fs::write(&partial, &bytes).map_err(io)?;
        std::fs::rename(&partial, &path).map_err(io)
    }
}

pub use crate::clock::{age_seconds, describe_age};

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_directory_comes_from_the_environment() {
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            default_dir(&env(&[("VOUCH_DB_DIR", "/db"), ("HOME", "/h")])),
            Path::new("/db")
        );
        assert_eq!(
            default_dir(&env(&[("XDG_CACHE_HOME", "/c"), ("HOME", "/h")])),
            Path::new("/c/vouch/db")
        );
        assert_eq!(
            default_dir(&env(&[("HOME", "/h"), ("VOUCH_DB_DIR", "")])),
            Path::new("/h/.cache/vouch/db")
        );
    }

    #[test]
    fn the_ecosystems_seen_are_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("db"));
        assert!(store.seen().is_empty());
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        store.remember(&names(&["PyPI", "Debian"])).unwrap();
        store.remember(&names(&["npm", "PyPI"])).unwrap();
        assert_eq!(store.seen(), names(&["Debian", "PyPI", "npm"]));
        std::fs::write(store.dir.join(SEEN), "<html>").unwrap();
        assert!(store.seen().is_empty(), "a damaged record is no record");
    }

    #[test]
    fn a_manifest_round_trips_and_a_missing_one_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("db"));
        assert_eq!(store.manifest().unwrap(), Manifest::default());
        let mut manifest = Manifest::default();
        manifest.ecosystems.insert(
            "PyPI".into(),
            Fetched {
                from: "http://127.0.0.1:1/PyPI/all.zip".into(),
                fetched: "2026-12-01T00:00:00Z".into(),
                checked: "2026-12-01T01:00:00Z".into(),
                etag: Some("\"abc\"".into()),
                last_modified: None,
                digest: "sha256:00".into(),
                bytes: 10,
                records: 2,
            },
        );
        store.write_manifest(&manifest).unwrap();
        assert_eq!(store.manifest().unwrap(), manifest);
        std::fs::write(store.dir.join(MANIFEST), "<html>").unwrap();
        assert!(matches!(
            store.manifest(),
            Err(StoreError::BadManifest { .. })
        ));
    }
}
