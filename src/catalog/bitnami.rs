//! The Bitnami cataloger: Bitnami images build their applications from source under
//! `/opt/bitnami/APP/` and ship, beside each, the SPDX 2.3 JSON document that describes it
//! (`/opt/bitnami/APP/.spdx-APP.spdx`): the application (the package the document describes) and
//! what it bundles (`CONTAINS` relationships), each with a `pkg:bitnami/NAME@VERSION` purl, a CPE
//! and its license. Packages of other purl types in these documents (jars another scanner listed)
//! are left to the catalogers of their own formats, which read the files themselves.
//!
//! The application is installed by Bitnami's packaging, not by a package manager the other
//! catalogers know, so it is read with the OS package managers: the files under its directory are
//! its own (a binary there is the application, not a second finding), and the application depends
//! on what it contains.

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{EntryKind, FileIndex, IndexedEntry};
use crate::license::normalize;
use crate::package::{Evidence, Package};
use serde::Deserialize;
use std::collections::HashMap;
use std::str::FromStr;

pub const NAME: &str = "bitnami";
pub const GLOBS: &[&str] = &["opt/bitnami/**/.spdx-*.spdx"];

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Os,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files),
};

/// The parts of an SPDX 2.x JSON document read here.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: String,
    #[serde(default)]
    document_describes: Vec<String>,
    #[serde(default)]
    packages: Vec<SpdxPackage>,
    #[serde(default)]
    relationships: Vec<Relationship>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    id: String,
    name: String,
    #[serde(default)]
    version_info: Option<String>,
    #[serde(default)]
    license_declared: Option<String>,
    #[serde(default)]
    license_concluded: Option<String>,
    #[serde(default)]
    external_refs: Vec<ExternalRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_type: String,
    reference_locator: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: String,
    related_spdx_element: String,
}

impl SpdxPackage {
    fn reference(&self, kind: &str) -> Option<&str> {
        self.external_refs
            .iter()
            .find(|r| r.reference_type == kind)
            .map(|r| r.reference_locator.as_str())
    }
}

/// Finds the packages of every Bitnami SPDX document.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for entry in files.entries() {
        let path = entry.entry.path.as_str();
        let Some(dir) = application_dir(path) else {
            continue;
        };
        let Some(bytes) = entry.contents() else {
            continue;
        };
        match serde_json::from_slice::<Document>(bytes) {
            Ok(document) if document.spdx_version.starts_with("SPDX-2.") => {
                add_document(&document, entry, dir, files, &mut output)
            }
            Ok(document) => output.warnings.push(format!(
                "/{path}: {} is not an SPDX 2 version; its packages are missing",
                document.spdx_version
            )),
            Err(e) => output.warnings.push(format!(
                "/{path}: not an SPDX JSON document ({e}); its packages are missing"
            )),
        }
    }
    output
}

/// `opt/bitnami/redis/` for `opt/bitnami/redis/.spdx-redis.spdx`.
fn application_dir(path: &str) -> Option<&str> {
    let file = path.rsplit('/').next()?;
    (file.starts_with(".spdx-") && file.ends_with(".spdx") && path.starts_with("opt/bitnami/"))
        .then(|| &path[..path.len() - file.len()])
}

fn add_document(
    document: &Document,
    entry: &IndexedEntry,
    dir: &str,
    files: &FileIndex,
    output: &mut CatalogOutput,
) {
    let path = entry.entry.path.as_str();
    // SPDXID → index in output.packages.
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for package in &document.packages {
        let Some(purl) = package.reference("purl") else {
            continue;
        };
        let Ok(parsed) = purl::GenericPurl::<String>::from_str(purl) else {
            output.warnings.push(format!(
                "/{path}: {}: {purl:?} is not a purl; skipped",
                package.id
            ));
            continue;
        };
        if parsed.package_type() != "bitnami" {
            continue;
        }
        let version = package
            .version_info
            .clone()
            .or_else(|| parsed.version().map(str::to_string))
            .unwrap_or_default();
        let license = [&package.license_declared, &package.license_concluded]
            .into_iter()
            .flatten()
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && *l != "NOASSERTION" && *l != "NONE")
            .and_then(normalize);
        by_id.insert(package.id.as_str(), output.packages.len());
        output.packages.push(Package {
            name: package.name.clone(),
            version,
            purl_type: "bitnami",
            purl: parsed.to_string(),
            cpe: package.reference("cpe23Type").and_then(application_cpe),
            licenses: license.into_iter().collect(),
            evidence: Evidence {
                path: path.into(),
                layer_index: entry.layer_index,
            },
            cataloger: NAME,
            properties: Vec::new(),
        });
    }
    // (container, contained) among the document's Bitnami packages.
    let contains: Vec<(usize, usize)> = document
        .relationships
        .iter()
        .filter(|r| r.relationship_type == "CONTAINS")
        .filter_map(|r| {
            Some((
                *by_id.get(r.spdx_element_id.as_str())?,
                *by_id.get(r.related_spdx_element.as_str())?,
            ))
        })
        .collect();
    // The application: what the document describes; else the one package no other contains.
    let contained: std::collections::HashSet<usize> = contains.iter().map(|(_, to)| *to).collect();
    let main = document
        .document_describes
        .iter()
        .find_map(|id| by_id.get(id.as_str()).copied())
        .or_else(|| {
            let roots: Vec<usize> = by_id
                .values()
                .copied()
                .filter(|i| !contained.contains(i))
                .collect();
            (roots.len() == 1).then(|| roots[0])
        });
    output.dependencies.extend(contains);
    if let Some(main) = main {
        output.owned_files.extend(
            files
                .entries()
                .filter(|e| {
                    e.entry.path.starts_with(dir)
                        && !matches!(
                            e.entry.kind,
                            EntryKind::Dir | EntryKind::Noted { dir: true }
                        )
                })
                .map(|e| (e.entry.path.clone(), main)),
        );
    }
}

/// Bitnami writes its CPEs with `*` as the part (`cpe:2.3:*:redis:redis:7.4.2:...`); the NVD's
/// are applications' (`a`).
fn application_cpe(cpe: &str) -> Option<String> {
    let rest = cpe.strip_prefix("cpe:2.3:")?;
    let (part, tail) = rest.split_once(':')?;
    let part = if part == "*" { "a" } else { part };
    (tail.split(':').count() == 10).then(|| format!("cpe:2.3:{part}:{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bitnami_cpe_is_an_application_s() {
        assert_eq!(
            application_cpe("cpe:2.3:*:redis:redis:7.4.2:*:*:*:*:*:*:*").as_deref(),
            Some("cpe:2.3:a:redis:redis:7.4.2:*:*:*:*:*:*:*")
        );
        assert_eq!(application_cpe("cpe:2.3:*:redis"), None);
        assert_eq!(application_cpe("cpe:/a:redis:redis"), None);
    }

    #[test]
    fn documents_are_dot_spdx_files_under_opt_bitnami() {
        assert_eq!(
            application_dir("opt/bitnami/redis/.spdx-redis.spdx"),
            Some("opt/bitnami/redis/")
        );
        assert_eq!(application_dir("opt/bitnami/redis/redis.spdx"), None);
        assert_eq!(application_dir("srv/bitnami/redis/.spdx-redis.spdx"), None);
    }
}
