//! The single streaming pass over an image's layers.
//!
//! Each layer tar is read once, in order of arrival, by [`read_layer`]: only the entries that some
//! cataloger [`Wanted`] keep their bytes (up to [`Limits`]); symlinks and whiteouts are kept as
//! metadata. [`squash`] then stacks the per-layer results in the image's layer order, applying
//! whiteouts, opaque directories and files that replace directories, into a [`FileIndex`]: the
//! squashed view of the wanted files, each remembering the layer it came from. Nothing is unpacked to
//! disk and memory is bounded by what catalogers keep, not by the size of the image.

pub mod decompress;
mod header_guard;
mod index;
pub mod path;
pub mod pipe;
pub mod probe;
mod read;
mod squash;

pub use index::{FileIndex, IndexedEntry, ResolveError};
pub use probe::{pull_only, Finding, Probe, ProbeScan, Probes, SeamSearch};
pub use read::{read_layer, LayerFiles};
pub use squash::{squash, squash_with_views};

use globset::{Glob, GlobSet, GlobSetBuilder};

/// The set of paths whose contents the catalogers need, as globs over image-root-relative paths
/// (`var/lib/dpkg/status`, `var/lib/dpkg/status.d/*`). A glob that ends with `/` names
/// directories only (`nix/store/*/`): they are kept as entries, and a file it would match keeps
/// no bytes.
#[derive(Debug, Clone)]
pub struct Wanted {
    globs: GlobSet,
    sources: Vec<Glob>,
    dirs: GlobSet,
    dir_sources: Vec<Glob>,
    /// Paths not cataloged at all (`--exclude`): a glob names a path and everything under it.
    excluded: Option<GlobSet>,
    /// Content probes run over every other regular file.
    pub probes: Probes,
    /// Files and directories kept for their metadata only.
    pub notable: Notable,
    /// Keep the squashed view after each layer too, not only the image's (`--scope all-layers`).
    pub layer_views: bool,
}

/// Which entries to keep for their metadata (mode, owner, size) though nobody needs their bytes:
/// what a policy's file rules look at.
#[derive(Debug, Clone, Default)]
pub struct Notable {
    /// Paths to note wherever they are (a policy's forbidden paths).
    pub globs: Option<GlobSet>,
    /// Note setuid and setgid regular files, and world-writable files and directories.
    pub special_modes: bool,
}

/// setuid, setgid and world-writable bits of a tar mode.
pub const MODE_SETUID: u32 = 0o4000;
pub const MODE_SETGID: u32 = 0o2000;
pub const MODE_WORLD_WRITABLE: u32 = 0o002;

impl Notable {
    /// Notes the paths matching `globs` (none: no path globs), and special modes when asked.
    pub fn new(globs: &[String], special_modes: bool) -> Result<Notable, globset::Error> {
        let globs = if globs.is_empty() {
            None
        } else {
            let compiled = globs
                .iter()
                .map(|g| path_glob(g))
                .collect::<Result<Vec<_>, _>>()?;
            Some(glob_set(&compiled)?)
        };
        Ok(Notable {
            globs,
            special_modes,
        })
    }

    /// Whether an entry at `path` with `mode` is noted; symlinks never are (their mode means nothing).
    pub fn notes(&self, path: &str, mode: u32, regular: bool) -> bool {
        (self.special_modes
            && (mode & MODE_WORLD_WRITABLE != 0
                || (regular && mode & (MODE_SETUID | MODE_SETGID) != 0)))
            || self.globs.as_ref().is_some_and(|g| g.is_match(path))
    }
}

impl Wanted {
    pub fn from_globs<'a>(
        globs: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, globset::Error> {
        let (dir_globs, file_globs): (Vec<&str>, Vec<&str>) =
            globs.into_iter().partition(|g| g.ends_with('/'));
        let sources = file_globs
            .into_iter()
            .map(path_glob)
            .collect::<Result<Vec<Glob>, _>>()?;
        let dir_sources = dir_globs
            .into_iter()
            .map(|g| path_glob(g.trim_end_matches('/')))
            .collect::<Result<Vec<Glob>, _>>()?;
        Ok(Wanted {
            globs: glob_set(&sources)?,
            sources,
            dirs: glob_set(&dir_sources)?,
            dir_sources,
            excluded: None,
            probes: Probes::default(),
            notable: Notable::default(),
            layer_views: false,
        })
    }

    /// Adds more globs of files whose contents are wanted.
    pub fn with_globs<'a>(
        self,
        globs: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, globset::Error> {
        let more = Wanted::from_globs(globs)?;
        let mut sources = self.sources;
        sources.extend(more.sources);
        let mut dir_sources = self.dir_sources;
        dir_sources.extend(more.dir_sources);
        Ok(Wanted {
            globs: glob_set(&sources)?,
            sources,
            dirs: glob_set(&dir_sources)?,
            dir_sources,
            ..self
        })
    }

    /// Keeps the squashed view after each layer as well (see [`squash_with_views`]).
    pub fn with_layer_views(mut self) -> Self {
        self.layer_views = true;
        self
    }

    /// Notes entries for their metadata (see [`Notable`]).
    pub fn with_notable(mut self, notable: Notable) -> Self {
        self.notable = notable;
        self
    }

    /// Adds content probes for files the globs do not name.
    pub fn with_probes(mut self, probes: Probes) -> Self {
        self.probes.0.extend(probes.0);
        self
    }

    /// True when the file at this normalised path should keep its bytes.
    pub fn wants(&self, path: &str) -> bool {
        self.globs.is_match(path)
    }

    /// True when the directory at this normalised path is kept as an entry (a glob ending in `/`).
    pub fn wants_dir(&self, path: &str) -> bool {
        self.dirs.is_match(path)
    }

    /// Leaves the paths `globs` name (over image-root-relative paths; a leading `/` is dropped),
    /// and everything under them, out of the pass: no bytes kept, no probe run, no entry noted.
    pub fn excluding(mut self, globs: &[String]) -> Result<Self, globset::Error> {
        if globs.is_empty() {
            return Ok(self);
        }
        let compiled = globs
            .iter()
            .map(|g| path_glob(g.trim_start_matches('/').trim_end_matches('/')))
            .collect::<Result<Vec<_>, _>>()?;
        self.excluded = Some(glob_set(&compiled)?);
        Ok(self)
    }

    /// True when `path`, or a directory above it, is excluded.
    pub fn excludes(&self, path: &str) -> bool {
        let Some(excluded) = &self.excluded else {
            return false;
        };
        let mut prefix = path;
        loop {
            if excluded.is_match(prefix) {
                return true;
            }
            match prefix.rfind('/') {
                Some(at) => prefix = &prefix[..at],
                None => return false,
            }
        }
    }
}

/// A glob over image-root-relative paths: `*` stays within a directory.
fn path_glob(glob: &str) -> Result<Glob, globset::Error> {
    globset::GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .or_else(|_| Glob::new(glob))
}

/// The set of root-relative path globs (`*` within a directory), as the layer pass matches them.
pub fn glob_set_of(globs: &[String]) -> Result<GlobSet, globset::Error> {
    let compiled = globs
        .iter()
        .map(|g| path_glob(g))
        .collect::<Result<Vec<_>, _>>()?;
    glob_set(&compiled)
}

fn glob_set(globs: &[Glob]) -> Result<GlobSet, globset::Error> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(glob.clone());
    }
    builder.build()
}

/// Bounds on what the pass keeps, so that a hostile image cannot exhaust memory. One `Limits` is
/// made per image read: its kept-bytes budget is shared by all the image's layers, however many
/// are read at once.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A wanted file larger than this is noted (with a warning) but its bytes are not kept.
    pub max_file_bytes: u64,
    /// The bytes of wanted files kept for the whole image; once spent, further wanted files are
    /// skipped with a warning. Shared by clones (the layers read in parallel).
    pub kept_budget: KeptBudget,
    /// The bytes hard links to kept files may add up to (they share the file's bytes, but each is
    /// cataloged as the file it is: this bounds the parsing a link farm can cause).
    pub link_budget: KeptBudget,
    /// At most this many symlinks are remembered per layer.
    pub max_symlinks_per_layer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 * 1024 * 1024,
            kept_budget: KeptBudget::new(160 * 1024 * 1024),
            link_budget: KeptBudget::new(1024 * 1024 * 1024),
            max_symlinks_per_layer: 1_000_000,
        }
    }
}

/// Bytes that may still be kept, shared across threads.
#[derive(Debug, Clone)]
pub struct KeptBudget {
    total: u64,
    remaining: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl KeptBudget {
    pub fn new(total: u64) -> Self {
        KeptBudget {
            total,
            remaining: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(total)),
        }
    }

    /// Takes `bytes` from the budget; false (and nothing taken) when that much is not left.
    pub fn take(&self, bytes: u64) -> bool {
        use std::sync::atomic::Ordering;
        self.remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(bytes)
            })
            .is_ok()
    }

    pub fn total(&self) -> u64 {
        self.total
    }
}

/// What a kept layer entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (or a hardlink to one, which shares its bytes). `contents` is `None` when the
    /// file was too large to keep or was a hardlink whose target was not kept.
    File {
        contents: Option<std::sync::Arc<Vec<u8>>>,
    },
    Symlink {
        target: String,
    },
    Dir,
    /// A regular file no glob asked for, in which content probes found something.
    Scanned {
        findings: Vec<Finding>,
    },
    /// A device, fifo or other special file.
    Other,
    /// A file (`dir: false`) or directory kept only for its metadata ([`Notable`]).
    Noted {
        dir: bool,
    },
}

/// One kept entry of a layer: a wanted file, or any symlink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub kind: EntryKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
}

/// A squashed index of regular files with these contents, all in layer 0 (unit tests of the
/// catalogers).
#[cfg(test)]
pub(crate) fn test_index(files: &[(&str, &str)]) -> FileIndex {
    let entries = files
        .iter()
        .map(|(path, body)| {
            let entry = Entry {
                path: path.to_string(),
                kind: EntryKind::File {
                    contents: Some(std::sync::Arc::new(body.as_bytes().to_vec())),
                },
                mode: 0o644,
                uid: 0,
                gid: 0,
                size: body.len() as u64,
            };
            (
                path.to_string(),
                IndexedEntry {
                    layer_index: 0,
                    entry,
                },
            )
        })
        .collect();
    FileIndex::new(entries)
}
