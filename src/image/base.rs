//! Which image this one was built on, and how many of its layers are that base's: from the
//! `--base-image` the user names (looked up on the engine and compared with the bottom of this
//! image's layers), else from the OCI base-image labels, else, for an engine image, the engine's
//! tagged image whose layers are the longest proper prefix of this one's. The policy's
//! `base_image` rule and the per-layer attributions read the answer.

use super::{inspect_only, tagged_images, Image, InspectedImage};
use crate::engine::Connection;
use serde::Serialize;

/// How the base image was learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaseSource {
    /// `--base-image`, checked against the image's layers.
    Flag,
    /// The `org.opencontainers.image.base.name` / `.digest` labels.
    Labels,
    /// The engine's tagged image whose layers are the longest proper prefix of this image's.
    EngineLayers,
}

/// The image the current one was built on, when known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BaseImage {
    pub name: Option<String>,
    pub digests: Vec<String>,
    pub source: Option<BaseSource>,
    /// How many of the image's layers (from the bottom) are the base image's.
    pub layer_count: Option<usize>,
    /// Whether the base image's layers were found at the bottom of this image's (`None` when the
    /// base image could not be looked at).
    pub layers_match: Option<bool>,
}

/// The base image of `image`: from `named` (`--base-image`), else from the OCI base-image labels,
/// else (an engine image) by its layers among the engine's tagged images. `engine` is asked for
/// only when the engine must be looked at; an engine that cannot be reached leaves the base
/// unknown (or, for `named`, unchecked).
pub fn base_image<'e>(
    image: &Image,
    named: Option<&str>,
    engine: impl FnOnce() -> Option<&'e Connection>,
) -> BaseImage {
    let diff_ids = image.config.diff_ids();
    if let Some(name) = named {
        let mut base = BaseImage {
            name: Some(name.to_string()),
            source: Some(BaseSource::Flag),
            ..Default::default()
        };
        if let Some(found) = engine().and_then(|engine| inspect_only(engine, name).ok()) {
            let matches = is_prefix(&found.diff_ids, diff_ids);
            base.layers_match = Some(matches);
            if matches {
                base.layer_count = Some(found.diff_ids.len());
            }
            base.digests = digests_of(found);
        }
        return base;
    }
    let labels = image.config.runtime().labels.unwrap_or_default();
    let name = labels.get("org.opencontainers.image.base.name").cloned();
    let digest = labels.get("org.opencontainers.image.base.digest").cloned();
    if name.is_none() && digest.is_none() {
        return match engine_source_of(image, engine) {
            Some(engine) => base_among_engine_images(diff_ids, engine),
            None => BaseImage::default(),
        };
    }
    BaseImage {
        name,
        digests: digest.into_iter().collect(),
        source: Some(BaseSource::Labels),
        ..Default::default()
    }
}

/// The engine, asked for only for an image read from it.
fn engine_source_of<'e>(
    image: &Image,
    engine: impl FnOnce() -> Option<&'e Connection>,
) -> Option<&'e Connection> {
    (image.source == "docker").then(engine).flatten()
}

/// Whether `base` is the bottom of `layers` (an empty base is the bottom of anything).
fn is_prefix(base: &[String], layers: &[String]) -> bool {
    base.len() <= layers.len() && base.iter().zip(layers).all(|(a, b)| a == b)
}

/// The engine's ID of an image, then its registry digests.
fn digests_of(found: InspectedImage) -> Vec<String> {
    std::iter::once(found.id)
        .chain(
            found
                .repo_digests
                .iter()
                .filter_map(|d| d.split_once('@').map(|(_, d)| d.to_string())),
        )
        .collect()
}

/// The engine's tagged image whose layers are the longest proper prefix of `diff_ids`: what the
/// image was built from, as the engine's own history knows it.
fn base_among_engine_images(diff_ids: &[String], engine: &Connection) -> BaseImage {
    let Ok(images) = tagged_images(engine) else {
        return BaseImage::default();
    };
    let best = images
        .into_iter()
        .filter(|candidate| {
            !candidate.diff_ids.is_empty()
                && candidate.diff_ids.len() < diff_ids.len()
                && is_prefix(&candidate.diff_ids, diff_ids)
        })
        .max_by(|a, b| {
            a.diff_ids
                .len()
                .cmp(&b.diff_ids.len())
                .then_with(|| b.repo_tags.first().cmp(&a.repo_tags.first()))
        });
    match best {
        Some(found) => BaseImage {
            name: found.repo_tags.first().cloned(),
            layer_count: Some(found.diff_ids.len()),
            layers_match: Some(true),
            source: Some(BaseSource::EngineLayers),
            digests: digests_of(found),
        },
        None => BaseImage::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_base_is_the_bottom_of_the_layers() {
        let layers = ids(&["a", "b", "c"]);
        assert!(is_prefix(&ids(&["a", "b"]), &layers));
        assert!(is_prefix(&ids(&["a", "b", "c"]), &layers));
        assert!(!is_prefix(&ids(&["b"]), &layers));
        assert!(!is_prefix(&ids(&["a", "b", "c", "d"]), &layers));
    }
}
