//! CycloneDX 1.5 XML written event by event (xml-rs, the writer cyclonedx-bom itself uses), one
//! component at a time, so an image with 200,000 packages is never held as a document.
//!
//! Elements follow the order of the 1.5 XML schema's sequences; what each component says comes
//! from the shared functions of [`super`], as for JSON. The unit test below compares the element
//! tree with the one cyclonedx-bom writes for the same inventory.

use super::{
    bom_refs, image_and_exclusion_properties, image_ref, license_entries, normalized,
    os_properties, os_ref, package_properties, LicenseEntry, Prop, SbomError, TOOL_NAME,
    TOOL_VERSION,
};
use crate::catalog::Inventory;
use crate::image::Image;
use crate::text::xml_safe;
use std::io::Write;
use xml::writer::{EmitterConfig, EventWriter, XmlEvent};

const NAMESPACE: &str = "http://cyclonedx.org/schema/bom/1.5";

/// Writes the CycloneDX 1.5 XML document for the image and its inventory to `writer` (buffered
/// here), indented.
pub fn write<W: Write>(image: &Image, inventory: &Inventory, writer: W) -> Result<(), SbomError> {
    let timestamp = crate::clock::stamp();
    let buffered = std::io::BufWriter::with_capacity(64 * 1024, writer);
    let mut xml = Xml(EmitterConfig::new()
        .perform_indent(true)
        .create_writer(buffered));
    let serial = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    xml.write(
        XmlEvent::start_element("bom")
            .default_ns(NAMESPACE)
            .attr("serialNumber", &serial)
            .attr("version", "1"),
    )?;

    xml.open("metadata")?;
    xml.text_element("timestamp", &timestamp)?;
    xml.open("tools")?;
    xml.open("components")?;
    xml.write(XmlEvent::start_element("component").attr("type", "application"))?;
    xml.text_element("publisher", "vouch")?;
    xml.text_element("name", TOOL_NAME)?;
    xml.text_element("version", TOOL_VERSION)?;
    xml.close()?;
    xml.close()?;
    xml.close()?;
    let image_ref = image_ref(image);
    xml.component(Component {
        kind: "container",
        bom_ref: &image_ref,
        name: image.display_name(),
        version: Some(image.digest()),
        description: None,
        scope: None,
        licenses: Vec::new(),
        cpe: None,
        purl: None,
        properties: image_and_exclusion_properties(image, inventory),
    })?;
    xml.close()?;

    let refs = bom_refs(&inventory.packages);
    xml.open("components")?;
    if let Some(distro) = &inventory.distro {
        let os_ref = os_ref(distro);
        xml.component(Component {
            kind: "operating-system",
            bom_ref: &os_ref,
            name: &distro.id,
            version: distro.version_id.as_deref(),
            description: distro.pretty_name.as_deref(),
            scope: None,
            licenses: Vec::new(),
            cpe: None,
            purl: None,
            properties: os_properties(image, distro),
        })?;
    }
    for (package, bom_ref) in inventory.packages.iter().zip(&refs) {
        xml.component(Component {
            kind: "library",
            bom_ref,
            name: &package.name,
            version: (!package.version.is_empty()).then_some(package.version.as_str()),
            description: None,
            scope: super::component_scope(package),
            licenses: license_entries(&package.licenses),
            cpe: package.cpe.as_deref(),
            purl: Some(&package.purl),
            properties: package_properties(image, package),
        })?;
    }
    xml.close()?;

    let edges = super::sorted_edges(&inventory.dependencies);
    xml.open("dependencies")?;
    for (bom_ref, depends_on) in super::dependency_lists(&refs, &edges) {
        xml.write(XmlEvent::start_element("dependency").attr("ref", &xml_safe(bom_ref)))?;
        for dependency in depends_on {
            xml.write(XmlEvent::start_element("dependency").attr("ref", &xml_safe(dependency)))?;
            xml.close()?;
        }
        xml.close()?;
    }
    xml.close()?;
    xml.close()?;
    let mut buffered = xml.0.into_inner();
    buffered
        .flush()
        .map_err(|e| SbomError::Write(e.to_string()))
}

/// What one `<component>` says.
struct Component<'a> {
    kind: &'static str,
    bom_ref: &'a str,
    name: &'a str,
    version: Option<&'a str>,
    description: Option<&'a str>,
    scope: Option<&'static str>,
    licenses: Vec<LicenseEntry<'a>>,
    cpe: Option<&'a str>,
    purl: Option<&'a str>,
    properties: Vec<Prop<'a>>,
}

/// The event writer, with errors as the SBOM's.
struct Xml<W: Write>(EventWriter<W>);

impl<W: Write> Xml<W> {
    fn write<'e, E: Into<XmlEvent<'e>>>(&mut self, event: E) -> Result<(), SbomError> {
        self.0
            .write(event)
            .map_err(|e| SbomError::Write(e.to_string()))
    }

    fn open(&mut self, name: &str) -> Result<(), SbomError> {
        self.write(XmlEvent::start_element(name))
    }

    fn close(&mut self) -> Result<(), SbomError> {
        self.write(XmlEvent::end_element())
    }

    /// `<name>text</name>`, the text normalized as a normalizedString.
    fn text_element(&mut self, name: &str, text: &str) -> Result<(), SbomError> {
        self.element(name, &normalized(text))
    }

    /// `<name>text</name>`, the text as it is (ids, expressions, CPEs, purls).
    fn element(&mut self, name: &str, text: &str) -> Result<(), SbomError> {
        self.open(name)?;
        self.write(XmlEvent::characters(&xml_safe(text)))?;
        self.close()
    }

    /// Children in the order of the schema's component sequence.
    fn component(&mut self, c: Component<'_>) -> Result<(), SbomError> {
        self.write(
            XmlEvent::start_element("component")
                .attr("type", c.kind)
                .attr("bom-ref", &xml_safe(c.bom_ref)),
        )?;
        self.text_element("name", c.name)?;
        if let Some(version) = c.version {
            self.text_element("version", version)?;
        }
        if let Some(description) = c.description {
            self.text_element("description", description)?;
        }
        if let Some(scope) = c.scope {
            self.element("scope", scope)?;
        }
        if !c.licenses.is_empty() {
            self.open("licenses")?;
            for license in &c.licenses {
                match license {
                    LicenseEntry::Id(id) => {
                        self.open("license")?;
                        self.element("id", id)?;
                        self.close()?;
                    }
                    LicenseEntry::Name(name) => {
                        self.open("license")?;
                        self.text_element("name", name)?;
                        self.close()?;
                    }
                    LicenseEntry::Expression(expression) => {
                        self.element("expression", expression)?;
                    }
                }
            }
            self.close()?;
        }
        if let Some(cpe) = c.cpe {
            self.element("cpe", cpe)?;
        }
        if let Some(purl) = c.purl {
            self.element("purl", purl)?;
        }
        if !c.properties.is_empty() {
            self.open("properties")?;
            for (name, value) in &c.properties {
                self.write(XmlEvent::start_element("property").attr("name", &xml_safe(name)))?;
                self.write(XmlEvent::characters(&xml_safe(&normalized(value))))?;
                self.close()?;
            }
            self.close()?;
        }
        self.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xml::reader::{EventReader, XmlEvent as Read};

    /// The document as an indented outline of elements, attributes and text, without what differs
    /// run to run (serial number, timestamp).
    fn outline(document: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        let mut depth = 0;
        let mut in_timestamp = false;
        for event in EventReader::new(document) {
            match event.unwrap() {
                Read::StartElement {
                    name, attributes, ..
                } => {
                    in_timestamp = name.local_name == "timestamp";
                    let attributes: Vec<String> = attributes
                        .iter()
                        .filter(|a| a.name.local_name != "serialNumber")
                        .map(|a| format!("{}={:?}", a.name.local_name, a.value))
                        .collect();
                    lines.push(format!(
                        "{}{} {{{}}} {}",
                        "  ".repeat(depth),
                        name.local_name,
                        name.namespace.unwrap_or_default(),
                        attributes.join(" ")
                    ));
                    depth += 1;
                }
                Read::EndElement { .. } => depth -= 1,
                Read::Characters(text) if !in_timestamp => {
                    lines.push(format!("{}= {text:?}", "  ".repeat(depth)))
                }
                _ => {}
            }
        }
        lines
    }

    #[test]
    fn streamed_xml_is_the_document_cyclonedx_bom_writes() {
        let (image, inventory) = (
            super::super::cyclonedx_json::tests::image(),
            super::super::cyclonedx_json::tests::inventory(),
        );
        let mut streamed = Vec::new();
        write(&image, &inventory, &mut streamed).unwrap();
        let mut reference = Vec::new();
        super::super::reference::build_bom(&image, &inventory)
            .unwrap()
            .output_as_xml_v1_5(&mut reference)
            .unwrap();
        let streamed = outline(&streamed);
        assert_eq!(streamed, outline(&reference));
        // What the comparison relies on is there.
        let text = streamed.join("\n");
        for expected in [
            "dependency {http://cyclonedx.org/schema/bom/1.5} ref=\"pkg:deb/debian/dup@1#2\"",
            "= \"(GPL-1.0-or-later OR Artistic-1.0-Perl) AND LicenseRef-Custom-license\"",
            "= \"A B C\"",
            "= \"Multi line\"",
        ] {
            assert!(text.contains(expected), "{expected} missing from\n{text}");
        }
    }
}
