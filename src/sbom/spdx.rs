//! Packages + image identity → an SPDX 2.3 JSON document (`sbom --format spdx-json`), for the
//! tools and registries that take SPDX (BuildKit's SBOM attestations, GitHub's dependency graph).
//!
//! The document DESCRIBES one package for the image (purpose `CONTAINER`, version = its digest, an
//! OCI purl), which CONTAINS the operating system (purpose `OPERATING-SYSTEM`) and every package;
//! package-to-package edges are `DEPENDS_ON`. Packages carry their purl and CPE as external refs,
//! the declared licenses as one SPDX expression (names the SPDX list lacks as `LicenseRef-`, each
//! with its text in `hasExtractedLicensingInfos`), and where they were found (cataloger, path,
//! layer diffID) in `sourceInfo`. Nothing was analysed file by file: `filesAnalyzed` is false and
//! the concluded license is `NOASSERTION`, as SPDX asks of a tool that only read package metadata.
//!
//! Written with serde from the SPDX 2.3 specification (chapter 7 and the JSON schema): the Rust
//! SPDX crates either last changed in 2023 (`spdx-rs`, built on chrono and nom) or generate their
//! types at build time (`serde-spdx`), for a format this small. The tests check every document
//! against the official JSON schema and with the SPDX project's own validator (`spdx-tools`).

use super::{TOOL_NAME, TOOL_VERSION};
use crate::catalog::Inventory;
use crate::image::Image;
use crate::license::{license_ref, spdx_expression, License};
use crate::package::{build_purl, Package};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    supplier: &'static str,
    download_location: &'static str,
    files_analyzed: bool,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
}

impl SpdxPackage {
    /// A package known from metadata only: everything SPDX asks a file analysis for is
    /// `NOASSERTION`.
    fn metadata_only(
        name: String,
        spdx_id: String,
        version_info: Option<String>,
        purpose: &'static str,
    ) -> Self {
        SpdxPackage {
            name,
            spdx_id,
            version_info,
            supplier: NOASSERTION,
            download_location: NOASSERTION,
            files_analyzed: false,
            license_concluded: NOASSERTION,
            license_declared: NOASSERTION.into(),
            copyright_text: NOASSERTION,
            source_info: None,
            external_refs: Vec::new(),
            primary_package_purpose: purpose,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
}

/// `SPDXRef-` + an id made of letters, digits, `.` and `-`, unique in the document.
struct Ids(HashSet<String>);

impl Ids {
    fn make(&mut self, kind: &str, name: &str) -> String {
        let base = format!("SPDXRef-{kind}-{}", license_ref(name));
        let mut id = base.clone();
        let mut n = 1;
        while !self.0.insert(id.clone()) {
            n += 1;
            id = format!("{base}-{n}");
        }
        id
    }
}

/// Builds the SPDX 2.3 document for an image and what was found in it, created at `created`
/// (RFC 3339, UTC) in the namespace made unique by `unique` (a UUID).
pub fn spdx_document(
    image: &Image,
    inventory: &Inventory,
    created: &str,
    unique: &str,
) -> serde_json::Value {
    let mut ids = Ids(HashSet::new());
    let mut extracted: BTreeMap<String, ExtractedLicense> = BTreeMap::new();
    let image_id = ids.make("Image", image.display_name());
    let mut packages = vec![image_package(image, image_id.clone())];
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".into(),
        relationship_type: "DESCRIBES",
        related_spdx_element: image_id.clone(),
    }];
    let contains = |id: &str| Relationship {
        spdx_element_id: image_id.clone(),
        relationship_type: "CONTAINS",
        related_spdx_element: id.to_string(),
    };
    if let Some(distro) = &inventory.distro {
        let id = ids.make("OperatingSystem", &distro.id);
        relationships.push(contains(&id));
        let mut os = SpdxPackage::metadata_only(
            distro.id.clone(),
            id,
            distro.version_id.clone(),
            "OPERATING-SYSTEM",
        );
        os.source_info = Some(found_at(
            image,
            "os-release",
            &distro.evidence.path,
            distro.evidence.layer_index,
        ));
        packages.push(os);
    }
    let mut package_ids = Vec::with_capacity(inventory.packages.len());
    for package in &inventory.packages {
        let id = ids.make(
            "Package",
            &format!("{}-{}", package.purl_type, package.name),
        );
        relationships.push(contains(&id));
        package_ids.push(id.clone());
        packages.push(package_entry(image, package, id, &mut extracted));
    }
    for &(dependent, dependency) in &inventory.dependencies {
        if let (Some(from), Some(to)) = (package_ids.get(dependent), package_ids.get(dependency)) {
            relationships.push(Relationship {
                spdx_element_id: from.clone(),
                relationship_type: "DEPENDS_ON",
                related_spdx_element: to.clone(),
            });
        }
    }
    let document = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: image.display_name().to_string(),
        document_namespace: format!(
            "https://github.com/docker-vouch/spdx/{}-{unique}",
            license_ref(image.display_name())
        ),
        creation_info: CreationInfo {
            created: created.to_string(),
            creators: vec![
                format!("Tool: {TOOL_NAME}-{TOOL_VERSION}"),
                "Organization: vouch".into(),
            ],
        },
        packages,
        relationships,
        has_extracted_licensing_infos: extracted.into_values().collect(),
    };
    serde_json::to_value(document).unwrap_or_default()
}

/// `found by the dpkg cataloger at /var/lib/dpkg/status in layer 2 (sha256:…)`.
fn found_at(image: &Image, cataloger: &str, path: &str, layer_index: usize) -> String {
    let layer = image
        .layers
        .get(layer_index)
        .map(|l| format!(" ({})", l.diff_id))
        .unwrap_or_default();
    format!(
        "found by the {cataloger} cataloger at /{path} in layer {}{layer}",
        layer_index + 1
    )
}

fn image_package(image: &Image, id: String) -> SpdxPackage {
    let name = image.display_name();
    let repository = crate::image::repository(name);
    let short = repository.rsplit('/').next().unwrap_or(repository);
    let mut qualifiers = Vec::new();
    if repository.contains('/') {
        qualifiers.push(("repository_url", repository));
    }
    let purl = build_purl("oci", None, short, image.digest(), &qualifiers).ok();
    let mut package = SpdxPackage::metadata_only(
        name.to_string(),
        id,
        Some(image.digest().to_string()),
        "CONTAINER",
    );
    package.source_info = Some(format!(
        "image {} read from {} (image ID {})",
        image.reference, image.source, image.id
    ));
    package.external_refs = purl.into_iter().map(purl_ref).collect();
    package
}

fn purl_ref(purl: String) -> ExternalRef {
    ExternalRef {
        reference_category: "PACKAGE-MANAGER",
        reference_type: "purl",
        reference_locator: purl,
    }
}

fn package_entry(
    image: &Image,
    package: &Package,
    id: String,
    extracted: &mut BTreeMap<String, ExtractedLicense>,
) -> SpdxPackage {
    for license in &package.licenses {
        if let License::Name(name) = license {
            let license_id = format!("LicenseRef-{}", license_ref(name));
            extracted
                .entry(license_id.clone())
                .or_insert_with(|| ExtractedLicense {
                    license_id,
                    extracted_text: name.clone(),
                    name: name.clone(),
                });
        }
    }
    let mut external_refs = vec![purl_ref(package.purl.clone())];
    if let Some(cpe) = &package.cpe {
        external_refs.push(ExternalRef {
            reference_category: "SECURITY",
            reference_type: "cpe23Type",
            reference_locator: cpe.clone(),
        });
    }
    // Programs: runtimes a binary classifier recognised, and Go main modules.
    let program = package.cataloger == "binary-classifier"
        || package
            .properties
            .iter()
            .any(|(k, _)| k == "vouch:go:mainPackage");
    let mut entry = SpdxPackage::metadata_only(
        package.name.clone(),
        id,
        (!package.version.is_empty()).then(|| package.version.clone()),
        if program { "APPLICATION" } else { "LIBRARY" },
    );
    if !package.licenses.is_empty() {
        entry.license_declared = spdx_expression(&package.licenses);
    }
    entry.source_info = Some(found_at(
        image,
        package.cataloger,
        &package.evidence.path,
        package.evidence.layer_index,
    ));
    entry.external_refs = external_refs;
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_made_of_allowed_characters() {
        let mut ids = Ids(HashSet::new());
        assert_eq!(
            ids.make("Package", "deb-libc6"),
            "SPDXRef-Package-deb-libc6"
        );
        assert_eq!(
            ids.make("Package", "deb-libc6"),
            "SPDXRef-Package-deb-libc6-2"
        );
        assert_eq!(
            ids.make("Package", "npm-@scope/name_x"),
            "SPDXRef-Package-npm--scope-name-x"
        );
    }
}
