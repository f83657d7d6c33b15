//! Reading a tar archive of an image (`docker save` output in either layout, or an OCI archive) in
//! one sequential pass, so it works on a pipe as well as a file: layers are read as they arrive, the
//! small metadata files are kept, and the layout is interpreted at the end.

use super::layout::{follow_archive_links, Blobs, ScannedLayer};
use super::ImageError;
use crate::layers::decompress::{decompressed, Compression};
use crate::layers::digest::HashingReader;
use crate::layers::path::normalize_entry_path;
use crate::layers::{read_layer, Limits, Wanted};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use tar::EntryType;

/// Metadata files (manifests, configs) larger than this are not images' metadata.
const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;

/// What one pass over an image archive found.
#[derive(Debug, Default)]
pub struct ArchiveScan {
    metadata: HashMap<String, Vec<u8>>,
    layers: HashMap<String, ScannedLayer>,
    links: HashMap<String, String>,
    pub warnings: Vec<String>,
}

impl Blobs for ArchiveScan {
    fn metadata(&mut self, path: &str) -> Result<Option<Vec<u8>>, ImageError> {
        let path = follow_archive_links(&self.links, path);
        Ok(self.metadata.get(&path).cloned())
    }

    fn layer(&mut self, path: &str) -> Result<Option<ScannedLayer>, ImageError> {
        let path = follow_archive_links(&self.links, path);
        Ok(self.layers.remove(&path))
    }
}

/// Reads an image archive from `reader`. `input` names it in errors.
pub fn scan_archive<R: Read>(
    reader: R,
    input: &str,
    wanted: &Wanted,
    limits: &Limits,
) -> Result<ArchiveScan, ImageError> {
    let mut archive = tar::Archive::new(reader);
    let mut scan = ArchiveScan::default();
    let not_archive = |e: std::io::Error| ImageError::NotAnArchive {
        input: input.to_string(),
        detail: e.to_string(),
    };
    let mut seen_entries = 0usize;
    for entry in archive.entries().map_err(not_archive)? {
        let entry = entry.map_err(|e| {
            if seen_entries == 0 {
                not_archive(e)
            } else {
                ImageError::Truncated {
                    input: input.to_string(),
                    detail: e.to_string(),
                }
            }
        })?;
        seen_entries += 1;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = normalize_entry_path(&raw).map_err(|e| ImageError::Layout {
            input: input.to_string(),
            detail: e.to_string(),
        })?;
        match entry.header().entry_type() {
            EntryType::Symlink | EntryType::Link => {
                if let Some(target) = entry.link_name_bytes() {
                    let target = String::from_utf8_lossy(&target).into_owned();
                    // Hardlink names are archive-root-relative; symlinks are relative to their dir.
                    let target = if entry.header().entry_type() == EntryType::Link {
                        format!("/{target}")
                    } else {
                        target
                    };
                    scan.links.insert(path, target);
                }
            }
            EntryType::Regular | EntryType::Continuous => {
                scan_file(entry, path, input, wanted, limits, &mut scan)?;
            }
            _ => {}
        }
    }
    if seen_entries == 0 {
        return Err(ImageError::NotAnArchive {
            input: input.to_string(),
            detail: "no tar entries".into(),
        });
    }
    Ok(scan)
}

fn scan_file<R: Read>(
    entry: tar::Entry<'_, R>,
    path: String,
    input: &str,
    wanted: &Wanted,
    limits: &Limits,
    scan: &mut ArchiveScan,
) -> Result<(), ImageError> {
    let size = entry.size();
    let truncated = |e: std::io::Error| ImageError::Truncated {
        input: input.to_string(),
        detail: format!("{path}: {e}"),
    };
    let mut buffered = BufReader::with_capacity(64 * 1024, entry);
    let head = buffered.fill_buf().map_err(truncated)?;
    let looks_like_json = head
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{' || b == b'[');
    let is_layer = path.ends_with("layer.tar") || (path.starts_with("blobs/") && !looks_like_json);
    if is_layer {
        let layer = read_layer_blob(buffered, &path, input, wanted, limits)?;
        scan.layers.insert(path, layer);
    } else if size <= MAX_METADATA_BYTES {
        let mut bytes = Vec::with_capacity(size as usize);
        buffered.read_to_end(&mut bytes).map_err(truncated)?;
        scan.metadata.insert(path, bytes);
    } else {
        scan.warnings.push(format!(
            "{input}: {path} ({size} bytes) is neither a layer nor image metadata; skipped"
        ));
    }
    Ok(())
}

/// Reads one layer blob (compressed or not) in a single pass, computing both its blob digest and its
/// diffID on the way.
pub fn read_layer_blob<R: Read>(
    blob: R,
    path: &str,
    input: &str,
    wanted: &Wanted,
    limits: &Limits,
) -> Result<ScannedLayer, ImageError> {
    let layer_error = |detail: String| ImageError::Layer {
        input: input.to_string(),
        layer: path.to_string(),
        detail,
    };
    let mut buffered = std::io::BufReader::with_capacity(256 * 1024, blob);
    let head = buffered
        .fill_buf()
        .map_err(|e| layer_error(e.to_string()))?;
    let finish_error = |e: std::io::Error| layer_error(format!("reading past the tar end: {e}"));
    let (files, blob_digest, diff_id, uncompressed_size) =
        if Compression::sniff(head) == Compression::None {
            // An uncompressed blob is its own tar: one hash serves as blob digest and diffID.
            let mut hasher = HashingReader::new(buffered);
            let files =
                read_layer(&mut hasher, wanted, limits).map_err(|e| layer_error(e.to_string()))?;
            let (digest, size) = hasher.finish().map_err(finish_error)?;
            (files, digest.clone(), digest, size)
        } else {
            let mut blob_hasher = HashingReader::new(buffered);
            let (stream, _compression) =
                decompressed(&mut blob_hasher).map_err(|e| layer_error(e.to_string()))?;
            let mut diff_hasher = HashingReader::new(stream);
            let files = read_layer(&mut diff_hasher, wanted, limits)
                .map_err(|e| layer_error(e.to_string()))?;
            let (diff_id, uncompressed_size) = diff_hasher.finish().map_err(finish_error)?;
            let (blob_digest, _) = blob_hasher.finish().map_err(finish_error)?;
            (files, blob_digest, diff_id, uncompressed_size)
        };
    Ok(ScannedLayer {
        files,
        blob_digest,
        diff_id,
        uncompressed_size,
    })
}
