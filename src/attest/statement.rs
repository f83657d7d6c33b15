//! in-toto Statements v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md) for
//! an image: subjects are the image's registry manifest digest (when it has one) and its config
//! digest, named by the repository; predicates are the CycloneDX SBOM and a SLSA verification
//! summary (VSA v1) of the policy verdict.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The v0.1 type, refused where v1 is required.
pub const STATEMENT_TYPE_V01: &str = "https://in-toto.io/Statement/v0.1";
pub const SBOM_PREDICATE: &str = "https://cyclonedx.org/bom";
pub const VSA_PREDICATE: &str = "https://slsa.dev/verification_summary/v1";
/// `verifier.id` of the summaries vouch writes.
pub const VERIFIER_ID: &str = "https://github.com/vouch-dev/vouch";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    pub digest: BTreeMap<String, String>,
}

/// A statement; its predicate a JSON value as read, or anything serializable when written (an
/// SBOM serialized entry by entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement<P = Value> {
    #[serde(rename = "_type")]
    pub kind: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: P,
}

/// The image a statement is about.
#[derive(Debug, Clone)]
pub struct AttestedImage {
    /// The repository (`registry.example/team/app`), or the reference when it has none.
    pub name: String,
    /// `sha256:…` of the registry manifest, when known.
    pub manifest_digest: Option<String>,
    /// `sha256:…` of the config (the image ID).
    pub config_digest: String,
    /// `sha256:…` of the image index the image is published under, when the statements are also
    /// attached to it (a tag naming a single-platform index, as buildx pushes): cosign and the
    /// admission controllers built on it resolve the tag to the index and look for a subject naming it.
    pub index_digest: Option<String>,
}

impl AttestedImage {
    /// The subjects: the manifest digest first when known, then the config digest, then the index
    /// digest when there is one.
    pub fn subjects(&self) -> Vec<Subject> {
        self.manifest_digest
            .iter()
            .chain(std::iter::once(&self.config_digest))
            .chain(self.index_digest.iter())
            .filter_map(|d| d.strip_prefix("sha256:"))
            .map(|hex| Subject {
                name: self.name.clone(),
                digest: BTreeMap::from([("sha256".to_string(), hex.to_string())]),
            })
            .collect()
    }

    /// The image a statement's subjects name, as [`AttestedImage::subjects`] lists them around
    /// `config_digest` (the image ID): the manifest digest before it, the index digest after it.
    /// `None` when no subject names the image ID.
    pub fn from_subjects(subjects: &[Subject], config_digest: &str) -> Option<AttestedImage> {
        let digest = |s: &Subject| s.digest.get("sha256").map(|hex| format!("sha256:{hex}"));
        let at = subjects
            .iter()
            .position(|s| digest(s).is_some_and(|d| d.eq_ignore_ascii_case(config_digest)))?;
        Some(AttestedImage {
            name: subjects[at].name.clone(),
            manifest_digest: at.checked_sub(1).and_then(|i| digest(&subjects[i])),
            config_digest: config_digest.to_string(),
            index_digest: subjects.get(at + 1).and_then(digest),
        })
    }

    /// `pkg:docker/NAME@DIGEST`: the VSA's `resourceUri`.
    pub fn resource_uri(&self) -> String {
        let digest = self
            .manifest_digest
            .as_deref()
            .unwrap_or(&self.config_digest);
        format!("pkg:docker/{}@{}", self.name, digest.replace(':', "%3A"))
    }
}

impl<P> Statement<P> {
    pub fn new(subject: &AttestedImage, predicate_type: &str, predicate: P) -> Statement<P> {
        Statement {
            kind: STATEMENT_TYPE.into(),
            subject: subject.subjects(),
            predicate_type: predicate_type.into(),
            predicate,
        }
    }

    /// Whether a subject carries `digest` (`sha256:…`).
    pub fn names_digest(&self, digest: &str) -> bool {
        let Some((algorithm, hex)) = digest.split_once(':') else {
            return false;
        };
        self.subject.iter().any(|s| {
            s.digest
                .get(algorithm)
                .is_some_and(|d| d.eq_ignore_ascii_case(hex))
        })
    }
}

/// The SLSA VSA v1 predicate of a verdict; the rule-by-rule results ride in `vouch.verdict`.
/// `sbom_statement_digest` (`sha256:` of the SBOM statement's bytes) and `sbom_statement_uri` name the
/// statement the verdict was made from.
pub fn verification_summary(
    summary: &super::SetInput,
    sbom_statement_digest: &str,
    sbom_statement_uri: &str,
) -> Value {
    let hex = |d: &str| d.strip_prefix("sha256:").unwrap_or(d).to_string();
    let policy_uri = if summary.policy_source == crate::policy::config::DEFAULT_SOURCE {
        "https://github.com/vouch-dev/vouch/blob/main/src/policy/default-policy.yaml".to_string()
    } else {
        format!("file:{}", summary.policy_source)
    };
    json!({
        "verifier": {"id": VERIFIER_ID, "version": {"docker-vouch": env!("CARGO_PKG_VERSION")}},
        "timeVerified": summary.time_verified,
        "resourceUri": summary.subject.resource_uri(),
        "policy": {"uri": policy_uri, "digest": {"sha256": hex(summary.policy_digest)}},
        "inputAttestations": [{
            "uri": sbom_statement_uri,
            "digest": {"sha256": hex(sbom_statement_digest)},
        }],
        "verificationResult": summary.result,
        "verifiedLevels": if summary.result == "PASSED" { json!(["VOUCH_POLICY_PASSED"]) } else { json!([]) },
        "vouch": {"verdict": summary.verdict},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_both_digests() {
        let subject = AttestedImage {
            name: "registry.example/team/app".into(),
            manifest_digest: Some(format!("sha256:{}", "a".repeat(64))),
            config_digest: format!("sha256:{}", "b".repeat(64)),
            index_digest: None,
        };
        let statement = Statement::new(&subject, SBOM_PREDICATE, json!({}));
        assert_eq!(statement.subject.len(), 2);
        assert!(statement.names_digest(&format!("sha256:{}", "b".repeat(64))));
        assert!(!statement.names_digest(&format!("sha256:{}", "c".repeat(64))));
        assert_eq!(
            subject.resource_uri(),
            format!(
                "pkg:docker/registry.example/team/app@sha256%3A{}",
                "a".repeat(64)
            )
        );
        let text = serde_json::to_value(&statement).unwrap();
        assert_eq!(text["_type"], STATEMENT_TYPE);
        assert_eq!(text["subject"][1]["digest"]["sha256"], "b".repeat(64));

        let published = AttestedImage {
            index_digest: Some(format!("sha256:{}", "d".repeat(64))),
            ..subject
        };
        let statement = Statement::new(&published, SBOM_PREDICATE, json!({}));
        assert_eq!(statement.subject.len(), 3);
        assert!(statement.names_digest(&format!("sha256:{}", "d".repeat(64))));
        // The resource is still the platform image.
        assert!(published.resource_uri().ends_with(&"a".repeat(64)));
        // The subjects read back as the image they were written of.
        let config = format!("sha256:{}", "b".repeat(64));
        let back = AttestedImage::from_subjects(&statement.subject, &config).unwrap();
        assert_eq!(back.subjects(), published.subjects());
        assert_eq!(back.index_digest, published.index_digest);
        let config_only = AttestedImage::from_subjects(&statement.subject[1..2], &config).unwrap();
        assert_eq!(
            (config_only.manifest_digest, config_only.index_digest),
            (None, None)
        );
        assert!(AttestedImage::from_subjects(&statement.subject, "sha256:00").is_none());
    }
}
