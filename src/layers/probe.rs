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
        let mut chunk = vec![0u8; CHUNK_BYTES];
        while more {
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
