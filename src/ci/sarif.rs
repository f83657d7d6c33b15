//! SARIF 2.1.0 (OASIS), the format code-scanning pages read: the findings of `scan` and the
//! verdict of `check` as one run of the tool `vouch`. One rule per vulnerability id or policy
//! finding code; one result per finding, its level from the severity (`critical`/`high` → `error`,
//! `medium` → `warning`, else `note`) or the rule's action (a gating finding is an `error`, a
//! `warn` finding a `warning`); its location the file in the image the finding is about (the
//! component's evidence file), or the image itself for findings about its configuration; a
//! fingerprint of what stays the same from one build to the next (rule, package or file, not the
//! version), so that a code-scanning page tracks one finding across runs. Findings VEX or a policy
//! exception set aside are results with a suppression that says why.
//!
//! Written with serde_json rather than a SARIF types crate: the document is small and fixed, and
//! its tests validate it with Microsoft's SARIF multitool, the format's reference validator.

use super::DockerfileLines;
use crate::image::Image;
use crate::oci::digest::sha256_digest;
use crate::policy::file::Action;
use crate::policy::verdict::{Finding, Verdict};
use crate::sbom::{TOOL_NAME, TOOL_VERSION};
use crate::vuln::sources::Collected;
use crate::vuln::{Severity, VulnerabilityFinding};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/vouch-dev/vouch";

/// The SARIF level of a severity.
fn level_of(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score) for a severity.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
        Severity::Unknown => "0.0",
    }
}

/// A fingerprint from the parts that name one finding across builds.
fn fingerprint(parts: &[&str]) -> String {
    let digest = sha256_digest(parts.join("\u{1f}").as_bytes());
    digest.trim_start_matches("sha256:").to_string()
}

/// The location of a file in the image (`usr/lib/x/METADATA`), or of the image itself (its
/// reference with `:` escaped, so that `nginx:1.25` stays a relative reference, not a URI of the
/// scheme `nginx`).
fn location(path: Option<&str>, image: &str) -> Value {
    let uri = path
        .map(|p| p.trim_start_matches('/').to_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| image.replace('%', "%25").replace(':', "%3A"));
    json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri},
            "region": {"startLine": 1}
        }
    })
}

/// A result's locations: the Dockerfile line that made the finding's layer first, when known (a
/// file of the repository, which code-scanning pages show in place), then the file in the image.
fn locations(
    path: Option<&str>,
    image: &str,
    layer: Option<usize>,
    dockerfile: Option<&DockerfileLines>,
) -> Value {
    let mut all = Vec::new();
    if let Some((uri, line)) = dockerfile.and_then(|d| Some((&d.uri, d.line_of(layer)?))) {
        all.push(json!({
            "physicalLocation": {
                "artifactLocation": {"uri": uri},
                "region": {"startLine": line}
            }
        }));
    }
    all.push(location(path, image));
    Value::Array(all)
}

fn driver(rules: Vec<Value>) -> Value {
    json!({
        "name": TOOL_NAME,
        "version": TOOL_VERSION,
        "semanticVersion": TOOL_VERSION,
        "informationUri": INFORMATION_URI,
        "rules": rules
    })
}

fn log(driver: Value, results: Vec<Value>, properties: Value) -> Value {
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "results": results,
            "columnKind": "utf16CodeUnits",
            "properties": properties
        }]
    })
}

fn image_properties(image: &Image) -> Value {
    json!({
        "imageReference": image.reference,
        "imageId": image.id,
        "imageDigest": image.digest().to_string()
    })
}

/// The findings of a scan; `paths` gives each component's evidence file by purl, for the
/// results' locations.
pub fn from_scan(
    image: &Image,
    collected: &Collected,
    paths: &HashMap<String, String>,
    dockerfile: Option<&DockerfileLines>,
) -> Value {
    // Rule id → (the worst severity it was found at, its first title).
    let mut rules: BTreeMap<&str, (Severity, Option<&str>)> = BTreeMap::new();
    for finding in &collected.findings {
        let rule = rules
            .entry(finding.id.as_str())
            .or_insert((finding.severity, finding.title.as_deref()));
        rule.0 = rule.0.max(finding.severity);
        if rule.1.is_none() {
            rule.1 = finding.title.as_deref();
        }
    }
    let ids: Vec<&str> = rules.keys().copied().collect();
    let rules_json = rules
        .iter()
        .map(|(id, (severity, title))| {
            json!({
                "id": id,
                "shortDescription": {"text": title.unwrap_or(id)},
                "fullDescription": {"text": title.unwrap_or(id)},
                "defaultConfiguration": {"level": level_of(*severity)},
                "help": {"text": format!("{id}: a known vulnerability (severity {severity}).")},
                "properties": {
                    "tags": ["security", "vulnerability"],
                    "security-severity": security_severity(*severity)
                }
            })
        })
        .collect();
    let results = collected
        .findings
        .iter()
        .map(|f| {
            let path = paths.get(&f.purl).map(String::as_str);
            let mut result = scan_result(f, &ids, image, path);
            result["locations"] = locations(path, &image.reference, f.layer_index, dockerfile);
            result
        })
        .collect();
    log(driver(rules_json), results, image_properties(image))
}

fn scan_result(
    finding: &VulnerabilityFinding,
    ids: &[&str],
    image: &Image,
    path: Option<&str>,
) -> Value {
    let fix = finding
        .fixed_version
        .as_deref()
        .map(|v| format!(", fixed in {v}"))
        .unwrap_or_default();
    let base = crate::purl::purl_base(&finding.purl);
    let mut result = json!({
        "ruleId": finding.id,
        "ruleIndex": ids.iter().position(|i| *i == finding.id).unwrap_or(0),
        "level": level_of(finding.severity),
        "message": {"text": format!(
            "{} ({}) in {} {}{fix}",
            finding.id, finding.severity, finding.package, finding.version
        )},
        "locations": [location(path, &image.reference)],
        "partialFingerprints": {
            "vouchFinding/v1": fingerprint(&[&finding.id, &base, path.unwrap_or_default()])
        },
        "properties": {
            "purl": finding.purl,
            "severity": finding.severity.to_string(),
            "sources": finding.sources
        }
    });
    if let Some(applied) = &finding.vex {
        if finding.suppressed() {
            result["suppressions"] = json!([{
                "kind": "external",
                "justification": format!(
                    "VEX ({}): {}",
                    applied.document,
                    applied.status.name()
                )
            }]);
        }
    }
    result
}

/// The level of a verdict finding: gating ones fail the image.
fn finding_level(finding: &Finding, rule_action: Action) -> &'static str {
    if finding.gating {
        return "error";
    }
    match finding.action.unwrap_or(rule_action) {
        Action::Deny => "error",
        Action::Warn => "warning",
    }
}

/// The findings of a verdict.
pub fn from_verdict(verdict: &Verdict, dockerfile: Option<&DockerfileLines>) -> Value {
    let image = verdict.image.reference.as_str();
    let mut codes: BTreeMap<String, Action> = BTreeMap::new();
    for rule in &verdict.rules {
        for finding in &rule.findings {
            let action = finding.action.unwrap_or(rule.action);
            let entry = codes.entry(finding.code.to_string()).or_insert(action);
            if action == Action::Deny {
                *entry = Action::Deny;
            }
        }
    }
    let ids: Vec<String> = codes.keys().cloned().collect();
    let rules_json = codes
        .iter()
        .map(|(code, action)| {
            json!({
                "id": code,
                "shortDescription": {"text": format!("Policy finding {code}")},
                "help": {"text": format!("{code}: see docs/policy.md for what this code checks.")},
                "defaultConfiguration": {"level": match action {
                    Action::Deny => "error",
                    Action::Warn => "warning",
                }},
                "properties": {"tags": ["security", "policy"]}
            })
        })
        .collect();
    let mut results = Vec::new();
    for rule in &verdict.rules {
        for finding in &rule.findings {
            let code = finding.code.to_string();
            let evidence = &finding.evidence;
            let subject = evidence
                .purl
                .as_deref()
                .map(crate::purl::purl_base)
                .or_else(|| evidence.path.clone())
                .or_else(|| evidence.vulnerability.clone())
                .unwrap_or_default();
            let mut result = json!({
                "ruleId": code,
                "ruleIndex": ids.iter().position(|i| *i == code).unwrap_or(0),
                "level": finding_level(finding, rule.action),
                "message": {"text": finding.message},
                "locations": locations(evidence.path.as_deref(), image, evidence.layer_index, dockerfile),
                "partialFingerprints": {
                    "vouchFinding/v1": fingerprint(&[&rule.id, &code, &subject])
                },
                "properties": {"rule": rule.id, "gating": finding.gating}
            });
            if let Some(index) = finding.excepted_by {
                let reason = verdict
                    .exceptions
                    .get(index)
                    .map(|e| e.reason.clone())
                    .unwrap_or_default();
                result["suppressions"] = json!([{
                    "kind": "external",
                    "justification": format!("policy exception: {reason}")
                }]);
            }
            results.push(result);
        }
    }
    log(
        driver(rules_json),
        results,
        json!({
            "imageReference": verdict.image.reference,
            "imageId": verdict.image.id,
            "imageDigest": verdict.image.digest,
            "verificationResult": verdict.outcome
        }),
    )
}
