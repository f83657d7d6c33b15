//! VEX: statements that say whether an image or a package is actually affected by a vulnerability,
//! from OpenVEX documents (v0.2.0, and the older v0.0.x shape) and CycloneDX VEX (a BOM whose
//! `vulnerabilities` carry an `analysis`). A finding a statement marks `not_affected` or `fixed` no
//! longer counts toward the policy; every statement is reported with how many findings it matched,
//! so a stale or mistyped statement shows as `unmatched` instead of passing unnoticed.
//!
//! Products are compared as packages ([`PackageUrl::covers`]): an OCI purl (or a `sha-256` hash)
//! names the image by digest, any other purl names a component; subcomponents narrow an image (or
//! a package) to the components inside it.

use super::{ImageSubject, VulnerabilityFinding};
use crate::purl::percent_decode;
use crate::purl::PackageUrl;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

mod cyclonedx;
mod openvex;

/// Largest VEX document read.
const MAX_VEX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum VexError {
    #[error("{path}: cannot read the VEX document: {detail}")]
    Unreadable { path: String, detail: String },
    #[error("{path}: not an OpenVEX or CycloneDX VEX document: {detail}")]
    NotVex { path: String, detail: String },
}

/// The four VEX statuses (CycloneDX analysis states map onto them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl Status {
    /// The status as OpenVEX writes it.
    pub fn name(self) -> &'static str {
        match self {
            Status::NotAffected => "not_affected",
            Status::Affected => "affected",
            Status::Fixed => "fixed",
            Status::UnderInvestigation => "under_investigation",
        }
    }

    /// Whether a finding with this status stops counting.
    pub fn suppresses(self) -> bool {
        matches!(self, Status::NotAffected | Status::Fixed)
    }

    fn from_openvex(text: &str) -> Option<Status> {
        Some(match text {
            "not_affected" => Status::NotAffected,
            "affected" => Status::Affected,
            "fixed" => Status::Fixed,
            "under_investigation" => Status::UnderInvestigation,
            _ => return None,
        })
    }

    fn from_cyclonedx(text: &str) -> Option<Status> {
        Some(match text {
            "not_affected" | "false_positive" => Status::NotAffected,
            "resolved" | "resolved_with_pedigree" => Status::Fixed,
            "exploitable" => Status::Affected,
            "in_triage" => Status::UnderInvestigation,
            _ => return None,
        })
    }
}

/// What a finding carries from the statement that matched it last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The document it came from.
    pub document: String,
}

/// What a statement is about.
#[derive(Debug, Clone)]
enum Product {
    /// The image, by digest (or by name when the purl has no digest), optionally narrowed to
    /// the components listed.
    Image {
        digest: Option<String>,
        name: Option<String>,
        subcomponents: Vec<PackageUrl>,
    },
    /// A component, optionally narrowed to components inside it.
    Package {
        purl: PackageUrl,
        subcomponents: Vec<PackageUrl>,
    },
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub vulnerability: String,
    pub aliases: Vec<String>,
    /// The products as the document wrote them, for reports.
    pub products_written: Vec<String>,
    products: Vec<Product>,
    pub status: Status,
    pub justification: Option<String>,
    pub detail: Option<String>,
    timestamp: Option<String>,
}

/// A VEX document's statements.
#[derive(Debug, Clone)]
pub struct Document {
    pub path: String,
    /// `openvex` or `cyclonedx`.
    pub format: &'static str,
    /// `sha256:` of the file.
    pub digest: String,
    pub statements: Vec<Statement>,
    /// Statements that could not be read, with why.
    pub warnings: Vec<String>,
}

/// How one statement fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementResult {
    pub document: String,
    pub vulnerability: String,
    pub products: Vec<String>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// Findings it matched.
    pub matched: usize,
    /// `applied` or `unmatched`.
    pub outcome: &'static str,
}

/// Reads an OpenVEX or CycloneDX VEX document.
pub fn load(path: &Path) -> Result<Document, VexError> {
    let shown = path.display().to_string();
    let bytes =
        crate::fsio::read_limited(path, MAX_VEX_BYTES).map_err(|detail| VexError::Unreadable {
            path: shown.clone(),
            detail,
        })?;
    parse(&bytes, &shown)
}

/// Parses a VEX document's bytes; `path` names it in messages.
pub fn parse(bytes: &[u8], path: &str) -> Result<Document, VexError> {
    let not_vex = |detail: String| VexError::NotVex {
        path: path.to_string(),
        detail,
    };
    let value: Value = serde_json::from_slice(bytes).map_err(|e| not_vex(e.to_string()))?;
    let mut document = Document {
        path: path.to_string(),
        format: "openvex",
        digest: crate::oci::digest::sha256_digest(bytes),
        statements: Vec::new(),
        warnings: Vec::new(),
    };
    let context = value.get("@context").and_then(Value::as_str).unwrap_or("");
    if context.starts_with("https://openvex.dev/ns") {
        let statements = value
            .get("statements")
            .and_then(Value::as_array)
            .ok_or_else(|| not_vex("an OpenVEX document without a statements list".into()))?;
        let default_time = value.get("timestamp").and_then(Value::as_str);
        for (i, raw) in statements.iter().enumerate() {
            match openvex::statement(raw, default_time) {
                Ok(s) => document.statements.push(s),
                Err(why) => document
                    .warnings
                    .push(format!("statement {i}: {why}; ignored")),
            }
        }
    } else if value.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        document.format = "cyclonedx";
        let vulnerabilities = value
            .get("vulnerabilities")
            .and_then(Value::as_array)
            .ok_or_else(|| not_vex("a CycloneDX document without vulnerabilities".into()))?;
        let bom = cyclonedx::Context::of(&value);
        for (i, raw) in vulnerabilities.iter().enumerate() {
            if raw.get("analysis").is_none() {
                continue; // a vulnerability listing, not a statement
            }
            match cyclonedx::statement(raw, &bom) {
                Ok(s) => document.statements.push(s),
                Err(why) => document
                    .warnings
                    .push(format!("vulnerabilities[{i}]: {why}; ignored")),
            }
        }
    } else {
        return Err(not_vex(
            "neither an OpenVEX @context (https://openvex.dev/ns/…) nor a CycloneDX bomFormat"
                .into(),
        ));
    }
    // Newer statements override older ones (OpenVEX): apply in time order, document order kept
    // between statements of the same time.
    document
        .statements
        .sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    Ok(document)
}

/// A product written as an id string or an object with `@id`, `identifiers.purl`, `hashes`.
fn product(raw: &Value, subcomponents: Vec<PackageUrl>) -> Result<(String, Product), String> {
    let (written, purl_text, hashes) = match raw {
        Value::String(s) => (s.clone(), Some(s.clone()), None),
        Value::Object(o) => {
            let id = o.get("@id").and_then(Value::as_str).map(str::to_string);
            let purl = o
                .get("identifiers")
                .and_then(|i| i.get("purl"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| id.clone());
            (
                id.clone().or_else(|| purl.clone()).unwrap_or_default(),
                purl,
                o.get("hashes"),
            )
        }
        _ => return Err("a product that is neither a string nor an object".into()),
    };
    if let Some(purl) = purl_text.as_deref().and_then(PackageUrl::parse) {
        return Ok((written, from_purl(purl, subcomponents)));
    }
    if let Some(text) = purl_text.as_deref() {
        if let Some(digest) = text.strip_prefix("sha256:").map(|h| format!("sha256:{h}")) {
            return Ok((
                written,
                Product::Image {
                    digest: Some(digest),
                    name: None,
                    subcomponents,
                },
            ));
        }
    }
    let hash = hashes
        .and_then(|h| h.get("sha-256").or_else(|| h.get("sha256")))
        .and_then(Value::as_str);
    if let Some(hex) = hash {
        return Ok((
            written,
            Product::Image {
                digest: Some(format!("sha256:{}", hex.trim_start_matches("sha256:"))),
                name: None,
                subcomponents,
            },
        ));
    }
    Err(format!(
        "product {written:?} is not a package URL and has no sha-256 hash"
    ))
}

fn from_purl(purl: PackageUrl, subcomponents: Vec<PackageUrl>) -> Product {
    if purl.kind == "oci" || purl.kind == "docker" {
        Product::Image {
            digest: purl.version.clone().filter(|v| v.starts_with("sha256:")),
            name: Some(purl.name.clone()),
            subcomponents,
        }
    } else {
        Product::Package {
            purl,
            subcomponents,
        }
    }
}

fn subcomponent_purls(list: Option<&Value>) -> Result<Vec<PackageUrl>, String> {
    let Some(list) = list.and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|s| {
            let text = s
                .as_str()
                .or_else(|| s.get("@id").and_then(Value::as_str))
                .or_else(|| {
                    s.get("identifiers")
                        .and_then(|i| i.get("purl"))
                        .and_then(Value::as_str)
                })
                .ok_or("a subcomponent without an @id")?;
            PackageUrl::parse(text).ok_or(format!("subcomponent {text:?} is not a package URL"))
        })
        .collect()
}

/// The non-empty array under `key` (a statement's `products`, an analysis's `affects`).
fn listed<'a>(raw: &'a Value, key: &str) -> Result<&'a Vec<Value>, String> {
    raw.get(key)
        .and_then(Value::as_array)
        .filter(|list| !list.is_empty())
        .ok_or(format!("no {key}"))
}

/// Whether an image product (by digest, else by the last part of its name) is `image`.
fn is_image(image: &ImageSubject, digest: &Option<String>, name: &Option<String>) -> bool {
    match (digest, name) {
        (Some(d), _) => std::iter::once(&image.id)
            .chain(&image.digests)
            .any(|x| x.eq_ignore_ascii_case(d)),
        (None, Some(n)) => image
            .repositories
            .iter()
            .any(|r| r.rsplit('/').next().is_some_and(|last| last == n)),
        (None, None) => false,
    }
}

impl Statement {
    fn names(&self, finding: &VulnerabilityFinding) -> bool {
        std::iter::once(&self.vulnerability)
            .chain(&self.aliases)
            .any(|n| finding.names().any(|f| f.eq_ignore_ascii_case(n)))
    }

    fn covers(&self, purl: &PackageUrl, image: &ImageSubject) -> bool {
        self.products.iter().any(|p| match p {
            Product::Image {
                digest,
                name,
                subcomponents,
            } => {
                is_image(image, digest, name)
                    && (subcomponents.is_empty() || subcomponents.iter().any(|s| s.covers(purl)))
            }
            Product::Package {
                purl: product,
                subcomponents,
            } => product.covers(purl) || subcomponents.iter().any(|s| s.covers(purl)),
        })
    }
}

/// Applies every statement of `documents` to `findings` (later statements override earlier ones
/// on the same finding) and reports each statement's outcome.
pub fn apply(
    documents: &[Document],
    findings: &mut [VulnerabilityFinding],
    image: &ImageSubject,
) -> Vec<StatementResult> {
    let purls: Vec<Option<PackageUrl>> = findings
        .iter()
        .map(|f| PackageUrl::parse(&f.purl))
        .collect();
    let mut results = Vec::new();
    for document in documents {
        for statement in &document.statements {
            let mut matched = 0;
            for (finding, purl) in findings.iter_mut().zip(&purls) {
                let Some(purl) = purl else { continue };
                if statement.names(finding) && statement.covers(purl, image) {
                    matched += 1;
                    finding.vex = Some(Applied {
                        status: statement.status,
                        justification: statement.justification.clone(),
                        detail: statement.detail.clone(),
                        document: document.path.clone(),
                    });
                }
            }
            results.push(StatementResult {
                document: document.path.clone(),
                vulnerability: statement.vulnerability.clone(),
                products: statement.products_written.clone(),
                status: statement.status,
                justification: statement.justification.clone(),
                matched,
                outcome: if matched > 0 { "applied" } else { "unmatched" },
            });
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const IMAGE: &str = "sha256:3864935ca454e6c4721c0938513095a9a2eabc939d20acae39e43b861f76f2c5";

    fn findings() -> Vec<VulnerabilityFinding> {
        let f = |id: &str, aliases: &[&str], purl: &str| VulnerabilityFinding {
            id: id.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            purl: purl.into(),
            ..Default::default()
        };
        vec![
            f(
                "DEBIAN-CVE-2024-2961",
                &["CVE-2024-2961"],
                "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
            ),
            f(
                "DEBIAN-CVE-2024-2961",
                &["CVE-2024-2961"],
                "pkg:deb/debian/libc-bin@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
            ),
            f(
                "GHSA-9wx4-h78v-vm56",
                &["CVE-2024-35195"],
                "pkg:pypi/requests@2.31.0",
            ),
        ]
    }

    fn image() -> ImageSubject {
        ImageSubject {
            id: IMAGE.into(),
            repositories: vec!["registry.example/team/app".into()],
            ..Default::default()
        }
    }

    fn run(doc: Value) -> (Vec<VulnerabilityFinding>, Vec<StatementResult>, Document) {
        let document = parse(&serde_json::to_vec(&doc).unwrap(), "vex.json").unwrap();
        let mut f = findings();
        let results = apply(std::slice::from_ref(&document), &mut f, &image());
        (f, results, document)
    }

    #[test]
    fn openvex_image_with_subcomponents_and_package_products() {
        let (f, results, _) = run(json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://example.com/vex/1",
            "author": "Security team",
            "timestamp": "2026-11-01T10:00:00Z",
            "version": 1,
            "statements": [
                {"vulnerability": {"name": "CVE-2024-2961"},
                 "products": [{"@id": format!("pkg:oci/app@{}?repository_url=registry.example/team", IMAGE.replace(':', "%3A")),
                               "subcomponents": [{"@id": "pkg:deb/debian/libc6@2.36-9+deb12u4?distro=bookworm"}]}],
                 "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
                 "impact_statement": "iconv is never called with ISO-2022-CN-EXT"},
                {"vulnerability": {"name": "GHSA-9wx4-h78v-vm56", "aliases": ["CVE-2024-35195"]},
                 "products": [{"@id": "pkg:pypi/Requests"}], "status": "fixed"},
                {"vulnerability": {"name": "CVE-2024-0001"}, "products": [{"@id": "pkg:pypi/requests"}],
                 "status": "not_affected", "justification": "component_not_present"},
                {"vulnerability": {"name": "CVE-2024-2961"},
                 "products": [{"@id": "pkg:oci/app@sha256%3A0000000000000000000000000000000000000000000000000000000000000000"}],
                 "status": "not_affected", "justification": "component_not_present"}
            ]
        }));
        assert_eq!(f[0].vex.as_ref().unwrap().status, Status::NotAffected);
        assert!(f[0].suppressed());
        assert!(
            f[1].vex.is_none(),
            "libc-bin is not the listed subcomponent"
        );
        assert_eq!(f[2].vex.as_ref().unwrap().status, Status::Fixed);
        let outcomes: Vec<(&str, usize)> = results.iter().map(|r| (r.outcome, r.matched)).collect();
        assert_eq!(
            outcomes,
            [
                ("applied", 1),
                ("applied", 1),
                ("unmatched", 0),
                ("unmatched", 0)
            ]
        );
    }

    #[test]
    fn openvex_v0_0_shape_and_later_statements_override() {
        let (f, results, _) = run(json!({
            "@context": "https://openvex.dev/ns",
            "timestamp": "2023-01-01T00:00:00Z",
            "statements": [
                {"vulnerability": "CVE-2024-2961", "products": [format!("pkg:oci/app@{IMAGE}")],
                 "status": "under_investigation", "timestamp": "2023-03-01T00:00:00Z"},
                {"vulnerability": "CVE-2024-2961", "products": [format!("pkg:oci/app@{IMAGE}")],
                 "subcomponents": ["pkg:deb/debian/libc-bin"],
                 "status": "not_affected", "justification": "inline_mitigations_already_exist",
                 "timestamp": "2023-02-01T00:00:00Z"}
            ]
        }));
        // Applied in time order: not_affected (February, libc-bin only), then under_investigation
        // (March, the whole image) overrides it.
        assert_eq!(
            f[1].vex.as_ref().unwrap().status,
            Status::UnderInvestigation
        );
        assert!(!f[1].suppressed());
        assert_eq!(
            f[0].vex.as_ref().unwrap().status,
            Status::UnderInvestigation
        );
        assert_eq!(results[0].vulnerability, "CVE-2024-2961");
        assert_eq!(results[0].matched, 1);
        assert_eq!(results[1].matched, 2);
    }

    #[test]
    fn cyclonedx_vex_through_bom_links_and_own_components() {
        let (f, results, document) = run(json!({
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "version": 1,
            "metadata": {"component": {"type": "container", "name": "app",
                                       "purl": format!("pkg:oci/app@{IMAGE}"), "bom-ref": "image"}},
            "components": [{"type": "library", "name": "requests", "version": "2.31.0",
                            "bom-ref": "py-requests", "purl": "pkg:pypi/requests@2.31.0"}],
            "vulnerabilities": [
                {"id": "CVE-2024-2961", "source": {"name": "NVD"},
                 "analysis": {"state": "false_positive", "detail": "not glibc's iconv"},
                 "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:deb/debian/libc-bin@2.36-9%252Bdeb12u4?arch=amd64&distro=debian-12"}]},
                {"id": "CVE-2024-35195", "analysis": {"state": "resolved"}, "affects": [{"ref": "py-requests"}]},
                {"id": "CVE-2024-9999", "analysis": {"state": "in_triage"}, "affects": [{"ref": "py-requests"}]},
                {"id": "CVE-2024-1111", "ratings": []},
                {"id": "CVE-2024-2222", "analysis": {"state": "maybe"}, "affects": [{"ref": "py-requests"}]}
            ]
        }));
        assert_eq!(document.format, "cyclonedx");
        assert!(f[0].vex.is_none());
        assert_eq!(f[1].vex.as_ref().unwrap().status, Status::NotAffected);
        assert_eq!(f[2].vex.as_ref().unwrap().status, Status::Fixed);
        assert_eq!(
            results.len(),
            3,
            "the listing without analysis is no statement"
        );
        assert_eq!(results[2].outcome, "unmatched");
        assert_eq!(document.warnings.len(), 1);
        assert!(
            document.warnings[0].contains("maybe"),
            "{:?}",
            document.warnings
        );
    }

    #[test]
    fn documents_that_are_not_vex_are_refused() {
        for bad in [
            &b"not json"[..],
            br#"{"statements": []}"#,
            br#"{"bomFormat": "CycloneDX", "components": []}"#,
        ] {
            let err = parse(bad, "x.json").unwrap_err();
            assert!(matches!(err, VexError::NotVex { .. }), "{err}");
        }
        let doc = parse(
            br#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
                {"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "not a purl"}], "status": "fixed"},
                {"vulnerability": {"name": "CVE-2"}, "products": [{"@id": "pkg:npm/a"}]}]}"#,
            "x.json",
        )
        .unwrap();
        assert!(doc.statements.is_empty());
        assert_eq!(doc.warnings.len(), 2, "{:?}", doc.warnings);
    }
}
