//! `vulnerabilities` rules: thresholds over vulnerability findings (a maximum severity, at most N
//! findings per severity), over the findings that count: optionally only those with a fix, only
//! those whose EPSS score reaches `epss_min`, only fixes published `max_days_since_fix` days ago or
//! more. Separately, `kev: deny|warn` makes every finding CISA lists as known exploited a finding of
//! that action, whatever the thresholds. The findings come from a vulnerability source; without one
//! the rule is reported as not applicable rather than passed. Single findings are ignored through the
//! policy's exceptions (by id, with an expiry date); findings a VEX statement marks `not_affected` or
//! `fixed` do not count at all.
//!
//! Missing data never hides a finding: one with no EPSS score counts under `epss_min`, and a fix
//! whose publication date is unknown counts under `max_days_since_fix`.

use super::super::diags::{Code, Origin, PolicyError};
use super::super::file::{Action, Severity, VulnerabilitiesFile};
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
    kev: Option<Action>,
    epss_min: Option<f64>,
    max_days_since_fix: Option<u32>,
}

/// `, installed by pkg:deb/…` when an OS package installed the affected component's files.
fn installed_by(finding: &VulnerabilityFinding) -> String {
    finding
        .installed_by
        .as_deref()
        .map(|owner| format!(", installed by {}", purl_base(owner)))
        .unwrap_or_default()
}

/// `, known exploited (KEV), EPSS 0.94` for what the exploitation data says of a finding.
fn exploitation(finding: &VulnerabilityFinding) -> String {
    let mut text = String::new();
    if finding.kev.is_some() {
        text.push_str(", known exploited (KEV)");
    }
    if let Some(epss) = &finding.epss {
        text.push_str(&format!(", EPSS {:.2}", epss.score));
    }
    text
}

/// The components by purl (the first of each), for the evidence of many findings.
type ByPurl<'a> = std::collections::HashMap<&'a str, &'a crate::policy::input::Component>;

fn evidence(finding: &VulnerabilityFinding, input: &Input, by_purl: &ByPurl) -> Evidence {
    let component = by_purl.get(finding.purl.as_str()).copied();
    let layer_index = finding
        .layer_index
        .or_else(|| component.and_then(|c| c.layer_index));
    Evidence {
        // A report's finding on a package the SBOM does not list names it as the report does.
        package: Some(component.map_or(&finding.package, |c| &c.name).clone()),
        version: Some(component.map_or(&finding.version, |c| &c.version).clone()),
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
        line: None,
    }
}

impl VulnerabilitiesCheck {
    pub fn compile(
        file: &VulnerabilitiesFile,
        origin: &Origin,
    ) -> Result<VulnerabilitiesCheck, PolicyError> {
        if let Some(min) = &file.epss_min {
            if !(0.0..=1.0).contains(&**min) {
                return Err(origin.at(min, "epss_min is a probability, from 0 to 1"));
            }
        }
        Ok(VulnerabilitiesCheck {
            max_severity: file.max_severity,
            max_counts: file.max_counts.clone(),
            fixable_only: file.fixable_only,
            kev: file.kev,
            epss_min: file.epss_min.as_ref().map(|m| **m),
            max_days_since_fix: file.max_days_since_fix,
        })
    }

    /// Whether a finding counts toward the thresholds.
    fn counts(&self, finding: &VulnerabilityFinding, today: Option<time::Date>) -> bool {
        if finding.suppressed() || (self.fixable_only && finding.fixed_version.is_none()) {
            return false;
        }
        if let (Some(min), Some(epss)) = (self.epss_min, &finding.epss) {
            if epss.score < min {
                return false;
            }
        }
        if let (Some(days), Some(_), Some(today)) =
            (self.max_days_since_fix, &finding.fixed_version, today)
        {
            let published = finding
                .fix_published
                .as_deref()
                .and_then(crate::clock::parse_day);
            if published.is_some_and(|p| (today - p).whole_days() < i64::from(days)) {
                return false;
            }
        }
        true
    }

    /// `excepted` tells whether an active exception of this rule covers a vulnerability (by its
    /// keys): such a vulnerability does not count toward `max_counts`.
    pub fn evaluate(&self, input: &Input, excepted: &dyn Fn(&[String]) -> bool) -> Evaluation {
        let Some(all) = input.vulnerabilities else {
            return Err("no vulnerability source was given".into());
        };
        let today = crate::clock::parse_day(input.today);
        let mut by_purl = ByPurl::with_capacity(input.components.len());
        for component in input.components {
            by_purl.entry(component.purl.as_str()).or_insert(component);
        }
        let counted: Vec<&VulnerabilityFinding> =
            all.iter().filter(|f| self.counts(f, today)).collect();
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
        if let Some(action) = self.kev {
            for v in all.iter().filter(|v| !v.suppressed()) {
                let Some(kev) = &v.kev else { continue };
                let ransomware = if kev.known_ransomware {
                    ", used in ransomware campaigns"
                } else {
                    ""
                };
                let mut finding = keyed(
                    Finding::new(
                        Code::VulnerabilitiesKev,
                        format!(
                            "{} ({}) in {}{}: known exploited, listed by CISA since {}{ransomware}",
                            v.id,
                            v.severity,
                            purl_base(&v.purl),
                            installed_by(v),
                            kev.date_added
                        ),
                        evidence(v, input, &by_purl),
                    ),
                    v,
                );
                finding.action = Some(action);
                findings.push(finding);
            }
        }
        if let Some(max) = self.max_severity {
            for v in counted.iter().filter(|v| v.severity > max) {
                let fix = v
                    .fixed_version
                    .as_ref()
                    .map(|f| format!(", fixed in {f}"))
                    .unwrap_or_default()
                    + installed_by(v).as_str()
                    + exploitation(v).as_str();
                findings.push(keyed(
                    Finding::new(
                        Code::VulnerabilitiesSeverity,
                        format!(
                            "{} ({}) in {}{fix}: above the maximum severity {max}",
                            v.id,
                            v.severity,
                            purl_base(&v.purl),
                        ),
                        evidence(v, input, &by_purl),
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
                                "{} in {}{}{}: one of more than {max} {severity} findings",
                                v.id,
                                purl_base(&v.purl),
                                installed_by(v),
                                exploitation(v)
                            ),
                            evidence(v, input, &by_purl),
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
            files: Some(&FileFacts::default()),
            prior: None,
            vulnerabilities: findings,
            sbom: &crate::sbom::read::Sbom::Saved(serde_json::Value::Null),
            judged_from_layer: None,
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

    /// `kev` gives listed findings their own action; `epss_min` and `max_days_since_fix` take
    /// findings out of the thresholds only on data that says so (no score, no date: they count).
    #[test]
    fn kev_epss_and_the_age_of_a_fix() {
        use crate::vuln::feeds::{EpssScore, KevEntry};
        let epss = |score| {
            Some(EpssScore {
                score,
                percentile: 0.5,
            })
        };
        let findings = [
            VulnerabilityFinding {
                kev: Some(KevEntry {
                    date_added: "2024-04-01".into(),
                    due_date: None,
                    known_ransomware: true,
                }),
                epss: epss(0.9),
                ..finding("CVE-1", "requests", Severity::Medium, None)
            },
            // Fixed five days before "today" (2026-11-23): too fresh for a 7-day grace.
            VulnerabilityFinding {
                fix_published: Some("2026-11-18T10:00:00Z".into()),
                epss: epss(0.5),
                ..finding("CVE-2", "flask", Severity::Critical, Some("2.0"))
            },
            // Fixed long ago, but a low EPSS score.
            VulnerabilityFinding {
                fix_published: Some("2025-01-01T00:00:00Z".into()),
                epss: epss(0.01),
                ..finding("CVE-3", "jinja2", Severity::Critical, Some("3.1"))
            },
            // No score and no date: counts under both.
            finding("CVE-4", "jinja2", Severity::Critical, Some("3.2")),
        ];
        let policy = r#"version: "1"
rules:
  - id: v
    action: warn
    vulnerabilities: {max_severity: high, kev: deny, epss_min: 0.1, max_days_since_fix: 7}
"#;
        let result = verdict(policy, Some(&findings));
        let rule = &result.rules[0];
        let found: Vec<(&str, &str, bool)> = rule
            .findings
            .iter()
            .map(|f| {
                (
                    f.code.as_str(),
                    f.evidence.vulnerability.as_deref().unwrap(),
                    f.gating,
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("vulnerabilities.kev", "CVE-1", true),
                ("vulnerabilities.severity", "CVE-4", false),
            ]
        );
        // A warn rule whose KEV finding is deny fails the verdict.
        assert_eq!(rule.status, RuleStatus::Failed);
        assert_eq!(result.outcome, crate::policy::verdict::Outcome::Failed);
        assert!(
            rule.findings[0]
                .message
                .contains("listed by CISA since 2024-04-01, used in ransomware"),
            "{}",
            rule.findings[0].message
        );
        let json = serde_json::to_value(&rule.findings[0]).unwrap();
        assert_eq!(json["action"], "deny");

        // Without the grace period, CVE-2 counts; without epss_min, CVE-3 does too.
        let plain = verdict(
            &policy.replace(", epss_min: 0.1, max_days_since_fix: 7", ""),
            Some(&findings),
        );
        let severity: Vec<&str> = plain.rules[0]
            .findings
            .iter()
            .filter(|f| f.code == "vulnerabilities.severity")
            .map(|f| f.evidence.vulnerability.as_deref().unwrap())
            .collect();
        assert_eq!(severity, ["CVE-2", "CVE-3", "CVE-4"]);

        // kev: warn in a deny rule reports the listed finding without failing on it.
        let warned = verdict(
            "version: \"1\"\nrules:\n  - id: v\n    action: deny\n    vulnerabilities: {kev: warn}\n",
            Some(&findings),
        );
        assert_eq!(warned.rules[0].status, RuleStatus::Warned);
        assert_eq!(warned.outcome, crate::policy::verdict::Outcome::Passed);
    }

    #[test]
    fn epss_min_is_a_probability() {
        let err = Policy::parse(
            b"version: \"1\"\nrules:\n  - id: v\n    action: deny\n    vulnerabilities: {epss_min: 5}\n",
            &Origin {
                name: "p.yaml".into(),
                dir: None,
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("from 0 to 1"), "{err}");
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
