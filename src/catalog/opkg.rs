//! The opkg cataloger: OpenWrt and Yocto/OpenEmbedded images, whose package manager opkg keeps its
//! database as dpkg does: a deb822 status file (`usr/lib/opkg/status` on OpenWrt,
//! `var/lib/opkg/status` on Yocto) with one paragraph per package (`Package`, `Version`,
//! `Depends`, `Provides`, `Status`, `Architecture`, `License` where the build records it), and
//! `info/NAME.list`, the files each installed. Only packages whose `Status` says `installed` are
//! listed.
//!
//! Purls `pkg:opkg/DISTRO/NAME@VERSION?arch=..&distro=..` (the purl spec has no opkg type; this
//! follows its `apk` and `alpm` ones). `Depends` resolve to installed packages by name or through
//! `Provides`.

use super::deb822::parse_paragraphs;
use super::dpkg::parse_dependency_field;
use super::relations::{self, Relations};
use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::FileIndex;
use crate::license::normalize;
use crate::package::{Distro, Evidence, Package};
use crate::purl::os_package_purl;

pub const NAME: &str = "opkg";
const DATABASES: &[&str] = &["usr/lib/opkg/", "var/lib/opkg/"];
pub const GLOBS: &[&str] = &[
    "usr/lib/opkg/status",
    "var/lib/opkg/status",
    "usr/lib/opkg/info/*.list",
    "var/lib/opkg/info/*.list",
];

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Os,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files, input.distro),
};

/// Finds every installed opkg package.
pub fn catalog(files: &FileIndex, distro: Option<&Distro>) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    let namespace = distro.map_or("openwrt", |d| d.id.as_str());
    let distro_qualifier = distro.map(Distro::purl_qualifier);
    for database in DATABASES {
        let status = format!("{database}status");
        let Some(entry) = files.get(&status) else {
            continue;
        };
        let Some(bytes) = entry.contents() else {
            continue;
        };
        let text = String::from_utf8_lossy(bytes);
        let first = output.packages.len();
        let mut relations_list = Vec::new();
        for paragraph in parse_paragraphs(&text) {
            let paragraph = match paragraph {
                Ok(p) => p,
                Err(e) => {
                    output.warnings.push(format!("/{status}: {e}; skipped"));
                    continue;
                }
            };
            let (Some(name), Some(version)) = (paragraph.get("Package"), paragraph.get("Version"))
            else {
                output.warnings.push(format!(
                    "/{status}: line {}: no Package or Version; skipped",
                    paragraph.line
                ));
                continue;
            };
            // `install user installed`, `install ok installed`; not `... not-installed`,
            // `... config-files` or a half-unpacked package.
            if paragraph
                .get("Status")
                .and_then(|s| s.split_whitespace().nth(2))
                != Some("installed")
            {
                continue;
            }
            let arch = paragraph.get("Architecture").filter(|a| !a.is_empty());
            let purl = match os_package_purl(
                "opkg",
                namespace,
                name,
                version,
                arch,
                distro_qualifier.as_deref(),
            ) {
                Ok(p) => p,
                Err(e) => {
                    output.warnings.push(format!("/{status}: {e}; skipped"));
                    continue;
                }
            };
            let index = output.packages.len();
            output.packages.push(Package {
                name: name.to_string(),
                version: version.to_string(),
                purl_type: "opkg",
                purl,
                cpe: None,
                licenses: paragraph
                    .get("License")
                    .and_then(normalize)
                    .into_iter()
                    .collect(),
                evidence: Evidence {
                    path: status.as_str().into(),
                    layer_index: entry.layer_index,
                },
                cataloger: NAME,
                properties: arch
                    .map(|a| ("vouch:opkg:architecture".into(), a.to_string()))
                    .into_iter()
                    .collect(),
            });
            if let Some(listed) = files
                .get(&format!("{database}info/{name}.list"))
                .and_then(|e| e.contents())
            {
                for line in String::from_utf8_lossy(listed).lines() {
                    // OpenWrt's lists may carry a mode after a tab.
                    let path = line.split('\t').next().unwrap_or_default().trim();
                    if !path.is_empty() && !path.ends_with('/') {
                        output.owned_files.push((path.to_string(), index));
                    }
                }
            }
            relations_list.push(Relations {
                name: name.to_string(),
                arch: None,
                depends: paragraph
                    .get("Depends")
                    .map(parse_dependency_field)
                    .unwrap_or_default(),
                provides: paragraph
                    .get("Provides")
                    .map(|p| parse_dependency_field(p).into_iter().flatten().collect())
                    .unwrap_or_default(),
            });
        }
        output.dependencies.extend(
            relations::resolve(&relations_list)
                .into_iter()
                .map(|(a, b)| (a + first, b + first)),
        );
    }
    output
}
