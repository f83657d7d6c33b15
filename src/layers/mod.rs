//! The single streaming pass over an image's layers.
//!
//! Each layer tar is read once, in order of arrival, by [`read_layer`]: only the entries that some
//! cataloger [`Wanted`] keep their bytes (up to [`Limits`]); symlinks and whiteouts are kept as
//! metadata. [`squash`] then stacks the per-layer results in the image's layer order, applying
//! whiteouts, opaque directories and files that replace directories, into a [`FileIndex`]: the
//! squashed view of the wanted files, each remembering the layer it came from. Nothing is unpacked to
//! disk and memory is bounded by what catalogers keep, not by the size of the image.

pub mod decompress;
pub mod digest;
mod index;
pub mod path;
pub mod probe;
mod read;
mod squash;

pub use index::{FileIndex, IndexedEntry, ResolveError};
pub use probe::{Finding, Probe, ProbeScan, Probes, SeamSearch};
pub use read::{read_layer, LayerFiles};
pub use squash::squash;

use globset::{Glob, GlobSet, GlobSetBuilder};

/// The set of paths whose contents the catalogers need, as globs over image-root-relative paths
/// (`var/lib/dpkg/status`, `var/lib/dpkg/status.d/*`).
#[derive(Debug, Clone)]
pub struct Wanted {
    globs: GlobSet,
    /// Content probes run over every other regular file.
    pub probes: Probes,
}

impl Wanted {
    pub fn from_globs<'a>(
        globs: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, globset::Error> {
        let mut builder = GlobSetBuilder::new();
        for glob in globs {
            builder.add(
                globset::GlobBuilder::new(glob)
                    .literal_separator(true)
                    .build()
                    .or_else(|_| Glob::new(glob))?,
            );
        }
        Ok(Wanted {
            globs: builder.build()?,
            probes: Probes::default(),
        })
    }

    /// Adds content probes for files the globs do not name.
    pub fn with_probes(mut self, probes: Probes) -> Self {
        self.probes = probes;
        self
    }

    /// True when the file at this normalised path should keep its bytes.
    pub fn wants(&self, path: &str) -> bool {
        self.globs.is_match(path)
    }
}

/// Bounds on what the pass keeps, so that a hostile image cannot exhaust memory.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A wanted file larger than this is noted (with a warning) but its bytes are not kept.
    pub max_file_bytes: u64,
    /// Once this many bytes are kept in one layer, further wanted files are skipped with a warning.
    pub max_kept_bytes_per_layer: u64,
    /// At most this many symlinks are remembered per layer.
    pub max_symlinks_per_layer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 * 1024 * 1024,
            max_kept_bytes_per_layer: 512 * 1024 * 1024,
            max_symlinks_per_layer: 1_000_000,
        }
    }
}

/// What a kept layer entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (or a hardlink to one). `contents` is `None` when the file was too large to keep
    /// or was a hardlink whose target was not kept.
    File {
        contents: Option<Vec<u8>>,
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
