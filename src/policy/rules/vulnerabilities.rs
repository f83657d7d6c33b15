//! `vulnerabilities` rules: thresholds over vulnerability findings (a maximum severity, at most N
//! findings per severity, optionally counting only those with a fix). The findings come from a
//! vulnerability source; without one the rule is reported as not applicable rather than passed.
//! Single findings are ignored through the policy's exceptions (by id, with an expiry date); findings a
//! VEX statement marks `not_affected` or `fixed` do not count at all.

use super::super::diags::Code;
use super::super::file::{Severity, VulnerabilitiesFile};
use super::super::input::{Input, VulnerabilityFinding};
use super::super::verdict::{Evidence, Finding};
use super::Evaluation;
use crate::purl::purl_base;
use std::collections::BTreeMap;

#[derive(Debug)]
pub struct VulnerabilitiesCheck {
    max_severity: Option<Severity>,
    max_counts: BTreeMap<Severity, u64>,
    fixable_only: bool,
}

/// `, installed by pkg:deb/…` when an OS package installed the affected component's files.
fn installed_by(finding: &VulnerabilityFinding) -> String {
    finding
        .installed_by
        .as_deref()
        .map(|owner| format!(", installed by {}", purl_base(owner)))
        .unwrap_or_default()
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

    /// `excepted` tells whether an active exception of this rule covers a vulnerability (by its
    /// keys): such a vulnerability does not count toward `max_counts`.
    pub fn evaluate(&self, input: &Input, excepted: &dyn Fn(&[String]) -> bool) -> Evaluation {
        let Some(all) = input.vulnerabilities else {
            return Err("no vulnerability source was given".into());
        };
        let counted: Vec<&VulnerabilityFinding> = all
            .iter()
            .filter(|f| !f.suppressed())
            .filter(|f| !self.fixable_only || f.fixed_version.is_some())
            .collect();
        let keys = |v: &VulnerabilityFinding| {
            let mut keys = vec![v.id.clone(), purl_base(&v.purl), v.purl.clone()];
            keys.extend(v.aliases.iter().cloned());
            keys
        };
        let keyed = |mut finding: Finding, v: &VulnerabilityFinding| {
            finding.keys.extend(keys(v));
            finding
        };
        let mut findings = Vec::new();
        if let Some(max) = self.max_severity {
            for v in counted.iter().filter(|v| v.severity > max) {
                let fix = v
                    .fixed_version
                    .as_ref()
                    .map(|f| format!(", fixed in {f}"))
                    .unwrap_or_default()
                    + installed_by(v).as_str();
                findings.push(keyed(
                    Finding::new(
                        Code::VulnerabilitiesSeverity,
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
            let open = of_severity.iter().filter(|v| !excepted(&keys(v))).count() as u64;
            if of_severity.len() as u64 > *max {
                // Over the limit before exceptions: the excepted ones are listed (as excepted) so
                // their exceptions show as applied; the others only if still over without them.
                for v in of_severity {
                    if open <= *max && !excepted(&keys(v)) {
                        continue;
                    }
                    findings.push(keyed(
                        Finding::new(
                            Code::VulnerabilitiesCount,
                            format!(
                                "{} in {}{}: one of more than {max} {severity} findings",
                                v.id,
                                purl_base(&v.purl),
                                installed_by(v)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FileFacts;
    use crate::policy::config::Policy;
    use crate::policy::diags::Origin;
    use crate::policy::input::{Component, ImageFacts};
    use crate::policy::verdict::RuleStatus;

    fn finding(
        id: &str,
        package: &str,
        severity: Severity,
        fixed: Option<&str>,
    ) -> VulnerabilityFinding {
        VulnerabilityFinding {
            id: id.into(),
            aliases: vec![format!("GHSA-{id}")],
            purl: format!("pkg:pypi/{package}@1.0"),
            severity,
            fixed_version: fixed.map(str::to_string),
            ..Default::default()
        }
    }

    fn verdict(policy: &str, findings: Option<&[VulnerabilityFinding]>) -> crate::policy::Verdict {
        let policy = Policy::parse(
            policy.as_bytes(),
            &Origin {
                name: "p.yaml".into(),
                dir: None,
            },
        )
        .unwrap();
        let image = ImageFacts {
            diff_ids: vec!["sha256:base".into(), "sha256:app".into()],
            base: crate::policy::input::BaseImage {
                layer_count: Some(1),
                ..Default::default()
            },
            ..Default::default()
        };
        let components: Vec<Component> = ["requests", "flask", "jinja2"]
            .iter()
            .enumerate()
            .map(|(i, name)| Component {
                name: name.to_string(),
                version: "1.0".into(),
                purl: format!("pkg:pypi/{name}@1.0"),
                purl_type: "pypi".into(),
                layer_index: Some(i.min(1)),
                ..Default::default()
            })
            .collect();
        let input = Input {
            image: &image,
            components: &components,
            files: &FileFacts::default(),
            vulnerabilities: findings,
            sbom: &crate::sbom::read::Sbom::Saved(serde_json::Value::Null),
            today: "2026-11-23",
        };
        crate::policy::evaluate(&policy, &input, "2026-11-23T00:00:00Z")
    }

    #[test]
    fn thresholds_fixable_only_and_exceptions_by_id() {
        let findings = [
            VulnerabilityFinding {
                installed_by: Some(
                    "pkg:deb/debian/python3-requests@1.0-1?arch=all&distro=debian-12".into(),
                ),
                ..finding("CVE-1", "requests", Severity::Critical, Some("2.0"))
            },
            finding("CVE-2", "flask", Severity::Critical, None),
            finding("CVE-3", "jinja2", Severity::High, Some("3.1")),
            finding("CVE-4", "jinja2", Severity::High, Some("3.2")),
            finding("CVE-5", "flask", Severity::Medium, Some("1.1")),
        ];
        let policy = r#"version: "1"
rules:
  - id: v
    action: deny
    vulnerabilities: {max_severity: high, max_counts: {high: 1}, fixable_only: true}
exceptions:
  - {rule: v, match: "GHSA-CVE-4", reason: "not reachable", expires: "2999-01-01"}
"#;
        let result = verdict(policy, Some(&findings));
        let rule = &result.rules[0];
        assert_eq!(rule.status, RuleStatus::Failed);
        let open: Vec<(&str, &str)> = rule
            .findings
            .iter()
            .filter(|f| f.excepted_by.is_none())
            .map(|f| {
                (
                    f.code.as_str(),
                    f.evidence.vulnerability.as_deref().unwrap(),
                )
            })
            .collect();
        // CVE-2 has no fix (fixable_only); CVE-3 and CVE-4 are two high findings where one is
        // allowed, but CVE-4 is excepted by its alias, which leaves one.
        assert_eq!(open, [("vulnerabilities.severity", "CVE-1")]);
        let cve1 = &rule.findings[0];
        assert_eq!(cve1.evidence.package.as_deref(), Some("requests"));
        assert!(
            cve1.message
                .ends_with("fixed in 2.0, installed by pkg:deb/debian/python3-requests: above the maximum severity high"),
            "{}",
            cve1.message
        );
        assert_eq!(cve1.evidence.base_image_layer, Some(true));
        assert_eq!(cve1.evidence.fixed_version.as_deref(), Some("2.0"));
        let cve4 = rule
            .findings
            .iter()
            .find(|f| f.evidence.vulnerability.as_deref() == Some("CVE-4"))
            .unwrap();
        assert!(cve4.excepted_by.is_some());
        assert_eq!(cve4.evidence.base_image_layer, Some(false));
        assert_eq!(result.exceptions[0].matched, 1);

        // Without the exception, both high findings are over the count.
        let strict = verdict(&policy.replace("GHSA-CVE-4", "GHSA-none"), Some(&findings));
        let counted: Vec<&str> = strict.rules[0]
            .findings
            .iter()
            .filter(|f| f.code == "vulnerabilities.count")
            .map(|f| f.evidence.vulnerability.as_deref().unwrap())
            .collect();
        assert_eq!(counted, ["CVE-3", "CVE-4"]);
    }

    #[test]
    fn without_a_source_the_rule_is_not_applicable() {
        let policy = "version: \"1\"\nrules:\n  - id: v\n    action: deny\n    vulnerabilities: {max_severity: low}\n";
        let result = verdict(policy, None);
        assert_eq!(result.rules[0].status, RuleStatus::NotApplicable);
        assert_eq!(result.outcome, crate::policy::verdict::Outcome::Passed);
        let clean = verdict(policy, Some(&[]));
        assert_eq!(clean.rules[0].status, RuleStatus::Passed);
    }
}
