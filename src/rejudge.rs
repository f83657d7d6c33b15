//! Judging an attested image again without the image: the SBOM of a verified attestation set (the
//! signed statement, never the image's layers) matched against today's vulnerability data and
//! judged by the vulnerability rules of the attested policy. The check `verdict.rejudged` it adds
//! to the set's report fails on each gating finding the attested verdict did not have. `verify
//! --rejudge` and `serve --rejudge` both use it; many judgments in a row share one
//! [`crate::vuln::db::index::Index`] through the sources.

use crate::attest::statement::Statement;
use crate::clock::now;
use crate::policy::input::{ImageFacts, Input};
use crate::policy::{evaluate_vulnerabilities, Policy};
use crate::sbom::read::Sbom;
use crate::verify::Report;
use crate::vuln::sources::{collect, SourceError, Sources};
use crate::vuln::ImageSubject;

/// The check a re-judgment adds.
pub const CHECK: &str = "verdict.rejudged";

/// A re-judgment: the attested policy (which must be the one the verdict names) and today's
/// sources of vulnerability findings.
#[derive(Debug, Clone, Copy)]
pub struct Rejudge<'a> {
    pub policy: &'a Policy,
    pub sources: &'a Sources,
}

/// Why a re-judgment could not be made at all (a verdict it judges fails its check instead).
#[derive(Debug, thiserror::Error)]
pub enum RejudgeError {
    #[error(transparent)]
    Sources(#[from] SourceError),
    #[error("the signed SBOM statement does not read as JSON: {0}")]
    Statement(#[from] serde_json::Error),
}

impl RejudgeError {
    /// Whether the user gave something unusable (a source that is not one).
    pub fn is_usage(&self) -> bool {
        matches!(self, RejudgeError::Sources(e) if e.is_usage())
    }
}

/// Judges the SBOM of `report`'s set again, when every check passed (a set that did not verify is
/// left as it is: its statements are not trusted), and adds [`CHECK`]. Returns the sources'
/// warnings.
pub fn rejudge(report: &mut Report, rejudge: &Rejudge) -> Result<Vec<String>, RejudgeError> {
    let Some(trusted) = report.trusted.take() else {
        return Ok(Vec::new());
    };
    let policy = rejudge.policy;
    if !trusted.policy_digest.eq_ignore_ascii_case(&policy.digest) {
        report.add_check(
            CHECK,
            Err(format!(
                "the verdict was judged with policy {}, and the policy given ({}) is {}: pass the attested policy with --policy",
                trusted.policy_digest, policy.source, policy.digest
            )),
        );
        return Ok(Vec::new());
    }
    let mut statement: Statement = serde_json::from_slice(&trusted.sbom_statement)?;
    let sbom = Sbom::Saved(statement.predicate.take());
    // The SBOM must describe the image the statement's subjects name (they name its ID beside its
    // manifest digest, which the verification matched).
    if let Sbom::Saved(document) = &sbom {
        if let Ok(recorded) = crate::sbom::read::recorded_image(document, &report.image) {
            if !statement.names_digest(&recorded.id) {
                report.add_check(
                    CHECK,
                    Err(format!(
                        "the signed SBOM describes image {}, which its statement does not name",
                        recorded.id
                    )),
                );
                return Ok(Vec::new());
            }
        }
    }
    let components = sbom.components();
    let subject = ImageSubject {
        reference: report.image.clone(),
        id: report.digests.last().cloned().unwrap_or_default(),
        digests: report.digests.clone(),
        repositories: Vec::new(),
        diff_ids: Vec::new(),
    };
    let collected = collect(&components, &subject, rejudge.sources)?;
    let image = ImageFacts {
        reference: report.image.clone(),
        digest: subject.id.clone(),
        id: subject.id.clone(),
        ..Default::default()
    };
    let (today, stamp) = now();
    let input = Input {
        image: &image,
        components: &components,
        files: None,
        prior: None,
        vulnerabilities: Some(&collected.findings),
        sbom: &sbom,
        judged_from_layer: None,
        today: &today,
    };
    let verdict = evaluate_vulnerabilities(policy, &input, &stamp);
    let mut gating = 0;
    let mut new = Vec::new();
    for finding in verdict.rules.iter().flat_map(|r| &r.findings) {
        if !finding.gating {
            continue;
        }
        gating += 1;
        let evidence = &finding.evidence;
        let key = (
            finding.code.as_str().to_string(),
            evidence.vulnerability.clone().unwrap_or_default(),
            evidence.purl.clone().unwrap_or_default(),
        );
        if trusted.gating.contains(&key) {
            continue;
        }
        new.push(format!(
            "{} in {} ({}{}{})",
            key.1,
            key.2,
            evidence
                .severity
                .map(|s| s.to_string())
                .unwrap_or_else(|| "unknown severity".into()),
            evidence
                .fixed_version
                .as_deref()
                .map(|v| format!(", fixed in {v}"))
                .unwrap_or_default(),
            evidence
                .layer_index
                .map(|i| format!(", layer {i}"))
                .unwrap_or_default()
        ));
    }
    report.add_check(
        CHECK,
        if new.is_empty() {
            Ok(format!(
                "{} component(s) of the signed SBOM against today's data: {} finding(s), {gating} gating, none new since the attestation",
                components.len(),
                collected.findings.len()
            ))
        } else {
            Err(format!(
                "{} new gating finding(s) since the attestation: {}",
                new.len(),
                new.join("; ")
            ))
        },
    );
    Ok(collected.warnings)
}
