//! `vulnerabilities` rules: thresholds over vulnerability findings (a maximum severity, at most N
//! findings per severity, optionally counting only those with a fix). The findings come from a
//! vulnerability source; without one the rule is reported as not applicable rather than passed.
//! Single findings are ignored through the policy's exceptions (by id, with an expiry date).

use super::super::file::{Severity, VulnerabilitiesFile};
use super::super::input::{purl_base, Input, VulnerabilityFinding};
use super::super::verdict::{Evidence, Finding};
use super::Evaluation;
use std::collections::BTreeMap;

#[derive(Debug)]
pub struct VulnerabilitiesCheck {
    max_severity: Option<Severity>,
    max_counts: BTreeMap<Severity, u64>,
    fixable_only: bool,
}

fn evidence(finding: &VulnerabilityFinding, input: &Input) -> Evidence {
    let component = input.components.iter().find(|c| c.purl == finding.purl);
    let layer_index = finding
        .layer_index
        .or_else(|| component.and_then(|c| c.layer_index));
    Evidence {
        package: component.map(|c| c.name.clone()),
        version: component.map(|c| c.version.clone()),
        purl: Some(finding.purl.clone()),
        path: component.and_then(|c| c.path.clone()),
        layer: layer_index
            .and_then(|i| input.image.layer(i))
            .map(str::to_string),
        layer_index,
        base_image_layer: layer_index.and_then(|i| input.image.in_base(i)),
        vulnerability: Some(finding.id.clone()),
        severity: Some(finding.severity),
        fixed_version: finding.fixed_version.clone(),
        value: None,
    }
}

impl VulnerabilitiesCheck {
    pub fn compile(file: &VulnerabilitiesFile) -> VulnerabilitiesCheck {
        VulnerabilitiesCheck {
            max_severity: file.max_severity,
            max_counts: file.max_counts.clone(),
            fixable_only: file.fixable_only,
        }
    }

    pub fn evaluate(&self, input: &Input) -> Evaluation {
        let Some(all) = input.vulnerabilities else {
            return Err("no vulnerability source was given".into());
        };
        let counted: Vec<&VulnerabilityFinding> = all
            .iter()
            .filter(|f| !self.fixable_only || f.fixed_version.is_some())
            .collect();
        let keyed = |finding: Finding, v: &VulnerabilityFinding| {
            let mut finding = finding
                .keyed(v.id.clone())
                .keyed(purl_base(&v.purl))
                .keyed(v.purl.clone());
            finding.keys.extend(v.aliases.iter().cloned());
            finding
        };
        let mut findings = Vec::new();
        if let Some(max) = self.max_severity {
            for v in counted.iter().filter(|v| v.severity > max) {
                let fix = v
                    .fixed_version
                    .as_ref()
                    .map(|f| format!(", fixed in {f}"))
                    .unwrap_or_default();
                findings.push(keyed(
                    Finding::new(
                        "vulnerabilities.severity",
                        format!(
                            "{} ({}) in {}{fix}: above the maximum severity {max}",
                            v.id,
                            v.severity,
                            purl_base(&v.purl),
                        ),
                        evidence(v, input),
                    ),
                    v,
                ));
            }
        }
        for (severity, max) in &self.max_counts {
            let of_severity: Vec<&&VulnerabilityFinding> =
                counted.iter().filter(|v| v.severity == *severity).collect();
            if of_severity.len() as u64 > *max {
                for v in of_severity {
                    findings.push(keyed(
                        Finding::new(
                            "vulnerabilities.count",
                            format!(
                                "{} in {}: one of more than {max} {severity} findings",
                                v.id,
                                purl_base(&v.purl)
                            ),
                            evidence(v, input),
                        ),
                        v,
                    ));
                }
            }
        }
        Ok(findings)
    }
}
