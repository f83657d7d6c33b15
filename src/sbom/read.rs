//! Reading an SBOM back: the components of a CycloneDX JSON document (ours or another tool's), as
//! later stages (policy, vulnerability matching) see them, so that a saved SBOM can be checked again;
//! and [`Sbom`], the SBOM those stages take, which is made into a document only when one is needed.

use crate::catalog::Inventory;
use crate::image::Image;
use crate::purl::{purl_base, purl_type};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

/// The image's SBOM as the later stages take it: a saved document as it was read, or the inventory
/// just cataloged. The inventory is made into a document only for what needs the document itself
/// (a Rego rule's `input.sbom`, an attestation, `scan --format cyclonedx-json`): as a JSON value,
/// 200,000 packages take some 1.5 GB.
#[derive(Debug)]
pub enum Sbom {
    Saved(Value),
    Built {
        image: Box<Image>,
        inventory: Box<Inventory>,
    },
}

impl Sbom {
    /// The components, as the rules and the vulnerability matching see them.
    pub fn components(&self) -> Vec<Component> {
        match self {
            Sbom::Saved(document) => components_from_sbom(document),
            Sbom::Built { image, inventory } => components_from_inventory(image, inventory),
        }
    }

    /// The operating system the SBOM names (`debian 12`), when it names one: the inventory's
    /// distribution, or a saved document's `operating-system` component.
    pub fn operating_system(&self) -> Option<String> {
        let (name, version) = match self {
            Sbom::Built { inventory, .. } => {
                let distro = inventory.distro.as_ref()?;
                (distro.id.clone(), distro.version_id.clone())
            }
            Sbom::Saved(document) => {
                let os = document["components"]
                    .as_array()?
                    .iter()
                    .find(|c| c["type"] == "operating-system")?;
                (
                    os["name"].as_str()?.to_string(),
                    os["version"].as_str().map(str::to_string),
                )
            }
        };
        Some(match version {
            Some(version) => format!("{name} {version}"),
            None => name,
        })
    }

    /// The size in bytes of the document as compact JSON, counted as it is written (nothing held).
    pub fn json_size(&self) -> Result<u64, super::SbomError> {
        let mut counter = Counter(0);
        serde_json::to_writer(&mut counter, &self.serializable()?)
            .map_err(|e| super::SbomError::Write(e.to_string()))?;
        Ok(counter.0)
    }

    /// The CycloneDX JSON document.
    pub fn document(&self) -> Result<Cow<'_, Value>, super::SbomError> {
        match self {
            Sbom::Saved(document) => Ok(Cow::Borrowed(document)),
            Sbom::Built { image, inventory } => {
                let mut rendered = Vec::new();
                super::write_json(image, inventory, &mut rendered)?;
                serde_json::from_slice(&rendered)
                    .map(Cow::Owned)
                    .map_err(|e| super::SbomError::Write(format!("re-reading the SBOM: {e}")))
            }
        }
    }
}

/// The SBOM as a document to serialize: the saved one, or the inventory's made entry by entry as
/// it is written (see [`super::cyclonedx_json`]); each serialization of one is the same document.
pub enum SbomDocument<'a> {
    Saved(&'a Value),
    Built(Box<super::cyclonedx_json::Document<'a>>),
}

impl Serialize for SbomDocument<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            SbomDocument::Saved(document) => document.serialize(serializer),
            SbomDocument::Built(document) => document.serialize(serializer),
        }
    }
}

impl Sbom {
    /// The CycloneDX JSON document to serialize, without making it a JSON value.
    pub fn serializable(&self) -> Result<SbomDocument<'_>, super::SbomError> {
        Ok(match self {
            Sbom::Saved(document) => SbomDocument::Saved(document),
            Sbom::Built { image, inventory } => SbomDocument::Built(Box::new(
                super::cyclonedx_json::Document::new(image, inventory)?,
            )),
        })
    }
}

/// A writer that only counts what it is given.
struct Counter(u64);

impl std::io::Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The components of the document [`super::write_json`] would write for this inventory, read as
/// [`components_from_sbom`] reads them, without writing it.
pub fn components_from_inventory(image: &Image, inventory: &Inventory) -> Vec<Component> {
    use super::normalized;
    inventory
        .packages
        .iter()
        .map(|package| {
            let properties = super::package_properties(image, package);
            let property = |name: &str| {
                properties
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| normalized(v).into_owned())
            };
            let licenses = super::license_entries(&package.licenses)
                .into_iter()
                .map(|entry| match entry {
                    super::LicenseEntry::Id(id) => id.to_string(),
                    super::LicenseEntry::Name(name) => normalized(name).into_owned(),
                    super::LicenseEntry::Expression(e) => e,
                })
                .collect();
            Component::from_properties(
                normalized(&package.name).into_owned(),
                normalized(&package.version).into_owned(),
                package.purl.clone(),
                licenses,
                property,
            )
        })
        .collect()
}

impl Component {
    /// A component from its identity and `vouch:*` properties (looked up by `property`).
    fn from_properties(
        name: String,
        version: String,
        purl: String,
        licenses: Vec<String>,
        property: impl Fn(&str) -> Option<String>,
    ) -> Component {
        Component {
            name,
            version,
            purl_type: purl_type(&purl).unwrap_or_default().to_string(),
            purl,
            licenses,
            layer_index: property("vouch:layerIndex").and_then(|i| i.parse().ok()),
            path: property("vouch:path"),
            source: property("vouch:dpkg:source")
                .or_else(|| property("vouch:apk:origin"))
                .or_else(|| property("vouch:rpm:sourceRpm").and_then(|s| source_rpm_name(&s))),
            source_version: property("vouch:dpkg:sourceVersion"),
            owned_by: property("vouch:ownedBy"),
        }
    }
}

/// The package name of a source rpm's file name: `bind` of `bind-9.16.23-5.el9_1.src.rpm`.
fn source_rpm_name(file: &str) -> Option<String> {
    let stem = file
        .strip_suffix(".src.rpm")
        .or_else(|| file.strip_suffix(".nosrc.rpm"))?;
    let mut parts = stem.rsplitn(3, '-');
    let (_release, _version, name) = (parts.next()?, parts.next()?, parts.next()?);
    (!name.is_empty()).then(|| name.to_string())
}

/// One SBOM component, as the rules see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Component {
    pub name: String,
    pub version: String,
    pub purl: String,
    pub purl_type: String,
    /// SPDX ids or expressions, or free-text names when the SBOM had no id.
    pub licenses: Vec<String>,
    pub layer_index: Option<usize>,
    pub path: Option<String>,
    /// The source package (dpkg `Source`, apk origin) and its version, when the SBOM says.
    pub source: Option<String>,
    pub source_version: Option<String>,
    /// The OS package that installed this language package's files (`vouch:ownedBy`), when one did.
    pub owned_by: Option<String>,
}

impl Component {
    /// The purl without version, qualifiers or subpath, percent-decoded: what patterns match.
    pub fn purl_base(&self) -> String {
        purl_base(&self.purl)
    }
}

/// Why a saved SBOM cannot stand in for its image.
#[derive(Debug, thiserror::Error)]
pub enum RecordedError {
    #[error("not an SBOM vouch wrote: it does not record its image ({0}); write one with `docker vouch sbom IMAGE`")]
    NotVouch(&'static str),
    #[error("its image record is damaged: {0}")]
    Damaged(String),
}

/// The image as a vouch CycloneDX SBOM recorded it in `metadata.component`'s properties (see
/// [`super::image_properties`]): its identity, layers and runtime configuration, with no layer
/// sizes (the layers are not read). What `sbom:FILE` judges in place of the image.
pub fn recorded_image(sbom: &Value, reference: &str) -> Result<Image, RecordedError> {
    let properties = sbom
        .pointer("/metadata/component/properties")
        .and_then(Value::as_array)
        .ok_or(RecordedError::NotVouch("no metadata.component properties"))?;
    let all = |name: &str| -> Vec<&str> {
        properties
            .iter()
            .filter(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .filter_map(|p| p.get("value").and_then(Value::as_str))
            .collect()
    };
    let one = |name: &str| all(name).first().map(|v| v.to_string());
    let id = one("vouch:image:id").ok_or(RecordedError::NotVouch("no vouch:image:id"))?;
    if crate::oci::digest::sha256_hex(&id).is_none() {
        return Err(RecordedError::Damaged(format!(
            "vouch:image:id {:?} is not a sha256 digest",
            crate::text::excerpt(&id, 80)
        )));
    }
    let list = |name: &str| -> Result<Option<Vec<String>>, RecordedError> {
        one(name)
            .map(|text| {
                serde_json::from_str(&text).map_err(|e| {
                    RecordedError::Damaged(format!("{name} is not a JSON list of strings ({e})"))
                })
            })
            .transpose()
    };
    let mut layers = Vec::new();
    for diff_id in all("vouch:image:layer") {
        if crate::oci::digest::sha256_hex(diff_id).is_none() {
            return Err(RecordedError::Damaged(format!(
                "vouch:image:layer {:?} is not a sha256 digest",
                crate::text::excerpt(diff_id, 80)
            )));
        }
        layers.push(crate::image::LayerInfo {
            diff_id: diff_id.to_string(),
            blob_digest: diff_id.to_string(),
            uncompressed_size: 0,
            entry_count: 0,
            created_by: None,
        });
    }
    let platform = one("vouch:image:platform").unwrap_or_default();
    let mut parts = platform.split('/');
    let known = |p: Option<&str>| {
        p.filter(|p| !p.is_empty() && *p != "unknown")
            .map(str::to_string)
    };
    let (os, architecture, variant) = (
        known(parts.next()),
        known(parts.next()),
        known(parts.next()),
    );
    let labels: std::collections::BTreeMap<String, String> = properties
        .iter()
        .filter_map(|p| {
            let name = p
                .get("name")?
                .as_str()?
                .strip_prefix("vouch:config:label:")?;
            Some((name.to_string(), p.get("value")?.as_str()?.to_string()))
        })
        .collect();
    let ports: std::collections::BTreeMap<String, Value> = all("vouch:config:exposedPort")
        .into_iter()
        .map(|p| (p.to_string(), Value::Object(Default::default())))
        .collect();
    let runtime = crate::image::config::RuntimeConfig {
        user: one("vouch:config:user").filter(|u| !u.is_empty()),
        entrypoint: list("vouch:config:entrypoint")?,
        cmd: list("vouch:config:cmd")?,
        working_dir: one("vouch:config:workingDir"),
        labels: (!labels.is_empty()).then_some(labels),
        exposed_ports: (!ports.is_empty()).then_some(ports),
        healthcheck: list("vouch:config:healthcheck")?
            .map(|test| crate::image::config::Healthcheck { test: Some(test) }),
        ..Default::default()
    };
    let repo_tags: Vec<String> = all("vouch:image:tag")
        .into_iter()
        .map(str::to_string)
        .collect();
    Ok(Image {
        reference: reference.to_string(),
        source: "sbom",
        name: repo_tags.first().cloned(),
        repo_tags,
        manifest_digest: one("vouch:image:manifestDigest"),
        repo_digests: all("vouch:image:repoDigest")
            .into_iter()
            .map(str::to_string)
            .collect(),
        config: crate::image::config::ImageConfig {
            os,
            architecture,
            variant,
            config: Some(runtime),
            rootfs: Some(crate::image::config::RootFs {
                kind: "layers".into(),
                diff_ids: layers.iter().map(|l| l.diff_id.clone()).collect(),
            }),
            ..Default::default()
        },
        id,
        layers,
    })
}

/// The value of a CycloneDX component's property `name`.
fn property_of<'a>(component: &'a Value, name: &str) -> Option<&'a str> {
    component
        .get("properties")?
        .as_array()?
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))?
        .get("value")?
        .as_str()
}

/// Takes out of a CycloneDX document the components of the layers below `from` (by their
/// `vouch:layerIndex`), and the dependency entries and edges naming them: the SBOM of what the
/// layers from `from` up added (`check --only-app-layers`). A component with no layer index is
/// kept, as the rules keep it.
pub fn retain_layers_from(document: &mut Value, from: usize) {
    let mut dropped = std::collections::HashSet::new();
    if let Some(list) = document.get_mut("components").and_then(Value::as_array_mut) {
        list.retain(|c| {
            let below = property_of(c, "vouch:layerIndex")
                .and_then(|i| i.parse::<usize>().ok())
                .is_some_and(|i| i < from);
            if below {
                if let Some(reference) = c.get("bom-ref").and_then(Value::as_str) {
                    dropped.insert(reference.to_string());
                }
            }
            !below
        });
    }
    let Some(dependencies) = document
        .get_mut("dependencies")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    let named = |v: &Value| v.as_str().is_some_and(|r| dropped.contains(r));
    dependencies.retain(|d| !d.get("ref").is_some_and(named));
    for entry in dependencies {
        if let Some(on) = entry.get_mut("dependsOn").and_then(Value::as_array_mut) {
            on.retain(|r| !named(r));
        }
    }
}

/// Reads the components of a CycloneDX JSON document.
pub fn components_from_sbom(sbom: &Value) -> Vec<Component> {
    let Some(list) = sbom.get("components").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|c| {
            let purl = c.get("purl")?.as_str()?.to_string();
            let property = |name: &str| property_of(c, name).map(str::to_string);
            let licenses = c
                .get("licenses")
                .and_then(Value::as_array)
                .map(|ls| {
                    ls.iter()
                        .filter_map(|l| {
                            l.get("expression")
                                .or_else(|| l.get("license")?.get("id"))
                                .or_else(|| l.get("license")?.get("name"))
                                .and_then(Value::as_str)
                                .map(str::to_string)
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some(Component::from_properties(
                c.get("name")?.as_str()?.to_string(),
                c.get("version")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                purl,
                licenses,
                property,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_rpm_names() {
        assert_eq!(
            source_rpm_name("bind-9.16.23-5.el9_1.src.rpm").as_deref(),
            Some("bind")
        );
        assert_eq!(
            source_rpm_name("python-pip-21.3.1-1.el9.nosrc.rpm").as_deref(),
            Some("python-pip")
        );
        assert_eq!(source_rpm_name("bind-9.16.23.src.rpm"), None);
        assert_eq!(source_rpm_name("bind-9-1.x86_64.rpm"), None);
    }

    #[test]
    fn components_from_the_inventory_are_those_read_from_its_document() {
        let image = super::super::cyclonedx_json::tests::image();
        let inventory = super::super::cyclonedx_json::tests::inventory();
        let sbom = Sbom::Built {
            image: Box::new(image.clone()),
            inventory: Box::new(inventory),
        };
        let from_document = components_from_sbom(&sbom.document().unwrap());
        assert_eq!(sbom.components(), from_document);
        assert_eq!(from_document.len(), 6);
        assert!(from_document.iter().any(|c| c.licenses.len() == 2));
    }

    /// The image an SBOM records is the image it was written of: identity, layers, platform and the
    /// runtime configuration the rules read (a label's line break is a space, as CycloneDX's
    /// normalizedString makes it).
    #[test]
    fn the_recorded_image_is_the_image_written() {
        let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let mut image = super::super::cyclonedx_json::tests::image();
        image.id = digest('1');
        image.manifest_digest = Some(digest('2'));
        for (layer, c) in image.layers.iter_mut().zip(['a', 'b']) {
            layer.diff_id = digest(c);
        }
        let sbom = Sbom::Built {
            image: Box::new(image.clone()),
            inventory: Box::new(super::super::cyclonedx_json::tests::inventory()),
        };
        let document = sbom.document().unwrap().into_owned();
        let recorded = recorded_image(&document, "sbom:x.json").unwrap();
        assert_eq!(recorded.id, image.id);
        assert_eq!(recorded.manifest_digest, image.manifest_digest);
        assert_eq!(recorded.repo_tags, image.repo_tags);
        assert_eq!(recorded.repo_digests, image.repo_digests);
        let diff_ids = |i: &Image| {
            i.layers
                .iter()
                .map(|l| l.diff_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(diff_ids(&recorded), diff_ids(&image));
        assert_eq!(recorded.config.platform(), "linux/arm64/v8");
        let mut expected = image.config.runtime();
        if let Some(labels) = expected.labels.as_mut() {
            labels.insert("org.example".into(), "line one".into());
        }
        assert_eq!(recorded.config.runtime(), expected);

        let mut other = document.clone();
        other["metadata"]["component"]["properties"] = serde_json::json!([]);
        assert!(matches!(
            recorded_image(&other, "sbom:x.json"),
            Err(RecordedError::NotVouch(_))
        ));
        let mut damaged = document;
        for p in damaged["metadata"]["component"]["properties"]
            .as_array_mut()
            .unwrap()
        {
            if p["name"] == "vouch:config:entrypoint" {
                p["value"] = "/bin/app --serve".into();
            }
        }
        let err = recorded_image(&damaged, "sbom:x.json").unwrap_err();
        assert!(err.to_string().contains("vouch:config:entrypoint"), "{err}");
    }

    /// The size attest judges an envelope by is that of the compact JSON a statement carries (the
    /// document as a value has its keys in another order, the same bytes in all), and one
    /// serializable document serializes the same each time (its serial number and time fixed).
    #[test]
    fn json_size_is_the_compact_documents() {
        let sbom = Sbom::Built {
            image: Box::new(super::super::cyclonedx_json::tests::image()),
            inventory: Box::new(super::super::cyclonedx_json::tests::inventory()),
        };
        let compact = serde_json::to_vec(&*sbom.document().unwrap()).unwrap();
        assert_eq!(sbom.json_size().unwrap(), compact.len() as u64);
        let document = sbom.serializable().unwrap();
        let once = serde_json::to_vec(&document).unwrap();
        assert_eq!(once, serde_json::to_vec(&document).unwrap());
        let value: Value = serde_json::from_slice(&once).unwrap();
        assert_eq!(components_from_sbom(&value), sbom.components());
        let saved = Sbom::Saved(value.clone());
        assert_eq!(
            serde_json::to_vec(&saved.serializable().unwrap()).unwrap(),
            serde_json::to_vec(&value).unwrap()
        );
    }

    #[test]
    fn retaining_layers_drops_lower_components_and_their_edges() {
        let layer = |i: &str| serde_json::json!([{"name": "vouch:layerIndex", "value": i}]);
        let mut document = serde_json::json!({
            "components": [
                {"bom-ref": "base", "name": "base", "properties": layer("0")},
                {"bom-ref": "app", "name": "app", "properties": layer("2")},
                {"bom-ref": "unknown", "name": "unknown"},
                {"bom-ref": "odd", "name": "odd", "properties": layer("x")}
            ],
            "dependencies": [
                {"ref": "base", "dependsOn": []},
                {"ref": "app", "dependsOn": ["base", "unknown"]},
                {"ref": "unknown"}
            ]
        });
        retain_layers_from(&mut document, 1);
        let names: Vec<&str> = document["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["app", "unknown", "odd"]);
        assert_eq!(
            document["dependencies"],
            serde_json::json!([{"ref": "app", "dependsOn": ["unknown"]}, {"ref": "unknown"}])
        );
    }

    #[test]
    fn reads_components_from_cyclonedx() {
        let sbom = serde_json::json!({"components": [
            {"name": "a", "version": "1", "purl": "pkg:pypi/a@1",
             "licenses": [{"license": {"id": "MIT"}}, {"expression": "GPL-2.0-only OR BSD-3-Clause"}],
             "properties": [{"name": "vouch:layerIndex", "value": "2"}, {"name": "vouch:path", "value": "/x"}]},
            {"name": "no-purl", "version": "1"}
        ]});
        let components = components_from_sbom(&sbom);
        assert_eq!(components.len(), 1);
        assert_eq!(components[0].purl_type, "pypi");
        assert_eq!(
            components[0].licenses,
            ["MIT", "GPL-2.0-only OR BSD-3-Clause"]
        );
        assert_eq!(components[0].layer_index, Some(2));
        assert_eq!(components[0].path.as_deref(), Some("/x"));
    }
}
