//! Packages + image identity and config → a CycloneDX 1.5 document (through the cyclonedx-bom
//! crate), and the human table view ([`table`]).
//!
//! `metadata.component` is the image (type `container`, version = its digest) with the image config
//! as `vouch:config:*` properties; each package is a component whose bom-ref is its purl (made unique
//! when two records share one), with `vouch:layer`, `vouch:path` and `vouch:cataloger` properties.

pub mod read;
pub mod spdx;
pub mod table;

use crate::catalog::Inventory;
use crate::image::Image;
use crate::package::Package;
use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::external_models::uri::Purl;
use cyclonedx_bom::models::bom::{Bom, SpecVersion, UrnUuid};
use cyclonedx_bom::models::component::{Classification, Component, Components, Cpe};
use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
use cyclonedx_bom::models::license::{License as CdxLicense, LicenseChoice, Licenses};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::Tools;
use std::collections::HashSet;
use std::str::FromStr;

pub const TOOL_NAME: &str = "docker-vouch";
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why the SBOM could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("building the CycloneDX document: {0}")]
    Build(String),
    #[error("writing the CycloneDX document: {0}")]
    Write(String),
}

/// Builds the CycloneDX document for an image and what was found in it.
pub fn build_bom(image: &Image, inventory: &Inventory) -> Result<Bom, SbomError> {
    let mut components = Vec::with_capacity(inventory.packages.len() + 1);
    if let Some(distro) = &inventory.distro {
        let mut os = Component::new(
            Classification::OperatingSystem,
            &distro.id,
            distro.version_id.as_deref().unwrap_or(""),
            Some(format!(
                "os:{}@{}",
                distro.id,
                distro.version_id.as_deref().unwrap_or("unknown")
            )),
        );
        if distro.version_id.is_none() {
            os.version = None;
        }
        os.description = distro.pretty_name.as_deref().map(NormalizedString::new);
        let mut props =
            evidence_properties(image, &distro.evidence.path, distro.evidence.layer_index);
        props.push(property("vouch:cataloger", "os-release"));
        if let Some(c) = &distro.version_codename {
            props.push(property("vouch:os:codename", c));
        }
        os.properties = Some(Properties(props));
        components.push(os);
    }

    let mut used_refs: HashSet<String> = HashSet::new();
    let mut package_refs = Vec::with_capacity(inventory.packages.len());
    for package in &inventory.packages {
        let component = package_component(image, package, &mut used_refs)?;
        package_refs.push(component.bom_ref.clone().unwrap_or_default());
        components.push(component);
    }
    let dependencies = dependency_graph(&package_refs, &inventory.dependencies);

    let mut metadata = Metadata::new().map_err(|e| SbomError::Build(e.to_string()))?;
    let mut tool = Component::new(Classification::Application, TOOL_NAME, TOOL_VERSION, None);
    tool.publisher = Some(NormalizedString::new("vouch"));
    metadata.tools = Some(Tools::Object {
        services: None,
        components: Some(Components(vec![tool])),
    });
    metadata.component = Some(image_component(image));

    Ok(Bom {
        version: 1,
        serial_number: Some(UrnUuid::generate()),
        metadata: Some(metadata),
        components: Some(Components(components)),
        dependencies: Some(dependencies),
        spec_version: SpecVersion::V1_5,
        ..Bom::default()
    })
}

/// Writes the document as CycloneDX 1.5 XML.
pub fn write_xml<W: std::io::Write>(bom: Bom, writer: &mut W) -> Result<(), SbomError> {
    bom.output_as_xml_v1_5(writer)
        .map_err(|e| SbomError::Write(e.to_string()))
}

/// Writes the document as CycloneDX 1.5 JSON.
pub fn write_json<W: std::io::Write>(bom: Bom, writer: &mut W) -> Result<(), SbomError> {
    bom.output_as_json_v1_5(writer)
        .map_err(|e| SbomError::Write(e.to_string()))
}

/// One `dependencies` entry per package (CycloneDX lists leaves with an empty `dependsOn` too), each
/// `dependsOn` unique and sorted.
fn dependency_graph(refs: &[String], edges: &[(usize, usize)]) -> Dependencies {
    let mut depends_on: Vec<std::collections::BTreeSet<&str>> =
        vec![Default::default(); refs.len()];
    for &(from, to) in edges {
        if let (Some(set), Some(target)) = (depends_on.get_mut(from), refs.get(to)) {
            set.insert(target);
        }
    }
    Dependencies(
        refs.iter()
            .zip(depends_on)
            .map(|(r, deps)| Dependency {
                dependency_ref: r.clone(),
                dependencies: deps.into_iter().map(str::to_string).collect(),
            })
            .collect(),
    )
}

/// The component's `licenses`: a list of license objects, or (CycloneDX allows an expression only
/// alone) one expression ANDing everything declared when any declared license is an expression.
fn licenses(declared: &[crate::license::License]) -> Option<Licenses> {
    use crate::license::License;
    if declared.is_empty() {
        return None;
    }
    if !declared.iter().any(|l| matches!(l, License::Expression(_))) {
        return Some(Licenses(
            declared
                .iter()
                .map(|l| match l {
                    License::Id(id) => LicenseChoice::License(CdxLicense::license_id(id)),
                    other => LicenseChoice::License(CdxLicense::named_license(other.as_str())),
                })
                .collect(),
        ));
    }
    Some(Licenses(vec![LicenseChoice::expression(
        &crate::license::spdx_expression(declared),
    )]))
}

fn property(name: &str, value: &str) -> Property {
    Property::new(name, value)
}

fn evidence_properties(image: &Image, path: &str, layer_index: usize) -> Vec<Property> {
    let mut props = Vec::new();
    if let Some(layer) = image.layers.get(layer_index) {
        props.push(property("vouch:layer", &layer.diff_id));
    }
    props.push(property("vouch:layerIndex", &layer_index.to_string()));
    props.push(property("vouch:path", &format!("/{path}")));
    props
}

fn package_component(
    image: &Image,
    package: &Package,
    used_refs: &mut HashSet<String>,
) -> Result<Component, SbomError> {
    let mut bom_ref = package.purl.clone();
    let mut n = 1;
    while !used_refs.insert(bom_ref.clone()) {
        n += 1;
        bom_ref = format!("{}#{n}", package.purl);
    }
    let mut component = Component::new(
        Classification::Library,
        &package.name,
        &package.version,
        Some(bom_ref),
    );
    if package.version.is_empty() {
        component.version = None;
    }
    component.cpe = package.cpe.as_deref().map(Cpe::new);
    component.purl = Some(
        Purl::from_str(&package.purl)
            .map_err(|_| SbomError::Build(format!("invalid purl {}", package.purl)))?,
    );
    component.licenses = licenses(&package.licenses);
    let mut props =
        evidence_properties(image, &package.evidence.path, package.evidence.layer_index);
    props.push(property("vouch:cataloger", package.cataloger));
    props.extend(package.properties.iter().map(|(k, v)| property(k, v)));
    component.properties = Some(Properties(props));
    Ok(component)
}

/// `metadata.component`: the image itself, with its identity and runtime config as properties.
fn image_component(image: &Image) -> Component {
    let mut component = Component::new(
        Classification::Container,
        image.display_name(),
        image.digest(),
        Some(format!("image:{}", image.digest())),
    );
    let runtime = image.config.runtime();
    let mut props = vec![
        property("vouch:image:source", image.source),
        property("vouch:image:reference", &image.reference),
        property("vouch:image:id", &image.id),
        property("vouch:image:platform", &image.config.platform()),
    ];
    if let Some(d) = &image.manifest_digest {
        props.push(property("vouch:image:manifestDigest", d));
    }
    props.extend(
        image
            .repo_tags
            .iter()
            .map(|t| property("vouch:image:tag", t)),
    );
    props.extend(
        image
            .repo_digests
            .iter()
            .map(|d| property("vouch:image:repoDigest", d)),
    );
    props.extend(
        image
            .layers
            .iter()
            .map(|l| property("vouch:image:layer", &l.diff_id)),
    );
    props.push(property(
        "vouch:config:user",
        runtime.user.as_deref().unwrap_or(""),
    ));
    let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_default();
    if let Some(e) = &runtime.entrypoint {
        props.push(property("vouch:config:entrypoint", &json(e)));
    }
    if let Some(c) = &runtime.cmd {
        props.push(property("vouch:config:cmd", &json(c)));
    }
    if let Some(w) = runtime.working_dir.as_deref().filter(|w| !w.is_empty()) {
        props.push(property("vouch:config:workingDir", w));
    }
    for (k, v) in runtime.labels.iter().flatten() {
        props.push(property(&format!("vouch:config:label:{k}"), v));
    }
    for port in runtime.exposed_ports.iter().flat_map(|p| p.keys()) {
        props.push(property("vouch:config:exposedPort", port));
    }
    if let Some(test) = runtime.healthcheck.as_ref().and_then(|h| h.test.as_ref()) {
        props.push(property("vouch:config:healthcheck", &json(test)));
    }
    component.properties = Some(Properties(props));
    component
}
