//! The Rust cataloger: crates compiled into binaries built with `cargo auditable`, which embeds the
//! dependency tree as zlib-compressed JSON in an ELF section (`.dep-v0`).
//!
//! ELF section headers sit at the end of the file, so a streaming reader cannot look the section up
//! before passing it. The content probe ([`AuditableProbe`]) instead looks for zlib streams whose first
//! inflated bytes are `{"packages"` and keeps only that stream; the cataloger inflates it (bounded)
//! and reads the JSON. Purls are `pkg:cargo/NAME@VERSION`; edges follow the JSON's dependency indices.

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{FileIndex, IndexedEntry, Probe, ProbeScan, SeamSearch};
use crate::package::Package;
use crate::purl::build_purl;
use flate2::{Decompress, FlushDecompress, Status};
use serde::Deserialize;
use std::io::Read;

pub const NAME: &str = "rust-cargo-auditable";
pub const PROBE: &str = "cargo-auditable";

const JSON_START: &[u8] = b"{\"packages\"";
/// Compressed bytes kept after a match (audit data of large programs is tens of kilobytes).
const MAX_COMPRESSED: usize = 1024 * 1024;
/// Inflated JSON read at most.
const MAX_JSON: u64 = 16 * 1024 * 1024;
/// Bytes of the previous chunk kept so a stream starting near a chunk's end is still judged.
const OVERLAP: usize = 64;

/// Looks for cargo-auditable data in ELF files.
pub struct AuditableProbe;

impl Probe for AuditableProbe {
    fn name(&self) -> &'static str {
        PROBE
    }

    fn accepts(&self, _path: &str, size: u64, head: &[u8]) -> bool {
        size > 64 && head.starts_with(b"\x7fELF")
    }

    fn start(&self, _path: &str) -> Box<dyn ProbeScan> {
        Box::new(AuditableScan::default())
    }
}

#[derive(Default)]
struct AuditableScan {
    search: SeamSearch,
    captured: Option<Vec<u8>>,
}

/// The next place at or after `from` where a zlib stream may start: `0x78` (deflate, 32 KiB window) followed by one of the flag bytes
/// zlib encoders write (levels 0-1, 2-5, 6, 7-9).
fn next_zlib_start(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let p = at + memchr::memchr(0x78, &bytes[at..])?;
        if matches!(bytes.get(p + 1), Some(0x01 | 0x5e | 0x9c | 0xda)) {
            return Some(p);
        }
        at = p + 1;
    }
}

/// True when `bytes` start a zlib stream that inflates to `{"packages"`.
///
/// Candidates are frequent (`0x78` and a flag byte occur by chance in any large binary), so the
/// inflater is made once per thread and reset for each: a fresh one allocates and zeroes its state.
fn starts_audit_data(bytes: &[u8]) -> bool {
    thread_local! {
        static INFLATER: std::cell::RefCell<Decompress> = std::cell::RefCell::new(Decompress::new(true));
    }
    INFLATER.with_borrow_mut(|inflater| {
        inflater.reset(true);
        let mut out = [0u8; JSON_START.len()];
        match inflater.decompress(
            &bytes[..bytes.len().min(256)],
            &mut out,
            FlushDecompress::None,
        ) {
            Ok(Status::Ok | Status::StreamEnd | Status::BufError) => {
                inflater.total_out() as usize == out.len() && out == JSON_START
            }
            Err(_) => false,
        }
    })
}

impl ProbeScan for AuditableScan {
    fn feed(&mut self, chunk: &[u8]) -> bool {
        if let Some(captured) = &mut self.captured {
            let room = MAX_COMPRESSED - captured.len();
            captured.extend_from_slice(&chunk[..chunk.len().min(room)]);
            return captured.len() < MAX_COMPRESSED;
        }
        match self
            .search
            .feed(chunk, OVERLAP, next_zlib_start, starts_audit_data)
        {
            Some(mut found) => {
                found.truncate(MAX_COMPRESSED);
                let more = found.len() < MAX_COMPRESSED;
                self.captured = Some(found);
                more
            }
            None => true,
        }
    }

    fn finish(self: Box<Self>) -> Option<Vec<u8>> {
        let AuditableScan { search, captured } = *self;
        captured.or_else(|| search.finish(next_zlib_start, starts_audit_data))
    }
}

/// The JSON cargo-auditable embeds.
#[derive(Debug, Deserialize)]
pub struct AuditData {
    pub packages: Vec<AuditPackage>,
}

#[derive(Debug, Deserialize)]
pub struct AuditPackage {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub dependencies: Vec<usize>,
    #[serde(default)]
    pub root: bool,
}

/// Inflates and parses a kept audit-data stream.
pub fn parse_audit_data(compressed: &[u8]) -> Result<AuditData, String> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_JSON)
        .read_to_end(&mut json)
        .map_err(|e| format!("cargo-auditable data does not inflate ({e})"))?;
    serde_json::from_slice(&json)
        .map_err(|e| format!("cargo-auditable data is not valid JSON ({e})"))
}

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: &[],
    probes: &[|| std::sync::Arc::new(AuditableProbe)],
    catalog: |input| catalog(input.files),
};

/// Lists the crates of every binary with cargo-auditable data.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for (entry, snippet) in files.findings(PROBE) {
        match parse_audit_data(snippet) {
            Ok(data) => add_binary(&data, entry, &mut output),
            Err(e) => output.warnings.push(format!("/{}: {e}", entry.entry.path)),
        }
    }
    output
}

fn add_binary(data: &AuditData, entry: &IndexedEntry, output: &mut CatalogOutput) {
    let first = output.packages.len();
    let mut index_of = vec![None; data.packages.len()];
    for (i, crate_) in data.packages.iter().enumerate() {
        let Ok(purl) = build_purl("cargo", None, &crate_.name, &crate_.version, &[]) else {
            continue;
        };
        let mut properties = Vec::new();
        if let Some(source) = &crate_.source {
            properties.push(("vouch:cargo:source".into(), source.clone()));
        }
        if let Some(kind) = &crate_.kind {
            properties.push(("vouch:cargo:kind".into(), kind.clone()));
        }
        if crate_.root {
            properties.push(("vouch:cargo:root".into(), "true".to_string()));
        }
        index_of[i] = Some(output.packages.len());
        output.packages.push(Package {
            name: crate_.name.clone(),
            version: crate_.version.clone(),
            purl_type: "cargo",
            purl,
            cpe: None,
            licenses: Vec::new(),
            evidence: entry.evidence(),
            cataloger: NAME,
            properties,
        });
    }
    for (i, crate_) in data.packages.iter().enumerate() {
        let Some(from) = index_of[i] else { continue };
        for &d in &crate_.dependencies {
            if let Some(Some(to)) = index_of.get(d) {
                if *to != from && *to >= first {
                    output.dependencies.push((from, *to));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn audit_blob(json: &str) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(7));
        z.write_all(json.as_bytes()).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn finds_audit_data_among_other_zlib_streams() {
        let json = r#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1],"root":true},{"name":"itoa","version":"1.0.11","source":"crates.io"}]}"#;
        let mut elf = b"\x7fELF".to_vec();
        elf.resize(70_000, 0x78); // lots of 'x' bytes that start no stream
        elf.extend_from_slice(&audit_blob("{\"other\": true}")); // a zlib stream, but not audit data
        elf.resize(131_000, 0);
        elf.extend_from_slice(&audit_blob(json));
        elf.resize(200_000, 0);
        let probes = crate::layers::Probes(vec![std::sync::Arc::new(AuditableProbe)]);
        let mut reader = &elf[..];
        let findings = probes
            .scan("usr/bin/app", elf.len() as u64, &mut reader)
            .unwrap();
        assert_eq!(findings.len(), 1);
        let data = parse_audit_data(&findings[0].bytes).unwrap();
        assert_eq!(data.packages.len(), 2);
        assert_eq!(data.packages[0].dependencies, [1]);
        assert!(parse_audit_data(&audit_blob("{\"packages\": ["))
            .unwrap_err()
            .contains("not valid JSON"));
        assert!(parse_audit_data(b"\x78\xda\x01\x02").is_err());
    }
}
