//! An OCI image layout directory (`oci-dir:PATH`): `index.json`, `oci-layout` and `blobs/sha256/*`
//! on disk. Blob paths are built only from validated digests, so a hostile `index.json` cannot make
//! us read outside the directory.

use super::archive::read_layer_blob;
use super::layout::{Blobs, ScannedLayer};
use super::ImageError;
use crate::layers::{Limits, Wanted};
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;

/// Blobs read from an OCI layout directory.
pub struct OciDir<'a> {
    root: PathBuf,
    input: String,
    wanted: &'a Wanted,
    limits: &'a Limits,
}

impl<'a> OciDir<'a> {
    pub fn open(root: &Path, wanted: &'a Wanted, limits: &'a Limits) -> Result<Self, ImageError> {
        let input = format!("oci-dir:{}", root.display());
        if !root.join("index.json").is_file() {
            return Err(ImageError::Layout {
                input,
                detail: "no index.json: not an OCI image layout directory".into(),
            });
        }
        Ok(OciDir {
            root: root.to_path_buf(),
            input,
            wanted,
            limits,
        })
    }

    pub fn input(&self) -> &str {
        &self.input
    }

    fn open_file(&self, path: &str) -> Result<Option<File>, ImageError> {
        // `path` is `index.json`, `manifest.json` or `blobs/sha256/<64 hex>` (see layout.rs).
        match File::open(self.root.join(path)) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ImageError::Io {
                input: self.input.clone(),
                detail: format!("{path}: {e}"),
            }),
        }
    }
}

impl Blobs for OciDir<'_> {
    fn metadata(&mut self, path: &str) -> Result<Option<Vec<u8>>, ImageError> {
        let Some(file) = self.open_file(path)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        file.take(MAX_METADATA_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| ImageError::Io {
                input: self.input.clone(),
                detail: format!("{path}: {e}"),
            })?;
        if bytes.len() as u64 > MAX_METADATA_BYTES {
            return Err(ImageError::Layout {
                input: self.input.clone(),
                detail: format!("{path} is larger than {MAX_METADATA_BYTES} bytes"),
            });
        }
        Ok(Some(bytes))
    }

    fn layer(&mut self, path: &str) -> Result<Option<ScannedLayer>, ImageError> {
        let Some(file) = self.open_file(path)? else {
            return Ok(None);
        };
        read_layer_blob(file, path, &self.input, self.wanted, self.limits).map(Some)
    }
}
