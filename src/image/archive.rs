//! Reading a tar archive of an image (`docker save` output in either layout, or an OCI archive) in
//! one sequential pass, so it works on a pipe as well as a file: layers are read as they arrive, the
//! small metadata files are kept, and the layout is interpreted at the end.

use super::layout::{follow_archive_links, Blobs, ScannedLayer};
use super::ImageError;
use crate::layers::decompress::{decompressed, Compression};
use crate::layers::path::normalize_entry_path;
use crate::layers::pipe::{hash_while, PipeReader};
use crate::layers::{read_layer, Limits, Wanted};
use crate::oci::digest::HashingReader;
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

/// The error for an unreadable tar entry: the input is no archive when nothing was read yet,
/// otherwise it is cut short or damaged.
fn entry_error(input: &str, seen_entries: usize, e: std::io::Error) -> ImageError {
    if seen_entries == 0 {
        ImageError::NotAnArchive {
            input: input.to_string(),
            detail: e.to_string(),
        }
    } else {
        ImageError::Truncated {
            input: input.to_string(),
            detail: e.to_string(),
        }
    }
}

/// An archive entry's normalised path; one that leaves the archive root is refused.
fn entry_path<R: Read>(entry: &tar::Entry<'_, R>, input: &str) -> Result<String, ImageError> {
    let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    normalize_entry_path(&raw).map_err(|e| ImageError::Layout {
        input: input.to_string(),
        detail: e.to_string(),
    })
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
    let mut seen_entries = 0usize;
    for entry in archive.entries().map_err(|e| entry_error(input, 0, e))? {
        let entry = entry.map_err(|e| entry_error(input, seen_entries, e))?;
        seen_entries += 1;
        let path = entry_path(&entry, input)?;
        match entry.header().entry_type() {
            EntryType::Symlink | EntryType::Link => {
                if let Some(target) = link_target(&entry) {
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

/// What a regular file in an image archive is, judged by its path and first bytes.
#[derive(Debug, PartialEq, Eq)]
enum ArchiveFile {
    Layer,
    Metadata,
    Other,
}

fn classify(path: &str, size: u64, head: &[u8]) -> ArchiveFile {
    let looks_like_json = head
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{' || b == b'[');
    if path.ends_with("layer.tar") || (path.starts_with("blobs/") && !looks_like_json) {
        ArchiveFile::Layer
    } else if size <= MAX_METADATA_BYTES {
        ArchiveFile::Metadata
    } else {
        ArchiveFile::Other
    }
}

/// The symlink or hardlink target an archive entry records, as a path relative to the entry's
/// directory (hardlink names are archive-root-relative, so they get a leading `/`).
fn link_target<R: Read>(entry: &tar::Entry<'_, R>) -> Option<String> {
    let target = String::from_utf8_lossy(&entry.link_name_bytes()?).into_owned();
    Some(if entry.header().entry_type() == EntryType::Link {
        format!("/{target}")
    } else {
        target
    })
}

/// Reads an image archive that is a file. Its entries are indexed first (seeking past their data),
/// then its layers are read in parallel, one per core, each on its own file handle: the pass is still
/// one read of every byte, spread over the cores. `file` is the archive opened at `file_path`.
pub fn scan_archive_file(
    file: std::fs::File,
    file_path: &std::path::Path,
    input: &str,
    wanted: &Wanted,
    limits: &Limits,
) -> Result<ArchiveScan, ImageError> {
    let io_error = |e: std::io::Error| ImageError::Io {
        input: input.to_string(),
        detail: format!("cannot open: {e}"),
    };
    let file_len = file.metadata().map_err(io_error)?.len();
    let mut archive = tar::Archive::new(BufReader::new(file));
    let mut scan = ArchiveScan::default();
    let truncated = |detail: String| ImageError::Truncated {
        input: input.to_string(),
        detail,
    };
    // (path, data offset, size) of every layer blob.
    let mut layer_jobs: Vec<(String, u64, u64)> = Vec::new();
    let mut seen_entries = 0usize;
    for entry in archive
        .entries_with_seek()
        .map_err(|e| entry_error(input, 0, e))?
    {
        let mut entry = entry.map_err(|e| entry_error(input, seen_entries, e))?;
        seen_entries += 1;
        let path = entry_path(&entry, input)?;
        match entry.header().entry_type() {
            EntryType::Symlink | EntryType::Link => {
                if let Some(target) = link_target(&entry) {
                    scan.links.insert(path, target);
                }
            }
            EntryType::Regular | EntryType::Continuous => {
                let offset = entry.raw_file_position();
                let size = entry.size();
                if offset.saturating_add(size) > file_len {
                    return Err(truncated(format!("{path}: the file ends inside it")));
                }
                let mut head = Vec::with_capacity(64);
                (&mut entry)
                    .take(64)
                    .read_to_end(&mut head)
                    .map_err(|e| truncated(format!("{path}: {e}")))?;
                match classify(&path, size, &head) {
                    ArchiveFile::Layer => layer_jobs.push((path, offset, size)),
                    ArchiveFile::Metadata => {
                        let mut bytes = head;
                        entry
                            .read_to_end(&mut bytes)
                            .map_err(|e| truncated(format!("{path}: {e}")))?;
                        scan.metadata.insert(path, bytes);
                    }
                    ArchiveFile::Other => scan.warnings.push(format!(
                        "{input}: {path} ({size} bytes) is neither a layer nor image metadata; skipped"
                    )),
                }
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
    let read_job = |(path, offset, size): &(String, u64, u64)| -> Result<ScannedLayer, ImageError> {
        use std::io::Seek;
        let mut file = std::fs::File::open(file_path).map_err(io_error)?;
        file.seek(std::io::SeekFrom::Start(*offset))
            .map_err(io_error)?;
        read_layer_blob(file.take(*size), path, input, wanted, limits)
    };
    // Largest layers first, so that no big layer starts last and leaves the other cores idle.
    layer_jobs.sort_by_key(|job| std::cmp::Reverse(job.2));
    let results = parallel_map(&layer_jobs, read_job);
    for ((path, _, _), result) in layer_jobs.iter().zip(results) {
        scan.layers.insert(path.clone(), result?);
    }
    Ok(scan)
}

/// Runs `work` over `jobs` on as many threads as there are cores (at most one per job), starting them
/// in order and keeping the results in job order.
pub(super) fn parallel_map<J: Sync, T: Send>(jobs: &[J], work: impl Fn(&J) -> T + Sync) -> Vec<T> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(jobs.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let result = work(job);
                if let Ok(mut slots) = results.lock() {
                    slots[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
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
    match classify(&path, size, head) {
        ArchiveFile::Layer => {
            let layer = read_layer_blob(buffered, &path, input, wanted, limits)?;
            scan.layers.insert(path, layer);
        }
        ArchiveFile::Metadata => {
            let mut bytes = Vec::with_capacity(size as usize);
            buffered.read_to_end(&mut bytes).map_err(truncated)?;
            scan.metadata.insert(path, bytes);
        }
        ArchiveFile::Other => scan.warnings.push(format!(
            "{input}: {path} ({size} bytes) is neither a layer nor image metadata; skipped"
        )),
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
    // The tar is parsed on another thread while this one reads, decompresses and hashes it.
    let parse = |tar: &mut PipeReader| read_layer(tar, wanted, limits);
    let (files, blob_digest, diff_id, uncompressed_size) =
        if Compression::sniff(head) == Compression::None {
            // An uncompressed blob is its own tar: one hash serves as blob digest and diffID.
            let (files, hashed) = hash_while(buffered, parse);
            let files = files.map_err(|e| layer_error(e.to_string()))?;
            let (digest, size) = hashed.map_err(finish_error)?;
            (files, digest.clone(), digest, size)
        } else {
            let mut blob_hasher = HashingReader::new(buffered);
            let (stream, _compression) =
                decompressed(&mut blob_hasher).map_err(|e| layer_error(e.to_string()))?;
            let (files, hashed) = hash_while(stream, parse);
            let files = files.map_err(|e| layer_error(e.to_string()))?;
            let (diff_id, uncompressed_size) = hashed.map_err(finish_error)?;
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
