//! The oracle for the streamed writers' tests: the same document built through the cyclonedx-bom
//! crate's model (held whole, ~2.5 KB per component, which is why the writers do not use it).

use super::*;
use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::external_models::uri::Purl;
use cyclonedx_bom::models::bom::{Bom, SpecVersion, UrnUuid};
use cyclonedx_bom::models::component::{Classification, Component, Components, Cpe, Scope};
use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
use cyclonedx_bom::models::license::{License as CdxLicense, LicenseChoice, Licenses};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::Tools;
use std::str::FromStr;

/// Builds the CycloneDX document for an image and what was found in it, in the cyclonedx-bom
/// crate's model (held whole: used for XML).
pub fn build_bom(image: &Image, inventory: &Inventory) -> Result<Bom, SbomError> {
    let mut components = Vec::with_capacity(inventory.packages.len() + 1);
    if let Some(distro) = &inventory.distro {
        let mut os = Component::new(
            Classification::OperatingSystem,
            &distro.id,
            distro.version_id.as_deref().unwrap_or(""),
            Some(os_ref(distro)),
        );
        if distro.version_id.is_none() {
            os.version = None;
        }
        os.description = distro.pretty_name.as_deref().map(NormalizedString::new);
        os.properties = Some(properties(os_properties(image, distro)));
        components.push(os);
    }

    let refs = bom_refs(&inventory.packages);
    for (package, bom_ref) in inventory.packages.iter().zip(&refs) {
        components.push(package_component(image, package, bom_ref)?);
    }
    let dependencies = dependency_graph(&refs, &inventory.dependencies);

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

/// Each package's dependencies as sorted, unique bom-refs (CycloneDX lists leaves too).
fn depends_on<'r>(
    refs: &'r [Cow<'_, str>],
    edges: &[(usize, usize)],
) -> Vec<std::collections::BTreeSet<&'r str>> {
    let mut depends_on: Vec<std::collections::BTreeSet<&str>> =
        vec![Default::default(); refs.len()];
    for &(from, to) in edges {
        if let (Some(set), Some(target)) = (depends_on.get_mut(from), refs.get(to)) {
            set.insert(target);
        }
    }
    depends_on
}

fn dependency_graph(refs: &[Cow<'_, str>], edges: &[(usize, usize)]) -> Dependencies {
    Dependencies(
        refs.iter()
            .zip(depends_on(refs, edges))
            .map(|(r, deps)| Dependency {
                dependency_ref: r.to_string(),
                dependencies: deps.into_iter().map(str::to_string).collect(),
            })
            .collect(),
    )
}

fn licenses(declared: &[crate::license::License]) -> Option<Licenses> {
    let entries = license_entries(declared);
    if entries.is_empty() {
        return None;
    }
    Some(Licenses(
        entries
            .into_iter()
            .map(|entry| match entry {
                LicenseEntry::Id(id) => LicenseChoice::License(CdxLicense::license_id(id)),
                LicenseEntry::Name(name) => LicenseChoice::License(CdxLicense::named_license(name)),
                LicenseEntry::Expression(e) => LicenseChoice::expression(&e),
            })
            .collect(),
    ))
}

fn properties(props: Vec<Prop<'_>>) -> Properties {
    Properties(
        props
            .into_iter()
            .map(|(name, value)| Property::new(name, &value))
            .collect(),
    )
}

fn package_component(
    image: &Image,
    package: &Package,
    bom_ref: &str,
) -> Result<Component, SbomError> {
    let mut component = Component::new(
        Classification::Library,
        &package.name,
        &package.version,
        Some(bom_ref.to_string()),
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
    component.properties = Some(properties(package_properties(image, package)));
    component.scope = component_scope(package).map(|_| Scope::Excluded);
    Ok(component)
}

/// `metadata.component`: the image itself, with its identity and runtime config as properties.
fn image_component(image: &Image) -> Component {
    let mut component = Component::new(
        Classification::Container,
        image.display_name(),
        image.digest(),
        Some(image_ref(image)),
    );
    component.properties = Some(properties(image_properties(image)));
    component
}
