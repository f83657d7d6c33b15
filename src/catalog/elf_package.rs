//! Package notes in ELF binaries: the package metadata that Fedora, CentOS Stream, Azure Linux and
//! others link into every binary they build (systemd's "Package Metadata for Executable Files": an
//! ELF note named `FDO` of type `0xcafe1a7e` in the `.note.package` section, whose description is a
//! JSON object: `type`, `name`, `version`, `architecture`, `osCpe` or `os`/`osVersion`, `license`),
//! written by `ld --package-metadata`. A binary copied out of its distribution (a distroless image,
//! a build stage's output) still says which package it came from.
//!
//! A content probe reads each ELF file's program headers and its `PT_NOTE` segments (loaded, so
//! placed near the start of the file), within the first [`MAX_SCANNED`] bytes, and keeps the
//! description. A binary that an OS package owns is that package's, as with the classifiers; one
//! that carries a note is not classified again by its bytes.

use super::elf::Elf;
use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{FileIndex, Probe, ProbeScan};
use crate::license::normalize;
use crate::package::Package;
use crate::purl::build_purl;
use serde::Deserialize;

pub const NAME: &str = "elf-package";
pub const PROBE: &str = "elf-package-note";

/// How far into a file the headers and notes are looked for.
const MAX_SCANNED: usize = 256 * 1024;

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: &[],
    probes: &[|| std::sync::Arc::new(NoteProbe)],
    catalog: |input| catalog(input.files, input.owners),
};

/// Reads the package note of ELF files.
pub struct NoteProbe;

impl Probe for NoteProbe {
    fn name(&self) -> &'static str {
        PROBE
    }

    fn accepts(&self, _path: &str, size: u64, head: &[u8]) -> bool {
        size >= 52 && head.starts_with(b"\x7fELF")
    }

    fn start(&self, _path: &str) -> Box<dyn ProbeScan> {
        Box::new(NoteScan::default())
    }
}

#[derive(Default)]
struct NoteScan {
    bytes: Vec<u8>,
}

impl NoteScan {
    /// How many bytes are needed to read everything the headers point at (within the bound).
    fn wanted(&self) -> Option<usize> {
        let elf = Elf::of(&self.bytes)?;
        let header_end = elf.header_size();
        if self.bytes.len() < header_end {
            return Some(header_end);
        }
        let (phoff, size, count) = elf.program_headers()?;
        let table_end = phoff.checked_add(size.checked_mul(count)?)?;
        if self.bytes.len() < table_end {
            return Some(table_end);
        }
        let notes_end = elf
            .note_segments()?
            .into_iter()
            .filter_map(|(offset, size)| offset.checked_add(size))
            .filter(|end| *end <= MAX_SCANNED)
            .max()
            .unwrap_or(0);
        Some(notes_end.max(table_end))
    }
}

impl ProbeScan for NoteScan {
    fn feed(&mut self, mut chunk: &[u8]) -> bool {
        loop {
            // The identification bytes first, then whatever the headers read so far point at.
            let wanted = if self.bytes.len() < 6 {
                6
            } else {
                match self.wanted() {
                    Some(w) if w <= MAX_SCANNED => w,
                    // Not an ELF file we can read, or one whose headers lie beyond the bound.
                    _ => return false,
                }
            };
            if self.bytes.len() >= wanted {
                return false;
            }
            if chunk.is_empty() {
                return true;
            }
            let take = chunk.len().min(wanted - self.bytes.len());
            self.bytes.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
        }
    }

    fn finish(self: Box<Self>) -> Option<Vec<u8>> {
        let elf = Elf::of(&self.bytes)?;
        elf.note_segments()?
            .into_iter()
            .find_map(|(offset, size)| elf.package_note(offset, size))
            .map(<[u8]>::to_vec)
    }
}

/// A package note's description.
#[derive(Deserialize, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct Note {
    #[serde(rename = "type", default)]
    kind: String,
    name: String,
    version: String,
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os_cpe: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    os_version: Option<String>,
    #[serde(default)]
    license: Option<String>,
}

impl Note {
    /// The distribution and its release: `os`/`osVersion`, else the product and version of
    /// `osCpe` (`cpe:/o:fedoraproject:fedora:40`, or its 2.3 form).
    fn distro(&self) -> Option<(String, Option<String>)> {
        if let Some(os) = self.os.as_deref().filter(|o| !o.is_empty()) {
            return Some((os.to_string(), self.os_version.clone()));
        }
        let cpe = self.os_cpe.as_deref()?;
        let fields: Vec<&str> = if let Some(rest) = cpe.strip_prefix("cpe:2.3:") {
            rest.split(':').collect()
        } else {
            cpe.strip_prefix("cpe:/")?.split(':').collect()
        };
        // part, vendor, product, version
        let product = fields.get(2).filter(|p| !p.is_empty() && **p != "*")?;
        let version = fields
            .get(3)
            .filter(|v| !v.is_empty() && **v != "*" && **v != "-")
            .map(|v| v.to_string());
        Some((product.to_string(), version))
    }

    /// The purl: the distribution's package type for `rpm`, `deb`, `apk` and `alpm` notes with a
    /// known distribution; `pkg:generic` otherwise.
    fn purl(&self) -> Result<(String, &'static str), String> {
        let distro = self.distro();
        let kind = match self.kind.as_str() {
            "rpm" => "rpm",
            "deb" => "deb",
            "apk" => "apk",
            "alpm" => "alpm",
            _ => "generic",
        };
        let Some((os, release)) = distro.filter(|_| kind != "generic") else {
            return build_purl("generic", None, &self.name, &self.version, &[])
                .map(|p| (p, "generic"));
        };
        let qualifier = match &release {
            Some(r) => format!("{os}-{r}"),
            None => os.clone(),
        };
        let mut qualifiers = Vec::new();
        if let Some(a) = self.architecture.as_deref().filter(|a| !a.is_empty()) {
            qualifiers.push(("arch", a));
        }
        qualifiers.push(("distro", qualifier.as_str()));
        build_purl(kind, Some(&os), &self.name, &self.version, &qualifiers).map(|p| (p, kind))
    }
}

/// Every package note the probe read in a binary no OS package owns.
pub fn catalog(files: &FileIndex, owned: &super::Owners) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for (entry, found) in files.findings(PROBE) {
        let path = &entry.entry.path;
        if owned.contains_key(path) {
            continue;
        }
        let note: Note = match serde_json::from_slice(found) {
            Ok(n) => n,
            Err(e) => {
                output.warnings.push(format!(
                    "/{path}: its package note is not the JSON object systemd's format defines ({e}); skipped"
                ));
                continue;
            }
        };
        if note.name.trim().is_empty() || note.version.trim().is_empty() {
            output.warnings.push(format!(
                "/{path}: its package note names no package; skipped"
            ));
            continue;
        }
        let (purl, purl_type) = match note.purl() {
            Ok(p) => p,
            Err(e) => {
                output.warnings.push(format!("/{path}: {e}; skipped"));
                continue;
            }
        };
        let mut properties = vec![("vouch:elf:noteType".into(), note.kind.clone())];
        if let Some(cpe) = &note.os_cpe {
            properties.push(("vouch:elf:osCpe".into(), cpe.clone()));
        }
        output.packages.push(Package {
            name: note.name.clone(),
            version: note.version.clone(),
            purl_type,
            purl,
            cpe: None,
            licenses: note
                .license
                .as_deref()
                .and_then(normalize)
                .into_iter()
                .collect(),
            evidence: entry.evidence(),
            cataloger: NAME,
            properties,
        });
    }
    output
}

#[cfg(test)]
mod tests {
    use super::super::elf::{NOTE_OWNER, NOTE_TYPE, PT_NOTE};
    use super::*;

    /// A minimal 64-bit little-endian ELF with one PT_NOTE segment holding `notes`.
    fn elf_with_notes(notes: &[u8], padding: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; 64];
        bytes[..6].copy_from_slice(b"\x7fELF\x02\x01");
        let phoff = 64usize;
        bytes[0x20..0x28].copy_from_slice(&(phoff as u64).to_le_bytes());
        bytes[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        bytes[0x38..0x3A].copy_from_slice(&2u16.to_le_bytes());
        let notes_at = 64 + 2 * 56 + padding;
        let mut load = vec![0u8; 56];
        load[..4].copy_from_slice(&1u32.to_le_bytes());
        let mut note = vec![0u8; 56];
        note[..4].copy_from_slice(&PT_NOTE.to_le_bytes());
        note[8..16].copy_from_slice(&(notes_at as u64).to_le_bytes());
        note[32..40].copy_from_slice(&(notes.len() as u64).to_le_bytes());
        bytes.extend(load);
        bytes.extend(note);
        bytes.resize(notes_at, 0);
        bytes.extend_from_slice(notes);
        bytes.extend(vec![0u8; 100]);
        bytes
    }

    fn note(owner: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend((owner.len() as u32).to_le_bytes());
        out.extend((desc.len() as u32).to_le_bytes());
        out.extend(kind.to_le_bytes());
        out.extend(owner);
        out.resize(out.len().next_multiple_of(4), 0);
        out.extend(desc);
        out.resize(out.len().next_multiple_of(4), 0);
        out
    }

    fn scan(bytes: &[u8], chunk: usize) -> Option<Vec<u8>> {
        let mut scan = Box::new(NoteScan::default());
        for piece in bytes.chunks(chunk) {
            if !scan.feed(piece) {
                break;
            }
        }
        scan.finish()
    }

    #[test]
    fn finds_the_package_note_among_others_at_any_chunking() {
        let json = br#"{"type":"rpm","name":"hello","version":"1.0-1.fc40"}"#;
        let mut padded = json.to_vec();
        padded.push(0);
        let mut notes = note(b"GNU\0", 3, &[1; 20]);
        notes.extend(note(NOTE_OWNER, NOTE_TYPE, &padded));
        let file = elf_with_notes(&notes, 3000);
        for chunk in [1, 13, 4096, 1 << 20] {
            assert_eq!(scan(&file, chunk).as_deref(), Some(&json[..]), "{chunk}");
        }
        // Another owner's note of the same type, or notes beyond the bound: nothing.
        assert_eq!(
            scan(&elf_with_notes(&note(b"XYZ\0", NOTE_TYPE, json), 0), 4096),
            None
        );
        assert_eq!(
            scan(
                &elf_with_notes(&note(NOTE_OWNER, NOTE_TYPE, json), MAX_SCANNED),
                4096
            ),
            None
        );
        // A note whose sizes run past its segment: nothing, no panic.
        let mut broken = note(NOTE_OWNER, NOTE_TYPE, json);
        broken[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(scan(&elf_with_notes(&broken, 0), 4096), None);
        assert_eq!(scan(b"\x7fELF\x02\x01", 4096), None);
    }

    #[test]
    fn purls_follow_the_note_s_distribution() {
        let parse = |json: &str| {
            serde_json::from_str::<Note>(json)
                .unwrap()
                .purl()
                .unwrap()
                .0
        };
        assert_eq!(
            parse(
                r#"{"type":"rpm","name":"systemd-libs","version":"255.4-1.fc40","architecture":"x86_64","osCpe":"cpe:/o:fedoraproject:fedora:40"}"#
            ),
            "pkg:rpm/fedora/systemd-libs@255.4-1.fc40?arch=x86_64&distro=fedora-40"
        );
        assert_eq!(
            parse(
                r#"{"type":"deb","name":"hello","version":"2.10-3","os":"debian","osVersion":"12"}"#
            ),
            "pkg:deb/debian/hello@2.10-3?distro=debian-12"
        );
        assert_eq!(
            parse(
                r#"{"type":"rpm","name":"x","version":"1","osCpe":"cpe:2.3:o:microsoft:azurelinux:3.0:*:*:*:*:*:*:*"}"#
            ),
            "pkg:rpm/azurelinux/x@1?distro=azurelinux-3.0"
        );
        assert_eq!(
            parse(r#"{"type":"tarball","name":"tool","version":"0.9"}"#),
            "pkg:generic/tool@0.9"
        );
        assert_eq!(
            parse(r#"{"type":"rpm","name":"x","version":"1"}"#),
            "pkg:generic/x@1"
        );
    }
}
