//! An image read straight from a registry (`registry:REF`), without the engine: the manifest the
//! reference resolves to (an index is followed to this machine's platform, see
//! [`crate::oci::resolve::resolve`]), its config, and each layer blob streamed from the registry through
//! the same single layer pass as every other source. Nothing is written to disk and no blob is held
//! whole in memory (metadata excepted, which is size-limited).
//!
//! The registry is presented as an OCI layout ([`Blobs`]): `index.json` is made here with the one
//! resolved image manifest, and `blobs/sha256/<hex>` is fetched on demand, but only for the digests
//! that manifest names, with the sizes it declares. `layout::locate` then checks the manifest, the
//! config and every layer against its digest, as it does for layouts on disk.

use super::archive::{parallel_map, read_layer_blob};
use super::layout::{Blobs, ScannedLayer};
use super::ImageError;
use crate::layers::{Limits, Wanted};
use crate::oci::client::{Manifest, Repository};
use crate::oci::RegistryError;
use oci_client::manifest::OciDescriptor;
use std::collections::HashMap;

/// Largest config blob read (the engine's limit for image configs is far lower in practice).
const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// The blobs of one resolved image in a registry.
pub struct RegistryBlobs<'a> {
    repository: &'a Repository,
    manifest: Manifest,
    /// The name recorded as the image's tag in the layout (`io.containerd.image.name`).
    name: Option<String>,
    input: String,
    /// The config and layers the manifest names, by digest (known once the manifest was read).
    named: HashMap<String, OciDescriptor>,
    wanted: &'a Wanted,
    limits: &'a Limits,
}

impl<'a> RegistryBlobs<'a> {
    pub fn new(
        repository: &'a Repository,
        manifest: Manifest,
        name: Option<String>,
        input: String,
        wanted: &'a Wanted,
        limits: &'a Limits,
    ) -> Self {
        RegistryBlobs {
            repository,
            manifest,
            name,
            input,
            named: HashMap::new(),
            wanted,
            limits,
        }
    }

    fn registry_error(&self, e: RegistryError) -> ImageError {
        ImageError::Io {
            input: self.input.clone(),
            detail: e.to_string(),
        }
    }

    /// Records the blobs the manifest names, so that those digests can be fetched next.
    fn learn_blobs(&mut self) {
        let Ok(parsed) = serde_json::from_slice::<serde_json::Value>(&self.manifest.bytes) else {
            return; // `locate` reports the parse error with the manifest's name.
        };
        let blobs = std::iter::once(&parsed["config"])
            .chain(parsed["layers"].as_array().into_iter().flatten())
            .filter_map(|d| serde_json::from_value::<OciDescriptor>(d.clone()).ok());
        for descriptor in blobs {
            self.named.insert(descriptor.digest.clone(), descriptor);
        }
    }

    fn index_json(&self) -> Vec<u8> {
        let mut descriptor = serde_json::json!({
            "mediaType": self.manifest.media_type,
            "digest": self.manifest.digest,
            "size": self.manifest.bytes.len(),
        });
        if let Some(name) = &self.name {
            descriptor["annotations"] = serde_json::json!({ "io.containerd.image.name": name });
        }
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "manifests": [descriptor],
        }))
        .unwrap_or_default()
    }
}

/// `blobs/sha256/<hex>` → `sha256:<hex>` (layout.rs builds these paths from checked digests).
fn digest_of(path: &str) -> Option<String> {
    path.strip_prefix("blobs/sha256/")
        .map(|hex| format!("sha256:{hex}"))
}

impl Blobs for RegistryBlobs<'_> {
    fn metadata(&mut self, path: &str) -> Result<Option<Vec<u8>>, ImageError> {
        if path == "index.json" {
            return Ok(Some(self.index_json()));
        }
        let Some(digest) = digest_of(path) else {
            return Ok(None);
        };
        if digest == self.manifest.digest {
            self.learn_blobs();
            return Ok(Some(self.manifest.bytes.clone()));
        }
        match self.named.get(&digest) {
            None => Ok(None),
            Some(descriptor) => self
                .repository
                .blob(descriptor, MAX_CONFIG_BYTES)
                .map(Some)
                .map_err(|e| self.registry_error(e)),
        }
    }

    fn layer(&mut self, path: &str) -> Result<Option<ScannedLayer>, ImageError> {
        let Some(descriptor) = digest_of(path).and_then(|d| self.named.get(&d)) else {
            return Ok(None);
        };
        let reader = self
            .repository
            .blob_reader(descriptor)
            .map_err(|e| self.registry_error(e))?;
        read_layer_blob(reader, path, &self.input, self.wanted, self.limits).map(Some)
    }

    /// Layers are fetched and read in parallel, largest first (as archives are), each on a client
    /// of its own.
    fn layers(&mut self, paths: &[String]) -> Result<Vec<Option<ScannedLayer>>, ImageError> {
        let mut jobs: Vec<(usize, &str, Option<&OciDescriptor>)> = paths
            .iter()
            .enumerate()
            .map(|(i, path)| {
                (
                    i,
                    path.as_str(),
                    digest_of(path).and_then(|d| self.named.get(&d)),
                )
            })
            .collect();
        jobs.sort_by_key(|(_, _, d)| std::cmp::Reverse(d.map_or(0, |d| d.size)));
        let read = |&(_, path, descriptor): &(usize, &str, Option<&OciDescriptor>)| {
            let Some(descriptor) = descriptor else {
                return Ok(None);
            };
            let registry_error = |e: RegistryError| self.registry_error(e);
            let repository = self.repository.fork().map_err(registry_error)?;
            let reader = repository.blob_reader(descriptor).map_err(registry_error)?;
            read_layer_blob(reader, path, &self.input, self.wanted, self.limits).map(Some)
        };
        let results = parallel_map(&jobs, read);
        let mut ordered: Vec<Option<Result<Option<ScannedLayer>, ImageError>>> =
            (0..paths.len()).map(|_| None).collect();
        for ((i, _, _), result) in jobs.iter().zip(results) {
            ordered[*i] = Some(result);
        }
        ordered
            .into_iter()
            .map(|result| result.unwrap_or(Ok(None)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_digest_paths_name_blobs() {
        assert_eq!(
            digest_of("blobs/sha256/ab12").as_deref(),
            Some("sha256:ab12")
        );
        assert_eq!(digest_of("manifest.json"), None);
        assert_eq!(digest_of("blobs/sha512/ab12"), None);
    }
}
