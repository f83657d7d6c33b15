//! The verdict: every rule's result with its findings and their evidence, which findings gated and
//! which were only reported, the exceptions and what became of them, and the policy's digest. Its
//! JSON form is described by `schemas/verdict.schema.json`; [`write_table`] is the human view.

use super::diags::Code;
use super::file::{Action, Severity};
use serde::Serialize;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    #[serde(rename = "PASSED")]
    Passed,
    #[serde(rename = "FAILED")]
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// No finding (or every finding excepted).
    Passed,
    /// A `deny` rule with findings.
    Failed,
    /// A `warn` rule with findings.
    Warned,
    /// The rule needs input that was not given (vulnerability findings).
    NotApplicable,
}

/// Where a finding was seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Evidence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The diffID of the layer that brought it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_index: Option<usize>,
    /// Whether that layer is the base image's (absent when the base is unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_image_layer: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    /// The value that was checked (a user, a label value, a license expression).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The line of `path` the finding is about (a configuration setting, a matched pattern).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// One violation a rule found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable code, documented in docs/policy.md (`config.root-user`).
    pub code: Code,
    pub message: String,
    /// True when it fails the verdict: a `deny` finding that no exception covers.
    pub gating: bool,
    /// Its action, when the rule gives this kind of finding its own (`kev: warn` in a `deny`
    /// rule); otherwise the rule's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// The exception that covers it (index into the verdict's `exceptions`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excepted_by: Option<usize>,
    pub evidence: Evidence,
    /// What exceptions match against: purls, paths, vulnerability ids, the code.
    #[serde(skip)]
    pub keys: Vec<String>,
}

impl Finding {
    pub fn new(code: Code, message: String, evidence: Evidence) -> Finding {
        Finding {
            code,
            message,
            gating: false,
            action: None,
            excepted_by: None,
            evidence,
            keys: vec![code.as_str().to_string()],
        }
    }

    pub fn keyed(mut self, key: impl Into<String>) -> Finding {
        self.keys.push(key.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleResult {
    pub id: String,
    pub kind: &'static str,
    pub action: Action,
    pub status: RuleStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Why the rule could not be evaluated, for `not_applicable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionStatus {
    /// It covered at least one finding.
    Applied,
    /// Its `expires` date has passed: it no longer applies.
    Expired,
    /// It covered nothing: stale, or a typo.
    Unmatched,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExceptionResult {
    pub rule: String,
    #[serde(rename = "match")]
    pub matches: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    pub status: ExceptionStatus,
    /// Findings it covered (for an expired one: findings it would have covered).
    pub matched: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRef {
    pub name: String,
    /// The file it came from, or `built-in default`.
    pub source: String,
    /// `sha256:` of the policy file's bytes.
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRef {
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub digest: String,
    pub id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub rules: usize,
    pub failed: usize,
    pub warned: usize,
    pub not_applicable: usize,
    /// Findings that fail the verdict.
    pub gating_findings: usize,
    /// Findings reported without failing it (warn rules).
    pub reported_findings: usize,
    pub excepted_findings: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    #[serde(rename = "verificationResult")]
    pub outcome: Outcome,
    pub policy: PolicyRef,
    pub image: ImageRef,
    #[serde(rename = "evaluatedAt")]
    pub evaluated_at: String,
    pub summary: Summary,
    pub rules: Vec<RuleResult>,
    pub exceptions: Vec<ExceptionResult>,
    /// The vulnerability sources the findings came from and what each VEX statement did, when a
    /// source was given.
    #[serde(
        rename = "vulnerabilitySources",
        skip_serializing_if = "Option::is_none"
    )]
    pub vulnerability_sources: Option<VulnerabilitySources>,
    /// Present when only the layers above the base image were judged (`check --only-app-layers`):
    /// packages, files and vulnerabilities of the base's layers were left out.
    #[serde(rename = "judgedLayers", skip_serializing_if = "Option::is_none")]
    pub judged_layers: Option<JudgedLayers>,
    /// The paths of the image left out of the read (`--exclude`): nothing under them was judged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<String>,
}

/// Which layers a verdict judged, when not all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JudgedLayers {
    /// The lowest layer judged (its index, lowest 0): the base image's layers are those below.
    #[serde(rename = "fromLayer")]
    pub from_layer: usize,
    /// The base image, when known by name.
    #[serde(rename = "baseImage", skip_serializing_if = "Option::is_none")]
    pub base_image: Option<String>,
}

/// The inputs behind the vulnerability rules: each source file (with its digest) and each VEX
/// statement with the number of findings it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VulnerabilitySources {
    pub sources: Vec<crate::vuln::sources::SourceRef>,
    pub vex: Vec<crate::vuln::vex::StatementResult>,
}

/// The readable view: one line per rule, its findings under it, then exceptions and the outcome.
pub fn write_table(verdict: &Verdict, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "Policy {} ({}, {})",
        verdict.policy.name, verdict.policy.source, verdict.policy.digest
    )?;
    writeln!(
        out,
        "Image  {} ({})",
        verdict
            .image
            .name
            .as_deref()
            .unwrap_or(&verdict.image.reference),
        verdict.image.digest
    )?;
    if let Some(judged) = &verdict.judged_layers {
        writeln!(
            out,
            "Layers {} and up only: the base image's ({}) were not judged",
            judged.from_layer + 1,
            crate::text::escape_controls(judged.base_image.as_deref().unwrap_or("unnamed"))
        )?;
    }
    if !verdict.excluded.is_empty() {
        writeln!(
            out,
            "Not read (--exclude): {}",
            crate::text::escape_controls(&verdict.excluded.join(", "))
        )?;
    }
    writeln!(out)?;
    for rule in &verdict.rules {
        let status = match rule.status {
            RuleStatus::Passed => "pass",
            RuleStatus::Failed => "FAIL",
            RuleStatus::Warned => "warn",
            RuleStatus::NotApplicable => "n/a ",
        };
        let counted = rule
            .findings
            .iter()
            .filter(|f| f.excepted_by.is_none())
            .count();
        let excepted = rule.findings.len() - counted;
        let mut line = format!("{status}  {} [{}]", rule.id, rule.kind);
        if counted > 0 {
            line.push_str(&format!(" {counted} finding{}", plural(counted)));
        }
        if excepted > 0 {
            line.push_str(&format!(" ({excepted} excepted)"));
        }
        if let Some(note) = &rule.note {
            line.push_str(&format!(": {note}"));
        }
        writeln!(out, "{line}")?;
        if counted > 0 {
            if let Some(message) = &rule.message {
                writeln!(out, "      {message}")?;
            }
        }
        for finding in rule.findings.iter().filter(|f| f.excepted_by.is_none()) {
            let mut where_ = Vec::new();
            if let Some(path) = finding
                .evidence
                .path
                .as_ref()
                .filter(|p| !finding.message.contains(p.as_str()))
            {
                where_.push(path.clone());
            }
            if let Some(index) = finding.evidence.layer_index {
                let base = match finding.evidence.base_image_layer {
                    Some(true) => ", base image",
                    Some(false) => ", added",
                    None => "",
                };
                where_.push(format!("layer {index}{base}"));
            }
            let where_ = if where_.is_empty() {
                String::new()
            } else {
                format!(" ({})", where_.join(", "))
            };
            writeln!(out, "      {}: {}{where_}", finding.code, finding.message)?;
        }
    }
    if !verdict.exceptions.is_empty() {
        writeln!(out)?;
        for exception in &verdict.exceptions {
            let status = match exception.status {
                ExceptionStatus::Applied => "applied",
                ExceptionStatus::Expired => "EXPIRED",
                ExceptionStatus::Unmatched => "unmatched",
            };
            writeln!(
                out,
                "exception {status}: {} {} ({} finding{}): {}",
                exception.rule,
                exception.matches,
                exception.matched,
                plural(exception.matched),
                exception.reason
            )?;
        }
    }
    if let Some(sources) = &verdict.vulnerability_sources {
        writeln!(out)?;
        let names: Vec<String> = sources
            .sources
            .iter()
            .map(|s| format!("{} {}", s.kind, s.path))
            .collect();
        writeln!(out, "vulnerability sources: {}", names.join(", "))?;
        for statement in &sources.vex {
            writeln!(
                out,
                "vex {}: {} {} for {} ({} finding{}, {})",
                statement.outcome,
                statement.vulnerability,
                statement.status.name(),
                statement.products.join(", "),
                statement.matched,
                plural(statement.matched),
                statement.document
            )?;
        }
    }
    let s = &verdict.summary;
    writeln!(out)?;
    writeln!(
        out,
        "{}: {} rule{}, {} failed, {} warned, {} not applicable; {} gating finding{}, {} reported, {} excepted",
        match verdict.outcome {
            Outcome::Passed => "PASSED",
            Outcome::Failed => "FAILED",
        },
        s.rules,
        plural(s.rules),
        s.failed,
        s.warned,
        s.not_applicable,
        s.gating_findings,
        plural(s.gating_findings),
        s.reported_findings,
        s.excepted_findings
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
