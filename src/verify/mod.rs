//! Deploy-time verification of an image's attestation set: each envelope's signature against the
//! given public keys or keyless signers ([`signers`]), its payload type, the in-toto Statement version, a subject equal to the
//! image's digest as resolved now, the predicate types, the binding of the verdict to the SBOM
//! statement, and, as asked, a PASSED verdict, its age and its policy's digest. Every check is
//! reported with a specific message; the image is verified only when all pass. A statement whose
//! signature does not verify is not looked into further: its payload is not trusted.

pub mod signers;

use crate::attest::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::attest::set::{LoadedSet, Signed};
use crate::attest::statement::{
    Statement, SBOM_PREDICATE, STATEMENT_TYPE, STATEMENT_TYPE_V01, VSA_PREDICATE,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
pub use signers::{Keyless, Signers};

/// What the verifier asks for beyond the signatures and the digest.
#[derive(Debug, Clone, Default)]
pub struct Requirements {
    /// The verdict must say PASSED.
    pub require_pass: bool,
    /// The verdict must be at most this old.
    pub max_age: Option<std::time::Duration>,
    /// The verdict's policy must have this `sha256:` digest.
    pub policy_digest: Option<String>,
}

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `sbom.signature`, `verdict.subject`, `verdict.result`, …
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// The outcome of verifying one image.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub image: String,
    /// The digests the image has now (ID and manifest digests).
    pub digests: Vec<String>,
    pub attestations: String,
    pub verified: bool,
    pub checks: Vec<Check>,
    /// What the set vouches for, once every check passed: the statements may be trusted.
    #[serde(skip)]
    pub trusted: Option<Trusted>,
}

impl Report {
    /// Adds a check made after [`verify`] (a re-judgment); the image stays verified only if it passes.
    pub fn add_check(&mut self, name: &str, result: Result<String, String>) {
        let passed = result.is_ok();
        self.checks.push(Check {
            name: name.to_string(),
            passed,
            detail: result.unwrap_or_else(|e| e),
        });
        self.verified &= passed;
    }
}

/// The checks `reports` failed, each once however many sets failed it: `check: detail; ...`.
pub fn failed_checks(reports: &[Report]) -> String {
    let mut failed: Vec<String> = Vec::new();
    for check in reports.iter().flat_map(|r| &r.checks).filter(|c| !c.passed) {
        let line = format!("{}: {}", check.name, check.detail);
        if !failed.contains(&line) {
            failed.push(line);
        }
    }
    failed.join("; ")
}

/// The contents of a set whose every check passed.
#[derive(Debug, Clone)]
pub struct Trusted {
    /// The SBOM statement's payload (the in-toto statement, its predicate the CycloneDX document).
    pub sbom_statement: Vec<u8>,
    /// The SBOM statement's envelope, as signed.
    pub sbom_envelope: Envelope,
    /// The verdict document the verification summary carries (`vouch.verdict`).
    pub verdict: serde_json::Value,
    /// `sha256:` of the policy the verdict was judged with.
    pub policy_digest: String,
    /// The verdict's findings that gated it: (code, vulnerability id, purl).
    pub gating: Vec<(String, String, String)>,
}

struct Checks(Vec<Check>);

impl Checks {
    fn add(&mut self, name: &str, result: Result<String, String>) -> bool {
        let passed = result.is_ok();
        self.0.push(Check {
            name: name.to_string(),
            passed,
            detail: result.unwrap_or_else(|e| e),
        });
        passed
    }
}

/// Verifies a loaded set against the image's current `digests`.
pub fn verify(
    image: &str,
    digests: &[String],
    set: &LoadedSet,
    signers: &Signers,
    requirements: &Requirements,
    now: time::OffsetDateTime,
) -> Report {
    let mut checks = Checks(Vec::new());
    // The SBOM's predicate is not read here (only its statement's bytes, for the binding): an SBOM
    // of tens of megabytes is skipped over, never made a JSON value.
    let sbom = statement::<serde::de::IgnoredAny>(
        &mut checks,
        "sbom",
        &set.sbom,
        signers,
        digests,
        SBOM_PREDICATE,
    );
    let verdict = statement::<VerdictPredicate>(
        &mut checks,
        "verdict",
        &set.verdict,
        signers,
        digests,
        VSA_PREDICATE,
    );
    if let (Some((_, sbom_payload)), Some((verdict, _))) = (&sbom, &verdict) {
        let digest = format!("{:x}", Sha256::digest(sbom_payload));
        let named = verdict
            .predicate
            .input_attestations
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["digest"]["sha256"].as_str() == Some(digest.as_str()));
        checks.add(
            "verdict.sbom-binding",
            if named {
                Ok(format!("the verdict names the SBOM statement (sha256:{digest}) as its input"))
            } else {
                Err(format!(
                    "the verdict's inputAttestations do not name this SBOM statement (sha256:{digest}): they come from different runs"
                ))
            },
        );
    }
    if let Some((verdict, _)) = &verdict {
        verdict_checks(&mut checks, &verdict.predicate, requirements, now);
    }
    let verified = checks.0.iter().all(|c| c.passed);
    let trusted = match (verified, sbom, verdict, &set.sbom) {
        (true, Some((_, sbom_statement)), Some((verdict, _)), Ok(sbom)) => Some(Trusted {
            sbom_statement,
            sbom_envelope: sbom.envelope.clone(),
            verdict: verdict.predicate.vouch["verdict"].clone(),
            policy_digest: format!(
                "sha256:{}",
                verdict.predicate.policy["digest"]["sha256"]
                    .as_str()
                    .unwrap_or_default()
            ),
            gating: verdict.predicate.gating(),
        }),
        _ => None,
    };
    Report {
        image: image.to_string(),
        digests: digests.to_vec(),
        attestations: set.location.clone(),
        verified,
        checks: checks.0,
        trusted,
    }
}

/// The parts of a verification summary the checks read (the rest, `vouch.verdict` among it, is
/// skipped as it is parsed). Each is taken as whatever JSON it is: a wrong type fails its check.
#[derive(Debug, Default, serde::Deserialize)]
struct VerdictPredicate {
    #[serde(rename = "verificationResult", default)]
    verification_result: serde_json::Value,
    #[serde(rename = "timeVerified", default)]
    time_verified: serde_json::Value,
    #[serde(default)]
    policy: serde_json::Value,
    #[serde(rename = "inputAttestations", default)]
    input_attestations: serde_json::Value,
    /// vouch's own part: the verdict document.
    #[serde(default)]
    vouch: serde_json::Value,
}

impl VerdictPredicate {
    /// The verdict's gating findings: (code, vulnerability id, purl).
    fn gating(&self) -> Vec<(String, String, String)> {
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        self.vouch["verdict"]["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|rule| rule["findings"].as_array().into_iter().flatten())
            .filter(|finding| finding["gating"] == true)
            .map(|finding| {
                (
                    text(&finding["code"]),
                    text(&finding["evidence"]["vulnerability"]),
                    text(&finding["evidence"]["purl"]),
                )
            })
            .collect()
    }
}

/// The checks of one envelope; the statement (its predicate read as `P`) and its payload bytes
/// when it can be trusted.
fn statement<P: serde::de::DeserializeOwned>(
    checks: &mut Checks,
    what: &str,
    signed: &Result<Signed, String>,
    signers: &Signers,
    digests: &[String],
    predicate_type: &str,
) -> Option<(Statement<P>, Vec<u8>)> {
    let name = |check: &str| format!("{what}.{check}");
    let signed = match signed {
        Ok(s) => s,
        Err(e) => {
            checks.add(&name("envelope"), Err(e.clone()));
            return None;
        }
    };
    let (payload, signer) = match signers.verify(signed, digests) {
        Ok(v) => v,
        Err(e) => {
            checks.add(&name("signature"), Err(e));
            return None;
        }
    };
    checks.add(&name("signature"), Ok(signer));
    let envelope = &signed.envelope;
    if !checks.add(
        &name("payload-type"),
        if envelope.payload_type == IN_TOTO_PAYLOAD_TYPE {
            Ok(IN_TOTO_PAYLOAD_TYPE.to_string())
        } else {
            Err(format!(
                "payload type {:?}, where an in-toto statement ({IN_TOTO_PAYLOAD_TYPE}) is required",
                envelope.payload_type
            ))
        },
    ) {
        return None;
    }
    let statement: Statement<P> = match serde_json::from_slice(&payload) {
        Ok(s) => s,
        Err(e) => {
            checks.add(
                &name("statement"),
                Err(format!("the payload is not an in-toto statement ({e})")),
            );
            return None;
        }
    };
    let version_ok = checks.add(
        &name("statement"),
        match statement.kind.as_str() {
            STATEMENT_TYPE => Ok("in-toto Statement v1".into()),
            STATEMENT_TYPE_V01 => Err(format!(
                "an in-toto Statement v0.1 ({STATEMENT_TYPE_V01}), where v1 is required"
            )),
            other => Err(format!(
                "statement type {other:?}, where {STATEMENT_TYPE} is required"
            )),
        },
    );
    let subject_ok = checks.add(
        &name("subject"),
        match digests.iter().find(|d| statement.names_digest(d)) {
            Some(d) => Ok(format!("a subject is the image's {d}")),
            None => {
                let named: Vec<String> = statement
                    .subject
                    .iter()
                    .flat_map(|s| s.digest.iter().map(|(a, h)| format!("{a}:{h}")))
                    .collect();
                Err(format!(
                    "the statement is about {}, not this image ({})",
                    named.join(", "),
                    digests.join(", ")
                ))
            }
        },
    );
    let type_ok = checks.add(
        &name("predicate-type"),
        if statement.predicate_type == predicate_type {
            Ok(predicate_type.to_string())
        } else {
            Err(format!(
                "predicate type {:?}, where {predicate_type} was expected",
                statement.predicate_type
            ))
        },
    );
    (version_ok && subject_ok && type_ok).then_some((statement, payload))
}

fn verdict_checks(
    checks: &mut Checks,
    predicate: &VerdictPredicate,
    requirements: &Requirements,
    now: time::OffsetDateTime,
) {
    let result = predicate.verification_result.as_str().unwrap_or("");
    checks.add(
        "verdict.result",
        match (result, requirements.require_pass) {
            ("PASSED", _) => Ok("PASSED".into()),
            (other, true) => Err(format!(
                "the verdict is {}, and --require-pass asks for PASSED",
                if other.is_empty() { "missing" } else { other }
            )),
            (other, false) => Ok(format!("{other} (a PASSED verdict was not required)")),
        },
    );
    if let Some(max_age) = requirements.max_age {
        let stamp = predicate.time_verified.as_str().unwrap_or("");
        let when =
            time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339);
        checks.add(
            "verdict.age",
            match when {
                Err(_) => Err(format!("timeVerified {stamp:?} is not an RFC 3339 time")),
                Ok(when) => {
                    let age = now - when;
                    let limit = time::Duration::try_from(max_age).unwrap_or(time::Duration::MAX);
                    if age > limit {
                        Err(format!(
                            "verified at {stamp}, {} ago: older than --max-age {}",
                            human(age),
                            human(limit)
                        ))
                    } else if age < -time::Duration::minutes(5) {
                        Err(format!("verified at {stamp}, in the future"))
                    } else {
                        Ok(format!(
                            "verified at {stamp}, {} ago",
                            human(age.max(time::Duration::ZERO))
                        ))
                    }
                }
            },
        );
    }
    if let Some(wanted) = &requirements.policy_digest {
        let hex = predicate.policy["digest"]["sha256"].as_str().unwrap_or("");
        let actual = format!("sha256:{hex}");
        checks.add(
            "verdict.policy",
            if actual.eq_ignore_ascii_case(wanted) {
                Ok(format!("policy {actual}"))
            } else {
                Err(format!("the verdict is for policy {actual}, not {wanted}"))
            },
        );
    }
}

fn human(d: time::Duration) -> String {
    let s = d.whole_seconds();
    if s >= 86_400 {
        format!("{}d{}h", s / 86_400, s % 86_400 / 3600)
    } else if s >= 3600 {
        format!("{}h{}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// `24h`, `30m`, `7d`, `90s`, `1h30m`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let mut total = 0u64;
    let mut number = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(format!("{text:?}: units are s, m, h, d (e.g. 24h, 30m)")),
        };
        let n: u64 = number
            .parse()
            .map_err(|_| format!("{text:?}: a number must come before each unit"))?;
        total = total.saturating_add(n.saturating_mul(unit));
        number.clear();
        any = true;
    }
    if !number.is_empty() || !any {
        return Err(format!("{text:?}: give a unit, e.g. 24h, 30m, 7d"));
    }
    Ok(std::time::Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("24h").unwrap().as_secs(), 86_400);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5_400);
        assert_eq!(parse_duration("7d").unwrap().as_secs(), 604_800);
        for bad in ["", "10", "h", "5x", "-1h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
