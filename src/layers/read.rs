//! Reading one layer tar stream into a [`LayerFiles`]: the wanted files with their bytes, every
//! symlink, the whiteouts, and the paths of all non-directory entries (hashed) so that a file
//! replacing a directory can hide what lower layers had below it.

use super::header_guard::HeaderGuard;
use super::path::{file_name, join, normalize_entry_path, parent, PathError};
use super::{Entry, EntryKind, Limits, Wanted};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::{self, Read, Seek};
use tar::EntryType;

/// Why a layer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LayerReadError {
    #[error(transparent)]
    HostilePath(#[from] PathError),
    #[error("the layer is truncated ({0})")]
    Truncated(io::Error),
    #[error("the layer is not a readable tar stream: {0}")]
    Tar(io::Error),
}

impl From<io::Error> for LayerReadError {
    fn from(e: io::Error) -> Self {
        // The tar crate reports a short stream as `Other` with these words.
        let text = e.to_string();
        if e.kind() == io::ErrorKind::UnexpectedEof
            || text.contains("unexpected EOF")
            || text.contains("failed to read entire block")
        {
            LayerReadError::Truncated(e)
        } else {
            LayerReadError::Tar(e)
        }
    }
}

/// What one layer contributes, before layers are stacked.
#[derive(Debug, Default, Clone)]
pub struct LayerFiles {
    /// Kept entries in tar order: wanted files and directories, and every symlink.
    pub entries: Vec<Entry>,
    /// Paths this layer deletes from the layers below (`.wh.NAME`).
    pub whiteouts: Vec<String>,
    /// Directories whose lower-layer contents this layer hides (`.wh..wh..opq`).
    pub opaque_dirs: Vec<String>,
    /// Sorted hashes of every non-directory path in the layer (see [`path_hash`]).
    pub non_dir_hashes: Vec<u64>,
    /// Sorted hashes of every directory path in the layer.
    pub dir_hashes: Vec<u64>,
    /// Number of entries in the layer tar.
    pub entry_count: u64,
    pub warnings: Vec<String>,
}

impl LayerFiles {
    /// True when this layer has a non-directory entry at `path`.
    pub fn has_non_dir(&self, path: &str) -> bool {
        self.non_dir_hashes.binary_search(&path_hash(path)).is_ok()
    }
}

/// A stable 64-bit hash of a normalised path (SipHash with fixed keys).
pub fn path_hash(path: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    path.hash(&mut hasher);
    hasher.finish()
}

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// Reads a whole uncompressed layer tar from `reader`, keeping what `wanted` asks for. The contents
/// of other files are skipped with forward seeks (see [`super::pipe::PipeReader`]).
pub fn read_layer<R: Read + Seek>(
    reader: R,
    wanted: &Wanted,
    limits: &Limits,
) -> Result<LayerFiles, LayerReadError> {
    let mut guard = HeaderGuard::new(reader);
    let mut layer = read_entries(&mut guard, wanted, limits)?;
    layer.warnings.append(&mut guard.warnings);
    Ok(layer)
}

fn read_entries<R: Read + Seek>(
    reader: R,
    wanted: &Wanted,
    limits: &Limits,
) -> Result<LayerFiles, LayerReadError> {
    let mut archive = tar::Archive::new(reader);
    let mut layer = LayerFiles::default();
    let mut symlinks: usize = 0;
    // Index into `layer.entries` of each kept regular file, for hardlinks to it.
    let mut kept_files: HashMap<String, usize> = HashMap::new();

    for entry in archive.entries_with_seek()? {
        let mut entry = entry?;
        layer.entry_count += 1;
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = normalize_entry_path(&raw_path)?;
        if path.is_empty() {
            continue; // the root directory itself
        }
        let name = file_name(&path);
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            if name == OPAQUE_MARKER {
                layer.opaque_dirs.push(parent(&path).to_string());
            } else if !hidden.starts_with(WHITEOUT_PREFIX) {
                // `.wh..wh.*` other than the opaque marker are aufs bookkeeping, not deletions.
                layer.whiteouts.push(join(parent(&path), hidden));
            }
            continue;
        }

        let header = entry.header();
        let mode = header.mode().unwrap_or(0);
        let uid = header.uid().unwrap_or(0);
        let gid = header.gid().unwrap_or(0);
        let size = entry.size();
        let entry_type = header.entry_type();
        let is_dir = entry_type == EntryType::Directory;
        if is_dir {
            layer.dir_hashes.push(path_hash(&path));
        } else {
            layer.non_dir_hashes.push(path_hash(&path));
        }
        if wanted.excludes(&path) {
            continue;
        }
        let is_wanted = wanted.wants(&path);
        let regular = matches!(entry_type, EntryType::Regular | EntryType::Continuous);
        let noted = entry_type != EntryType::Symlink && wanted.notable.notes(&path, mode, regular);

        let kind = match entry_type {
            EntryType::Directory if is_wanted || wanted.wants_dir(&path) => EntryKind::Dir,
            EntryType::Directory if noted => EntryKind::Noted { dir: true },
            EntryType::Directory => continue,
            EntryType::Symlink => {
                symlinks += 1;
                if symlinks > limits.max_symlinks_per_layer {
                    if symlinks == limits.max_symlinks_per_layer + 1 {
                        layer.warnings.push(format!(
                            "more than {} symlinks in one layer; the rest are not followed",
                            limits.max_symlinks_per_layer
                        ));
                    }
                    continue;
                }
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                EntryKind::Symlink { target }
            }
            EntryType::Regular | EntryType::Continuous if !is_wanted => {
                let findings = wanted.probes.scan(&path, size, &mut entry)?;
                if !findings.is_empty() {
                    EntryKind::Scanned { findings }
                } else if noted {
                    EntryKind::Noted { dir: false }
                } else {
                    continue;
                }
            }
            EntryType::Link if !is_wanted && noted => EntryKind::Noted { dir: false },
            _ if !is_wanted => continue,
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                if size > limits.max_file_bytes {
                    layer.warnings.push(format!(
                        "{path}: {size} bytes is over the {} byte limit for a cataloged file; skipped",
                        limits.max_file_bytes
                    ));
                    EntryKind::File { contents: None }
                } else if !limits.kept_budget.take(size) {
                    layer.warnings.push(format!(
                        "{path}: the image already keeps {} bytes of cataloged files (the limit); skipped",
                        limits.kept_budget.total()
                    ));
                    EntryKind::File { contents: None }
                } else {
                    let mut contents = Vec::with_capacity(size as usize);
                    (&mut entry).take(size).read_to_end(&mut contents)?;
                    kept_files.insert(path.clone(), layer.entries.len());
                    EntryKind::File {
                        contents: Some(std::sync::Arc::new(contents)),
                    }
                }
            }
            EntryType::Link => {
                let raw_target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                let target = normalize_entry_path(&raw_target)?;
                // The bytes are shared, not copied: a thousand links cost one file.
                match kept_files.get(&target).map(|&i| &layer.entries[i].kind) {
                    Some(EntryKind::File {
                        contents: Some(contents),
                    }) if limits.link_budget.take(contents.len() as u64) => EntryKind::File {
                        contents: Some(contents.clone()),
                    },
                    Some(EntryKind::File { contents: Some(_) }) => {
                        layer.warnings.push(format!(
                            "{path}: hardlink to {target}: the image's hard links to cataloged files already add up to {} bytes (the limit); skipped",
                            limits.link_budget.total()
                        ));
                        EntryKind::File { contents: None }
                    }
                    _ => {
                        layer.warnings.push(format!(
                            "{path}: hardlink to {target}, whose contents were not kept; skipped"
                        ));
                        EntryKind::File { contents: None }
                    }
                }
            }
            _ => EntryKind::Other,
        };
        layer.entries.push(Entry {
            path,
            kind,
            mode,
            uid,
            gid,
            size,
        });
    }
    for hashes in [&mut layer.non_dir_hashes, &mut layer.dir_hashes] {
        hashes.sort_unstable();
        hashes.dedup();
    }
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(entries: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, body) in entries {
            let mut header = tar::Header::new_gnu();
            match body {
                Some(bytes) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(bytes.len() as u64);
                    header.set_mode(0o644);
                    builder.append_data(&mut header, path, *bytes).unwrap();
                }
                None => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_size(0);
                    header.set_mode(0o755);
                    builder.append_data(&mut header, path, &[][..]).unwrap();
                }
            }
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn a_glob_ending_in_a_slash_keeps_directories_and_no_bytes() {
        let bytes = layer(&[
            ("nix/store/aaaa-hello-1.0/", None),
            (
                "nix/store/bbbb-source.tar.gz",
                Some(b"a single-file store path"),
            ),
            ("nix/store/aaaa-hello-1.0/bin/hello", Some(b"binary")),
            ("etc/x", Some(b"x")),
        ]);
        let wanted = Wanted::from_globs(["nix/store/*/", "etc/x"]).unwrap();
        let read = read_layer(std::io::Cursor::new(bytes), &wanted, &Limits::default()).unwrap();
        let kept: Vec<(&str, bool)> = read
            .entries
            .iter()
            .map(|e| (e.path.as_str(), matches!(e.kind, EntryKind::Dir)))
            .collect();
        assert_eq!(kept, [("nix/store/aaaa-hello-1.0", true), ("etc/x", false)]);
    }
}
