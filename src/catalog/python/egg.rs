//! Zipped eggs: a `NAME-V-pyX.Y.egg` file that `easy_install` (or a `.pth` line, or `PYTHONPATH`)
//! puts on `sys.path` whole, as importlib.metadata reads it. Its metadata is `EGG-INFO/PKG-INFO` inside
//! the zip, read by a pull-mode content probe as the file streams past in the layer pass
//! ([`crate::catalog::zipstream`]), so the archive is never held or unpacked.

use crate::catalog::zipstream::{walk, Visit};
use crate::layers::{pull_only, Probe, ProbeScan};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::io::{self, BufReader, Read};

pub const PROBE: &str = "python-egg";
/// Largest PKG-INFO read (as for an unpacked one).
const MAX_PKG_INFO: u64 = 1024 * 1024;
/// Bytes that may be inflated while looking for it.
const INFLATE_BUDGET: u64 = 256 * 1024 * 1024;
const METADATA: &str = "EGG-INFO/PKG-INFO";

/// What the probe keeps of one zipped egg.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EggFindings {
    /// The text of `EGG-INFO/PKG-INFO`.
    pub pkg_info: Option<String>,
    /// Why the egg could not be read to its end without finding it (a damaged zip): the layer pass
    /// goes on, and the cataloger warns.
    pub warning: Option<String>,
}

/// Streams zipped eggs in the layer pass, keeping their `EGG-INFO/PKG-INFO`.
pub struct EggProbe;

impl Probe for EggProbe {
    fn name(&self) -> &'static str {
        PROBE
    }

    fn accepts(&self, path: &str, _size: u64, head: &[u8]) -> bool {
        head.starts_with(b"PK\x03\x04") && path.to_ascii_lowercase().ends_with(".egg")
    }

    fn start(&self, _path: &str) -> Box<dyn ProbeScan> {
        pull_only()
    }

    fn scan_stream(
        &self,
        _path: &str,
        stream: &mut dyn Read,
    ) -> Option<io::Result<Option<Vec<u8>>>> {
        let budget = Cell::new(INFLATE_BUDGET);
        let pkg_info: RefCell<Option<String>> = RefCell::new(None);
        let walked = walk(
            &mut BufReader::new(stream),
            &budget,
            |entry| {
                if pkg_info.borrow().is_none() && entry.name == METADATA {
                    Visit::Read
                } else {
                    Visit::Skip
                }
            },
            |_, body| {
                let mut text = String::new();
                body.take(MAX_PKG_INFO).read_to_string(&mut text)?;
                *pkg_info.borrow_mut() = Some(text);
                Ok(())
            },
        );
        let mut findings = EggFindings {
            pkg_info: pkg_info.into_inner(),
            warning: None,
        };
        if let (None, Err(e)) = (&findings.pkg_info, walked) {
            findings.warning = Some(format!("zipped egg: {e}; no {METADATA} read"));
        }
        if findings == EggFindings::default() {
            return Some(Ok(None));
        }
        Some(
            serde_json::to_vec(&findings)
                .map(Some)
                .map_err(io::Error::other),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::zipstream::tests::zip_with_descriptors;

    fn scan(bytes: &[u8]) -> EggFindings {
        let mut reader = bytes;
        EggProbe
            .scan_stream("site-packages/six-1.16.0-py3.11.egg", &mut reader)
            .unwrap()
            .unwrap()
            .map(|b| serde_json::from_slice(&b).unwrap())
            .unwrap_or_default()
    }

    #[test]
    fn keeps_the_egg_info_and_nothing_else() {
        let egg = zip_with_descriptors(&[
            ("six.py", b"import sys\n"),
            (
                "EGG-INFO/PKG-INFO",
                b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n",
            ),
            ("EGG-INFO/top_level.txt", b"six\n"),
        ]);
        assert_eq!(
            scan(&egg).pkg_info.as_deref(),
            Some("Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n")
        );
        let without = zip_with_descriptors(&[("six.py", b"import sys\n")]);
        assert_eq!(scan(&without), EggFindings::default());
    }

    #[test]
    fn a_damaged_egg_is_a_warning_not_a_silent_miss() {
        let egg = zip_with_descriptors(&[
            ("six.py", b"import sys\n"),
            ("EGG-INFO/PKG-INFO", b"Name: six\nVersion: 1.16.0\n"),
        ]);
        let found = scan(&egg[..egg.len() / 2]);
        assert_eq!(found.pkg_info, None);
        let warning = found.warning.unwrap();
        assert!(warning.contains("no EGG-INFO/PKG-INFO read"), "{warning}");
        assert!(EggProbe.accepts("a/B-1.EGG", 10, b"PK\x03\x04"));
        assert!(!EggProbe.accepts("a/b.egg", 10, b"not a zip"));
    }
}
