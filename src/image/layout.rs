//! Interpreting an image's metadata files: the legacy `docker save` layout (`manifest.json`) and the
//! OCI image layout (`index.json` → manifest → config and layers), whichever the input holds.
//! Where the blobs live (a tar stream already scanned, or a directory) is behind [`Blobs`].

use super::platform::Platform;
use super::ImageError;
use crate::layers::path::{join, normalize_entry_path, parent};
use crate::layers::LayerFiles;
use crate::oci::digest::{sha256_digest, sha256_hex};
use crate::oci::walk::{is_index, walk, Leaf, Tree, Unchosen, WalkError};
use serde::Deserialize;

/// One layer after its single pass: what it holds and the digests computed on the way.
#[derive(Debug)]
pub struct ScannedLayer {
    pub files: LayerFiles,
    /// sha256 of the blob as stored (compressed or not).
    pub blob_digest: String,
    /// sha256 of the uncompressed tar: the diffID.
    pub diff_id: String,
    pub uncompressed_size: u64,
}

/// Access to an image's files by their layout path (`manifest.json`, `blobs/sha256/<hex>`).
pub trait Blobs {
    /// A metadata file's bytes, or `None` when the input has no such file.
    fn metadata(&mut self, path: &str) -> Result<Option<Vec<u8>>, ImageError>;
    /// The layer stored at `path`, read in one pass (or `None` when absent).
    fn layer(&mut self, path: &str) -> Result<Option<ScannedLayer>, ImageError>;
    /// The layers stored at `paths`, in that order. Sources that can read several at once (a
    /// registry) override this; the others read them one after the other.
    fn layers(&mut self, paths: &[String]) -> Result<Vec<Option<ScannedLayer>>, ImageError> {
        paths.iter().map(|path| self.layer(path)).collect()
    }
}

/// An image located inside its layout, with its layers read.
#[derive(Debug)]
pub struct Located {
    pub repo_tags: Vec<String>,
    /// The digest of the image manifest, when the layout has one (OCI layout).
    pub manifest_digest: Option<String>,
    pub config_bytes: Vec<u8>,
    pub layers: Vec<ScannedLayer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LegacyManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct Descriptor {
    digest: String,
}

#[derive(Deserialize)]
struct Manifest {
    config: Descriptor,
    layers: Vec<Descriptor>,
}

/// Finds the image in `blobs` (legacy `manifest.json` first, then OCI `index.json`) and reads its
/// layers in order. `input` names the source in errors; `platform` picks an index's entry (see
/// [`crate::oci::walk::Tree::choose`]).
pub fn locate(
    blobs: &mut dyn Blobs,
    input: &str,
    platform: Option<&Platform>,
) -> Result<Located, ImageError> {
    if let Some(bytes) = blobs.metadata("manifest.json")? {
        return locate_legacy(blobs, input, &bytes);
    }
    if let Some(bytes) = blobs.metadata("index.json")? {
        return locate_oci(blobs, input, &bytes, platform);
    }
    Err(ImageError::Layout {
        input: input.to_string(),
        detail: "neither manifest.json (docker save) nor index.json (OCI layout) was found".into(),
    })
}

fn parse_json<T: for<'de> Deserialize<'de>>(
    input: &str,
    what: &str,
    bytes: &[u8],
) -> Result<T, ImageError> {
    serde_json::from_slice(bytes).map_err(|e| ImageError::Layout {
        input: input.to_string(),
        detail: format!("{what} is not valid: {e}"),
    })
}

fn locate_legacy(blobs: &mut dyn Blobs, input: &str, bytes: &[u8]) -> Result<Located, ImageError> {
    let mut entries: Vec<LegacyManifestEntry> = parse_json(input, "manifest.json", bytes)?;
    let entry = match entries.len() {
        1 => entries.remove(0),
        0 => {
            return Err(ImageError::Layout {
                input: input.into(),
                detail: "manifest.json lists no image".into(),
            })
        }
        n => {
            let tags: Vec<String> = entries
                .iter()
                .flat_map(|e| e.repo_tags.clone().unwrap_or_default())
                .collect();
            return Err(ImageError::Layout {
                input: input.into(),
                detail: format!(
                    "the archive holds {n} images ({}); save one image per archive",
                    tags.join(", ")
                ),
            });
        }
    };
    let config_path = layout_path(input, &entry.config)?;
    let config_bytes = blobs
        .metadata(&config_path)?
        .ok_or_else(|| missing(input, "config", &entry.config))?;
    let mut layers = Vec::with_capacity(entry.layers.len());
    for layer_path in &entry.layers {
        let path = layout_path(input, layer_path)?;
        let layer = blobs
            .layer(&path)?
            .ok_or_else(|| missing(input, "layer", layer_path))?;
        // Docker 25+ names blobs by digest: then the name must match the bytes.
        if let Some(hex) = path.strip_prefix("blobs/sha256/") {
            check_digest(input, &path, &format!("sha256:{hex}"), &layer.blob_digest)?;
        }
        layers.push(layer);
    }
    Ok(Located {
        repo_tags: entry.repo_tags.unwrap_or_default(),
        manifest_digest: None,
        config_bytes,
        layers,
    })
}

fn locate_oci(
    blobs: &mut dyn Blobs,
    input: &str,
    bytes: &[u8],
    platform: Option<&Platform>,
) -> Result<Located, ImageError> {
    let layout_error = |detail: String| ImageError::Layout {
        input: input.into(),
        detail,
    };
    // Every manifest index.json reaches (through nested indexes), then the one a client takes.
    let tree = walk(&sha256_digest(bytes), bytes, |digest| {
        let path = blob_path_checked(input, digest)?;
        blobs.metadata(&path)
    })
    .map_err(|e| match e {
        WalkError::Fetch(e) => e,
        WalkError::Invalid { what, detail } => {
            layout_error(format!("index.json: {what}: {detail}"))
        }
    })?;
    let leaf = choose_leaf(input, &tree, platform)?;
    let blob_path = blob_path_checked(input, &leaf.digest)?;
    let blob = blobs
        .metadata(&blob_path)?
        .ok_or_else(|| missing(input, "manifest", &leaf.digest))?;
    check_digest(input, &blob_path, &leaf.digest, &sha256_digest(&blob))?;
    if is_index(&blob) {
        return Err(layout_error(format!(
            "{blob_path} is an image index, but its entry says image manifest"
        )));
    }
    let manifest: Manifest = parse_json(input, &blob_path, &blob)?;
    let config_path = blob_path_checked(input, &manifest.config.digest)?;
    let config_bytes = blobs
        .metadata(&config_path)?
        .ok_or_else(|| missing(input, "config", &manifest.config.digest))?;
    check_digest(
        input,
        &config_path,
        &manifest.config.digest,
        &sha256_digest(&config_bytes),
    )?;
    let paths = manifest
        .layers
        .iter()
        .map(|layer| blob_path_checked(input, &layer.digest))
        .collect::<Result<Vec<_>, _>>()?;
    let mut layers = Vec::with_capacity(paths.len());
    for ((layer, path), scanned) in manifest
        .layers
        .iter()
        .zip(&paths)
        .zip(blobs.layers(&paths)?)
    {
        let scanned = scanned.ok_or_else(|| missing(input, "layer", &layer.digest))?;
        check_digest(input, path, &layer.digest, &scanned.blob_digest)?;
        layers.push(scanned);
    }
    Ok(Located {
        repo_tags: leaf.names.clone(),
        manifest_digest: Some(leaf.digest.clone()),
        config_bytes,
        layers,
    })
}

/// The manifest to read: the one a client asking for the platform takes (this machine's when none
/// is asked for; then, when it takes none, the first runnable one, as `docker pull` of a foreign
/// image would be asked to with `--platform`).
fn choose_leaf<'a>(
    input: &str,
    tree: &'a Tree,
    wanted: Option<&Platform>,
) -> Result<&'a Leaf, ImageError> {
    match tree.choose_for(wanted) {
        Ok(choice) => Ok(choice.chosen),
        Err(Unchosen::NoPlatform) => Err(ImageError::NotFound {
            input: input.into(),
            detail: format!(
                "the image index has no {} image (it has: {})",
                wanted.map(Platform::to_string).unwrap_or_default(),
                tree.describe_platforms()
            ),
        }),
        Err(Unchosen::NoRunnable) => Err(ImageError::Layout {
            input: input.into(),
            detail: "the image index lists no image manifest".into(),
        }),
    }
}

/// `blobs/sha256/<hex>` for a digest that is exactly a sha256 digest; anything else is refused, as
/// digests come from files the image author wrote.
fn blob_path_checked(input: &str, digest: &str) -> Result<String, ImageError> {
    let hex = sha256_hex(digest).ok_or_else(|| ImageError::Layout {
        input: input.into(),
        detail: format!("{digest:?} is not a sha256 digest"),
    })?;
    Ok(format!("blobs/sha256/{hex}"))
}

/// A path named in manifest.json, normalised; paths leaving the archive root are refused.
fn layout_path(input: &str, raw: &str) -> Result<String, ImageError> {
    normalize_entry_path(raw).map_err(|e| ImageError::Layout {
        input: input.into(),
        detail: format!("manifest.json: {e}"),
    })
}

fn missing(input: &str, what: &str, name: &str) -> ImageError {
    ImageError::Layout {
        input: input.into(),
        detail: format!("the manifest names {what} {name}, which the input does not contain"),
    }
}

fn check_digest(input: &str, path: &str, expected: &str, actual: &str) -> Result<(), ImageError> {
    if expected == actual {
        Ok(())
    } else {
        Err(ImageError::DigestMismatch {
            input: input.into(),
            what: path.into(),
            expected: expected.into(),
            actual: actual.into(),
        })
    }
}

/// Resolves `path` through the symlinks an archive holds (Docker 25+ writes `<id>/layer.tar` as a
/// link into `blobs/`). Returns the path unchanged when no link applies.
pub fn follow_archive_links(
    links: &std::collections::HashMap<String, String>,
    path: &str,
) -> String {
    let mut current = path.to_string();
    for _ in 0..8 {
        match links.get(&current) {
            Some(target) => {
                let joined = if target.starts_with('/') {
                    target.trim_start_matches('/').to_string()
                } else {
                    join(parent(&current), target)
                };
                match normalize_entry_path(&joined) {
                    Ok(next) => current = next,
                    Err(_) => return current,
                }
            }
            None => break,
        }
    }
    current
}
