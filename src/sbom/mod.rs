//! Packages + image identity and config → a CycloneDX 1.5 document, and the human table view
//! ([`table`]).
//!
//! JSON ([`cyclonedx_json`]) and XML ([`cyclonedx_xml`]) are written component by component as they
//! are serialized, so the SBOM of an image with 200,000 packages is never held whole. Both take
//! what each component says from the functions here (bom-refs, properties, licenses); unit tests
//! hold both to what the cyclonedx-bom crate writes for the same inventory (`reference`, test
//! builds only).
//!
//! `metadata.component` is the image (type `container`, version = its digest) with the image config
//! as `vouch:config:*` properties; each package is a component whose bom-ref is its purl (made unique
//! when two records share one), with `vouch:layer`, `vouch:path` and `vouch:cataloger` properties.

pub mod cyclonedx_json;
pub mod cyclonedx_xml;
pub mod read;
#[cfg(test)]
mod reference;
pub mod spdx;
pub mod table;

use crate::catalog::Inventory;
use crate::image::Image;
use crate::package::{Distro, Package};
use std::borrow::Cow;
use std::collections::HashSet;

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

/// A property of a component, as (name, value).
pub(crate) type Prop<'a> = (Cow<'a, str>, Cow<'a, str>);

/// One entry of a component's `licenses`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LicenseEntry<'a> {
    Id(&'a str),
    Name(&'a str),
    /// CycloneDX allows an expression only alone.
    Expression(String),
}

/// A CycloneDX normalizedString: carriage returns, line feeds and tabs become spaces (`\r\n` one).
pub(crate) fn normalized(value: &str) -> Cow<'_, str> {
    if value.contains(['\r', '\n', '\t']) {
        Cow::Owned(value.replace("\r\n", " ").replace(['\r', '\n', '\t'], " "))
    } else {
        Cow::Borrowed(value)
    }
}

/// Each package's bom-ref: its purl, made unique (`PURL#2`, `PURL#3`, ...) when records share one.
pub(crate) fn bom_refs(packages: &[Package]) -> Vec<Cow<'_, str>> {
    let mut used: HashSet<Cow<'_, str>> = HashSet::with_capacity(packages.len());
    let mut refs = Vec::with_capacity(packages.len());
    for package in packages {
        let mut bom_ref = Cow::Borrowed(package.purl.as_str());
        let mut n = 1;
        while used.contains(&bom_ref) {
            n += 1;
            bom_ref = Cow::Owned(format!("{}#{n}", package.purl));
        }
        used.insert(bom_ref.clone());
        refs.push(bom_ref);
    }
    refs
}

/// The inventory's dependency edges in `(dependent, dependency)` order: as they are when the
/// catalog made them (sorted, unique), else a sorted copy (an inventory built some other way).
pub(crate) fn sorted_edges(edges: &[(usize, usize)]) -> Cow<'_, [(usize, usize)]> {
    if edges.windows(2).all(|w| w[0] <= w[1]) {
        Cow::Borrowed(edges)
    } else {
        let mut sorted = edges.to_vec();
        sorted.sort_unstable();
        Cow::Owned(sorted)
    }
}

/// Each package's bom-ref with its dependencies' bom-refs (sorted, unique), in package order, from
/// edges sorted by dependent ([`sorted_edges`]).
pub(crate) fn dependency_lists<'r>(
    refs: &'r [Cow<'r, str>],
    sorted: &'r [(usize, usize)],
) -> impl Iterator<Item = (&'r str, Vec<&'r str>)> + 'r {
    let mut next = 0;
    refs.iter().enumerate().map(move |(from, bom_ref)| {
        let mut depends_on = Vec::new();
        while let Some(&(f, to)) = sorted.get(next) {
            if f > from {
                break;
            }
            next += 1;
            if f == from {
                depends_on.extend(refs.get(to).map(|r| r.as_ref()));
            }
        }
        depends_on.sort_unstable();
        depends_on.dedup();
        (bom_ref.as_ref(), depends_on)
    })
}

/// The component's `licenses`: license objects, or (CycloneDX allows an expression only alone) one
/// expression ANDing everything declared when any declared license is an expression.
pub(crate) fn license_entries(declared: &[crate::license::License]) -> Vec<LicenseEntry<'_>> {
    use crate::license::License;
    if declared.iter().any(|l| matches!(l, License::Expression(_))) {
        return vec![LicenseEntry::Expression(crate::license::spdx_expression(
            declared,
        ))];
    }
    declared
        .iter()
        .map(|l| match l {
            License::Id(id) => LicenseEntry::Id(id),
            other => LicenseEntry::Name(other.as_str()),
        })
        .collect()
}

/// Where a component was found: the layer's diffID and position, and the path.
fn evidence_properties<'a>(image: &'a Image, path: &str, layer_index: usize) -> Vec<Prop<'a>> {
    let mut props = Vec::with_capacity(4);
    if let Some(layer) = image.layers.get(layer_index) {
        props.push(("vouch:layer".into(), layer.diff_id.as_str().into()));
        if let Some(instruction) = &layer.created_by {
            props.push(("vouch:createdBy".into(), instruction.as_str().into()));
        }
    }
    props.push(("vouch:layerIndex".into(), layer_index.to_string().into()));
    props.push(("vouch:path".into(), format!("/{path}").into()));
    props
}

/// The operating system component's properties.
pub(crate) fn os_properties<'a>(image: &'a Image, distro: &'a Distro) -> Vec<Prop<'a>> {
    let mut props = evidence_properties(image, &distro.evidence.path, distro.evidence.layer_index);
    props.push(("vouch:cataloger".into(), "os-release".into()));
    if let Some(c) = &distro.version_codename {
        props.push(("vouch:os:codename".into(), c.as_str().into()));
    }
    props
}

/// A package component's properties: its evidence, cataloger and what its database said.
pub(crate) fn package_properties<'a>(image: &'a Image, package: &'a Package) -> Vec<Prop<'a>> {
    let mut props =
        evidence_properties(image, &package.evidence.path, package.evidence.layer_index);
    props.push(("vouch:cataloger".into(), package.cataloger.into()));
    props.extend(
        package
            .properties
            .iter()
            .map(|(k, v)| (Cow::Borrowed(k.as_ref()), Cow::Borrowed(v.as_str()))),
    );
    props
}

/// A component's CycloneDX `scope`: `excluded` for what is not in the running program (a crate
/// cargo-auditable records as a build dependency: build scripts and proc-macros); else none said.
pub(crate) fn component_scope(package: &Package) -> Option<&'static str> {
    package
        .properties
        .iter()
        .any(|(name, value)| name == "vouch:cargo:kind" && value == "build")
        .then_some("excluded")
}

/// The operating system component's bom-ref (`os:debian@12`).
pub(crate) fn os_ref(distro: &Distro) -> String {
    format!(
        "os:{}@{}",
        distro.id,
        distro.version_id.as_deref().unwrap_or("unknown")
    )
}

/// The image component's bom-ref (`image:DIGEST`).
pub(crate) fn image_ref(image: &Image) -> String {
    format!("image:{}", image.digest())
}

/// `metadata.component`'s properties: the image's identity and runtime config.
/// The image component's properties, with the paths the read left out (`vouch:excluded`, one per
/// `--exclude` glob), so that whoever reads the SBOM sees what it does not cover.
pub(crate) fn image_and_exclusion_properties<'a>(
    image: &'a Image,
    inventory: &'a crate::catalog::Inventory,
) -> Vec<Prop<'a>> {
    let mut props = image_properties(image);
    props.extend(
        inventory
            .excluded
            .iter()
            .map(|g| ("vouch:excluded".into(), g.as_str().into())),
    );
    props
}

pub(crate) fn image_properties(image: &Image) -> Vec<Prop<'_>> {
    let runtime = image.config.runtime();
    let mut props: Vec<Prop<'_>> = vec![
        ("vouch:image:source".into(), image.source.into()),
        (
            "vouch:image:reference".into(),
            image.reference.as_str().into(),
        ),
        ("vouch:image:id".into(), image.id.as_str().into()),
        (
            "vouch:image:platform".into(),
            image.config.platform().into(),
        ),
    ];
    if let Some(d) = &image.manifest_digest {
        props.push(("vouch:image:manifestDigest".into(), d.as_str().into()));
    }
    props.extend(
        image
            .repo_tags
            .iter()
            .map(|t| ("vouch:image:tag".into(), t.as_str().into())),
    );
    props.extend(
        image
            .repo_digests
            .iter()
            .map(|d| ("vouch:image:repoDigest".into(), d.as_str().into())),
    );
    props.extend(
        image
            .layers
            .iter()
            .map(|l| ("vouch:image:layer".into(), l.diff_id.as_str().into())),
    );
    props.push((
        "vouch:config:user".into(),
        runtime.user.clone().unwrap_or_default().into(),
    ));
    let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_default();
    if let Some(e) = &runtime.entrypoint {
        props.push(("vouch:config:entrypoint".into(), json(e).into()));
    }
    if let Some(c) = &runtime.cmd {
        props.push(("vouch:config:cmd".into(), json(c).into()));
    }
    if let Some(w) = runtime.working_dir.as_deref().filter(|w| !w.is_empty()) {
        props.push(("vouch:config:workingDir".into(), w.to_string().into()));
    }
    for (k, v) in runtime.labels.iter().flatten() {
        props.push((format!("vouch:config:label:{k}").into(), v.clone().into()));
    }
    for port in runtime.exposed_ports.iter().flat_map(|p| p.keys()) {
        props.push(("vouch:config:exposedPort".into(), port.clone().into()));
    }
    if let Some(test) = runtime.healthcheck.as_ref().and_then(|h| h.test.as_ref()) {
        props.push(("vouch:config:healthcheck".into(), json(test).into()));
    }
    props
}

/// Writes the document as CycloneDX 1.5 XML, streamed (see [`cyclonedx_xml`]).
pub fn write_xml<W: std::io::Write>(
    image: &Image,
    inventory: &Inventory,
    writer: W,
) -> Result<(), SbomError> {
    cyclonedx_xml::write(image, inventory, writer)
}

/// Writes the document as CycloneDX 1.5 JSON, streamed (see [`cyclonedx_json`]).
pub fn write_json<W: std::io::Write>(
    image: &Image,
    inventory: &Inventory,
    writer: W,
) -> Result<(), SbomError> {
    cyclonedx_json::write(image, inventory, writer)
}
