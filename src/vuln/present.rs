//! What `docker vouch scan` prints: a table for people, a JSON document for programs, and the
//! SBOM with a CycloneDX `vulnerabilities` section (one entry per finding, its VEX analysis when a
//! statement matched) for tools that read CycloneDX VEX.

use super::sources::Collected;
use super::vex::Status;
use super::{severity, Severity, VulnerabilityFinding};
use crate::image::Image;
use crate::text::write_columns;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

/// Counts per severity of the findings that count (not suppressed by VEX).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub total: usize,
    pub by_severity: BTreeMap<Severity, usize>,
    /// Counted findings with a fixed version.
    pub fixable: usize,
    /// Findings a VEX statement marks not_affected or fixed.
    pub suppressed: usize,
}

impl Summary {
    pub fn of(findings: &[VulnerabilityFinding]) -> Summary {
        let mut summary = Summary::default();
        for severity in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Unknown,
        ] {
            summary.by_severity.insert(severity, 0);
        }
        for f in findings {
            if f.suppressed() {
                summary.suppressed += 1;
                continue;
            }
            summary.total += 1;
            *summary.by_severity.entry(f.severity).or_default() += 1;
            if f.fixed_version.is_some() {
                summary.fixable += 1;
            }
        }
        summary
    }
}

/// The orders `scan --sort` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Most severe first (the default).
    #[default]
    Severity,
    /// Known exploited first, then by EPSS score, then by severity.
    Kev,
    /// Highest EPSS score first (unscored last), then by severity.
    Epss,
    /// By package, then id.
    Package,
}

/// Orders `findings` by `key`; ties by severity, package and id, so the order is always the same.
pub fn sort_findings(findings: &mut [VulnerabilityFinding], key: SortKey) {
    let score = |f: &VulnerabilityFinding| f.epss.map(|e| e.score).unwrap_or(-1.0);
    let usual = |a: &VulnerabilityFinding, b: &VulnerabilityFinding| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.package.cmp(&b.package))
            .then_with(|| a.id.cmp(&b.id))
    };
    findings.sort_by(|a, b| match key {
        SortKey::Severity => usual(a, b),
        SortKey::Kev => b
            .kev
            .is_some()
            .cmp(&a.kev.is_some())
            .then_with(|| score(b).total_cmp(&score(a)))
            .then_with(|| usual(a, b)),
        SortKey::Epss => score(b).total_cmp(&score(a)).then_with(|| usual(a, b)),
        SortKey::Package => a
            .package
            .cmp(&b.package)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| usual(a, b)),
    });
}

/// `KEV`, `EPSS 0.94`, both, or nothing: what the exploitation data says of a finding.
fn exploitation(finding: &VulnerabilityFinding) -> String {
    let mut parts = Vec::new();
    if finding.kev.is_some() {
        parts.push("KEV".to_string());
    }
    if let Some(epss) = &finding.epss {
        parts.push(format!("EPSS {:.2}", epss.score));
    }
    parts.join(", ")
}

#[derive(Serialize)]
struct FindingView<'a> {
    #[serde(flatten)]
    finding: &'a VulnerabilityFinding,
    /// The diffID of the layer that brought the component.
    #[serde(skip_serializing_if = "Option::is_none")]
    layer: Option<&'a str>,
}

/// The JSON document of a scan.
pub fn scan_document(image: &Image, collected: &Collected, scanned_at: &str) -> Value {
    let findings: Vec<FindingView> = collected
        .findings
        .iter()
        .map(|f| FindingView {
            finding: f,
            layer: f
                .layer_index
                .and_then(|i| image.layers.get(i))
                .map(|l| l.diff_id.as_str()),
        })
        .collect();
    let mut identity =
        json!({"reference": image.reference, "id": image.id, "digest": image.digest()});
    if let Some(name) = &image.name {
        identity["name"] = json!(name);
    }
    json!({
        "image": identity,
        "scannedAt": scanned_at,
        "sources": collected.inputs,
        "summary": Summary::of(&collected.findings),
        "findings": findings,
        "vex": collected.vex,
    })
}

/// The human view: one row per counted finding (most severe first), the VEX-suppressed ones
/// after, and totals.
pub fn write_table(image: &Image, collected: &Collected, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "Image:   {} ({})",
        image.display_name(),
        image.digest()
    )?;
    let sources: Vec<String> = collected
        .inputs
        .iter()
        .map(|s| format!("{} {}", s.kind, s.path))
        .collect();
    writeln!(out, "Sources: {}", sources.join(", "))?;
    writeln!(out)?;
    // The exploitation column only when some finding has something to show in it.
    let exploited = collected
        .findings
        .iter()
        .any(|f| !f.suppressed() && (f.kev.is_some() || f.epss.is_some()));
    let counted: Vec<Vec<String>> = collected
        .findings
        .iter()
        .filter(|f| !f.suppressed())
        .map(|f| {
            let mut row = vec![
                f.id.clone(),
                f.severity.to_string(),
                f.package.clone(),
                f.version.clone(),
                f.fixed_version.clone().unwrap_or_default(),
            ];
            if exploited {
                row.push(exploitation(f));
            }
            row.push(
                f.layer_index
                    .map(|i| image.layer_label(i))
                    .unwrap_or_default(),
            );
            row.push(f.title.clone().unwrap_or_default());
            row
        })
        .collect();
    if counted.is_empty() {
        writeln!(out, "No vulnerabilities found.")?;
    } else {
        let mut header = vec!["ID", "SEVERITY", "PACKAGE", "INSTALLED", "FIXED"];
        if exploited {
            header.push("EXPLOIT");
        }
        header.extend(["LAYER", "TITLE"]);
        write_columns(out, &header, &counted)?;
    }
    let suppressed: Vec<Vec<String>> = collected
        .findings
        .iter()
        .filter(|f| f.suppressed())
        .map(|f| {
            let vex = f
                .vex
                .as_ref()
                .expect("suppressed findings carry a VEX status");
            vec![
                f.id.clone(),
                f.package.clone(),
                f.version.clone(),
                vex.status.name().to_string(),
                vex.justification.clone().unwrap_or_default(),
                vex.document.clone(),
            ]
        })
        .collect();
    if !suppressed.is_empty() {
        writeln!(out)?;
        writeln!(out, "Suppressed by VEX:")?;
        write_columns(
            out,
            &[
                "ID",
                "PACKAGE",
                "INSTALLED",
                "STATUS",
                "JUSTIFICATION",
                "DOCUMENT",
            ],
            &suppressed,
        )?;
    }
    let summary = Summary::of(&collected.findings);
    let counts: Vec<String> = summary
        .by_severity
        .iter()
        .rev()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    writeln!(out)?;
    writeln!(
        out,
        "{} vulnerabilit{} ({}), {} fixable; {} suppressed by VEX",
        summary.total,
        if summary.total == 1 { "y" } else { "ies" },
        counts.join(", "),
        summary.fixable,
        summary.suppressed
    )?;
    Ok(())
}

/// CycloneDX analysis state of a VEX status.
fn cyclonedx_state(status: Status) -> &'static str {
    match status {
        Status::NotAffected => "not_affected",
        Status::Affected => "exploitable",
        Status::Fixed => "resolved",
        Status::UnderInvestigation => "in_triage",
    }
}

/// CycloneDX's justification for an OpenVEX one (CycloneDX's own pass through).
fn cyclonedx_justification(justification: &str) -> Option<&'static str> {
    Some(match justification {
        "component_not_present" | "vulnerable_code_not_present" | "code_not_present" => {
            "code_not_present"
        }
        "vulnerable_code_not_in_execute_path" | "code_not_reachable" => "code_not_reachable",
        "vulnerable_code_cannot_be_controlled_by_adversary" | "requires_environment" => {
            "requires_environment"
        }
        "inline_mitigations_already_exist" | "protected_by_mitigating_control" => {
            "protected_by_mitigating_control"
        }
        "requires_configuration" => "requires_configuration",
        "requires_dependency" => "requires_dependency",
        "protected_by_compiler" => "protected_by_compiler",
        "protected_at_runtime" => "protected_at_runtime",
        "protected_at_perimeter" => "protected_at_perimeter",
        _ => return None,
    })
}

fn rating_method(vector: &str) -> &'static str {
    if vector.starts_with("CVSS:3.1/") {
        "CVSSv31"
    } else if vector.starts_with("CVSS:3.0/") {
        "CVSSv3"
    } else if vector.starts_with("CVSS:4.0/") {
        "CVSSv4"
    } else {
        "other"
    }
}

fn source_name(id: &str, sources: &[String]) -> &'static str {
    if id.starts_with("CVE-") {
        "NVD"
    } else if id.starts_with("GHSA-") {
        "GitHub"
    } else if sources.iter().any(|s| s == "osv") {
        "OSV"
    } else if sources.iter().any(|s| s == "trivy") {
        "Trivy"
    } else {
        "Grype"
    }
}

/// The SBOM with a `vulnerabilities` section added: one entry per finding, pointing at its
/// component's bom-ref.
pub fn cyclonedx_with_vulnerabilities(mut sbom: Value, collected: &Collected) -> Value {
    let refs: HashMap<&str, &str> = sbom
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c.get("purl")?.as_str()?, c.get("bom-ref")?.as_str()?)))
        .collect();
    let entries: Vec<Value> = collected
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut ratings: Vec<Value> = f
                .cvss
                .iter()
                .filter_map(|vector| {
                    let score = severity::score(vector)?;
                    Some(json!({
                        "score": score,
                        "severity": severity::from_score(score).to_string(),
                        "method": rating_method(vector),
                        "vector": vector,
                    }))
                })
                .collect();
            if ratings.is_empty() {
                ratings.push(json!({"severity": f.severity.to_string(), "method": "other"}));
            }
            let mut entry = json!({
                "bom-ref": format!("vulnerability-{}", i + 1),
                "id": f.id,
                "source": {"name": source_name(&f.id, &f.sources)},
                "ratings": ratings,
                "affects": [{
                    "ref": refs.get(f.purl.as_str()).copied().unwrap_or(&f.purl),
                    "versions": [{"version": f.version, "status": "affected"}],
                }],
                "properties": [{"name": "vouch:sources", "value": f.sources.join(",")}],
            });
            if !f.aliases.is_empty() {
                entry["references"] = f
                    .aliases
                    .iter()
                    .map(|a| json!({"id": a, "source": {"name": source_name(a, &f.sources)}}))
                    .collect();
            }
            if let Some(title) = &f.title {
                entry["description"] = json!(title);
            }
            if let Some(fixed) = &f.fixed_version {
                entry["recommendation"] = json!(format!("Upgrade {} to {fixed}", f.package));
            }
            if let Some(vex) = &f.vex {
                let mut analysis = json!({"state": cyclonedx_state(vex.status)});
                let justification = vex.justification.as_deref();
                if let Some(j) = justification.and_then(cyclonedx_justification) {
                    analysis["justification"] = json!(j);
                }
                let detail: Vec<&str> = vex
                    .detail
                    .iter()
                    .map(String::as_str)
                    .chain(justification.filter(|j| cyclonedx_justification(j).is_none()))
                    .collect();
                if !detail.is_empty() {
                    analysis["detail"] = json!(detail.join("; "));
                }
                entry["analysis"] = analysis;
            }
            entry
        })
        .collect();
    sbom["vulnerabilities"] = Value::Array(entries);
    sbom
}
