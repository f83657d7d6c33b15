//! The Java runtime cataloger: JDKs and JREs installed from tarballs, as the official
//! eclipse-temurin, amazoncorretto, azul/zulu and GraalVM images install them, found by the
//! `release` file at the root of every runtime (`JAVA_VERSION`, `IMPLEMENTOR`,
//! `JAVA_RUNTIME_VERSION`, `IMAGE_TYPE`). One component per runtime,
//! `pkg:generic/VENDOR/PRODUCT@JAVA_VERSION`, with the CPE the NVD files that product's advisories
//! under; a `release` file an OS package installed (Debian's `openjdk-17-jre-headless`) is that
//! package's, and is not reported again.

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::FileIndex;
use crate::package::{cpe, Package};
use crate::purl::build_purl;
use std::collections::HashMap;

pub const NAME: &str = "java-runtime";
/// Every runtime's root holds a `release` file; those without `JAVA_VERSION` are not runtimes.
pub const GLOBS: &[&str] = &["**/release"];

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files, input.owners),
};

/// `IMPLEMENTOR` (its start) → the NVD's vendor and product. Builds of OpenJDK by distributions
/// and by Oracle (jdk.java.net) are `oracle:openjdk`, under which the NVD files OpenJDK's own
/// advisories.
const PRODUCTS: &[(&str, &str, &str)] = &[
    ("Eclipse Adoptium", "eclipse", "temurin"),
    ("Eclipse Foundation", "eclipse", "temurin"),
    ("Azul Systems", "azul", "zulu"),
    ("Amazon.com", "amazon", "corretto"),
    ("GraalVM", "oracle", "graalvm"),
];

/// The NVD's vendor and product of the runtime a release file describes: Oracle's own JDK says
/// `BUILD_TYPE="commercial"` (`oracle:jdk`); other Oracle builds are OpenJDK's.
fn product_of(fields: &HashMap<&str, &str>) -> (&'static str, &'static str) {
    let implementor = fields.get("IMPLEMENTOR").copied().unwrap_or_default();
    if implementor.starts_with("Oracle") && fields.get("BUILD_TYPE") == Some(&"commercial") {
        return ("oracle", "jdk");
    }
    PRODUCTS
        .iter()
        .find(|(prefix, _, _)| implementor.starts_with(prefix))
        .map(|(_, vendor, product)| (*vendor, *product))
        .unwrap_or(("oracle", "openjdk"))
}

/// The `KEY="value"` lines of a release file (quotes optional).
fn fields(text: &str) -> HashMap<&str, &str> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim(), value.trim().trim_matches('"')))
        .collect()
}

/// Lists the Java runtimes no OS package installed.
pub fn catalog(files: &FileIndex, owned: &super::Owners) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for entry in files.entries() {
        let path = &entry.entry.path;
        if !(path == "release" || path.ends_with("/release"))
            || owned.contains_key(path.as_ref() as &str)
        {
            continue;
        }
        let Some(bytes) = entry.contents() else {
            continue;
        };
        let text = String::from_utf8_lossy(bytes);
        let fields = fields(&text);
        let Some(version) = fields.get("JAVA_VERSION").filter(|v| !v.is_empty()) else {
            continue;
        };
        let (vendor, product) = product_of(&fields);
        let purl = match build_purl("generic", Some(vendor), product, version, &[]) {
            Ok(purl) => purl,
            Err(e) => {
                output.warnings.push(format!("/{path}: {e}; skipped"));
                continue;
            }
        };
        let mut properties = Vec::new();
        for (key, name) in [
            ("IMPLEMENTOR", "vouch:java:implementor"),
            ("JAVA_RUNTIME_VERSION", "vouch:java:runtimeVersion"),
            ("IMAGE_TYPE", "vouch:java:imageType"),
        ] {
            if let Some(value) = fields.get(key).filter(|v| !v.is_empty()) {
                properties.push((name.into(), (*value).to_string()));
            }
        }
        output.packages.push(Package {
            name: product.to_string(),
            version: (*version).to_string(),
            purl_type: "generic",
            purl,
            cpe: Some(cpe(vendor, product, version)),
            licenses: Vec::new(),
            evidence: entry.evidence(),
            cataloger: NAME,
            properties,
        });
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_fields_and_products() {
        let fields = fields("IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_VERSION=\"21.0.3\"\nIMAGE_TYPE=JDK\nMODULES=\"a b\"\n");
        assert_eq!(fields.get("JAVA_VERSION"), Some(&"21.0.3"));
        assert_eq!(fields.get("IMAGE_TYPE"), Some(&"JDK"));
        let product = |implementor: &str| {
            let text = format!("IMPLEMENTOR=\"{implementor}\"\nJAVA_VERSION=\"21\"\n");
            product_of(&super::fields(&text))
        };
        assert_eq!(product("Eclipse Adoptium"), ("eclipse", "temurin"));
        assert_eq!(product("Azul Systems, Inc."), ("azul", "zulu"));
        assert_eq!(product("Amazon.com Inc."), ("amazon", "corretto"));
        assert_eq!(product("GraalVM Community"), ("oracle", "graalvm"));
        assert_eq!(product("Debian"), ("oracle", "openjdk"));
        assert_eq!(product("Oracle Corporation"), ("oracle", "openjdk"));
        let commercial =
            super::fields("IMPLEMENTOR=\"Oracle Corporation\"\nBUILD_TYPE=\"commercial\"\n");
        assert_eq!(product_of(&commercial), ("oracle", "jdk"));
    }
}
