//! CycloneDX 1.5 JSON written as it is serialized: the document is a serde value whose
//! `components` and `dependencies` make each entry from the inventory only when the serializer
//! asks for it, so memory holds one component at a time, never the document (an image with 200,000
//! dpkg packages makes a 250 MB SBOM).
//!
//! Written here rather than through cyclonedx-bom because that crate serializes only a whole `Bom`
//! built in memory first (~2.5 KB per component). What each component says comes from the shared
//! functions of [`super`]; strings are normalized as the crate's `NormalizedString` does, and the
//! unit test below compares this writer's document with the crate's for the same inventory.

use super::{
    bom_refs, component_scope, dependency_lists, image_and_exclusion_properties, image_ref,
    license_entries, normalized, os_properties, os_ref, package_properties, sorted_edges,
    LicenseEntry, Prop, SbomError, TOOL_NAME, TOOL_VERSION,
};
use crate::catalog::Inventory;
use crate::image::Image;
use serde::ser::{SerializeSeq, SerializeStruct, Serializer};
use serde::Serialize;
use std::borrow::Cow;
use std::io::Write;

/// Writes the CycloneDX 1.5 JSON document for the image and its inventory to `writer` (buffered
/// here), pretty-printed.
pub fn write<W: Write>(image: &Image, inventory: &Inventory, writer: W) -> Result<(), SbomError> {
    let document = Document::new(image, inventory)?;
    let mut buffered = std::io::BufWriter::with_capacity(64 * 1024, writer);
    serde_json::to_writer_pretty(&mut buffered, &document)
        .map_err(|e| SbomError::Write(e.to_string()))?;
    buffered
        .flush()
        .map_err(|e| SbomError::Write(e.to_string()))
}

/// The whole document, serialized lazily: its serial number and timestamp are fixed when it is
/// made, so each serialization is the same document.
pub struct Document<'a> {
    image: &'a Image,
    inventory: &'a Inventory,
    refs: Vec<Cow<'a, str>>,
    serial_number: String,
    timestamp: String,
}

impl<'a> Document<'a> {
    pub fn new(image: &'a Image, inventory: &'a Inventory) -> Result<Self, SbomError> {
        let timestamp = crate::clock::stamp();
        Ok(Document {
            image,
            inventory,
            refs: bom_refs(&inventory.packages),
            serial_number: format!("urn:uuid:{}", uuid::Uuid::new_v4()),
            timestamp,
        })
    }
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut doc = serializer.serialize_struct("Bom", 7)?;
        doc.serialize_field("bomFormat", "CycloneDX")?;
        doc.serialize_field("specVersion", "1.5")?;
        doc.serialize_field("version", &1)?;
        doc.serialize_field("serialNumber", &self.serial_number)?;
        doc.serialize_field(
            "metadata",
            &Metadata {
                timestamp: &self.timestamp,
                tools: Tools {
                    components: [Component {
                        kind: "application",
                        bom_ref: None,
                        publisher: Some("vouch"),
                        name: TOOL_NAME.into(),
                        version: Some(TOOL_VERSION.into()),
                        description: None,
                        scope: None,
                        licenses: None,
                        cpe: None,
                        purl: None,
                        properties: None,
                    }],
                },
                component: Component {
                    kind: "container",
                    bom_ref: Some(image_ref(self.image).into()),
                    publisher: None,
                    name: normalized(self.image.display_name()),
                    version: Some(normalized(self.image.digest())),
                    description: None,
                    scope: None,
                    licenses: None,
                    cpe: None,
                    purl: None,
                    properties: Some(properties(image_and_exclusion_properties(
                        self.image,
                        self.inventory,
                    ))),
                },
            },
        )?;
        doc.serialize_field("components", &Components(self))?;
        doc.serialize_field("dependencies", &DependencyList(self))?;
        doc.end()
    }
}

#[derive(Serialize)]
struct Metadata<'a> {
    timestamp: &'a str,
    tools: Tools<'a>,
    component: Component<'a>,
}

#[derive(Serialize)]
struct Tools<'a> {
    components: [Component<'a>; 1],
}

/// One component, borrowing what it can from the inventory.
#[derive(Serialize)]
struct Component<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    publisher: Option<&'a str>,
    name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    licenses: Option<Vec<LicenseChoice<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpe: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<Vec<Property<'a>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum LicenseChoice<'a> {
    License(License<'a>),
    Expression(String),
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum License<'a> {
    Id(&'a str),
    Name(Cow<'a, str>),
}

#[derive(Serialize)]
struct Property<'a> {
    name: Cow<'a, str>,
    value: Cow<'a, str>,
}

#[derive(Serialize)]
struct Dependency<'a> {
    #[serde(rename = "ref")]
    dependency_ref: &'a str,
    #[serde(rename = "dependsOn", skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<&'a str>,
}

/// `components`: the operating system, then one library per package, each made when written.
struct Components<'d, 'a>(&'d Document<'a>);

impl Serialize for Components<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Document {
            image,
            inventory,
            refs,
            ..
        } = self.0;
        let distro = inventory.distro.as_ref();
        let mut seq = serializer.serialize_seq(Some(
            inventory.packages.len() + usize::from(distro.is_some()),
        ))?;
        if let Some(distro) = distro {
            seq.serialize_element(&Component {
                kind: "operating-system",
                bom_ref: Some(os_ref(distro).into()),
                publisher: None,
                name: normalized(&distro.id),
                version: distro.version_id.as_deref().map(normalized),
                description: distro.pretty_name.as_deref().map(normalized),
                scope: None,
                licenses: None,
                cpe: None,
                purl: None,
                properties: Some(properties(os_properties(image, distro))),
            })?;
        }
        for (package, bom_ref) in inventory.packages.iter().zip(refs.iter()) {
            let licenses: Vec<LicenseChoice> = license_entries(&package.licenses)
                .into_iter()
                .map(|entry| match entry {
                    LicenseEntry::Id(id) => LicenseChoice::License(License::Id(id)),
                    LicenseEntry::Name(name) => {
                        LicenseChoice::License(License::Name(normalized(name)))
                    }
                    LicenseEntry::Expression(e) => LicenseChoice::Expression(e),
                })
                .collect();
            seq.serialize_element(&Component {
                kind: "library",
                bom_ref: Some(Cow::Borrowed(bom_ref.as_ref())),
                publisher: None,
                name: normalized(&package.name),
                version: (!package.version.is_empty()).then(|| normalized(&package.version)),
                description: None,
                scope: component_scope(package),
                licenses: (!licenses.is_empty()).then_some(licenses),
                cpe: package.cpe.as_deref(),
                purl: Some(&package.purl),
                properties: Some(properties(package_properties(image, package))),
            })?;
        }
        seq.end()
    }
}

/// `dependencies`: one entry per package, its `dependsOn` unique and sorted (leaves listed too,
/// without one), from the inventory's edges sorted by dependent.
struct DependencyList<'d, 'a>(&'d Document<'a>);

impl Serialize for DependencyList<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let refs = &self.0.refs;
        let edges = sorted_edges(&self.0.inventory.dependencies);
        let mut seq = serializer.serialize_seq(Some(refs.len()))?;
        for (dependency_ref, depends_on) in dependency_lists(refs, &edges) {
            seq.serialize_element(&Dependency {
                dependency_ref,
                depends_on,
            })?;
        }
        seq.end()
    }
}

/// Properties with their values normalized (line breaks and tabs as spaces), as CycloneDX's
/// normalizedString asks.
fn properties(props: Vec<Prop<'_>>) -> Vec<Property<'_>> {
    props
        .into_iter()
        .map(|(name, value)| Property {
            name,
            value: match value {
                Cow::Borrowed(v) => normalized(v),
                Cow::Owned(v) => match normalized(&v) {
                    Cow::Borrowed(_) => Cow::Owned(v),
                    Cow::Owned(n) => Cow::Owned(n),
                },
            },
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::image::{ImageConfig, LayerInfo};
    use crate::license::License as Declared;
    use crate::package::{Distro, Evidence, Package};
    use serde_json::Value;

    pub(crate) fn image() -> Image {
        let config: ImageConfig = serde_json::from_value(serde_json::json!({
            "architecture": "arm64", "os": "linux", "variant": "v8",
            "config": {
                "User": "app", "Entrypoint": ["/bin/app", "--serve"], "Cmd": ["x"],
                "WorkingDir": "/srv", "Labels": {"org.example": "line\none", "b": "2"},
                "ExposedPorts": {"8080/tcp": {}}, "Healthcheck": {"Test": ["CMD", "true"]}
            },
            "rootfs": {"type": "layers", "diff_ids": ["sha256:aa", "sha256:bb"]}
        }))
        .unwrap();
        Image {
            reference: "docker-archive:x.tar".into(),
            source: "docker-archive",
            name: Some("example:1".into()),
            repo_tags: vec!["example:1".into()],
            id: "sha256:1111".into(),
            manifest_digest: Some("sha256:2222".into()),
            repo_digests: vec!["registry.test/example@sha256:2222".into()],
            config,
            layers: ["sha256:aa", "sha256:bb"]
                .iter()
                .map(|d| LayerInfo {
                    diff_id: d.to_string(),
                    blob_digest: d.to_string(),
                    uncompressed_size: 1,
                    entry_count: 1,
                    created_by: None,
                })
                .collect(),
        }
    }

    fn package(name: &str, version: &str, purl: &str, licenses: Vec<Declared>) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            purl_type: "deb",
            purl: purl.into(),
            cpe: None,
            licenses,
            evidence: Evidence {
                path: "var/lib/dpkg/status".into(),
                layer_index: 1,
            },
            cataloger: "dpkg",
            properties: vec![("vouch:dpkg:maintainer".into(), "A\tB\r\nC".into())],
        }
    }

    pub(in crate::sbom) fn inventory() -> Inventory {
        let mut with_cpe = package(
            "openssl",
            "3.0.11-1",
            "pkg:deb/debian/openssl@3.0.11-1?arch=amd64",
            vec![Declared::Id("Apache-2.0".into())],
        );
        with_cpe.cpe = Some(crate::package::cpe("openssl", "openssl", "3.0.11"));
        // A crate cargo-auditable records as a build dependency: scope excluded.
        let mut build_only = package(
            "proc-macro2",
            "1.0.70",
            "pkg:cargo/proc-macro2@1.0.70",
            vec![],
        );
        build_only
            .properties
            .push(("vouch:cargo:kind".into(), "build".into()));
        Inventory {
            distro: Some(Distro {
                id: "debian".into(),
                version_id: Some("12".into()),
                version_codename: Some("bookworm".into()),
                pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
                id_like: vec![],
                evidence: Evidence {
                    path: "etc/os-release".into(),
                    layer_index: 0,
                },
            }),
            packages: vec![
                with_cpe,
                package(
                    "perl",
                    "5.36.0-7",
                    "pkg:deb/debian/perl@5.36.0-7",
                    vec![
                        Declared::Expression("GPL-1.0-or-later OR Artistic-1.0-Perl".into()),
                        Declared::Name("Custom license".into()),
                    ],
                ),
                // Two records with one purl, and one with none of its own version.
                package("dup", "1", "pkg:deb/debian/dup@1", vec![]),
                package("dup", "1", "pkg:deb/debian/dup@1", vec![]),
                package(
                    "unversioned",
                    "",
                    "pkg:deb/debian/unversioned",
                    vec![
                        Declared::Name("Multi\nline".into()),
                        Declared::Id("MIT".into()),
                    ],
                ),
                build_only,
            ],
            dependencies: vec![(1, 0), (0, 2), (0, 3), (0, 3), (1, 2), (9, 0)],
            warnings: vec![],
            excluded: Vec::new(),
        }
    }

    /// The document without what differs run to run (serial number, timestamp).
    fn comparable(mut document: Value) -> Value {
        let object = document.as_object_mut().unwrap();
        assert!(object
            .remove("serialNumber")
            .unwrap()
            .as_str()
            .unwrap()
            .starts_with("urn:uuid:"));
        let metadata = object["metadata"].as_object_mut().unwrap();
        let timestamp = metadata.remove("timestamp").unwrap();
        time::OffsetDateTime::parse(
            timestamp.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        document
    }

    #[test]
    fn streamed_json_is_the_document_cyclonedx_bom_writes() {
        let (image, inventory) = (image(), inventory());
        let mut streamed = Vec::new();
        write(&image, &inventory, &mut streamed).unwrap();
        let mut reference = Vec::new();
        super::super::reference::build_bom(&image, &inventory)
            .unwrap()
            .output_as_json_v1_5(&mut reference)
            .unwrap();
        let streamed: Value = serde_json::from_slice(&streamed).unwrap();
        let reference: Value = serde_json::from_slice(&reference).unwrap();
        assert_eq!(comparable(streamed.clone()), comparable(reference));

        // And what the comparison relies on is there.
        let components = streamed["components"].as_array().unwrap();
        assert_eq!(components.len(), 7);
        assert_eq!(components[6]["scope"], "excluded");
        assert!(components[5].get("scope").is_none());
        assert_eq!(components[4]["bom-ref"], "pkg:deb/debian/dup@1#2");
        assert!(components[5].get("version").is_none());
        assert_eq!(
            components[2]["licenses"][0]["expression"],
            "(GPL-1.0-or-later OR Artistic-1.0-Perl) AND LicenseRef-Custom-license"
        );
        assert_eq!(components[1]["properties"][4]["value"], "A B C");
        let openssl = &streamed["dependencies"][0];
        assert_eq!(
            openssl["dependsOn"],
            serde_json::json!(["pkg:deb/debian/dup@1", "pkg:deb/debian/dup@1#2"])
        );
    }
}
