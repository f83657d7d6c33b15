//! The policy engine: the organisation's image rules ([`config::Policy`], loaded from YAML or JSON and
//! checked before anything runs) evaluated over an image's SBOM, configuration and file facts
//! ([`input::Input`]) into an explained [`verdict::Verdict`]. Exceptions cover single findings for
//! a reason until a date; an expired exception or one that matched nothing is reported.

pub mod carried;
pub mod config;
pub mod diags;
pub mod file;
pub mod input;
pub mod rules;
pub mod verdict;

pub use config::Policy;
pub use diags::{Code, PolicyError};
pub use input::Input;
pub use verdict::Verdict;

use file::Action;
use rules::Check;
use verdict::{
    ExceptionResult, ExceptionStatus, ImageRef, Outcome, PolicyRef, RuleResult, RuleStatus, Summary,
};

/// Evaluates every rule of `policy` over `input`. `evaluated_at` is the RFC 3339 time to record.
pub fn evaluate(policy: &Policy, input: &Input, evaluated_at: &str) -> Verdict {
    evaluate_rules(policy, |_| true, input, evaluated_at)
}

/// Evaluates only the `vulnerabilities` rules of `policy` (and their exceptions): the re-judgment
/// of an attested image, whose signed SBOM and today's vulnerability data are all that is read.
pub fn evaluate_vulnerabilities(policy: &Policy, input: &Input, evaluated_at: &str) -> Verdict {
    evaluate_rules(
        policy,
        |rule| rule.check.kind() == "vulnerabilities",
        input,
        evaluated_at,
    )
}

/// Evaluates the rules of `policy` that `keep` keeps.
fn evaluate_rules(
    policy: &Policy,
    keep: impl Fn(&config::Rule) -> bool,
    input: &Input,
    evaluated_at: &str,
) -> Verdict {
    let mut exceptions: Vec<ExceptionResult> = policy
        .exceptions
        .iter()
        .map(|e| ExceptionResult {
            rule: e.rule.clone(),
            matches: e.matches.clone(),
            reason: e.reason.clone(),
            expires: e.expires.clone(),
            // An exception applies through its `expires` day.
            status: if e.expires.as_deref().is_some_and(|d| input.today > d) {
                ExceptionStatus::Expired
            } else {
                ExceptionStatus::Unmatched
            },
            matched: 0,
        })
        .collect();
    let kept: Vec<&config::Rule> = policy.rules.iter().filter(|r| keep(r)).collect();
    let mut summary = Summary {
        rules: kept.len(),
        ..Default::default()
    };
    let mut rules = Vec::with_capacity(kept.len());
    for rule in kept {
        let excepted = |keys: &[String]| {
            policy.exceptions.iter().zip(&exceptions).any(|(e, state)| {
                e.rule == rule.id
                    && state.status != ExceptionStatus::Expired
                    && keys.iter().any(|k| e.pattern.is_match(k))
            })
        };
        let evaluation = match (&rule.check, input.files, input.prior) {
            (Check::Files(_) | Check::FileContent(_), None, Some(prior)) => {
                carried::findings(prior, &rule.id)
            }
            _ => rule.check.evaluate(input, &excepted),
        };
        let (mut findings, note) = match evaluation {
            Ok(findings) => (findings, None),
            Err(note) => (Vec::new(), Some(note)),
        };
        for finding in &mut findings {
            for (index, exception) in policy.exceptions.iter().enumerate() {
                if exception.rule != rule.id
                    || !finding.keys.iter().any(|k| exception.pattern.is_match(k))
                {
                    continue;
                }
                let result = &mut exceptions[index];
                result.matched += 1;
                if result.status == ExceptionStatus::Expired {
                    continue;
                }
                result.status = ExceptionStatus::Applied;
                finding.excepted_by = Some(index);
                break;
            }
            let action = finding.action.unwrap_or(rule.action);
            finding.gating = action == Action::Deny && finding.excepted_by.is_none();
            if finding.excepted_by.is_some() {
                summary.excepted_findings += 1;
            } else if finding.gating {
                summary.gating_findings += 1;
            } else {
                summary.reported_findings += 1;
            }
        }
        let open = findings.iter().any(|f| f.excepted_by.is_none());
        let gating = findings.iter().any(|f| f.gating);
        let status = match (&note, open, gating) {
            (Some(_), _, _) => RuleStatus::NotApplicable,
            (None, false, _) => RuleStatus::Passed,
            (None, true, true) => RuleStatus::Failed,
            (None, true, false) => RuleStatus::Warned,
        };
        match status {
            RuleStatus::Failed => summary.failed += 1,
            RuleStatus::Warned => summary.warned += 1,
            RuleStatus::NotApplicable => summary.not_applicable += 1,
            RuleStatus::Passed => {}
        }
        rules.push(RuleResult {
            id: rule.id.clone(),
            kind: rule.check.kind(),
            action: rule.action,
            status,
            message: rule.message.clone(),
            note,
            findings,
        });
    }
    Verdict {
        outcome: if summary.gating_findings > 0 {
            Outcome::Failed
        } else {
            Outcome::Passed
        },
        policy: PolicyRef {
            name: policy.name.clone(),
            source: policy.source.clone(),
            digest: policy.digest.clone(),
        },
        image: ImageRef {
            reference: input.image.reference.clone(),
            name: input.image.name.clone(),
            digest: input.image.digest.clone(),
            id: input.image.id.clone(),
        },
        evaluated_at: evaluated_at.to_string(),
        summary,
        rules,
        exceptions,
        vulnerability_sources: None,
        judged_layers: None,
        excluded: Vec::new(),
    }
}
