//! JUnit XML, the test report CI servers show in their test tabs (Jenkins, GitLab, Azure
//! Pipelines, GitHub's test-reporter actions all read the same Ant/Surefire shape; the schema they
//! accept is the Jenkins xUnit plugin's `junit-10.xsd`, which the tests validate against).
//!
//! - `check`: one test case per policy rule, in the verdict's order. A failed rule is a failure
//!   listing its gating findings; a rule with nothing to judge (no vulnerability source given) is
//!   skipped; warnings and excepted findings go to the case's `system-out`.
//! - `scan`: one test case per finding (package and vulnerability). A finding that reaches
//!   `--fail-on` (every finding when no threshold is given, as Trivy's JUnit template does) is a
//!   failure; one VEX suppresses is skipped; one below the threshold passes and says so.
//!
//! Text from the image (package names, paths, messages) may hold characters XML 1.0 cannot carry
//! at all, even escaped (control characters): they are written as U+FFFD, so a hostile package name
//! cannot make the report unreadable.

use crate::image::Image;
use crate::policy::verdict::{RuleStatus, Verdict};
use crate::vuln::sources::Collected;
use crate::vuln::Severity;
use std::io::Write;
use xml::writer::{EmitterConfig, EventWriter, XmlEvent};

/// Writing the report failed (the writer's error).
#[derive(Debug, thiserror::Error)]
#[error("writing the JUnit report: {0}")]
pub struct JunitError(String);

/// `text` with every character XML 1.0 cannot carry replaced by U+FFFD.
fn xml_safe(text: &str) -> String {
    crate::text::xml_safe(text).into_owned()
}

/// One test case as it is written.
struct Case {
    classname: String,
    name: String,
    outcome: CaseOutcome,
    output: Vec<String>,
}

enum CaseOutcome {
    Passed,
    Failed {
        kind: String,
        message: String,
        details: Vec<String>,
    },
    Skipped(String),
}

/// One test suite: its name, properties and cases.
struct Suite {
    name: String,
    timestamp: String,
    properties: Vec<(&'static str, String)>,
    cases: Vec<Case>,
}

struct Xml<W: Write>(EventWriter<W>);

impl<W: Write> Xml<W> {
    fn write<'e, E: Into<XmlEvent<'e>>>(&mut self, event: E) -> Result<(), JunitError> {
        self.0.write(event).map_err(|e| JunitError(e.to_string()))
    }

    fn close(&mut self) -> Result<(), JunitError> {
        self.write(XmlEvent::end_element())
    }

    fn text(&mut self, text: &str) -> Result<(), JunitError> {
        self.write(XmlEvent::characters(&xml_safe(text)))
    }
}

fn write_suite(suite: &Suite, out: &mut dyn Write) -> Result<(), JunitError> {
    let tests = suite.cases.len().to_string();
    let failures = suite
        .cases
        .iter()
        .filter(|c| matches!(c.outcome, CaseOutcome::Failed { .. }))
        .count()
        .to_string();
    let skipped = suite
        .cases
        .iter()
        .filter(|c| matches!(c.outcome, CaseOutcome::Skipped(_)))
        .count()
        .to_string();
    let name = xml_safe(&suite.name);
    let mut xml = Xml(EmitterConfig::new().perform_indent(true).create_writer(out));
    xml.write(
        XmlEvent::start_element("testsuites")
            .attr("name", &name)
            .attr("tests", &tests)
            .attr("failures", &failures)
            .attr("errors", "0"),
    )?;
    xml.write(
        XmlEvent::start_element("testsuite")
            .attr("name", &name)
            .attr("tests", &tests)
            .attr("failures", &failures)
            .attr("errors", "0")
            .attr("skipped", &skipped)
            .attr("timestamp", &suite.timestamp),
    )?;
    xml.write(XmlEvent::start_element("properties"))?;
    for (key, value) in &suite.properties {
        let value = xml_safe(value);
        xml.write(
            XmlEvent::start_element("property")
                .attr("name", key)
                .attr("value", &value),
        )?;
        xml.close()?;
    }
    xml.close()?;
    for case in &suite.cases {
        let classname = xml_safe(&case.classname);
        let case_name = xml_safe(&case.name);
        xml.write(
            XmlEvent::start_element("testcase")
                .attr("classname", &classname)
                .attr("name", &case_name),
        )?;
        match &case.outcome {
            CaseOutcome::Passed => {}
            CaseOutcome::Failed {
                kind,
                message,
                details,
            } => {
                let kind = xml_safe(kind);
                let message = xml_safe(message);
                xml.write(
                    XmlEvent::start_element("failure")
                        .attr("type", &kind)
                        .attr("message", &message),
                )?;
                xml.text(&details.join("\n"))?;
                xml.close()?;
            }
            CaseOutcome::Skipped(message) => {
                let message = xml_safe(message);
                xml.write(XmlEvent::start_element("skipped").attr("message", &message))?;
                xml.close()?;
            }
        }
        if !case.output.is_empty() {
            xml.write(XmlEvent::start_element("system-out"))?;
            xml.text(&case.output.join("\n"))?;
            xml.close()?;
        }
        xml.close()?;
    }
    xml.close()?;
    xml.close()?;
    let out = xml.0.into_inner();
    writeln!(out).map_err(|e| JunitError(e.to_string()))
}

/// A finding's line in a case's text: code, message, and where it was seen.
fn finding_line(finding: &crate::policy::verdict::Finding) -> String {
    let evidence = &finding.evidence;
    let mut line = format!("{}: {}", finding.code, finding.message);
    if let Some(path) = &evidence.path {
        line.push_str(&format!(" [{path}]"));
    } else if let Some(purl) = &evidence.purl {
        line.push_str(&format!(" [{purl}]"));
    }
    line
}

/// The verdict of `check`, one test case per rule.
pub fn write_verdict(verdict: &Verdict, out: &mut dyn Write) -> Result<(), JunitError> {
    let cases = verdict
        .rules
        .iter()
        .map(|rule| {
            let (counted, excepted): (Vec<_>, Vec<_>) =
                rule.findings.iter().partition(|f| f.excepted_by.is_none());
            let mut output: Vec<String> = Vec::new();
            let outcome = match rule.status {
                RuleStatus::Failed => {
                    let gating: Vec<_> = counted.iter().copied().filter(|f| f.gating).collect();
                    let listed = if gating.is_empty() {
                        counted.clone()
                    } else {
                        gating
                    };
                    let mut codes: Vec<String> =
                        listed.iter().map(|f| f.code.to_string()).collect();
                    codes.dedup();
                    CaseOutcome::Failed {
                        kind: codes.join(","),
                        message: rule.message.clone().unwrap_or_else(|| {
                            format!("{} finding{}", listed.len(), plural(listed.len()))
                        }),
                        details: listed.iter().map(|f| finding_line(f)).collect(),
                    }
                }
                RuleStatus::NotApplicable => CaseOutcome::Skipped(
                    rule.note
                        .clone()
                        .unwrap_or_else(|| "not applicable".to_string()),
                ),
                RuleStatus::Warned => {
                    output.extend(
                        counted
                            .iter()
                            .map(|f| format!("warning: {}", finding_line(f))),
                    );
                    CaseOutcome::Passed
                }
                RuleStatus::Passed => CaseOutcome::Passed,
            };
            for finding in &excepted {
                let reason = finding
                    .excepted_by
                    .and_then(|i| verdict.exceptions.get(i))
                    .map(|e| e.reason.as_str())
                    .unwrap_or_default();
                output.push(format!("excepted ({reason}): {}", finding_line(finding)));
            }
            if let Some(note) = &rule.note {
                if rule.status != RuleStatus::NotApplicable {
                    output.push(format!("note: {note}"));
                }
            }
            Case {
                classname: format!("vouch.policy.{}", rule.kind),
                name: rule.id.clone(),
                outcome,
                output,
            }
        })
        .collect();
    let mut properties = vec![
        ("vouch.outcome", outcome_name(verdict)),
        ("vouch.image.digest", verdict.image.digest.clone()),
        ("vouch.image.id", verdict.image.id.clone()),
        ("vouch.policy", verdict.policy.name.clone()),
        ("vouch.policy.digest", verdict.policy.digest.clone()),
    ];
    if !verdict.excluded.is_empty() {
        properties.push(("vouch.excluded", verdict.excluded.join(", ")));
    }
    write_suite(
        &Suite {
            name: format!("vouch check {}", verdict.image.reference),
            timestamp: verdict.evaluated_at.clone(),
            properties,
            cases,
        },
        out,
    )
}

fn outcome_name(verdict: &Verdict) -> String {
    match verdict.outcome {
        crate::policy::verdict::Outcome::Passed => "PASSED",
        crate::policy::verdict::Outcome::Failed => "FAILED",
    }
    .to_string()
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The findings of `scan`, one test case per finding; `fail_on` is the threshold a failure reaches
/// (every finding VEX does not suppress, when none), `only_fixed` counts only findings with a fix.
pub fn write_scan(
    image: &Image,
    collected: &Collected,
    fail_on: Option<Severity>,
    only_fixed: bool,
    timestamp: &str,
    out: &mut dyn Write,
) -> Result<(), JunitError> {
    let cases = collected
        .findings
        .iter()
        .map(|f| {
            let fix = f
                .fixed_version
                .as_deref()
                .map(|v| format!("fixed in {v}"))
                .unwrap_or_else(|| "no fixed version".to_string());
            let line = format!(
                "{} ({}) in {} {}, {fix}{}",
                f.id,
                f.severity,
                f.package,
                f.version,
                f.title
                    .as_deref()
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default()
            );
            let reaches = fail_on.is_none_or(|t| f.severity >= t)
                && (!only_fixed || f.fixed_version.is_some());
            let outcome = match &f.vex {
                Some(applied) if f.suppressed() => CaseOutcome::Skipped(format!(
                    "VEX ({}): {}",
                    applied.document,
                    applied.status.name()
                )),
                _ if reaches => CaseOutcome::Failed {
                    kind: f.severity.to_string(),
                    message: line.clone(),
                    details: vec![format!("purl: {}", f.purl)],
                },
                _ => CaseOutcome::Passed,
            };
            let output = match outcome {
                CaseOutcome::Passed => vec![format!("below the threshold: {line}")],
                _ => Vec::new(),
            };
            Case {
                classname: format!("{} {}", f.package, f.version),
                name: format!("[{}] {}", f.severity, f.id),
                outcome,
                output,
            }
        })
        .collect();
    let mut properties = vec![
        ("vouch.image.digest", image.digest().to_string()),
        ("vouch.image.id", image.id.clone()),
    ];
    if let Some(threshold) = fail_on {
        properties.push(("vouch.fail-on", threshold.to_string()));
    }
    write_suite(
        &Suite {
            name: format!("vouch scan {}", image.reference),
            timestamp: timestamp.to_string(),
            properties,
            cases,
        },
        out,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_xml_cannot_carry_become_replacement_characters() {
        assert_eq!(
            xml_safe("a\u{1}b\u{1b}[31m\tc\u{ffff}"),
            "a\u{fffd}b\u{fffd}[31m\tc\u{fffd}"
        );
        let suite = Suite {
            name: "n\u{0}".into(),
            timestamp: "t".into(),
            properties: vec![("p", "\u{7}".into())],
            cases: vec![Case {
                classname: "evil\u{8} <pkg> & \"x\"".into(),
                name: "]]> \u{c}".into(),
                outcome: CaseOutcome::Failed {
                    kind: "k".into(),
                    message: "m\u{2}".into(),
                    details: vec!["]]>\u{3}".into()],
                },
                output: vec!["\u{4}".into()],
            }],
        };
        let mut out = Vec::new();
        write_suite(&suite, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text
            .chars()
            .any(|c| (c as u32) < 0x20 && !"\t\n\r".contains(c)));
        // The document reads back, with the markup characters as text.
        let mut names = Vec::new();
        for event in xml::reader::EventReader::new(text.as_bytes()) {
            if let xml::reader::XmlEvent::StartElement { attributes, .. } = event.unwrap() {
                names.extend(attributes.into_iter().map(|a| a.value));
            }
        }
        assert!(names.contains(&"evil\u{fffd} <pkg> & \"x\"".to_string()));
    }
}
