//! GitHub Actions: workflow-command annotations (`::error file=...,title=...::message`), which the
//! run's page shows beside the job, and a job summary in Markdown, which a step appends to the file
//! `$GITHUB_STEP_SUMMARY` names.
//!
//! Every value is escaped as the runner reads it (`%`, CR and LF in messages; also `:` and `,` in
//! properties), so a package name cannot end an annotation early or start a workflow command of
//! its own (`::add-mask::`, `::stop-commands::`); Markdown cells are escaped by
//! [`super::markdown::cell`]. GitHub shows at most 10 error and 10 warning annotations per step, so
//! the summary carries the whole list, bounded at [`SUMMARY_ROWS`] rows.

use super::markdown::cell;
use super::DockerfileLines;
use crate::image::Image;
use crate::policy::file::Action;
use crate::policy::verdict::{Outcome, RuleStatus, Verdict};
use crate::vuln::sources::Collected;
use crate::vuln::Severity;
use std::fmt::Write as _;

/// The most findings a summary's table lists; the rest are counted.
pub const SUMMARY_ROWS: usize = 200;

/// A message as a workflow command's data.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A value as a workflow command's property.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Where an annotation points: a file of the image, or the Dockerfile line that made its layer.
struct Place<'a> {
    file: Option<&'a str>,
    line: Option<usize>,
}

/// The place of a finding on `path` in layer `layer`: the Dockerfile's line when known, else the
/// file in the image.
fn place<'a>(
    path: Option<&'a str>,
    layer: Option<usize>,
    dockerfile: Option<&'a DockerfileLines>,
) -> Place<'a> {
    match dockerfile.and_then(|d| Some((d.uri.as_str(), d.line_of(layer)?))) {
        Some((uri, line)) => Place {
            file: Some(uri),
            line: Some(line),
        },
        None => Place {
            file: path,
            line: None,
        },
    }
}

/// One annotation line: `level` is `error`, `warning` or `notice`.
fn annotation(level: &str, at: Place, title: &str, message: &str) -> String {
    let mut props = Vec::new();
    if let Some(file) = at
        .file
        .map(|f| f.trim_start_matches('/'))
        .filter(|f| !f.is_empty())
    {
        props.push(format!("file={}", property(file)));
    }
    if let Some(line) = at.line {
        props.push(format!("line={line}"));
    }
    props.push(format!("title={}", property(title)));
    format!("::{level} {}::{}\n", props.join(","), data(message))
}

fn severity_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "notice",
    }
}

/// The annotations of a verdict: one per finding no exception set aside, at the level its rule's
/// action gives (gating findings are errors).
pub fn verdict_annotations(verdict: &Verdict, dockerfile: Option<&DockerfileLines>) -> String {
    let mut out = String::new();
    for rule in &verdict.rules {
        for finding in rule.findings.iter().filter(|f| f.excepted_by.is_none()) {
            let level = if finding.gating {
                "error"
            } else {
                match finding.action.unwrap_or(rule.action) {
                    Action::Deny => "error",
                    Action::Warn => "warning",
                }
            };
            let evidence = &finding.evidence;
            let at = place(evidence.path.as_deref(), evidence.layer_index, dockerfile);
            let message = match (at.line, &evidence.path) {
                (Some(_), Some(path)) => format!("{} ({path})", finding.message),
                _ => finding.message.clone(),
            };
            out.push_str(&annotation(
                level,
                at,
                &format!("vouch {}: {}", rule.id, finding.code),
                &message,
            ));
        }
    }
    let outcome = match verdict.outcome {
        Outcome::Passed => "notice",
        Outcome::Failed => "error",
    };
    out.push_str(&annotation(
        outcome,
        Place {
            file: None,
            line: None,
        },
        "vouch check",
        &format!(
            "{} {}: {} rules, {} failed, {} warned",
            verdict.image.reference,
            outcome_word(verdict.outcome),
            verdict.summary.rules,
            verdict.summary.failed,
            verdict.summary.warned
        ),
    ));
    out
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "PASSED",
        Outcome::Failed => "FAILED",
    }
}

/// The job summary of a verdict: the outcome, the rules' table, and the findings.
pub fn verdict_summary(verdict: &Verdict) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## vouch check: {} {}\n",
        cell(&verdict.image.reference),
        outcome_word(verdict.outcome)
    );
    let _ = writeln!(
        md,
        "Image digest `{}`, policy {} (`{}`).\n",
        cell(&verdict.image.digest),
        cell(&verdict.policy.name),
        cell(&verdict.policy.digest)
    );
    if !verdict.excluded.is_empty() {
        let _ = writeln!(
            md,
            "Not read (`--exclude`): {}\n",
            cell(&verdict.excluded.join(", "))
        );
    }
    md.push_str("| Status | Rule | Kind | Findings |\n|---|---|---|---|\n");
    for rule in &verdict.rules {
        let status = match rule.status {
            RuleStatus::Passed => "✅ pass",
            RuleStatus::Failed => "❌ FAIL",
            RuleStatus::Warned => "⚠️ warn",
            RuleStatus::NotApplicable => "➖ n/a",
        };
        let counted = rule
            .findings
            .iter()
            .filter(|f| f.excepted_by.is_none())
            .count();
        let _ = writeln!(
            md,
            "| {status} | {} | {} | {counted} |",
            cell(&rule.id),
            cell(rule.kind)
        );
    }
    let findings: Vec<_> = verdict
        .rules
        .iter()
        .flat_map(|r| r.findings.iter().map(move |f| (r, f)))
        .filter(|(_, f)| f.excepted_by.is_none())
        .collect();
    if !findings.is_empty() {
        md.push_str("\n| Rule | Code | Finding | Where |\n|---|---|---|---|\n");
        for (rule, finding) in findings.iter().take(SUMMARY_ROWS) {
            let place = finding
                .evidence
                .path
                .as_deref()
                .or(finding.evidence.purl.as_deref())
                .unwrap_or("");
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                cell(&rule.id),
                cell(&finding.code.to_string()),
                cell(&finding.message),
                cell(place)
            );
        }
        if findings.len() > SUMMARY_ROWS {
            let _ = writeln!(
                md,
                "\n… and {} more findings.",
                findings.len() - SUMMARY_ROWS
            );
        }
    }
    md.push('\n');
    md
}

/// The annotations of a scan: one per finding VEX does not suppress, at the level its severity
/// gives, on the component's evidence file (`paths`, by purl).
pub fn scan_annotations(
    image: &Image,
    collected: &Collected,
    paths: &std::collections::HashMap<String, String>,
    dockerfile: Option<&DockerfileLines>,
) -> String {
    let mut out = String::new();
    for f in collected.findings.iter().filter(|f| !f.suppressed()) {
        let fix = f
            .fixed_version
            .as_deref()
            .map(|v| format!(", fixed in {v}"))
            .unwrap_or_default();
        let path = paths.get(&f.purl).map(String::as_str);
        let at = place(path, f.layer_index, dockerfile);
        let within = match (at.line, path) {
            (Some(_), Some(path)) => format!(" ({path})"),
            _ => String::new(),
        };
        out.push_str(&annotation(
            severity_level(f.severity),
            at,
            &format!("vouch {} ({})", f.id, f.severity),
            &format!(
                "{} {} in {}{fix}{within}",
                f.package, f.version, image.reference
            ),
        ));
    }
    out
}

/// The job summary of a scan: counts by severity and the findings' table.
pub fn scan_summary(image: &Image, collected: &Collected) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "## vouch scan: {}\n", cell(&image.reference));
    let open: Vec<_> = collected
        .findings
        .iter()
        .filter(|f| !f.suppressed())
        .collect();
    let count = |s: Severity| open.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        md,
        "| Critical | High | Medium | Low | Unknown | Suppressed by VEX |\n|---|---|---|---|---|---|\n| {} | {} | {} | {} | {} | {} |\n",
        count(Severity::Critical),
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low),
        count(Severity::Unknown),
        collected.findings.len() - open.len()
    );
    if !open.is_empty() {
        md.push_str(
            "| Severity | Vulnerability | Package | Version | Fixed in |\n|---|---|---|---|---|\n",
        );
        for f in open.iter().take(SUMMARY_ROWS) {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                f.severity,
                cell(&f.id),
                cell(&f.package),
                cell(&f.version),
                cell(f.fixed_version.as_deref().unwrap_or(""))
            );
        }
        if open.len() > SUMMARY_ROWS {
            let _ = writeln!(md, "\n… and {} more findings.", open.len() - SUMMARY_ROWS);
        }
    }
    md.push('\n');
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_cannot_end_its_annotation_or_start_a_command() {
        let line = annotation(
            "error",
            Place {
                file: Some("/usr/lib/a,b:c"),
                line: None,
            },
            "t,i:t%",
            "evil\n::add-mask::x\r%0A",
        );
        assert_eq!(
            line,
            "::error file=usr/lib/a%2Cb%3Ac,title=t%2Ci%3At%25::evil%0A::add-mask::x%0D%250A\n"
        );
        assert_eq!(line.matches('\n').count(), 1);
    }
}
