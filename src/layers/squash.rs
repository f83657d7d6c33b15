//! Stacking per-layer results into the squashed view, the way a container runtime's overlay does:
//! lower layers first; a layer's whiteouts and opaque directories hide what is below before its own
//! entries land; an entry replaces what was at its path; and a non-directory hides everything lower
//! layers had below its path.

use super::index::{FileIndex, IndexedEntry};
use super::path::ancestors;
use super::read::path_hash;
use super::{EntryKind, LayerFiles};
use std::collections::BTreeMap;

/// Stacks layers (lowest first) into a [`FileIndex`]; each entry remembers its layer's position.
pub fn squash(layers: Vec<LayerFiles>) -> FileIndex {
    let mut files: BTreeMap<String, IndexedEntry> = BTreeMap::new();
    let mut non_dirs: Vec<Vec<u64>> = Vec::with_capacity(layers.len());
    let mut dirs: Vec<Vec<u64>> = Vec::with_capacity(layers.len());
    let mut stacked = Vec::with_capacity(layers.len());
    for mut layer in layers {
        non_dirs.push(std::mem::take(&mut layer.non_dir_hashes));
        dirs.push(std::mem::take(&mut layer.dir_hashes));
        stacked.push(layer);
    }

    // Every probe finding of every layer, before later layers hide some of their files.
    let mut layered = Vec::new();
    for (layer_index, layer) in stacked.iter().enumerate() {
        for entry in &layer.entries {
            if let EntryKind::Scanned { findings } = &entry.kind {
                layered.extend(
                    findings
                        .iter()
                        .map(|f| (layer_index, entry.path.clone(), f.clone())),
                );
            }
        }
    }

    for (layer_index, layer) in stacked.into_iter().enumerate() {
        for path in &layer.whiteouts {
            files.remove(path);
            remove_below(&mut files, path);
        }
        for dir in &layer.opaque_dirs {
            remove_below(&mut files, dir);
        }
        for entry in layer.entries {
            if entry.kind != EntryKind::Dir {
                remove_below(&mut files, &entry.path);
            }
            files.insert(entry.path.clone(), IndexedEntry { layer_index, entry });
        }
    }

    // A higher layer entry that was not kept still replaces what lower layers had at its path (a
    // kept file rewritten as one nobody wanted, a noted directory given a plain mode), and a file or
    // symlink hides everything lower layers had below its path. (Had the higher entry been kept, it
    // would already have replaced the lower one above.)
    files.retain(|path, kept| {
        let in_higher = |hashes: &[Vec<u64>], hash: u64| {
            hashes[kept.layer_index + 1..]
                .iter()
                .any(|layer| layer.binary_search(&hash).is_ok())
        };
        let own = path_hash(path);
        let replaced = in_higher(&non_dirs, own) || in_higher(&dirs, own);
        !replaced && !ancestors(path).any(|dir| in_higher(&non_dirs, path_hash(dir)))
    });
    let mut index = FileIndex::new(files);
    index.set_layered(layered);
    index
}

/// The squashed view after each layer but the last (lowest first), and the image's own view: what
/// `--scope all-layers` catalogs, to find packages a later layer removed or replaced. Kept bytes
/// are shared between the views (each view holds its own entries' paths and metadata).
pub fn squash_with_views(layers: Vec<LayerFiles>) -> (FileIndex, Vec<FileIndex>) {
    let earlier = (1..layers.len())
        .map(|top| squash(layers[..top].to_vec()))
        .collect();
    (squash(layers), earlier)
}

/// Removes every entry strictly below `dir`.
fn remove_below(files: &mut BTreeMap<String, IndexedEntry>, dir: &str) {
    // Keys below `dir` are exactly those in [dir + "/", dir + "0"): '0' is the byte after '/'.
    let start = format!("{dir}/");
    let end = format!("{dir}0");
    let doomed: Vec<String> = files.range(start..end).map(|(k, _)| k.clone()).collect();
    for key in doomed {
        files.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Entry;

    fn file(path: &str, body: &str) -> Entry {
        Entry {
            path: path.into(),
            kind: EntryKind::File {
                contents: Some(std::sync::Arc::new(body.as_bytes().to_vec())),
            },
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: body.len() as u64,
        }
    }

    fn layer(entries: Vec<Entry>) -> LayerFiles {
        let mut hashes: Vec<u64> = entries.iter().map(|e| path_hash(&e.path)).collect();
        hashes.sort_unstable();
        LayerFiles {
            entries,
            non_dir_hashes: hashes,
            ..Default::default()
        }
    }

    fn body(index: &FileIndex, path: &str) -> Option<String> {
        match &index.get(path)?.entry.kind {
            EntryKind::File { contents: Some(c) } => Some(String::from_utf8(c.to_vec()).unwrap()),
            _ => None,
        }
    }

    #[test]
    fn unkept_upper_entries_still_replace_kept_lower_ones() {
        // Layer 0 keeps a file and notes a world-writable directory; layer 1 rewrites the file as one
        // nobody wanted and gives the directory a plain mode: only their path hashes remain.
        let mut dir = file("data", "");
        dir.kind = EntryKind::Noted { dir: true };
        dir.mode = 0o777;
        let base = layer(vec![file("app/bin", "go"), dir, file("app/other", "1")]);
        let upper = LayerFiles {
            non_dir_hashes: vec![path_hash("app/bin")],
            dir_hashes: vec![path_hash("data")],
            ..Default::default()
        };
        let index = squash(vec![base, upper]);
        assert!(index.get("app/bin").is_none());
        assert!(index.get("data").is_none());
        assert_eq!(body(&index, "app/other").as_deref(), Some("1"));
    }

    #[test]
    fn upper_layer_replaces_and_whiteouts_delete() {
        let base = layer(vec![file("a/x", "1"), file("a/y", "1"), file("b/z", "1")]);
        let mut upper = layer(vec![file("a/x", "2")]);
        upper.whiteouts.push("b".into());
        let index = squash(vec![base, upper]);
        assert_eq!(body(&index, "a/x").as_deref(), Some("2"));
        assert_eq!(index.get("a/x").unwrap().layer_index, 1);
        assert_eq!(body(&index, "a/y").as_deref(), Some("1"));
        assert!(index.get("b/z").is_none());
    }

    #[test]
    fn opaque_directory_hides_lower_contents_only() {
        let base = layer(vec![file("d/old", "1"), file("dd/keep", "1")]);
        let mut upper = layer(vec![file("d/new", "2")]);
        upper.opaque_dirs.push("d".into());
        let index = squash(vec![base, upper]);
        assert!(index.get("d/old").is_none());
        assert!(index.get("d/new").is_some());
        assert!(
            index.get("dd/keep").is_some(),
            "sibling with a common prefix survives"
        );
    }

    #[test]
    fn a_file_replacing_a_directory_hides_its_contents() {
        let base = layer(vec![file("var/lib/dpkg/status", "x")]);
        // The upper layer has a plain (unwanted, so not kept) file where the directory was.
        let upper = LayerFiles {
            non_dir_hashes: vec![path_hash("var/lib/dpkg")],
            ..Default::default()
        };
        let index = squash(vec![base, upper]);
        assert!(index.get("var/lib/dpkg/status").is_none());
    }
}
