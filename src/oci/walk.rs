//! The one walk of an image index, used by every command that meets one (registry images, the
//! webhook, OCI layouts): every manifest reachable from a reference, through nested indexes (at
//! most [`MAX_DEPTH`] deep, at most [`MAX_ENTRIES`] entries in all), each kept by its digest with
//! the platforms stated on the way to it. Nothing here re-resolves a platform by name: what a
//! client could pull is decided over these leaves ([`Tree::choose`]), and every leaf a decision
//! depends on is judged by its own digest.
//!
//! Not runnable: attestation manifests (`unknown/unknown`, or annotated
//! `vnd.docker.reference.type: attestation-manifest`, as buildx writes them). An entry whose media
//! type is not an index is a leaf, whatever it claims; reading it as an image then fails when it is
//! not one (fail closed).

use super::digest::sha256_digest;
use super::platform::{rank, same_family, EntryPlatform, Platform};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// How deep indexes may nest (the spec allows nesting; nobody needs more than this).
pub const MAX_DEPTH: usize = 4;
/// The most entries read over all the indexes of one reference.
pub const MAX_ENTRIES: usize = 1024;

pub use super::media::INDEX_MEDIA_TYPES;

/// The annotation naming the image an entry is (containerd, `docker save`).
const IMAGE_NAME_ANNOTATION: &str = "io.containerd.image.name";

/// One manifest reachable from the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    pub digest: String,
    /// As its index entry states it (empty for the reference's own manifest).
    pub media_type: String,
    pub size: i64,
    /// The platforms stated on the way to it: enclosing index entries first, its own last.
    pub platforms: Vec<EntryPlatform>,
    /// Whether its own entry states a platform (else the last of `platforms` is an enclosing one).
    pub stated: bool,
    /// The indexes it was reached through, outermost first.
    pub via: Vec<String>,
    /// An attestation manifest, not an image a client runs.
    pub attestation: bool,
    /// Image names the entries on the way to it give (`io.containerd.image.name`, as `docker save`
    /// writes an OCI layout).
    pub names: Vec<String>,
}

impl Leaf {
    /// The platform nearest to it (its own entry's, else an enclosing entry's).
    pub fn platform(&self) -> Option<&EntryPlatform> {
        self.platforms.last()
    }

    /// `linux/amd64/v3` (escaped), or `no stated platform`.
    pub fn describe_platform(&self) -> String {
        self.platform()
            .map_or_else(|| "no stated platform".to_string(), |p| p.to_string())
    }
}

/// Everything a reference names.
#[derive(Debug, Clone)]
pub struct Tree {
    /// The digest of what the reference names (an index or a manifest).
    pub root: String,
    /// Whether that is an index.
    pub is_index: bool,
    /// Every manifest, in the order the indexes list them, each digest once.
    pub leaves: Vec<Leaf>,
}

/// What a client asking for a platform takes, and what others might.
#[derive(Debug, Clone)]
pub struct Choice<'a> {
    /// The manifest containerd and docker take.
    pub chosen: &'a Leaf,
    /// Every runnable manifest some client asking for that platform could take (the chosen one
    /// among them): each must verify.
    pub could_take: Vec<&'a Leaf>,
}

/// Why [`Tree::choose_for`] chose nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unchosen {
    /// The platform asked for has no image here.
    NoPlatform,
    /// The index lists no runnable image.
    NoRunnable,
}

#[derive(Debug, thiserror::Error)]
pub enum WalkError<E> {
    #[error(transparent)]
    Fetch(E),
    #[error("{what}: {detail}")]
    Invalid { what: String, detail: String },
}

#[derive(Deserialize)]
struct Document {
    manifests: Option<Vec<Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default, rename = "mediaType")]
    media_type: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    size: i64,
    #[serde(default)]
    platform: Option<EntryPlatform>,
    #[serde(default)]
    annotations: Option<HashMap<String, String>>,
}

/// Whether manifest bytes are an index (they list `manifests`).
pub fn is_index(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Document>(bytes).is_ok_and(|d| d.manifests.is_some())
}

/// Walks what `root_digest` (whose bytes are `root_bytes`) names. `fetch` gives the bytes of a
/// nested index by digest (`None` when there is none); each is checked against its digest here.
pub fn walk<E>(
    root_digest: &str,
    root_bytes: &[u8],
    mut fetch: impl FnMut(&str) -> Result<Option<Vec<u8>>, E>,
) -> Result<Tree, WalkError<E>> {
    let invalid = |what: String, detail: String| WalkError::Invalid { what, detail };
    let document: Document = serde_json::from_slice(root_bytes)
        .map_err(|e| invalid(format!("manifest {root_digest}"), format!("not JSON ({e})")))?;
    let Some(entries) = document.manifests else {
        return Ok(Tree {
            root: root_digest.to_string(),
            is_index: false,
            leaves: vec![Leaf {
                digest: root_digest.to_string(),
                media_type: String::new(),
                size: root_bytes.len() as i64,
                platforms: Vec::new(),
                stated: false,
                via: Vec::new(),
                attestation: false,
                names: Vec::new(),
            }],
        });
    };
    let mut walker = Walker {
        leaves: Vec::new(),
        names: Vec::new(),
        seen_leaves: HashSet::new(),
        seen_indexes: HashSet::from([root_digest.to_string()]),
        entries: 0,
    };
    walker.index(
        root_digest,
        entries,
        &mut Vec::new(),
        &mut vec![root_digest.to_string()],
        &mut fetch,
    )?;
    Ok(Tree {
        root: root_digest.to_string(),
        is_index: true,
        leaves: walker.leaves,
    })
}

struct Walker {
    leaves: Vec<Leaf>,
    /// The image names of the entries on the current path.
    names: Vec<String>,
    seen_leaves: HashSet<String>,
    seen_indexes: HashSet<String>,
    entries: usize,
}

impl Walker {
    fn index<E>(
        &mut self,
        digest: &str,
        entries: Vec<Entry>,
        platforms: &mut Vec<EntryPlatform>,
        via: &mut Vec<String>,
        fetch: &mut impl FnMut(&str) -> Result<Option<Vec<u8>>, E>,
    ) -> Result<(), WalkError<E>> {
        let what = || format!("image index {digest}");
        let names_before = self.names.len();
        for entry in entries {
            self.entries += 1;
            if self.entries > MAX_ENTRIES {
                return Err(WalkError::Invalid {
                    what: what(),
                    detail: format!("its indexes list more than {MAX_ENTRIES} manifests"),
                });
            }
            if super::digest::sha256_hex(&entry.digest).is_none() {
                return Err(WalkError::Invalid {
                    what: what(),
                    detail: format!(
                        "an entry's digest {:?} is not a sha256 digest",
                        crate::text::excerpt(&entry.digest, 80)
                    ),
                });
            }
            let pushed = entry.platform.is_some();
            let named = entry
                .annotations
                .as_ref()
                .and_then(|a| a.get(IMAGE_NAME_ANNOTATION))
                .cloned();
            let has_name = named.is_some();
            self.names.extend(named);
            if let Some(platform) = entry.platform {
                platforms.push(platform);
            }
            if INDEX_MEDIA_TYPES.contains(&entry.media_type.as_str()) {
                self.nested(&entry.digest, digest, platforms, via, fetch)?;
            } else if self.seen_leaves.insert(entry.digest.clone()) {
                let attestation = (pushed
                    && platforms.last().is_some_and(EntryPlatform::is_unknown))
                    || entry.annotations.as_ref().is_some_and(|a| {
                        a.get("vnd.docker.reference.type")
                            .is_some_and(|t| t == "attestation-manifest")
                    });
                self.leaves.push(Leaf {
                    digest: entry.digest,
                    media_type: entry.media_type,
                    size: entry.size,
                    platforms: platforms.clone(),
                    stated: pushed,
                    via: via.clone(),
                    attestation,
                    names: self.names.clone(),
                });
            }
            if pushed {
                platforms.pop();
            }
            if has_name {
                self.names.pop();
            }
        }
        debug_assert_eq!(self.names.len(), names_before);
        Ok(())
    }

    fn nested<E>(
        &mut self,
        digest: &str,
        parent: &str,
        platforms: &mut Vec<EntryPlatform>,
        via: &mut Vec<String>,
        fetch: &mut impl FnMut(&str) -> Result<Option<Vec<u8>>, E>,
    ) -> Result<(), WalkError<E>> {
        let what = || format!("image index {digest} (listed by {parent})");
        if !self.seen_indexes.insert(digest.to_string()) {
            return Ok(());
        }
        if via.len() >= MAX_DEPTH {
            return Err(WalkError::Invalid {
                what: what(),
                detail: format!("image indexes nest more than {MAX_DEPTH} deep"),
            });
        }
        let bytes = fetch(digest)
            .map_err(WalkError::Fetch)?
            .ok_or_else(|| WalkError::Invalid {
                what: what(),
                detail: "it is not there".into(),
            })?;
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(WalkError::Invalid {
                what: what(),
                detail: format!("its content has digest {actual}: corrupt or tampered with"),
            });
        }
        let document: Document =
            serde_json::from_slice(&bytes).map_err(|e| WalkError::Invalid {
                what: what(),
                detail: format!("not JSON ({e})"),
            })?;
        let entries = document.manifests.ok_or_else(|| WalkError::Invalid {
            what: what(),
            detail: "its entry says image index, but it lists no manifests".into(),
        })?;
        via.push(digest.to_string());
        let walked = self.index(digest, entries, platforms, via, fetch);
        via.pop();
        walked
    }
}

impl Tree {
    /// The manifests a client may run (attestation manifests left out).
    pub fn runnable(&self) -> Vec<&Leaf> {
        self.leaves.iter().filter(|l| !l.attestation).collect()
    }

    /// What a client asking for `wanted` takes, as containerd chooses: at each level the entry
    /// whose platform it prefers most (an entry stating none comes last; ties go to the first
    /// listed). `None` when it takes nothing. For a manifest (no index) that manifest, always.
    pub fn choose(&self, wanted: &Platform) -> Option<Choice<'_>> {
        let runnable = self.runnable();
        if !self.is_index {
            let chosen = *runnable.first()?;
            return Some(Choice {
                chosen,
                could_take: vec![chosen],
            });
        }
        let preference = |leaf: &Leaf| -> Option<Vec<usize>> {
            leaf.platforms
                .iter()
                .map(|p| rank(wanted, p))
                .collect::<Option<Vec<usize>>>()
                // A leaf whose own entry states no platform sorts after those that do.
                .map(|mut ranks| {
                    if !leaf.stated {
                        ranks.push(usize::MAX);
                    }
                    ranks
                })
        };
        let ranked: Vec<(Vec<usize>, &Leaf)> = runnable
            .iter()
            .filter_map(|leaf| preference(leaf).map(|key| (key, *leaf)))
            .collect();
        let (best, chosen) = ranked
            .iter()
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(key, leaf)| (key.clone(), *leaf))?;
        // Others a client could take: those it prefers as much (which of them it takes is up to
        // the client), and, when the ask names no variant, every variant of the same os and
        // architecture (the client adds the variant of the machine it runs on).
        let could_take = runnable
            .iter()
            .copied()
            .filter(|leaf| {
                ranked
                    .iter()
                    .any(|(key, l)| *key == best && std::ptr::eq(*l, *leaf))
                    || (wanted.variant.is_none()
                        && leaf.platforms.iter().all(|p| same_family(wanted, p)))
            })
            .collect();
        Some(Choice { chosen, could_take })
    }

    /// [`Tree::choose`] for `platform`, else this machine's; when nothing is asked for and this
    /// machine takes nothing, the first runnable image, with every runnable image as what others
    /// might take (a foreign image read or verified without `--platform`).
    pub fn choose_for(&self, platform: Option<&Platform>) -> Result<Choice<'_>, Unchosen> {
        let asked = platform.cloned().unwrap_or_else(Platform::host);
        if let Some(choice) = self.choose(&asked) {
            return Ok(choice);
        }
        let runnable = self.runnable();
        match (platform, runnable.first()) {
            (None, Some(first)) => Ok(Choice {
                chosen: first,
                could_take: runnable.clone(),
            }),
            (Some(_), _) => Err(Unchosen::NoPlatform),
            (None, None) => Err(Unchosen::NoRunnable),
        }
    }

    /// The runnable manifests' platforms, for a message (`linux/amd64, linux/arm64/v8`).
    pub fn describe_platforms(&self) -> String {
        let named: Vec<String> = self
            .runnable()
            .iter()
            .map(|l| l.describe_platform())
            .collect();
        if named.is_empty() {
            "no runnable image".into()
        } else {
            named.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn digest_of(value: &serde_json::Value) -> (String, Vec<u8>) {
        let bytes = serde_json::to_vec(value).unwrap();
        (sha256_digest(&bytes), bytes)
    }

    fn fake(n: u8) -> String {
        format!("sha256:{}", hex::encode([n; 32]))
    }

    fn entry(digest: &str, platform: Option<&str>, index: bool) -> serde_json::Value {
        let mut e = json!({
            "mediaType": if index { INDEX_MEDIA_TYPES[0] } else { crate::oci::media::OCI_MANIFEST },
            "digest": digest,
            "size": 100,
        });
        if let Some(p) = platform {
            let parts: Vec<&str> = p.split('/').collect();
            e["platform"] = json!({"os": parts[0], "architecture": parts[1]});
            if let Some(v) = parts.get(2) {
                e["platform"]["variant"] = json!(v);
            }
        }
        e
    }

    fn index(entries: Vec<serde_json::Value>) -> serde_json::Value {
        json!({"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPES[0], "manifests": entries})
    }

    fn walk_all(root: &serde_json::Value, store: &[serde_json::Value]) -> Tree {
        let (digest, bytes) = digest_of(root);
        let store: HashMap<String, Vec<u8>> = store.iter().map(digest_of).collect();
        walk::<std::io::Error>(&digest, &bytes, |d| Ok(store.get(d).cloned())).unwrap()
    }

    fn host(p: &str) -> Platform {
        p.parse().unwrap()
    }

    #[test]
    fn a_variantless_ask_takes_the_plain_entry_and_could_take_both() {
        // The attested v3 listed first, the unattested plain amd64 second: containerd on a
        // variantless amd64 takes the plain one; a v3 client the other: both must verify.
        let tree = walk_all(
            &index(vec![
                entry(&fake(1), Some("linux/amd64/v3"), false),
                entry(&fake(2), Some("linux/amd64"), false),
                entry(&fake(3), Some("unknown/unknown"), false),
            ]),
            &[],
        );
        assert_eq!(tree.runnable().len(), 2);
        let choice = tree.choose(&host("linux/amd64")).unwrap();
        assert_eq!(choice.chosen.digest, fake(2));
        let could: Vec<&str> = choice
            .could_take
            .iter()
            .map(|l| l.digest.as_str())
            .collect();
        assert_eq!(could, [fake(1), fake(2)]);
        let choice = tree.choose(&host("linux/amd64/v3")).unwrap();
        assert_eq!(choice.chosen.digest, fake(1));
        assert_eq!(
            choice.could_take.len(),
            1,
            "a v3 client never takes plain amd64 over v3"
        );
        let choice = tree.choose(&host("linux/amd64/v2")).unwrap();
        assert_eq!(choice.chosen.digest, fake(2));
        assert_eq!(choice.could_take.len(), 1);
        assert!(tree.choose(&host("linux/arm64")).is_none());
    }

    #[test]
    fn nested_indexes_are_walked_by_digest() {
        let inner = index(vec![
            entry(&fake(1), Some("linux/amd64"), false),
            entry(&fake(2), Some("linux/arm64"), false),
        ]);
        let (inner_digest, _) = digest_of(&inner);
        let outer = index(vec![entry(&inner_digest, None, true)]);
        let tree = walk_all(&outer, std::slice::from_ref(&inner));
        let leaves: Vec<&str> = tree.leaves.iter().map(|l| l.digest.as_str()).collect();
        assert_eq!(leaves, [fake(1), fake(2)]);
        assert_eq!(
            tree.leaves[1].via,
            [tree.root.clone(), inner_digest.clone()]
        );
        assert_eq!(
            tree.choose(&host("linux/arm64")).unwrap().chosen.digest,
            fake(2)
        );
        // An outer entry's platform constrains what is below it.
        let outer = index(vec![
            entry(&inner_digest, Some("linux/s390x"), true),
            entry(&fake(3), Some("linux/arm64"), false),
        ]);
        let tree = walk_all(&outer, std::slice::from_ref(&inner));
        assert_eq!(
            tree.choose(&host("linux/arm64")).unwrap().chosen.digest,
            fake(3)
        );
    }

    #[test]
    fn hostile_indexes_are_refused() {
        // Missing, tampered, too deep, too many, not a digest.
        let (missing, _) = digest_of(&json!({"other": 1}));
        let root = index(vec![entry(&missing, None, true)]);
        let (digest, bytes) = digest_of(&root);
        let err = walk::<std::io::Error>(&digest, &bytes, |_| Ok(None)).unwrap_err();
        assert!(err.to_string().contains("not there"), "{err}");
        let err =
            walk::<std::io::Error>(&digest, &bytes, |_| Ok(Some(b"{}".to_vec()))).unwrap_err();
        assert!(err.to_string().contains("tampered"), "{err}");

        let mut store = Vec::new();
        let mut current = index(vec![entry(&fake(1), Some("linux/amd64"), false)]);
        for _ in 0..MAX_DEPTH + 1 {
            store.push(current.clone());
            current = index(vec![entry(&digest_of(&current).0, None, true)]);
        }
        let (digest, bytes) = digest_of(&current);
        let store: HashMap<String, Vec<u8>> = store.iter().map(digest_of).collect();
        let err =
            walk::<std::io::Error>(&digest, &bytes, |d| Ok(store.get(d).cloned())).unwrap_err();
        assert!(err.to_string().contains("nest more than"), "{err}");

        let many = index(
            (0..=MAX_ENTRIES)
                .map(|i| entry(&fake((i % 250) as u8), Some("linux/amd64"), false))
                .collect(),
        );
        let (digest, bytes) = digest_of(&many);
        let err = walk::<std::io::Error>(&digest, &bytes, |_| Ok(None)).unwrap_err();
        assert!(err.to_string().contains("more than"), "{err}");

        let bad = index(vec![entry("sha256:../../x", Some("linux/amd64"), false)]);
        let (digest, bytes) = digest_of(&bad);
        assert!(walk::<std::io::Error>(&digest, &bytes, |_| Ok(None)).is_err());
    }

    #[test]
    fn a_repeated_index_or_manifest_counts_once() {
        let inner = index(vec![entry(&fake(1), Some("linux/amd64"), false)]);
        let (inner_digest, _) = digest_of(&inner);
        let outer = index(vec![
            entry(&inner_digest, None, true),
            entry(&inner_digest, None, true),
            entry(&fake(1), Some("linux/amd64"), false),
        ]);
        let tree = walk_all(&outer, std::slice::from_ref(&inner));
        assert_eq!(tree.leaves.len(), 1);
    }

    #[test]
    fn a_manifest_is_its_own_only_leaf() {
        let manifest = json!({"schemaVersion": 2, "config": {"digest": fake(9)}, "layers": []});
        let tree = walk_all(&manifest, &[]);
        assert!(!tree.is_index);
        assert_eq!(tree.leaves.len(), 1);
        assert_eq!(
            tree.choose(&host("linux/s390x")).unwrap().chosen.digest,
            tree.root
        );
    }
}
