//! .NET assemblies and other Windows PE files (`*.dll`, `*.exe`) that no `deps.json` names: the
//! version resource every assembly carries (`VS_VERSIONINFO`: `ProductName`, `ProductVersion`,
//! `FileVersion`, `CompanyName`, ...), as Windows' file properties and `exiftool` read it.
//!
//! A content probe reads the PE headers and section table at the start of the file, then keeps only
//! the bytes of the resource section as the file streams past (at most [`MAX_RESOURCES`]); the
//! resource tree is walked to the `RT_VERSION` entry and its string table kept. The whole file is
//! never held (the PE crates of the field, pelite and goblin, parse a whole file image; an
//! ASP.NET image carries some 70 MB of assemblies).
//!
//! Name and version are chosen as Syft chooses them (the product name, or for Microsoft's files the
//! file description; the greater or more detailed of the product and file versions), and the purl
//! is Syft's `pkg:nuget/NAME@VERSION`. An assembly that a `deps.json` beside it names as a package
//! is that package's; one an OS package owns is that package's.

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{path, FileIndex, Probe, ProbeScan};
use crate::package::Package;
use crate::purl::build_purl;
use std::collections::{BTreeMap, HashSet};

pub const NAME: &str = "dotnet-pe";
pub const PROBE: &str = "pe-version-resource";

/// The most header bytes read before the resource section is located.
const MAX_HEADERS: usize = 64 * 1024;
/// The largest resource section kept.
const MAX_RESOURCES: usize = 2 * 1024 * 1024;
const RT_VERSION: u32 = 16;

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: &[],
    probes: &[|| std::sync::Arc::new(PeProbe)],
    catalog: |input| catalog(input.files, input.owners),
};

/// Reads the version resource of PE files.
pub struct PeProbe;

impl Probe for PeProbe {
    fn name(&self) -> &'static str {
        PROBE
    }

    fn accepts(&self, path: &str, size: u64, head: &[u8]) -> bool {
        let file = path::file_name(path).to_ascii_lowercase();
        size >= 0x40
            && (file.ends_with(".dll") || file.ends_with(".exe"))
            && head.starts_with(b"MZ")
    }

    fn start(&self, _path: &str) -> Box<dyn ProbeScan> {
        Box::new(PeScan::default())
    }
}

/// Where the resource section is: its file offset, size and virtual address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ResourceSection {
    offset: usize,
    size: usize,
    rva: u32,
}

#[derive(Default)]
struct PeScan {
    /// The file's first bytes, until the section table is read.
    head: Vec<u8>,
    /// How many bytes have streamed past.
    seen: usize,
    section: Option<ResourceSection>,
    resources: Vec<u8>,
    failed: bool,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// How many bytes of the file the headers need, and (once they are in) the resource section.
enum Headers {
    Need(usize),
    Found(Option<ResourceSection>),
}

fn headers(b: &[u8]) -> Option<Headers> {
    let pe = u32_at(b, 0x3c)? as usize;
    if b.len() < pe + 24 {
        return Some(Headers::Need(pe + 24));
    }
    if b.get(pe..pe + 4)? != b"PE\0\0" {
        return None;
    }
    let sections = usize::from(u16_at(b, pe + 6)?);
    let optional_size = usize::from(u16_at(b, pe + 20)?);
    let optional = pe + 24;
    let table = optional + optional_size;
    let end = table + 40 * sections;
    if b.len() < end {
        return Some(Headers::Need(end));
    }
    let directories = match u16_at(b, optional)? {
        0x10b => optional + 96,
        0x20b => optional + 112,
        _ => return None,
    };
    // The resource table is data directory 2; it must lie within the optional header.
    if directories + 8 * 3 > table {
        return Some(Headers::Found(None));
    }
    let rva = u32_at(b, directories + 16)?;
    let size = u32_at(b, directories + 20)? as usize;
    if rva == 0 || size == 0 {
        return Some(Headers::Found(None));
    }
    for i in 0..sections {
        let at = table + 40 * i;
        let virtual_size = u32_at(b, at + 8)?;
        let virtual_address = u32_at(b, at + 12)?;
        let raw_size = u32_at(b, at + 16)?;
        let raw_pointer = u32_at(b, at + 20)? as usize;
        let span = virtual_size.max(raw_size);
        if rva >= virtual_address && rva < virtual_address.saturating_add(span) {
            let within = (rva - virtual_address) as usize;
            return Some(Headers::Found(Some(ResourceSection {
                offset: raw_pointer + within,
                size,
                rva,
            })));
        }
    }
    Some(Headers::Found(None))
}

impl ProbeScan for PeScan {
    fn feed(&mut self, chunk: &[u8]) -> bool {
        let start = self.seen;
        self.seen += chunk.len();
        if self.section.is_none() {
            self.head.extend_from_slice(chunk);
            match headers(&self.head) {
                Some(Headers::Need(n)) if n <= MAX_HEADERS => return true,
                Some(Headers::Found(Some(section))) if section.size <= MAX_RESOURCES => {
                    self.section = Some(section);
                }
                _ => {
                    self.failed = true;
                    return false;
                }
            }
            // The part of what was read so far that is the resource section.
            let head = std::mem::take(&mut self.head);
            return self.keep(0, &head);
        }
        self.keep(start, chunk)
    }

    fn finish(self: Box<Self>) -> Option<Vec<u8>> {
        let section = self.section?;
        if self.failed || self.resources.len() < section.size {
            return None;
        }
        let version = version_resource(&self.resources, section.rva)?;
        let strings = version_strings(version)?;
        let mut out = String::new();
        for (key, value) in strings {
            out.push_str(&key);
            out.push('\t');
            out.push_str(&value);
            out.push('\n');
        }
        Some(out.into_bytes())
    }
}

impl PeScan {
    /// Copies the part of `bytes` (at file offset `at`) that falls in the resource section; false
    /// once the whole section is in.
    fn keep(&mut self, at: usize, bytes: &[u8]) -> bool {
        let Some(section) = self.section else {
            return false;
        };
        let (from, to) = (section.offset, section.offset + section.size);
        let lo = from.max(at);
        let hi = to.min(at + bytes.len());
        if lo < hi {
            self.resources.extend_from_slice(&bytes[lo - at..hi - at]);
        }
        at + bytes.len() < to
    }
}

/// The data of the first `RT_VERSION` resource, from the resource section's bytes (which start at
/// virtual address `rva`).
fn version_resource(section: &[u8], rva: u32) -> Option<&[u8]> {
    // Three levels: type, name, language; each an IMAGE_RESOURCE_DIRECTORY whose entries point at
    // the next level (high bit set) or, at the last, at a data entry.
    let entries = |dir: usize| -> Option<Vec<(u32, u32)>> {
        let named = usize::from(u16_at(section, dir + 12)?);
        let ids = usize::from(u16_at(section, dir + 14)?);
        (0..(named + ids).min(4096))
            .map(|i| {
                Some((
                    u32_at(section, dir + 16 + 8 * i)?,
                    u32_at(section, dir + 20 + 8 * i)?,
                ))
            })
            .collect()
    };
    let (_, types) = entries(0)?
        .into_iter()
        .find(|(id, target)| *id == RT_VERSION && target & 0x8000_0000 != 0)?;
    let mut dir = (types & 0x7fff_ffff) as usize;
    for _ in 0..2 {
        let (_, next) = *entries(dir)?.first()?;
        if next & 0x8000_0000 != 0 {
            dir = (next & 0x7fff_ffff) as usize;
        } else {
            let data_rva = u32_at(section, next as usize)?;
            let size = u32_at(section, next as usize + 4)? as usize;
            let offset = data_rva.checked_sub(rva)? as usize;
            return section.get(offset..offset.checked_add(size)?);
        }
    }
    None
}

/// One node of a version resource: its key, value bytes, and children bytes.
fn node(bytes: &[u8]) -> Option<(String, &[u8], &[u8], usize)> {
    let length = usize::from(u16_at(bytes, 0)?);
    let value_length = usize::from(u16_at(bytes, 2)?);
    let text = u16_at(bytes, 4)? == 1;
    let node = bytes.get(..length)?;
    let mut at = 6;
    let mut key = Vec::new();
    loop {
        let c = u16_at(node, at)?;
        at += 2;
        if c == 0 {
            break;
        }
        key.push(c);
    }
    let key = String::from_utf16_lossy(&key);
    at = at.next_multiple_of(4);
    let value_bytes = if text { value_length * 2 } else { value_length };
    let value = node.get(at..(at + value_bytes).min(length))?;
    let children = node.get((at + value_bytes).next_multiple_of(4).min(length)..)?;
    Some((key, value, children, length.next_multiple_of(4)))
}

/// Every child node of `bytes`, in order.
fn children(mut bytes: &[u8]) -> Vec<(String, &[u8], &[u8])> {
    let mut out = Vec::new();
    while bytes.len() >= 6 && out.len() < 1024 {
        let Some((key, value, kids, step)) = node(bytes) else {
            break;
        };
        if step == 0 {
            break;
        }
        out.push((key, value, kids));
        bytes = bytes.get(step..).unwrap_or_default();
    }
    out
}

/// The `StringFileInfo` strings of a `VS_VERSIONINFO` (the first string table's).
fn version_strings(version: &[u8]) -> Option<BTreeMap<String, String>> {
    let (key, _, kids, _) = node(version)?;
    if key != "VS_VERSION_INFO" {
        return None;
    }
    let (_, _, tables) = children(kids)
        .into_iter()
        .find(|(k, _, _)| k == "StringFileInfo")?;
    let (_, _, strings) = children(tables).into_iter().next()?;
    let mut out = BTreeMap::new();
    for (key, value, _) in children(strings) {
        let units: Vec<u16> = value
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&c| c != 0)
            .collect();
        let text = String::from_utf16_lossy(&units);
        let clean: String = text
            .chars()
            .map(|c| {
                if c.is_control() || c == '\u{a0}' {
                    ' '
                } else {
                    c
                }
            })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !clean.is_empty() && !key.contains(['\t', '\n']) {
            out.insert(key, clean);
        }
    }
    Some(out)
}

/// The leading part of a version field that holds its numbers (`4.7.4076.0` of
/// `4.7.4076.0 built by: NET472REL1LAST_B`; `1, 0, 0, 0` stays whole).
fn leading_version(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for field in text.split_whitespace() {
        let numeric = field.bytes().any(|b| b.is_ascii_digit());
        if !numeric && out.iter().any(|f| f.bytes().any(|b| b.is_ascii_digit())) {
            break;
        }
        out.push(field);
    }
    out.join(" ")
}

/// Dotted numbers, for comparing two versions (`None` when not all numeric).
fn numbers(version: &str) -> Option<Vec<u64>> {
    version.split('.').map(|p| p.parse().ok()).collect()
}

fn detail(version: &str) -> usize {
    version.matches(['.', ',']).count()
}

/// The version, as Syft picks it from the product and file versions.
fn version_of(fields: &BTreeMap<String, String>) -> Option<String> {
    let product = leading_version(fields.get("ProductVersion").map_or("", String::as_str));
    let file = leading_version(fields.get("FileVersion").map_or("", String::as_str));
    let has_digit = |v: &str| v.bytes().any(|b| b.is_ascii_digit());
    if let (Some(p), Some(f)) = (numbers(&product), numbers(&file)) {
        // Compared as versions, trailing zeros aside.
        let trim = |mut v: Vec<u64>| {
            while v.last() == Some(&0) {
                v.pop();
            }
            v
        };
        match trim(p).cmp(&trim(f)) {
            std::cmp::Ordering::Less => return Some(file),
            std::cmp::Ordering::Greater => return Some(product),
            std::cmp::Ordering::Equal => {}
        }
    }
    let chosen = if has_digit(&product) && detail(&product) >= detail(&file) {
        product
    } else if has_digit(&file) && detail(&file) > 0 {
        file
    } else if has_digit(&product) {
        product
    } else if has_digit(&file) {
        file
    } else {
        product
    };
    (!chosen.is_empty()).then_some(chosen)
}

/// The name, as Syft picks it: the product name, or for Microsoft's files the file description.
fn name_of(fields: &BTreeMap<String, String>) -> Option<String> {
    let microsoft = ["CompanyName", "ProductName"].iter().any(|k| {
        fields
            .get(*k)
            .is_some_and(|v| v.to_lowercase().contains("microsoft"))
    });
    let order: &[&str] = if microsoft {
        &[
            "FileDescription",
            "InternalName",
            "OriginalFilename",
            "ProductName",
        ]
    } else {
        &[
            "ProductName",
            "FileDescription",
            "InternalName",
            "OriginalFilename",
        ]
    };
    order
        .iter()
        .find_map(|k| fields.get(*k).filter(|v| !v.is_empty()))
        .cloned()
}

/// Assemblies (`DIR/NAME.dll`, lowercased) that a `deps.json` in `DIR` names as a package.
fn named_by_deps_json(files: &FileIndex) -> HashSet<String> {
    let mut named = HashSet::new();
    for entry in files.entries() {
        let path = entry.entry.path.as_str();
        if !path.ends_with(".deps.json") {
            continue;
        }
        let dir = crate::layers::path::parent(path);
        let Some(document) = entry
            .contents()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        else {
            continue;
        };
        let Some(libraries) = document.get("libraries").and_then(|l| l.as_object()) else {
            continue;
        };
        for key in libraries.keys() {
            if let Some((name, _)) = key.split_once('/') {
                named.insert(format!("{dir}/{name}.dll").to_lowercase());
            }
        }
    }
    named
}

/// Every PE file's version resource the probe kept, for files no OS package owns and no
/// `deps.json` names.
pub fn catalog(files: &FileIndex, owned: &super::Owners) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    let mut named = None;
    for (entry, found) in files.findings(PROBE) {
        let path = &entry.entry.path;
        if owned.contains_key(path) {
            continue;
        }
        let named = named.get_or_insert_with(|| named_by_deps_json(files));
        if named.contains(&path.to_lowercase()) {
            continue;
        }
        let fields: BTreeMap<String, String> = String::from_utf8_lossy(found)
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (Some(name), Some(version)) = (name_of(&fields), version_of(&fields)) else {
            continue;
        };
        let Ok(purl) = build_purl("nuget", None, &name, &version, &[]) else {
            continue;
        };
        let mut properties = Vec::new();
        for (key, property) in [
            ("CompanyName", "vouch:pe:companyName"),
            ("FileVersion", "vouch:pe:fileVersion"),
            ("ProductVersion", "vouch:pe:productVersion"),
            ("InternalName", "vouch:pe:internalName"),
        ] {
            if let Some(v) = fields.get(key) {
                properties.push((property.into(), v.clone()));
            }
        }
        output.packages.push(Package {
            name,
            version,
            purl_type: "nuget",
            purl,
            cpe: None,
            licenses: Vec::new(),
            evidence: entry.evidence(),
            cataloger: NAME,
            properties,
        });
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn picks_name_and_version_as_syft_does() {
        let mono = fields(&[
            ("CompanyName", "Mono development team"),
            ("FileDescription", "System.Core.dll"),
            ("ProductName", "Mono Common Language Infrastructure"),
            ("ProductVersion", "4.6.57.0"),
            ("FileVersion", "4.6.57.0"),
        ]);
        assert_eq!(
            name_of(&mono).unwrap(),
            "Mono Common Language Infrastructure"
        );
        assert_eq!(version_of(&mono).unwrap(), "4.6.57.0");
        let microsoft = fields(&[
            ("CompanyName", "Microsoft Corporation"),
            ("FileDescription", "System.Text.Json"),
            ("ProductName", "Microsoft® .NET"),
            (
                "ProductVersion",
                "8.0.8+08338fcaa5c9b9a8190abb99222fed12aaba956c",
            ),
            ("FileVersion", "8.0.824.36612"),
        ]);
        assert_eq!(name_of(&microsoft).unwrap(), "System.Text.Json");
        assert_eq!(version_of(&microsoft).unwrap(), "8.0.824.36612");
        let built_by = fields(&[
            ("ProductName", "X"),
            ("FileVersion", "4.7.4076.0 built by: NET472REL1LAST_B"),
        ]);
        assert_eq!(version_of(&built_by).unwrap(), "4.7.4076.0");
    }

    #[test]
    fn a_version_resource_s_strings() {
        // VS_VERSIONINFO → StringFileInfo → StringTable → String, as the resource compiler lays it
        // out: UTF-16 keys, 32-bit alignment, text values counted in characters.
        fn utf16(s: &str) -> Vec<u8> {
            s.encode_utf16()
                .chain([0])
                .flat_map(u16::to_le_bytes)
                .collect()
        }
        fn block(key: &str, value: &[u8], text: bool, kids: &[Vec<u8>]) -> Vec<u8> {
            let mut b = vec![0; 6];
            b.extend(utf16(key));
            b.resize(b.len().next_multiple_of(4), 0);
            b.extend(value);
            b.resize(b.len().next_multiple_of(4), 0);
            for k in kids {
                b.extend(k);
                b.resize(b.len().next_multiple_of(4), 0);
            }
            let len = b.len() as u16;
            b[0..2].copy_from_slice(&len.to_le_bytes());
            let value_len = if text { value.len() / 2 } else { value.len() } as u16;
            b[2..4].copy_from_slice(&value_len.to_le_bytes());
            b[4..6].copy_from_slice(&u16::from(text).to_le_bytes());
            b
        }
        let strings = [
            block("ProductName", &utf16("Tool"), true, &[]),
            block("FileVersion", &utf16("1.2.3.4"), true, &[]),
        ];
        let table = block("040904b0", &[], true, &strings);
        let info = block("StringFileInfo", &[], true, &[table]);
        let version = block("VS_VERSION_INFO", &[0xbd, 0x04, 0xef, 0xfe], false, &[info]);
        let found = version_strings(&version).unwrap();
        assert_eq!(found.get("ProductName").unwrap(), "Tool");
        assert_eq!(found.get("FileVersion").unwrap(), "1.2.3.4");
        // Cut anywhere: no panic.
        for cut in 0..version.len() {
            let _ = version_strings(&version[..cut]);
        }
    }
}
