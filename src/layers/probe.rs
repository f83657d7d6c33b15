//! Content probes: how catalogers look inside files whose paths they cannot name in advance (a Go
//! binary can live anywhere). A probe sees the first bytes of every regular file the globs did not
//! ask for, and when it accepts one, is fed the file's bytes as they stream past and keeps at most a
//! small snippet (a Go buildinfo block, a version string), never the file itself.

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;

/// How many leading bytes a probe sees to decide whether it wants a file.
pub const HEAD_BYTES: usize = 4096;
/// Chunk size for feeding accepted files to probes.
const CHUNK_BYTES: usize = 64 * 1024;

/// A kind of content a cataloger looks for.
pub trait Probe: Send + Sync {
    /// The name findings are filed under (`go-buildinfo`).
    fn name(&self) -> &'static str;
    /// Whether to scan this file, judging by its path, size and first bytes.
    fn accepts(&self, path: &str, size: u64, head: &[u8]) -> bool;
    /// A fresh scanner for the file at `path` (push mode: fed chunk by chunk alongside other probes).
    fn start(&self, path: &str) -> Box<dyn ProbeScan>;

    /// Pull mode, for formats that must be parsed as a stream (zip archives): when this returns
    /// `Some`, the probe took the file on its own. `stream` yields the whole file, head included;
    /// the probe may stop reading early. The default is push mode.
    fn scan_stream(
        &self,
        _path: &str,
        _stream: &mut dyn Read,
    ) -> Option<io::Result<Option<Vec<u8>>>> {
        None
    }
}

/// The state of one probe over one file.
pub trait ProbeScan {
    /// Feeds the next bytes of the file; returns `false` once it needs no more.
    fn feed(&mut self, chunk: &[u8]) -> bool;
    /// What to keep, if anything was found.
    fn finish(self: Box<Self>) -> Option<Vec<u8>>;
}

/// The push-mode scanner of a probe that always answers in pull mode ([`Probe::scan_stream`]), so
/// that its `start` is never called: it finds nothing.
pub fn pull_only() -> Box<dyn ProbeScan> {
    struct Nothing;
    impl ProbeScan for Nothing {
        fn feed(&mut self, _: &[u8]) -> bool {
            false
        }
        fn finish(self: Box<Self>) -> Option<Vec<u8>> {
            None
        }
    }
    Box::new(Nothing)
}

/// The probes the catalogers registered.
#[derive(Clone, Default)]
pub struct Probes(pub Vec<Arc<dyn Probe>>);

impl fmt::Debug for Probes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|p| p.name()))
            .finish()
    }
}

/// A snippet a probe kept from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub probe: &'static str,
    pub bytes: Vec<u8>,
}

impl Probes {
    /// Runs the accepting probes over `reader` (a file of `size` bytes at `path`), reading it at most
    /// once. Returns their findings (empty when no probe accepted or found anything).
    pub fn scan<R: Read>(&self, path: &str, size: u64, reader: &mut R) -> io::Result<Vec<Finding>> {
        if self.0.is_empty() || size < 4 {
            return Ok(Vec::new());
        }
        let mut head = vec![0u8; HEAD_BYTES.min(size as usize)];
        reader.read_exact(&mut head)?;
        let accepting: Vec<&Arc<dyn Probe>> = self
            .0
            .iter()
            .filter(|p| p.accepts(path, size, &head))
            .collect();
        for probe in &accepting {
            let mut stream = (&head[..]).chain(&mut *reader);
            if let Some(result) = probe.scan_stream(path, &mut stream) {
                return Ok(result?
                    .map(|bytes| Finding {
                        probe: probe.name(),
                        bytes,
                    })
                    .into_iter()
                    .collect());
            }
        }
        let mut scans: Vec<(&'static str, Box<dyn ProbeScan>, bool)> = accepting
            .iter()
            .map(|p| (p.name(), p.start(path), true))
            .collect();
        if scans.is_empty() {
            return Ok(Vec::new());
        }
        let feed_all = |scans: &mut Vec<(&'static str, Box<dyn ProbeScan>, bool)>, chunk: &[u8]| {
            for (_, scan, active) in scans.iter_mut().filter(|s| s.2) {
                *active = scan.feed(chunk);
            }
            scans.iter().any(|s| s.2)
        };
        let mut more = feed_all(&mut scans, &head);
        // Sized to what is left: most files scanned are small, and a zeroed 64 KiB buffer for each
        // would cost more than reading them.
        let left = (size as usize).saturating_sub(head.len());
        let mut chunk = vec![0u8; CHUNK_BYTES.min(left.max(1))];
        while more && left > 0 {
            let n = reader.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            more = feed_all(&mut scans, &chunk[..n]);
        }
        Ok(scans
            .into_iter()
            .filter_map(|(probe, scan, _)| scan.finish().map(|bytes| Finding { probe, bytes }))
            .collect())
    }
}

/// Finds, in a stream fed chunk by chunk, the first position where a pattern starts, without copying
/// the stream: candidates inside a chunk are judged in place, and only the seam between two chunks
/// (`lookahead` bytes each side) is copied. A candidate is judged once `lookahead` bytes after it are
/// available, or at the end of the stream with what there is.
#[derive(Debug, Default)]
pub struct SeamSearch {
    tail: Vec<u8>,
}

impl SeamSearch {
    /// Feeds the next chunk. `next` finds the next possible start at or after an offset in a slice;
    /// `accept` judges the bytes from a candidate on. Returns the bytes from the match to the end of
    /// what was fed.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        lookahead: usize,
        next: impl Fn(&[u8], usize) -> Option<usize>,
        accept: impl Fn(&[u8]) -> bool,
    ) -> Option<Vec<u8>> {
        // The seam: the previous tail and the start of this chunk.
        let joined = chunk.len().min(lookahead);
        let mut seam = std::mem::take(&mut self.tail);
        let tail_len = seam.len();
        seam.extend_from_slice(&chunk[..joined]);
        let in_seam = first_match(&seam, &next, |p, b| {
            p < tail_len && p + lookahead <= b.len() && accept(&b[p..])
        });
        if let Some(p) = in_seam {
            let mut found = seam[p..].to_vec();
            found.extend_from_slice(&chunk[joined..]);
            return Some(found);
        }
        if let Some(p) = first_match(chunk, &next, |p, b| {
            p + lookahead <= b.len() && accept(&b[p..])
        }) {
            return Some(chunk[p..].to_vec());
        }
        // Keep the last `lookahead` bytes fed: candidates there are judged in the next seam.
        self.tail = if chunk.len() >= lookahead {
            chunk[chunk.len() - lookahead..].to_vec()
        } else {
            seam[seam.len() - lookahead.min(seam.len())..].to_vec()
        };
        None
    }

    /// At the end of the stream: judges the candidates left in the tail with the bytes there are.
    pub fn finish(
        self,
        next: impl Fn(&[u8], usize) -> Option<usize>,
        accept: impl Fn(&[u8]) -> bool,
    ) -> Option<Vec<u8>> {
        let p = first_match(&self.tail, &next, |p, b| accept(&b[p..]))?;
        Some(self.tail[p..].to_vec())
    }
}

/// The first candidate position in `bytes` that `judge` accepts.
fn first_match(
    bytes: &[u8],
    next: &impl Fn(&[u8], usize) -> Option<usize>,
    judge: impl Fn(usize, &[u8]) -> bool,
) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = next(bytes, from) {
        if judge(p, bytes) {
            return Some(p);
        }
        from = p + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(stream: &[u8], chunk: usize) -> Option<Vec<u8>> {
        let mut s = SeamSearch::default();
        let candidates =
            |b: &[u8], from: usize| memchr::memmem::find(&b[from..], b"MAGIC").map(|i| i + from);
        let accept = |b: &[u8]| b.len() >= 7 && b[5] == b'!';
        let mut parts = stream.chunks(chunk);
        for part in parts.by_ref() {
            if let Some(mut found) = s.feed(part, 8, candidates, accept) {
                // As the probes do: what follows the match arrives with later chunks.
                parts.for_each(|rest| found.extend_from_slice(rest));
                return Some(found);
            }
        }
        s.finish(candidates, accept)
    }

    #[test]
    fn finds_matches_anywhere_including_seams_and_the_end() {
        let mut stream = vec![b'.'; 100];
        stream.extend_from_slice(b"MAGIC?xx"); // a candidate that is not accepted
        stream.extend_from_slice(&[b'.'; 50]);
        stream.extend_from_slice(b"MAGIC!yy-rest");
        for chunk in 1..40 {
            let found = search(&stream, chunk).unwrap_or_else(|| panic!("chunk size {chunk}"));
            assert_eq!(found, b"MAGIC!yy-rest", "chunk size {chunk}");
        }
        let at_end = b"....MAGIC!z".to_vec();
        assert_eq!(search(&at_end, 3).as_deref(), Some(&b"MAGIC!z"[..]));
        assert_eq!(search(b"nothing here", 4), None);
    }
}
