//! The coordinates a `META-INF/maven/GROUP/ARTIFACT/pom.xml` declares, for archives that carry the
//! POM without the `pom.properties` Maven's archiver writes beside it (sbt and Gradle builds, jars
//! repacked by hand).
//!
//! Only the project's own `groupId`, `artifactId` and `version` are read, each falling back to the
//! `<parent>`'s as Maven inherits them; `${…}` references are resolved from the POM's own
//! `<properties>` and `project.*`/`parent.*` values, and a coordinate that stays unresolved is left
//! out rather than reported as a literal `${revision}`.

use std::collections::HashMap;
use xml::reader::{EventReader, ParserConfig, XmlEvent};

/// A POM's coordinates, each as declared or inherited.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Coordinates {
    pub group: Option<String>,
    pub artifact: Option<String>,
    pub version: Option<String>,
}

impl Coordinates {
    /// The same fields as a `pom.properties` file would hold them.
    pub fn to_properties(&self) -> String {
        let mut out = String::new();
        for (key, value) in [
            ("groupId", &self.group),
            ("artifactId", &self.artifact),
            ("version", &self.version),
        ] {
            if let Some(v) = value {
                out.push_str(&format!("{key}={v}\n"));
            }
        }
        out
    }
}

/// Reads the coordinates of one POM; `None` when it is not well-formed XML or not a `<project>`.
pub fn coordinates(text: &str) -> Option<Coordinates> {
    let config = ParserConfig::new()
        .trim_whitespace(true)
        .ignore_comments(true);
    let mut path: Vec<String> = Vec::new();
    let mut values: HashMap<String, String> = HashMap::new();
    for event in EventReader::new_with_config(text.as_bytes(), config) {
        match event.ok()? {
            XmlEvent::StartElement { name, .. } => {
                if path.is_empty() && name.local_name != "project" {
                    return None;
                }
                path.push(name.local_name);
            }
            XmlEvent::EndElement { .. } => {
                path.pop();
            }
            XmlEvent::Characters(text) | XmlEvent::CData(text) => {
                let key = match path.as_slice() {
                    [_, field] if is_coordinate(field) => field.clone(),
                    [_, parent, field] if parent == "parent" && is_coordinate(field) => {
                        format!("parent.{field}")
                    }
                    [_, properties, name] if properties == "properties" => {
                        format!("property.{name}")
                    }
                    _ => continue,
                };
                values.entry(key).or_insert(text);
            }
            _ => {}
        }
    }
    let field = |name: &str| declared_or_inherited(name, &values).and_then(|v| resolve(v, &values));
    Some(Coordinates {
        group: field("groupId"),
        artifact: values.get("artifactId").and_then(|v| resolve(v, &values)),
        version: field("version"),
    })
}

fn is_coordinate(field: &str) -> bool {
    matches!(field, "groupId" | "artifactId" | "version")
}

/// Replaces `${name}` references, one level deep (a property naming another property is resolved
/// once more); `None` when any reference stays unresolved.
fn resolve(value: &str, values: &HashMap<String, String>) -> Option<String> {
    let mut current = value.trim().to_string();
    for _ in 0..2 {
        if !current.contains("${") {
            break;
        }
        let mut out = String::new();
        let mut rest = current.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}')? + start;
            let name = &rest[start + 2..end];
            let replacement = lookup(name, values)?;
            out.push_str(replacement);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        current = out;
    }
    (!current.is_empty() && !current.contains("${")).then_some(current)
}

/// What `${name}` stands for: a coordinate of the project (inherited from the parent when the
/// project does not declare it), of the parent, or one of the POM's properties.
fn lookup<'a>(name: &str, values: &'a HashMap<String, String>) -> Option<&'a str> {
    if let Some(field) = name.strip_prefix("project.parent.") {
        return values.get(&format!("parent.{field}")).map(String::as_str);
    }
    match name
        .strip_prefix("project.")
        .or_else(|| name.strip_prefix("pom."))
    {
        Some(field) if is_coordinate(field) => declared_or_inherited(field, values),
        _ => values.get(&format!("property.{name}")).map(String::as_str),
    }
}

/// A coordinate as the project declares it, else as its parent does (Maven's inheritance).
fn declared_or_inherited<'a>(field: &str, values: &'a HashMap<String, String>) -> Option<&'a str> {
    values
        .get(field)
        .or_else(|| values.get(&format!("parent.{field}")))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inherits_from_the_parent_and_resolves_properties() {
        let pom = r#"<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <!-- a comment -->
  <parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>7</version></parent>
  <artifactId>child</artifactId>
  <version>${revision}${changelist}</version>
  <properties><revision>1.2</revision><changelist>-SNAPSHOT</changelist></properties>
  <dependencies><dependency><groupId>x</groupId><artifactId>y</artifactId><version>9</version></dependency></dependencies>
</project>"#;
        assert_eq!(
            coordinates(pom),
            Some(Coordinates {
                group: Some("org.example".into()),
                artifact: Some("child".into()),
                version: Some("1.2-SNAPSHOT".into()),
            })
        );
    }

    #[test]
    fn unresolved_references_and_other_documents_give_nothing() {
        let pom = "<project><groupId>g</groupId><artifactId>a</artifactId><version>${missing}</version></project>";
        let c = coordinates(pom).unwrap();
        assert_eq!(c.version, None);
        assert_eq!(c.to_properties(), "groupId=g\nartifactId=a\n");
        assert_eq!(
            coordinates("<settings><groupId>g</groupId></settings>"),
            None
        );
        assert_eq!(coordinates("<project><groupId>g</groupId>"), None);
        let parent_version = "<project><parent><version>3</version></parent><artifactId>a</artifactId><version>${project.parent.version}</version></project>";
        assert_eq!(
            coordinates(parent_version).unwrap().version.as_deref(),
            Some("3")
        );
    }
}
