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
use crate::package::Package;
use crate::purl::build_purl;
use serde::ser::{SerializeSeq, SerializeStruct, Serializer};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
    /// The paths the read left out (`--exclude`), when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
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
struct Relationship<'a> {
    spdx_element_id: &'a str,
    relationship_type: &'static str,
    related_spdx_element: &'a str,
}

fn relationship<'a>(from: &'a str, kind: &'static str, to: &'a str) -> Relationship<'a> {
    Relationship {
        spdx_element_id: from,
        relationship_type: kind,
        related_spdx_element: to,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
}

/// `SPDXRef-` + an id made of letters, digits, `.` and `-`, unique in the document: a second
/// package of one name gets `-2`, and so on. The ids made so far are remembered by a 64-bit hash
/// (200,000 packages in a few MB); a hash collision only makes an id take a suffix it did not
/// need, never two packages share one.
struct Ids(HashSet<u64>);

impl Ids {
    /// The id's suffix number (1 for none), remembering the id.
    fn number(&mut self, base: &str) -> u32 {
        let mut n = 1;
        while !self.0.insert(hash(&Self::with_number(base, n))) {
            n += 1;
        }
        n
    }

    fn base(kind: &str, name: &str) -> String {
        format!("SPDXRef-{kind}-{}", license_ref(name))
    }

    fn with_number(base: &str, n: u32) -> Cow<'_, str> {
        if n == 1 {
            Cow::Borrowed(base)
        } else {
            Cow::Owned(format!("{base}-{n}"))
        }
    }

    fn make(&mut self, kind: &str, name: &str) -> String {
        let base = Self::base(kind, name);
        let n = self.number(&base);
        Self::with_number(&base, n).into_owned()
    }
}

fn hash(id: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}

/// A package's id: made again from its name and suffix number when written.
fn package_id(package: &Package, number: u32) -> String {
    let base = Ids::base("Package", &package_name(package));
    Ids::with_number(&base, number).into_owned()
}

fn package_name(package: &Package) -> String {
    format!("{}-{}", package.purl_type, package.name)
}

/// Writes the SPDX 2.3 document for an image and what was found in it, created at `created`
/// (RFC 3339, UTC) in the namespace made unique by `unique` (a UUID), pretty-printed.
///
/// Streamed: `packages` and `relationships` are made entry by entry as they are serialized, so an
/// image with 200,000 packages is never held as a document.
pub fn write_spdx<W: std::io::Write>(
    image: &Image,
    inventory: &Inventory,
    created: &str,
    unique: &str,
    writer: W,
) -> serde_json::Result<()> {
    let mut ids = Ids(HashSet::new());
    let image_id = ids.make("Image", image.display_name());
    let os_id = inventory
        .distro
        .as_ref()
        .map(|distro| ids.make("OperatingSystem", &distro.id));
    let package_numbers: Vec<u32> = inventory
        .packages
        .iter()
        .map(|package| ids.number(&Ids::base("Package", &package_name(package))))
        .collect();
    drop(ids);
    let document = Document {
        image,
        inventory,
        image_id,
        os_id,
        package_numbers,
        created,
        unique,
    };
    let mut buffered = std::io::BufWriter::with_capacity(64 * 1024, writer);
    serde_json::to_writer_pretty(&mut buffered, &document)?;
    std::io::Write::flush(&mut buffered).map_err(serde_json::Error::io)
}

/// The document, serialized lazily.
struct Document<'a> {
    image: &'a Image,
    inventory: &'a Inventory,
    image_id: String,
    os_id: Option<String>,
    /// Each package's SPDX id suffix number (see [`Ids`]), by its index in the inventory.
    package_numbers: Vec<u32>,
    created: &'a str,
    unique: &'a str,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let image = self.image;
        let extracted = extracted_licenses(&self.inventory.packages);
        let mut doc = serializer.serialize_struct("Document", 9)?;
        doc.serialize_field("spdxVersion", "SPDX-2.3")?;
        doc.serialize_field("dataLicense", "CC0-1.0")?;
        doc.serialize_field("SPDXID", "SPDXRef-DOCUMENT")?;
        doc.serialize_field("name", image.display_name())?;
        doc.serialize_field(
            "documentNamespace",
            &format!(
                "https://github.com/docker-vouch/spdx/{}-{}",
                license_ref(image.display_name()),
                self.unique
            ),
        )?;
        doc.serialize_field(
            "creationInfo",
            &CreationInfo {
                created: self.created.to_string(),
                creators: vec![
                    format!("Tool: {TOOL_NAME}-{TOOL_VERSION}"),
                    "Organization: vouch".into(),
                ],
                comment: (!self.inventory.excluded.is_empty()).then(|| {
                    format!(
                        "vouch:excluded (not cataloged): {}",
                        self.inventory.excluded.join(", ")
                    )
                }),
            },
        )?;
        doc.serialize_field("packages", &Packages(self))?;
        doc.serialize_field("relationships", &Relationships(self))?;
        if !extracted.is_empty() {
            doc.serialize_field(
                "hasExtractedLicensingInfos",
                &extracted.into_values().collect::<Vec<_>>(),
            )?;
        }
        doc.end()
    }
}

/// `packages`: the image, its operating system, then each package, made when written.
struct Packages<'d, 'a>(&'d Document<'a>);

impl Serialize for Packages<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let document = self.0;
        let (image, inventory) = (document.image, document.inventory);
        let mut seq = serializer.serialize_seq(None)?;
        seq.serialize_element(&image_package(image, document.image_id.clone()))?;
        if let (Some(distro), Some(id)) = (&inventory.distro, &document.os_id) {
            let mut os = SpdxPackage::metadata_only(
                distro.id.clone(),
                id.clone(),
                distro.version_id.clone(),
                "OPERATING-SYSTEM",
            );
            os.source_info = Some(found_at(
                image,
                "os-release",
                &distro.evidence.path,
                distro.evidence.layer_index,
            ));
            seq.serialize_element(&os)?;
        }
        for (package, &n) in inventory.packages.iter().zip(&document.package_numbers) {
            seq.serialize_element(&package_entry(image, package, package_id(package, n)))?;
        }
        seq.end()
    }
}

/// `relationships`: the document DESCRIBES the image, which CONTAINS the operating system and
/// every package; each dependency edge is a DEPENDS_ON.
struct Relationships<'d, 'a>(&'d Document<'a>);

impl Serialize for Relationships<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let document = self.0;
        let image_id = document.image_id.as_str();
        let mut seq = serializer.serialize_seq(None)?;
        seq.serialize_element(&relationship("SPDXRef-DOCUMENT", "DESCRIBES", image_id))?;
        if let Some(os_id) = &document.os_id {
            seq.serialize_element(&relationship(image_id, "CONTAINS", os_id))?;
        }
        let packages = &document.inventory.packages;
        let id = |index: usize| {
            let package = packages.get(index)?;
            let number = document.package_numbers.get(index)?;
            Some(package_id(package, *number))
        };
        for index in 0..packages.len() {
            if let Some(package) = id(index) {
                seq.serialize_element(&relationship(image_id, "CONTAINS", &package))?;
            }
        }
        for &(dependent, dependency) in &document.inventory.dependencies {
            if let (Some(from), Some(to)) = (id(dependent), id(dependency)) {
                seq.serialize_element(&relationship(&from, "DEPENDS_ON", &to))?;
            }
        }
        seq.end()
    }
}

/// Every license the SPDX list lacks, as a `LicenseRef-` with its text, once each.
fn extracted_licenses(packages: &[Package]) -> BTreeMap<String, ExtractedLicense> {
    let mut extracted = BTreeMap::new();
    for license in packages.iter().flat_map(|p| &p.licenses) {
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
    extracted
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

fn package_entry(image: &Image, package: &Package, id: String) -> SpdxPackage {
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
        assert_eq!(ids.make("Package", "x-2"), "SPDXRef-Package-x-2");
        assert_eq!(ids.make("Package", "x"), "SPDXRef-Package-x");
        assert_eq!(
            ids.make("Package", "x"),
            "SPDXRef-Package-x-3",
            "x-2 is taken"
        );
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
