//! GitLab's container-scanning report (`gl-container-scanning-report.json`, schema version
//! [`SCHEMA_VERSION`]): what GitLab's merge-request widget, pipeline security tab and
//! vulnerability report read from a job's `artifacts:reports:container_scanning`.
//!
//! One vulnerability per finding VEX does not suppress (the format has no way to say "suppressed",
//! and GitLab would list it as open). Its `id` is a UUID made from what names the finding across
//! builds (vulnerability, package without version, image name without tag), so that GitLab tracks
//! one vulnerability from pipeline to pipeline; its identifiers are the vulnerability id and its
//! aliases, each with the page that describes it.

use crate::image::Image;
use crate::sbom::{TOOL_NAME, TOOL_VERSION};
use crate::vuln::sources::Collected;
use crate::vuln::{Severity, VulnerabilityFinding};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The version of GitLab's security report schemas the report follows.
pub const SCHEMA_VERSION: &str = "15.2.1";

const SCHEMA_URL: &str = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.2.1/dist/container-scanning-report-format.json";
const INFORMATION_URI: &str = "https://github.com/vouch-dev/vouch";

/// The schema's limits on a vulnerability's texts (characters).
const NAME_MAX: usize = 255;
const DESCRIPTION_MAX: usize = 1_048_576;
const SOLUTION_MAX: usize = 7000;

/// GitLab's severity names.
fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Unknown => "Unknown",
    }
}

/// `text` cut to at most `max` characters.
fn bounded(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A vulnerability id as a GitLab identifier: its type (`cve`, `ghsa`, or the id's prefix) and the
/// page that describes it.
fn identifier(id: &str) -> Value {
    let prefix = id
        .split('-')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let (kind, url) = match prefix.as_str() {
        "cve" => (
            "cve".to_string(),
            format!("https://nvd.nist.gov/vuln/detail/{id}"),
        ),
        "ghsa" => (
            "ghsa".to_string(),
            format!("https://github.com/advisories/{id}"),
        ),
        "" => (
            "vouch".to_string(),
            format!("https://osv.dev/vulnerability/{id}"),
        ),
        _ => (prefix, format!("https://osv.dev/vulnerability/{id}")),
    };
    json!({"type": kind, "name": id, "value": id, "url": url})
}

/// A UUID (version 8, RFC 9562) made from the parts that name one finding across builds.
fn stable_id(parts: &[&str]) -> String {
    let hash = Sha256::digest(parts.join("\u{1f}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The image's name without tag or digest (`registry.example/app`), what stays the same from one
/// build to the next.
fn image_name(image: &Image) -> &str {
    let reference = image.name.as_deref().unwrap_or(&image.reference);
    let without_digest = reference.split('@').next().unwrap_or(reference);
    match without_digest.rfind(':') {
        Some(colon) if !without_digest[colon..].contains('/') => &without_digest[..colon],
        _ => without_digest,
    }
}

fn vulnerability(finding: &VulnerabilityFinding, image: &Image, operating_system: &str) -> Value {
    let base = crate::purl::purl_base(&finding.purl);
    let title = finding.title.as_deref().unwrap_or(&finding.id);
    let mut identifiers = vec![identifier(&finding.id)];
    identifiers.extend(
        finding
            .aliases
            .iter()
            .filter(|a| !a.is_empty() && **a != finding.id)
            .map(|a| identifier(a)),
    );
    let mut entry = json!({
        "id": stable_id(&[&finding.id, &base, image_name(image)]),
        "name": bounded(title, NAME_MAX),
        "description": bounded(&format!(
            "{title}\n\n{} {} ({}), found by {}.",
            finding.package,
            finding.version,
            finding.purl,
            finding.sources.join(", ")
        ), DESCRIPTION_MAX),
        "severity": severity_name(finding.severity),
        "identifiers": identifiers,
        "links": finding_links(finding),
        "location": {
            "dependency": {
                "package": {"name": finding.package},
                "version": finding.version
            },
            "operating_system": operating_system,
            "image": image.reference
        }
    });
    if let Some(fixed) = &finding.fixed_version {
        entry["solution"] = json!(bounded(
            &format!("Upgrade {} to {fixed}", finding.package),
            SOLUTION_MAX
        ));
    }
    entry
}

fn finding_links(finding: &VulnerabilityFinding) -> Vec<Value> {
    vec![json!({"url": identifier(&finding.id)["url"]})]
}

/// The report of a scan: `started` and `ended` are RFC 3339 times (only their
/// `YYYY-MM-DDThh:mm:ss` part is written, as the schema asks); `operating_system` is the one the
/// SBOM names, when it names one.
pub fn from_scan(
    image: &Image,
    collected: &Collected,
    operating_system: Option<&str>,
    started: &str,
    ended: &str,
) -> Value {
    let tool = json!({
        "id": TOOL_NAME,
        "name": TOOL_NAME,
        "version": TOOL_VERSION,
        "url": INFORMATION_URI,
        "vendor": {"name": "vouch"}
    });
    let os = operating_system
        .filter(|os| !os.is_empty())
        .unwrap_or("unknown");
    let vulnerabilities: Vec<Value> = collected
        .findings
        .iter()
        .filter(|f| !f.suppressed())
        .map(|f| vulnerability(f, image, os))
        .collect();
    json!({
        "version": SCHEMA_VERSION,
        "schema": SCHEMA_URL,
        "scan": {
            "analyzer": tool,
            "scanner": tool,
            "type": "container_scanning",
            "status": "success",
            "start_time": started.get(..19).unwrap_or(started),
            "end_time": ended.get(..19).unwrap_or(ended),
            "messages": collected.warnings.iter().map(|w| json!({"level": "warn", "value": w})).collect::<Vec<_>>()
        },
        "vulnerabilities": vulnerabilities
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_ids_are_uuids_that_name_the_finding() {
        let a = stable_id(&["CVE-2024-1", "pkg:deb/debian/bash", "app"]);
        assert_eq!(a, stable_id(&["CVE-2024-1", "pkg:deb/debian/bash", "app"]));
        assert_ne!(a, stable_id(&["CVE-2024-1", "pkg:deb/debian/zsh", "app"]));
        let parsed = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(parsed.get_version_num(), 8);
    }

    #[test]
    fn identifiers_name_their_page() {
        assert_eq!(identifier("CVE-2024-1")["type"], "cve");
        assert_eq!(
            identifier("GHSA-aaaa-bbbb-cccc")["url"],
            "https://github.com/advisories/GHSA-aaaa-bbbb-cccc"
        );
        assert_eq!(identifier("DSA-5000-1")["type"], "dsa");
        assert_eq!(identifier("-x")["type"], "vouch");
    }
}
