//! The Linux kernel an image carries (`/boot/vmlinuz-*`, as VM and appliance images built with
//! Docker do): a content probe reads the x86 boot protocol's setup header of each kernel image, the
//! `HdrS` magic at 0x202 and, at 0x20E, the offset (from 0x200) of the NUL-terminated version string
//! the kernel was built with (`6.1.0-26-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP ...
//! Debian 6.1.112-1 (2024-09-30)`), as `file` reads it. The release (its first word, `uname -r`) is
//! the version; the rest is `vouch:kernel:build`. No CPE: a distribution's release names its ABI
//! (`6.1.0-26`), not the upstream version the NVD lists (`6.1.112`). A kernel an OS package owns
//! is that package's.

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{path, FileIndex, Probe, ProbeScan};
use crate::package::Package;
use crate::purl::build_purl;

pub const NAME: &str = "linux-kernel";
pub const PROBE: &str = "linux-kernel-version";

/// Where the boot protocol's header puts its magic and the version string's offset.
const MAGIC_AT: usize = 0x202;
const VERSION_OFFSET_AT: usize = 0x20E;
/// The most of the version string kept.
const MAX_VERSION_BYTES: usize = 512;

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: &[],
    probes: &[|| std::sync::Arc::new(KernelProbe)],
    catalog: |input| catalog(input.files, input.owners),
};

/// Reads the version string of x86 kernel images (bzImage).
pub struct KernelProbe;

impl Probe for KernelProbe {
    fn name(&self) -> &'static str {
        PROBE
    }

    fn accepts(&self, path: &str, _size: u64, head: &[u8]) -> bool {
        let file = path::file_name(path);
        (file.starts_with("vmlinuz") || file == "bzImage")
            && head.get(MAGIC_AT..MAGIC_AT + 4) == Some(b"HdrS")
    }

    fn start(&self, _path: &str) -> Box<dyn ProbeScan> {
        Box::new(KernelScan::default())
    }
}

#[derive(Default)]
struct KernelScan {
    bytes: Vec<u8>,
}

impl KernelScan {
    /// Where the version string starts, once the header is in.
    fn version_at(&self) -> Option<usize> {
        let offset = self.bytes.get(VERSION_OFFSET_AT..VERSION_OFFSET_AT + 2)?;
        Some(0x200 + usize::from(u16::from_le_bytes([offset[0], offset[1]])))
    }
}

impl ProbeScan for KernelScan {
    fn feed(&mut self, mut chunk: &[u8]) -> bool {
        // The header first, then (its offset known) up to the end of the longest string kept: within
        // the first 64 KiB + 512 bytes, the offset being 16 bits from 0x200.
        loop {
            let wanted = self
                .version_at()
                .map_or(VERSION_OFFSET_AT + 2, |at| at + MAX_VERSION_BYTES);
            let take = chunk.len().min(wanted.saturating_sub(self.bytes.len()));
            self.bytes.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.bytes.len() >= wanted && self.version_at().is_some_and(|at| wanted > at) {
                return false;
            }
            if chunk.is_empty() {
                return true;
            }
        }
    }

    fn finish(self: Box<Self>) -> Option<Vec<u8>> {
        let at = self.version_at()?;
        let rest = self.bytes.get(at..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        let version = &rest[..end];
        (!version.is_empty() && version.iter().all(|b| b.is_ascii_graphic() || *b == b' '))
            .then(|| version.to_vec())
    }
}

/// Every kernel image the probe read that no OS package owns.
pub fn catalog(files: &FileIndex, owned: &super::Owners) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for (entry, found) in files.findings(PROBE) {
        if owned.contains_key(&entry.entry.path) {
            continue;
        }
        let text = String::from_utf8_lossy(found);
        let (release, build) = text.split_once(' ').unwrap_or((&text, ""));
        let Ok(purl) = build_purl("generic", None, "linux-kernel", release, &[]) else {
            continue;
        };
        output.packages.push(Package {
            name: "linux-kernel".to_string(),
            version: release.to_string(),
            purl_type: "generic",
            purl,
            licenses: Vec::new(),
            cpe: None,
            evidence: entry.evidence(),
            cataloger: NAME,
            properties: vec![("vouch:kernel:build".into(), build.trim().to_string())],
        });
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bzimage(version: &[u8], offset: u16) -> Vec<u8> {
        let mut image = vec![0u8; 0x200 + usize::from(offset) + version.len() + 64];
        image[MAGIC_AT..MAGIC_AT + 4].copy_from_slice(b"HdrS");
        image[VERSION_OFFSET_AT..VERSION_OFFSET_AT + 2].copy_from_slice(&offset.to_le_bytes());
        let at = 0x200 + usize::from(offset);
        image[at..at + version.len()].copy_from_slice(version);
        image
    }

    fn scan(bytes: &[u8], chunk: usize) -> Option<Vec<u8>> {
        let mut scan = Box::new(KernelScan::default());
        for piece in bytes.chunks(chunk) {
            if !scan.feed(piece) {
                break;
            }
        }
        scan.finish()
    }

    #[test]
    fn the_version_string_at_any_offset_and_chunking() {
        let version = b"6.1.0-26-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP";
        for offset in [0x10, 0x42c0, 0xfff0] {
            for chunk in [1, 7, 4096, 1 << 20] {
                assert_eq!(
                    scan(&bzimage(version, offset), chunk).as_deref(),
                    Some(&version[..])
                );
            }
        }
        // No terminating NUL within the bound, or bytes that are no text: nothing.
        let mut unterminated = bzimage(&[b'x'; 600], 0x100);
        unterminated.truncate(0x300 + 600);
        assert_eq!(scan(&unterminated, 4096), None);
        assert_eq!(scan(&bzimage(b"6.1\x01bad", 0x100), 4096), None);
        assert_eq!(scan(b"short", 4096), None);
    }
}
