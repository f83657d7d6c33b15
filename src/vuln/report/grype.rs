//! Grype's JSON report (`grype/presenter/models`).

use super::*;

#[derive(Deserialize)]
pub struct Report {
    matches: Vec<Match>,
    source: Source,
}

#[derive(Deserialize)]
struct Source {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    target: serde_json::Value,
}

#[derive(Deserialize)]
struct Match {
    vulnerability: Vulnerability,
    #[serde(rename = "relatedVulnerabilities", default)]
    related: Vec<Related>,
    artifact: Artifact,
}

#[derive(Deserialize)]
struct Vulnerability {
    id: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    cvss: Vec<Cvss>,
    #[serde(default)]
    fix: Option<Fix>,
}

#[derive(Deserialize)]
struct Related {
    id: String,
}

#[derive(Deserialize)]
struct Cvss {
    #[serde(default)]
    vector: Option<String>,
}

#[derive(Deserialize)]
struct Fix {
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    state: String,
}

#[derive(Deserialize)]
struct Artifact {
    name: String,
    #[serde(default)]
    version: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    locations: Vec<Location>,
    #[serde(default)]
    purl: Option<String>,
}

#[derive(Deserialize)]
struct Location {
    #[serde(rename = "layerID", default)]
    layer_id: Option<String>,
}

impl Report {
    pub(super) fn identity(&self) -> Identity {
        let target = &self.source.target;
        let text = |key: &str| {
            target
                .get(key)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut digests: Vec<String> = target
            .get("repoDigests")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str().and_then(repo_digest))
            .collect();
        digests.extend(text("manifestDigest"));
        Identity {
            image_id: if self.source.kind == "image" {
                text("imageID")
            } else {
                None
            },
            digests: if self.source.kind == "image" {
                digests
            } else {
                Vec::new()
            },
            kind: self.source.kind.clone(),
        }
    }

    pub(super) fn findings(self) -> Vec<Stated> {
        self.matches
            .into_iter()
            .map(|m| {
                let v = m.vulnerability;
                let fixed = v
                    .fix
                    .filter(|f| f.state == "fixed")
                    .and_then(|f| f.versions.into_iter().next());
                Stated {
                    aliases: m
                        .related
                        .into_iter()
                        .map(|r| r.id)
                        .filter(|id| *id != v.id)
                        .collect(),
                    id: v.id,
                    purl: m.artifact.purl.filter(|p| !p.is_empty()),
                    kind: m.artifact.kind,
                    name: m.artifact.name,
                    version: m.artifact.version,
                    severity: severity::from_name(&v.severity).unwrap_or(Severity::Unknown),
                    fixed,
                    diff_id: m.artifact.locations.into_iter().find_map(|l| l.layer_id),
                    title: v.description.as_deref().and_then(headline),
                    cvss: v.cvss.into_iter().filter_map(|c| c.vector).collect(),
                    published: None,
                }
            })
            .collect()
    }
}
