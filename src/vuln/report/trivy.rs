//! Trivy's JSON report (`pkg/types/report.go`, schema version 2).

use super::*;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Report {
    #[serde(default)]
    artifact_type: String,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    results: Vec<Result>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    #[serde(rename = "ImageID", default)]
    image_id: String,
    #[serde(default)]
    repo_digests: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Result {
    #[serde(rename = "Type", default)]
    kind: String,
    #[serde(default)]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Vulnerability {
    #[serde(rename = "VulnerabilityID")]
    vulnerability_id: String,
    pkg_name: String,
    #[serde(default)]
    pkg_identifier: Option<PkgIdentifier>,
    #[serde(default)]
    installed_version: String,
    #[serde(default)]
    fixed_version: String,
    #[serde(default)]
    layer: Option<Layer>,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(rename = "CVSS", default)]
    cvss: HashMap<String, Cvss>,
    #[serde(default)]
    published_date: Option<String>,
}

#[derive(Deserialize)]
struct PkgIdentifier {
    #[serde(rename = "PURL", default)]
    purl: Option<String>,
}

#[derive(Deserialize)]
struct Layer {
    #[serde(rename = "DiffID", default)]
    diff_id: Option<String>,
}

#[derive(Deserialize)]
struct Cvss {
    #[serde(rename = "V3Vector", default)]
    v3: Option<String>,
    #[serde(rename = "V40Vector", default)]
    v40: Option<String>,
}

impl Report {
    pub(super) fn identity(&self) -> Identity {
        Identity {
            image_id: Some(self.metadata.image_id.clone()).filter(|id| !id.is_empty()),
            digests: self
                .metadata
                .repo_digests
                .iter()
                .filter_map(|d| repo_digest(d))
                .collect(),
            kind: if self.artifact_type.is_empty() {
                "target of unknown type".into()
            } else {
                self.artifact_type.clone()
            },
        }
    }

    pub(super) fn findings(self) -> Vec<Stated> {
        let mut out = Vec::new();
        for result in self.results {
            for v in result.vulnerabilities {
                // Trivy's FixedVersion lists every fixing version, comma-separated.
                let fixed = v
                    .fixed_version
                    .split(',')
                    .map(str::trim)
                    .find(|f| !f.is_empty())
                    .map(str::to_string);
                let mut cvss: Vec<String> = v
                    .cvss
                    .values()
                    .flat_map(|c| [c.v3.clone(), c.v40.clone()])
                    .flatten()
                    .collect();
                cvss.sort();
                cvss.dedup();
                out.push(Stated {
                    id: v.vulnerability_id,
                    aliases: Vec::new(),
                    purl: v.pkg_identifier.and_then(|p| p.purl),
                    kind: result.kind.clone(),
                    name: v.pkg_name,
                    version: v.installed_version,
                    severity: severity::from_name(&v.severity).unwrap_or(Severity::Unknown),
                    fixed,
                    diff_id: v.layer.and_then(|l| l.diff_id),
                    title: v.title.as_deref().and_then(headline),
                    cvss,
                    published: v.published_date,
                });
            }
        }
        out
    }
}
