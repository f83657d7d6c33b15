//! What a policy is evaluated over, as plain data: the image's identity and configuration, the
//! SBOM's components (read from the CycloneDX document, so a saved SBOM can be checked again), the
//! file facts, and vulnerability findings when a source gave some.

use super::file::Severity;
use crate::facts::FileFacts;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// How the base image was learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaseSource {
    /// `--base-image`, checked against the image's layers.
    Flag,
    /// The `org.opencontainers.image.base.name` / `.digest` labels.
    Labels,
    /// The engine's tagged image whose layers are the longest proper prefix of this image's.
    EngineLayers,
}

/// The image the current one was built on, when known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BaseImage {
    pub name: Option<String>,
    pub digests: Vec<String>,
    pub source: Option<BaseSource>,
    /// How many of the image's layers (from the bottom) are the base image's.
    pub layer_count: Option<usize>,
    /// Whether the base image's layers were found at the bottom of this image's (`None` when the
    /// base image could not be looked at).
    pub layers_match: Option<bool>,
}

/// The image's identity and runtime configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageFacts {
    pub reference: String,
    pub name: Option<String>,
    /// The image ID (config digest).
    pub id: String,
    /// The manifest digest when known, else the image ID.
    pub digest: String,
    pub user: Option<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// `80/tcp` form.
    pub exposed_ports: Vec<String>,
    /// The healthcheck test, when one is set (`["NONE"]` disables an inherited one).
    pub healthcheck: Option<Vec<String>>,
    pub diff_ids: Vec<String>,
    pub base: BaseImage,
}

impl ImageFacts {
    /// The diffID of a layer, by position.
    pub fn layer(&self, index: usize) -> Option<&str> {
        self.diff_ids.get(index).map(String::as_str)
    }

    /// Whether a layer belongs to the base image, when the base is known.
    pub fn in_base(&self, index: usize) -> Option<bool> {
        self.base.layer_count.map(|count| index < count)
    }
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
}

impl Component {
    /// The purl without version, qualifiers or subpath, percent-decoded: what patterns match.
    pub fn purl_base(&self) -> String {
        purl_base(&self.purl)
    }
}

/// `pkg:type/namespace/name` of a purl, percent-decoded (`%40scope` → `@scope`).
pub fn purl_base(purl: &str) -> String {
    let end = purl.find(['@', '?', '#']).unwrap_or(purl.len());
    percent_decode(&purl[..end])
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads the components of a CycloneDX JSON document.
pub fn components_from_sbom(sbom: &Value) -> Vec<Component> {
    let Some(list) = sbom.get("components").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|c| {
            let purl = c.get("purl")?.as_str()?.to_string();
            let purl_type = purl
                .strip_prefix("pkg:")
                .and_then(|rest| rest.split('/').next())
                .unwrap_or_default()
                .to_string();
            let property = |name: &str| {
                c.get("properties")?
                    .as_array()?
                    .iter()
                    .find(|p| p.get("name").and_then(Value::as_str) == Some(name))?
                    .get("value")?
                    .as_str()
                    .map(str::to_string)
            };
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
            Some(Component {
                name: c.get("name")?.as_str()?.to_string(),
                version: c
                    .get("version")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                purl,
                purl_type,
                licenses,
                layer_index: property("vouch:layerIndex").and_then(|i| i.parse().ok()),
                path: property("vouch:path"),
            })
        })
        .collect()
}

/// A vulnerability affecting a component, from whichever source found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VulnerabilityFinding {
    /// `CVE-2024-1234`, `GHSA-...`, `DSA-...`.
    pub id: String,
    pub aliases: Vec<String>,
    /// The affected component's purl.
    pub purl: String,
    pub severity: Severity,
    pub fixed_version: Option<String>,
    pub layer_index: Option<usize>,
}

/// Everything a policy is evaluated over.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub image: &'a ImageFacts,
    pub components: &'a [Component],
    pub files: &'a FileFacts,
    /// `None` when no vulnerability source was given: vulnerability rules cannot be evaluated.
    pub vulnerabilities: Option<&'a [VulnerabilityFinding]>,
    /// The SBOM document, for Rego rules.
    pub sbom: &'a Value,
    /// Today, `YYYY-MM-DD` (UTC), for exception expiry.
    pub today: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_base_drops_version_and_qualifiers_and_decodes() {
        assert_eq!(
            purl_base("pkg:npm/%40babel/core@7.1.0?x=y#sub"),
            "pkg:npm/@babel/core"
        );
        assert_eq!(
            purl_base("pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64"),
            "pkg:deb/debian/openssl"
        );
        assert_eq!(purl_base("pkg:generic/odd%zz"), "pkg:generic/odd%zz");
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
