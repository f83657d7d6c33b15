//! Interpreting an image's metadata files: the legacy `docker save` layout (`manifest.json`) and the
//! OCI image layout (`index.json` → manifest → config and layers), whichever the input holds.
//! Where the blobs live (a tar stream already scanned, or a directory) is behind [`Blobs`].

use super::platform::{choose_platform, describe_platforms, Platform};
use super::ImageError;
use crate::layers::digest::{sha256_digest, sha256_hex};
use crate::layers::path::{join, normalize_entry_path, parent};
use crate::layers::LayerFiles;
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
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    #[serde(default)]
    platform: Option<DescriptorPlatform>,
    #[serde(default)]
    annotations: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct DescriptorPlatform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Manifest {
    config: Descriptor,
    layers: Vec<Descriptor>,
}

const INDEX_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Finds the image in `blobs` (legacy `manifest.json` first, then OCI `index.json`) and reads its
/// layers in order. `input` names the source in errors; `platform` picks an index's entry (see
/// [`choose_platform`]).
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
    let mut index: Index = parse_json(input, "index.json", bytes)?;
    let mut tags = Vec::new();
    // Follow nested indexes (an image index inside the layout's index) down to one manifest.
    for _depth in 0..4 {
        let descriptor = choose_manifest(input, &mut index.manifests, platform)?;
        if let Some(name) = descriptor
            .annotations
            .as_ref()
            .and_then(|a| a.get("io.containerd.image.name"))
        {
            tags.push(name.clone());
        }
        let blob_path = blob_path_checked(input, &descriptor.digest)?;
        let blob = blobs
            .metadata(&blob_path)?
            .ok_or_else(|| missing(input, "manifest", &descriptor.digest))?;
        check_digest(input, &blob_path, &descriptor.digest, &sha256_digest(&blob))?;
        let is_index = descriptor
            .media_type
            .as_deref()
            .is_some_and(|m| INDEX_MEDIA_TYPES.contains(&m));
        if is_index {
            index = parse_json(input, &blob_path, &blob)?;
            continue;
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
        return Ok(Located {
            repo_tags: tags,
            manifest_digest: Some(descriptor.digest.clone()),
            config_bytes,
            layers,
        });
    }
    Err(ImageError::Layout {
        input: input.into(),
        detail: "image indexes nest more than 4 deep".into(),
    })
}

/// Picks the manifest of the asked platform, else this machine's (or the only one).
fn choose_manifest<'a>(
    input: &str,
    manifests: &'a mut [Descriptor],
    wanted: Option<&Platform>,
) -> Result<&'a Descriptor, ImageError> {
    let platforms: Vec<_> = manifests
        .iter()
        .map(|d| {
            d.platform
                .as_ref()
                .map(|p| (p.os.as_str(), p.architecture.as_str(), p.variant.as_deref()))
        })
        .collect();
    match (choose_platform(&platforms, wanted), wanted) {
        (Some(i), _) => Ok(&manifests[i]),
        (None, Some(wanted)) => Err(ImageError::NotFound {
            input: input.into(),
            detail: format!(
                "the image index has no {wanted} image (it has: {})",
                describe_platforms(&platforms)
            ),
        }),
        (None, None) => Err(ImageError::Layout {
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
