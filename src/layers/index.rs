//! The squashed view of the wanted files: path → entry and the layer it came from, with symlink
//! resolution confined to the image root.

use super::{Entry, EntryKind};
use std::collections::{BTreeMap, HashMap};

/// The most symlinks followed while resolving one path (the Linux kernel's limit).
const MAX_SYMLINK_HOPS: usize = 40;

/// A kept entry and the position of its layer in the image's layer list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedEntry {
    pub layer_index: usize,
    pub entry: Entry,
}

impl IndexedEntry {
    /// The file's bytes, when it is a regular file whose bytes were kept.
    /// The evidence of this file for a package found in it: its path and layer.
    pub fn evidence(&self) -> crate::package::Evidence {
        crate::package::Evidence {
            path: self.entry.path.as_str().into(),
            layer_index: self.layer_index,
        }
    }

    pub fn contents(&self) -> Option<&[u8]> {
        match &self.entry.kind {
            EntryKind::File {
                contents: Some(bytes),
            } => Some(bytes),
            _ => None,
        }
    }
}

/// Why a path could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("symlink loop while resolving /{0} (more than {MAX_SYMLINK_HOPS} links)")]
    Loop(String),
}

/// Path → entry for every kept file and symlink of the squashed image.
#[derive(Debug, Default)]
pub struct FileIndex {
    files: BTreeMap<String, IndexedEntry>,
    /// What the probes found in every layer, including in files a later layer deleted or replaced
    /// (their bytes are still in the image): (layer position, path, finding).
    layered: Vec<(usize, String, super::Finding)>,
    /// Path → target of every symlink among `files`: what resolving a path looks up at each of its
    /// components (tens of thousands of owned files are resolved per image, against a few links).
    links: HashMap<String, String, foldhash::fast::RandomState>,
}

impl FileIndex {
    pub(super) fn new(files: BTreeMap<String, IndexedEntry>) -> Self {
        let links = files
            .iter()
            .filter_map(|(path, indexed)| match &indexed.entry.kind {
                EntryKind::Symlink { target } => Some((path.clone(), target.to_string())),
                _ => None,
            })
            .collect();
        FileIndex {
            files,
            links,
            layered: Vec::new(),
        }
    }

    pub(super) fn set_layered(&mut self, layered: Vec<(usize, String, super::Finding)>) {
        self.layered = layered;
    }

    /// What `probe` found in each layer's files, whether or not the file is in the squashed view:
    /// (layer position, path, the probe's snippet).
    pub fn layered_findings<'a>(
        &'a self,
        probe: &'a str,
    ) -> impl Iterator<Item = (usize, &'a str, &'a [u8])> + 'a {
        self.layered
            .iter()
            .filter(move |(_, _, f)| f.probe == probe)
            .map(|(layer, path, f)| (*layer, path.as_str(), f.bytes.as_slice()))
    }

    /// Drops the kept bytes of every file whose path `keep` refuses, once the stages that read them
    /// are done: a 60 MB dpkg status is not held through the policy's evaluation. The entries stay
    /// (path, kind, mode), as `contents: None`.
    pub fn release_contents(&mut self, keep: impl Fn(&str) -> bool) {
        for (path, indexed) in &mut self.files {
            if let EntryKind::File { contents } = &mut indexed.entry.kind {
                if !keep(path) {
                    *contents = None;
                }
            }
        }
    }

    /// The entry at exactly this path, without following symlinks.
    pub fn get(&self, path: &str) -> Option<&IndexedEntry> {
        self.files.get(path)
    }

    /// All kept entries, in path order.
    pub fn entries(&self) -> impl Iterator<Item = &IndexedEntry> {
        self.files.values()
    }

    /// Every file in which the named probe found something, with the snippet it kept.
    pub fn findings<'a>(
        &'a self,
        probe: &'a str,
    ) -> impl Iterator<Item = (&'a IndexedEntry, &'a [u8])> + 'a {
        self.files
            .values()
            .filter_map(move |e| match &e.entry.kind {
                EntryKind::Scanned { findings } => findings
                    .iter()
                    .find(|f| f.probe == probe)
                    .map(|f| (e, f.bytes.as_slice())),
                _ => None,
            })
    }

    /// Number of kept entries.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Follows symlinks in every component of `path`, as the kernel would inside a chroot at the
    /// image root (`..` at the root stays at the root), and returns the entry found there.
    pub fn resolve(&self, path: &str) -> Result<Option<&IndexedEntry>, ResolveError> {
        let resolved = self.resolve_path(path)?;
        Ok(self.files.get(&resolved))
    }

    /// The symlink-free path that `path` names.
    pub fn resolve_path(&self, path: &str) -> Result<String, ResolveError> {
        // Components still to walk, last first; `resolved` is built in place, with the length it
        // had before each component so that `..` and a symlink's own name can be taken off again.
        let mut pending: Vec<&str> = path.rsplit('/').collect();
        let mut resolved = String::with_capacity(path.len());
        let mut starts: Vec<usize> = Vec::new();
        let mut hops = 0;
        while let Some(component) = pending.pop() {
            match component {
                "" | "." => continue,
                ".." => {
                    if let Some(start) = starts.pop() {
                        resolved.truncate(start);
                    }
                    continue;
                }
                _ => {
                    starts.push(resolved.len());
                    if !resolved.is_empty() {
                        resolved.push('/');
                    }
                    resolved.push_str(component);
                }
            }
            if let Some(target) = self.links.get(&resolved) {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(ResolveError::Loop(path.to_string()));
                }
                if target.starts_with('/') {
                    resolved.clear();
                    starts.clear();
                } else if let Some(start) = starts.pop() {
                    resolved.truncate(start);
                }
                pending.extend(target.rsplit('/'));
            }
        }
        Ok(resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: EntryKind) -> (String, IndexedEntry) {
        (
            path.to_string(),
            IndexedEntry {
                layer_index: 0,
                entry: Entry {
                    path: path.into(),
                    kind,
                    mode: 0,
                    uid: 0,
                    gid: 0,
                    size: 0,
                },
            },
        )
    }

    fn link(path: &str, target: &str) -> (String, IndexedEntry) {
        entry(
            path,
            EntryKind::Symlink {
                target: target.into(),
            },
        )
    }

    #[test]
    fn follows_relative_and_absolute_links() {
        let index = FileIndex::new(BTreeMap::from([
            link("etc/os-release", "../usr/lib/os-release"),
            link("lib", "usr/lib"),
            link("abs", "/usr/lib/os-release"),
            entry(
                "usr/lib/os-release",
                EntryKind::File {
                    contents: Some(std::sync::Arc::new(b"ID=debian".to_vec())),
                },
            ),
        ]));
        assert_eq!(
            index.resolve_path("etc/os-release").unwrap(),
            "usr/lib/os-release"
        );
        assert_eq!(
            index.resolve_path("lib/os-release").unwrap(),
            "usr/lib/os-release"
        );
        assert_eq!(index.resolve_path("abs").unwrap(), "usr/lib/os-release");
        assert!(index
            .resolve("etc/os-release")
            .unwrap()
            .unwrap()
            .contents()
            .is_some());
    }

    /// A link in the middle of a path, `..` after it (taken from where the link led, as the kernel
    /// does), and `.`, empty and trailing components.
    #[test]
    fn directory_links_mid_path_and_dot_dot() {
        let index = FileIndex::new(BTreeMap::from([
            link("usr/lib64", "lib"),
            link("bin", "usr/bin"),
            link("usr/lib/jvm/default", "/opt/java/17/"),
        ]));
        assert_eq!(
            index.resolve_path("usr/lib64/x.so").unwrap(),
            "usr/lib/x.so"
        );
        assert_eq!(
            index.resolve_path("usr/lib64/../bin/sh").unwrap(),
            "usr/bin/sh"
        );
        assert_eq!(
            index.resolve_path("bin/../lib64/./a//b/").unwrap(),
            "usr/lib/a/b"
        );
        assert_eq!(
            index
                .resolve_path("/usr/lib64/jvm/default/../21/release")
                .unwrap(),
            "opt/java/21/release"
        );
        assert_eq!(
            index.resolve_path("../../etc/passwd").unwrap(),
            "etc/passwd"
        );
        assert_eq!(index.resolve_path("").unwrap(), "");
    }

    #[test]
    fn links_cannot_escape_the_root() {
        let index = FileIndex::new(BTreeMap::from([link("etc/evil", "../../../../etc/shadow")]));
        assert_eq!(index.resolve_path("etc/evil").unwrap(), "etc/shadow");
    }

    #[test]
    fn loops_are_reported() {
        let index = FileIndex::new(BTreeMap::from([link("a", "b"), link("b", "a")]));
        assert_eq!(index.resolve("a"), Err(ResolveError::Loop("a".into())));
    }
}
