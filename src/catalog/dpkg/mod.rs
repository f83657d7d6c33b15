//! The dpkg cataloger: Debian-family packages from `var/lib/dpkg/status` and the one-file-per-package
//! `var/lib/dpkg/status.d/*` that distroless images use. Only packages whose files are on disk are
//! reported (every state but `not-installed` and `config-files`). A broken paragraph is skipped with
//! a warning naming the file and line; the rest of the database is kept.
//!
//! Dependency edges come from `Depends`/`Pre-Depends` resolved through `Provides` ([`relations`]);
//! licenses from `/usr/share/doc/PACKAGE/copyright` ([`copyright`]).

pub mod copyright;

use super::deb822::{parse_paragraphs, Paragraph};
use super::relations;
use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{FileIndex, IndexedEntry};
use crate::package::{Distro, Evidence, Package};
use crate::purl::build_purl;
use std::sync::Arc;

pub const NAME: &str = "dpkg";
pub const GLOBS: &[&str] = &[
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/*",
    "var/lib/dpkg/info/*.list",
    copyright::GLOB,
];

const STATUS: &str = "var/lib/dpkg/status";
const STATUS_DIR: &str = "var/lib/dpkg/status.d/";

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Os,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files, input.distro),
};

/// Finds every installed package in the image's dpkg databases.
///
/// Two passes over each database: the first makes the packages, the second resolves their
/// `Depends` against all of them, parsing each paragraph again rather than holding 200,000
/// packages' relations at once.
pub fn catalog(files: &FileIndex, distro: Option<&Distro>) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    let databases: Vec<&IndexedEntry> = files
        .entries()
        .filter(|e| {
            let p = e.entry.path.as_str();
            p == STATUS
                || (p.starts_with(STATUS_DIR)
                    && !p[STATUS_DIR.len()..].contains('/')
                    && !p.ends_with(".md5sums"))
        })
        .collect();
    let read: Vec<DatabaseRead> = databases
        .iter()
        .map(|entry| catalog_database(entry, distro, &mut output))
        .collect();
    output.dependencies = dependencies(&databases, &read, &output.packages);
    output.owned_files = owned_files(files, &output.packages);
    for package in &mut output.packages {
        match copyright::licenses_for(files, &package.name) {
            Ok(licenses) => package.licenses = licenses,
            Err(e) => output
                .warnings
                .push(format!("licenses of {}: {e}", package.name)),
        }
    }
    output
}

/// What the first pass learned of one database: which of its paragraphs became packages (by
/// position), and what those packages provide.
#[derive(Default)]
struct DatabaseRead {
    /// `(paragraph position, package index)`, in order.
    packages: Vec<(usize, usize)>,
    /// `(package index, virtual package name)`.
    provides: Vec<(usize, String)>,
}

fn catalog_database(
    entry: &IndexedEntry,
    distro: Option<&Distro>,
    output: &mut CatalogOutput,
) -> DatabaseRead {
    let mut read = DatabaseRead::default();
    let path = &entry.entry.path;
    let Some(bytes) = entry.contents() else {
        if matches!(entry.entry.kind, crate::layers::EntryKind::File { .. }) {
            output.warnings.push(format!(
                "/{path}: contents not read (too large); its packages are missing"
            ));
        }
        return read;
    };
    let text = String::from_utf8_lossy(bytes);
    let shared_path: Arc<str> = path.as_str().into();
    for (position, paragraph) in parse_paragraphs(&text).enumerate() {
        let paragraph = match paragraph {
            Ok(p) => p,
            Err(e) => {
                output
                    .warnings
                    .push(format!("/{path}: {e}; paragraph skipped"));
                continue;
            }
        };
        match package_from(&paragraph, &shared_path, entry.layer_index, distro) {
            Ok(Some(package)) => {
                let index = output.packages.len();
                output.packages.push(package);
                read.packages.push((position, index));
                if let Some(provides) = paragraph.get("Provides") {
                    read.provides.extend(
                        parse_dependency_field(provides)
                            .into_iter()
                            .flatten()
                            .map(|name| (index, name)),
                    );
                }
            }
            Ok(None) => {}
            Err(e) => output.warnings.push(format!(
                "/{path}: paragraph at line {}: {e}; paragraph skipped",
                paragraph.line
            )),
        }
    }
    read
}

/// The second pass: each package's `Pre-Depends` and `Depends` resolved (through `Provides`)
/// against every installed package.
fn dependencies(
    databases: &[&IndexedEntry],
    read: &[DatabaseRead],
    packages: &[Package],
) -> Vec<(usize, usize)> {
    let mut installed = relations::Installed::default();
    for package in packages {
        installed.add(&package.name, architecture(package));
    }
    for (index, name) in read.iter().flat_map(|r| &r.provides) {
        installed.provides(*index, name);
    }
    installed.index();
    let mut edges = Vec::new();
    for (entry, read) in databases.iter().zip(read) {
        let Some(bytes) = entry.contents() else {
            continue;
        };
        let text = String::from_utf8_lossy(bytes);
        let mut wanted = read.packages.iter().peekable();
        for (position, paragraph) in parse_paragraphs(&text).enumerate() {
            let Some(&&(at, index)) = wanted.peek() else {
                break;
            };
            if position != at {
                continue;
            }
            wanted.next();
            let Ok(paragraph) = paragraph else {
                continue;
            };
            let mut groups = Vec::new();
            for field in ["Pre-Depends", "Depends"] {
                if let Some(value) = paragraph.get(field) {
                    groups.extend(parse_dependency_field(value));
                }
            }
            installed.resolve(index, &groups, &mut edges);
        }
    }
    edges.sort_unstable();
    edges.dedup();
    edges
}

/// The package's dpkg architecture, as its paragraph gave it.
fn architecture(package: &Package) -> Option<&str> {
    package
        .properties
        .iter()
        .find(|(k, _)| k == "vouch:dpkg:architecture")
        .map(|(_, v)| v.as_str())
}

/// True when dpkg's status says the package's files are on disk.
fn files_installed(status: Option<&str>) -> bool {
    match status.and_then(|s| s.split_whitespace().nth(2)) {
        // distroless status.d entries often have no Status field: they describe installed packages.
        None => status.is_none(),
        Some(state) => !matches!(state, "not-installed" | "config-files"),
    }
}

fn package_from(
    paragraph: &Paragraph,
    path: &Arc<str>,
    layer_index: usize,
    distro: Option<&Distro>,
) -> Result<Option<Package>, String> {
    if !files_installed(paragraph.get("Status")) {
        return Ok(None);
    }
    let name = paragraph.get("Package").ok_or("no Package field")?;
    let version = paragraph
        .get("Version")
        .ok_or_else(|| format!("package {name} has no Version field"))?;
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(format!("invalid package name {name:?}"));
    }
    if version.is_empty() || version.contains(char::is_whitespace) {
        return Err(format!("package {name}: invalid version {version:?}"));
    }
    let arch = paragraph.get("Architecture").filter(|a| !a.is_empty());
    let namespace = distro.map(|d| d.id.as_str()).unwrap_or("debian");
    let distro_qualifier = distro.map(Distro::purl_qualifier);
    let mut qualifiers: Vec<(&str, &str)> = Vec::new();
    if let Some(a) = arch {
        qualifiers.push(("arch", a));
    }
    if let Some(d) = &distro_qualifier {
        qualifiers.push(("distro", d));
    }
    let purl = build_purl("deb", Some(namespace), name, version, &qualifiers)?;

    let mut properties = Vec::new();
    if let Some(a) = arch {
        properties.push(("vouch:dpkg:architecture".into(), a.to_string()));
    }
    if let Some(source) = paragraph.get("Source") {
        // `Source: name (version)` when the source version differs from the binary's.
        let (source_name, source_version) = match source.split_once(' ') {
            Some((n, v)) => (n, v.trim_matches(|c| c == '(' || c == ')' || c == ' ')),
            None => (source, version),
        };
        properties.push(("vouch:dpkg:source".into(), source_name.to_string()));
        properties.push((
            "vouch:dpkg:sourceVersion".into(),
            source_version.to_string(),
        ));
    }
    if let Some(m) = paragraph.get("Maintainer") {
        properties.push(("vouch:dpkg:maintainer".into(), m.to_string()));
    }
    Ok(Some(Package {
        name: name.to_string(),
        version: version.to_string(),
        purl_type: "deb",
        purl,
        licenses: Vec::new(),
        cpe: None,
        evidence: Evidence {
            path: Arc::clone(path),
            layer_index,
        },
        cataloger: NAME,
        properties,
    }))
}

/// The `MD5  path` lines of a dpkg `.md5sums` file, as (MD5, path relative to the root).
pub fn md5sums(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines()
        .filter_map(|line| line.split_once("  "))
        .map(|(sum, path)| (sum, path.trim_start_matches('/')))
}

/// The files dpkg says each package installed: `info/NAME.list` or `info/NAME:ARCH.list`, and for
/// distroless images the paths in `status.d/NAME.md5sums`.
fn owned_files(files: &FileIndex, packages: &[Package]) -> Vec<(String, usize)> {
    let mut owned = Vec::new();
    for (index, package) in packages.iter().enumerate() {
        let arch = architecture(package).unwrap_or_default();
        let candidates = [
            format!("var/lib/dpkg/info/{}.list", package.name),
            format!("var/lib/dpkg/info/{}:{arch}.list", package.name),
            format!("var/lib/dpkg/status.d/{}.md5sums", package.name),
        ];
        for candidate in candidates {
            let Some(text) = files.get(&candidate).and_then(|e| e.contents()) else {
                continue;
            };
            let text = String::from_utf8_lossy(text);
            if candidate.ends_with(".md5sums") {
                owned.extend(md5sums(&text).map(|(_, p)| (p.to_string(), index)));
            } else {
                owned.extend(
                    text.lines()
                        .filter(|l| !l.is_empty())
                        .map(|l| (l.to_string(), index)),
                );
            }
        }
    }
    owned
}

/// `libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, perl:any` → `[[libc6], [debconf, debconf-2.0], [perl]]`.
pub fn parse_dependency_field(value: &str) -> Vec<Vec<String>> {
    value
        .split(',')
        .map(|group| {
            group
                .split('|')
                .filter_map(|alternative| {
                    let name: String = alternative
                        .trim()
                        .chars()
                        .take_while(|c| !c.is_whitespace() && !matches!(c, '(' | ':' | '[' | '<'))
                        .collect();
                    (!name.is_empty()).then_some(name)
                })
                .collect::<Vec<_>>()
        })
        .filter(|g| !g.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS_SAMPLE: &str = "\
Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b2
Description: GNU Bourne Again SHell
 Bash is an sh-compatible command language interpreter.
 .
 More text.

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4

 orphan continuation
Package: broken

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2024a-0+deb12u1
";

    #[test]
    fn parses_paragraphs_and_recovers_from_broken_ones() {
        let paragraphs: Vec<_> = parse_paragraphs(STATUS_SAMPLE).collect();
        assert_eq!(paragraphs.len(), 5);
        assert_eq!(
            paragraphs[0].as_ref().unwrap().get("Version"),
            Some("5.2.15-2+b2")
        );
        assert!(paragraphs[0]
            .as_ref()
            .unwrap()
            .get("Description")
            .unwrap()
            .contains("\n.\nMore text."));
        let err = paragraphs[3].as_ref().unwrap_err();
        assert_eq!(err.line, 21, "the orphan continuation line");
        assert!(paragraphs[4].is_ok());
    }

    #[test]
    fn only_installed_packages_with_exact_purls() {
        let distro = Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            version_codename: None,
            pretty_name: None,
            id_like: vec![],
            evidence: Evidence {
                path: "etc/os-release".into(),
                layer_index: 0,
            },
        };
        let paragraphs: Vec<_> = parse_paragraphs(STATUS_SAMPLE)
            .filter_map(Result::ok)
            .collect();
        let packages: Vec<Package> = paragraphs
            .iter()
            .filter_map(|p| package_from(p, &STATUS.into(), 0, Some(&distro)).unwrap())
            .collect();
        let purls: Vec<&str> = packages.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            purls,
            [
                "pkg:deb/debian/bash@5.2.15-2+b2?arch=amd64&distro=debian-12",
                "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12",
                "pkg:deb/debian/tzdata@2024a-0+deb12u1?arch=all&distro=debian-12",
            ]
        );
        let libc = &packages[1];
        assert!(libc
            .properties
            .contains(&("vouch:dpkg:source".into(), "glibc".into())));
    }

    #[test]
    fn parses_groups_alternatives_versions_and_arch_qualifiers() {
        assert_eq!(
            parse_dependency_field(
                "libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, perl:any, foo [amd64] <!nocheck>"
            ),
            vec![
                vec!["libc6".to_string()],
                vec!["debconf".to_string(), "debconf-2.0".to_string()],
                vec!["perl".to_string()],
                vec!["foo".to_string()],
            ]
        );
    }

    #[test]
    fn missing_version_is_an_error_not_a_panic() {
        let p = parse_paragraphs("Package: x\nStatus: install ok installed\n")
            .next()
            .unwrap();
        let err = package_from(p.as_ref().unwrap(), &STATUS.into(), 0, None).unwrap_err();
        assert!(err.contains("no Version"), "{err}");
    }
}
