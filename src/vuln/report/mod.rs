//! Scanner reports users already have: Trivy JSON (`trivy image -f json`, schema version 2) and
//! Grype JSON (`grype -o json`) of the same image, turned into findings on the SBOM's components.
//! A report of another image is refused (its image ID, else its repo digests, must be this
//! image's); each finding is tied to the SBOM component with the same package URL (see
//! [`crate::purl`]), so the verdict can say which layer brought it; findings on packages the
//! SBOM does not list are kept as the report gives them, and counted.

use super::{severity, ImageSubject, Severity, VulnerabilityFinding};
use crate::fsio::read_limited;
use crate::purl::PackageUrl;
use crate::sbom::read::Component;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

mod grype;
mod trivy;

/// Largest report read.
const MAX_REPORT_BYTES: u64 = 512 * 1024 * 1024;

/// Why a report cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: cannot read the report: {detail}")]
    Unreadable { path: String, detail: String },
    #[error("{path}: not a Trivy or Grype JSON report: {detail}")]
    NotAReport { path: String, detail: String },
    #[error("{path}: this {tool} report does not name an image digest ({detail}); scan the image itself (`trivy image`, `grype IMAGE`)")]
    NoImage {
        path: String,
        tool: &'static str,
        detail: String,
    },
    #[error("{path}: this {tool} report is of image {theirs}, not of {reference} ({ours})")]
    OtherImage {
        path: String,
        tool: &'static str,
        theirs: String,
        reference: String,
        ours: String,
    },
}

/// The findings of one report.
#[derive(Debug)]
pub struct Report {
    /// `trivy` or `grype`.
    pub tool: &'static str,
    pub findings: Vec<VulnerabilityFinding>,
    /// Findings on packages the SBOM does not list.
    pub unlisted: usize,
    /// `sha256:` of the report file.
    pub digest: String,
}

/// One finding as a report states it, before it is tied to a component.
struct Stated {
    id: String,
    aliases: Vec<String>,
    purl: Option<String>,
    /// The report's package type (`debian`, `pip`; `deb`, `python`).
    kind: String,
    name: String,
    version: String,
    severity: Severity,
    fixed: Option<String>,
    diff_id: Option<String>,
    title: Option<String>,
    cvss: Vec<String>,
    /// When the vulnerability was published, where the report says.
    published: Option<String>,
}

/// Reads a report and ties its findings to `components`.
pub fn load(
    path: &Path,
    subject: &ImageSubject,
    components: &[Component],
) -> Result<Report, ReportError> {
    let shown = path.display().to_string();
    let bytes = read_limited(path, MAX_REPORT_BYTES).map_err(|detail| ReportError::Unreadable {
        path: shown.clone(),
        detail,
    })?;
    parse(&bytes, &shown, subject, components)
}

/// A report's bytes (`shown` names it in messages), tied to `components`.
pub fn parse(
    bytes: &[u8],
    shown: &str,
    subject: &ImageSubject,
    components: &[Component],
) -> Result<Report, ReportError> {
    let shown = shown.to_string();
    let not_a_report = |detail: String| ReportError::NotAReport {
        path: shown.clone(),
        detail,
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| not_a_report(e.to_string()))?;
    let (tool, stated) =
        if value.get("SchemaVersion").is_some() && value.get("ArtifactName").is_some() {
            let report: trivy::Report = serde_json::from_value(value)
                .map_err(|e| not_a_report(format!("Trivy JSON: {e}")))?;
            check_subject(&shown, "trivy", &report.identity(), subject)?;
            ("trivy", report.findings())
        } else if value.get("matches").is_some() && value.get("source").is_some() {
            let report: grype::Report = serde_json::from_value(value)
                .map_err(|e| not_a_report(format!("Grype JSON: {e}")))?;
            check_subject(&shown, "grype", &report.identity(), subject)?;
            ("grype", report.findings())
        } else {
            return Err(not_a_report(
                "neither Trivy's SchemaVersion/ArtifactName nor Grype's matches/source".into(),
            ));
        };
    let (findings, unlisted) = tie(tool, stated, subject, components);
    Ok(Report {
        tool,
        findings,
        unlisted,
        digest: crate::oci::digest::sha256_digest(bytes),
    })
}

/// How a report names its image.
#[derive(Debug, Default)]
struct Identity {
    /// The config digest.
    image_id: Option<String>,
    /// Manifest digests (`sha256:…`), from `name@sha256:…` repo digests or a manifest digest.
    digests: Vec<String>,
    /// What it is of, for messages (`container_image`, `directory`).
    kind: String,
}

fn check_subject(
    path: &str,
    tool: &'static str,
    identity: &Identity,
    subject: &ImageSubject,
) -> Result<(), ReportError> {
    let other = |theirs: &str| ReportError::OtherImage {
        path: path.to_string(),
        tool,
        theirs: theirs.to_string(),
        reference: subject.reference.clone(),
        ours: subject.id.clone(),
    };
    if let Some(id) = &identity.image_id {
        return if *id == subject.id {
            Ok(())
        } else {
            Err(other(id))
        };
    }
    if identity.digests.is_empty() {
        return Err(ReportError::NoImage {
            path: path.to_string(),
            tool,
            detail: format!("it is a report of a {}", identity.kind),
        });
    }
    if identity.digests.iter().any(|d| subject.digests.contains(d)) {
        Ok(())
    } else {
        Err(other(&identity.digests.join(", ")))
    }
}

/// The digest of a `name@sha256:…` repo digest.
fn repo_digest(text: &str) -> Option<String> {
    text.rsplit_once('@').map(|(_, d)| d.to_string())
}

/// Ties each stated finding to the SBOM component with the same package URL (else the same type,
/// name and version), one finding per (component, vulnerability); also returns how many findings
/// are on packages the SBOM does not list.
fn tie(
    tool: &'static str,
    stated: Vec<Stated>,
    subject: &ImageSubject,
    components: &[Component],
) -> (Vec<VulnerabilityFinding>, usize) {
    let mut by_name: HashMap<String, Vec<(usize, PackageUrl)>> = HashMap::new();
    for (i, component) in components.iter().enumerate() {
        if let Some(purl) = PackageUrl::parse(&component.purl) {
            by_name
                .entry(purl.name.clone())
                .or_default()
                .push((i, purl));
        }
    }
    let layer_of = |diff_id: &Option<String>| {
        diff_id
            .as_ref()
            .and_then(|d| subject.diff_ids.iter().position(|x| x == d))
    };
    let mut findings = Vec::new();
    let mut unlisted = 0;
    let mut seen = std::collections::HashSet::new();
    for s in stated {
        let stated_purl = s
            .purl
            .as_deref()
            .and_then(PackageUrl::parse)
            .or_else(|| purl_of(&s.kind, &s.name, &s.version));
        let candidates: Vec<&(usize, PackageUrl)> = stated_purl
            .as_ref()
            .and_then(|p| by_name.get(&p.name))
            .map(|list| {
                list.iter()
                    .filter(|(_, c)| {
                        let p = stated_purl.as_ref().expect("checked above");
                        p.covers(c) && c.covers(p)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let report_layer = layer_of(&s.diff_id);
        let chosen = candidates
            .iter()
            .find(|(i, _)| report_layer.is_some() && components[*i].layer_index == report_layer)
            .or_else(|| candidates.first())
            .map(|(i, _)| &components[*i]);
        let (purl, package, version, layer_index) = match chosen {
            Some(c) => (
                c.purl.clone(),
                c.name.clone(),
                c.version.clone(),
                c.layer_index.or(report_layer),
            ),
            None => {
                unlisted += 1;
                let purl = s
                    .purl
                    .clone()
                    .unwrap_or_else(|| format!("pkg:generic/{}@{}", s.name, s.version));
                (purl, s.name.clone(), s.version.clone(), report_layer)
            }
        };
        if !seen.insert((purl.clone(), s.id.clone())) {
            continue;
        }
        let installed_by = chosen.and_then(|c| c.owned_by.clone());
        findings.push(VulnerabilityFinding {
            id: s.id,
            aliases: s.aliases,
            purl,
            package,
            version,
            severity: s.severity,
            fixed_version: s.fixed,
            layer_index,
            title: s.title,
            cvss: s.cvss,
            sources: vec![tool.to_string()],
            vex: None,
            installed_by,
            fix_published: s.published,
            kev: None,
            epss: None,
        });
    }
    (findings, unlisted)
}

/// A purl for a package a report names without one, from the report's package type.
fn purl_of(kind: &str, name: &str, version: &str) -> Option<PackageUrl> {
    let purl = match kind {
        "debian" | "ubuntu" => format!("pkg:deb/{kind}/{name}@{version}"),
        "alpine" | "wolfi" | "chainguard" => format!("pkg:apk/{kind}/{name}@{version}"),
        "redhat"
        | "centos"
        | "rocky"
        | "alma"
        | "amazon"
        | "oracle"
        | "fedora"
        | "photon"
        | "suse linux enterprise server"
        | "opensuse.leap"
        | "rpm" => {
            format!("pkg:rpm/{name}@{version}")
        }
        "deb" => format!("pkg:deb/{name}@{version}"),
        "apk" => format!("pkg:apk/{name}@{version}"),
        "pip" | "pipenv" | "poetry" | "uv" | "python-pkg" | "python" => {
            format!("pkg:pypi/{name}@{version}")
        }
        "npm" | "yarn" | "pnpm" | "node-pkg" | "bun" => format!("pkg:npm/{name}@{version}"),
        "gobinary" | "gomod" | "go-module" => format!("pkg:golang/{name}@{version}"),
        "jar" | "pom" | "gradle" | "sbt" | "java-archive" => {
            let (group, artifact) = name.split_once(':')?;
            format!("pkg:maven/{group}/{artifact}@{version}")
        }
        "gemspec" | "bundler" | "gem" => format!("pkg:gem/{name}@{version}"),
        "cargo" | "rust-binary" | "rust-crate" => format!("pkg:cargo/{name}@{version}"),
        "composer" | "composer-vendor" | "php-composer" => format!("pkg:composer/{name}@{version}"),
        "nuget" | "dotnet-core" | "dotnet-deps" | "packages-props" | "dotnet" => {
            format!("pkg:nuget/{name}@{version}")
        }
        _ => return None,
    };
    PackageUrl::parse(&purl)
}

/// The first line of a description, shortened for a table.
fn headline(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    const MAX: usize = 160;
    if line.chars().count() <= MAX {
        return Some(line.to_string());
    }
    Some(format!("{}…", line.chars().take(MAX).collect::<String>()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "sha256:3864935ca454e6c4721c0938513095a9a2eabc939d20acae39e43b861f76f2c5";

    fn components() -> Vec<Component> {
        vec![
            Component {
                name: "libc6".into(),
                version: "2.36-9+deb12u4".into(),
                purl: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12".into(),
                purl_type: "deb".into(),
                layer_index: Some(0),
                ..Default::default()
            },
            Component {
                name: "requests".into(),
                version: "2.31.0".into(),
                purl: "pkg:pypi/requests@2.31.0".into(),
                purl_type: "pypi".into(),
                layer_index: Some(1),
                owned_by: Some(REQUESTS_OWNER.into()),
                ..Default::default()
            },
        ]
    }

    fn subject(diff_ids: &[String]) -> ImageSubject {
        ImageSubject {
            reference: "app:1".into(),
            id: ID.into(),
            digests: vec!["sha256:aaaa".into()],
            repositories: vec!["app".into()],
            diff_ids: diff_ids.to_vec(),
        }
    }

    /// The Debian package that installed the requests component's files.
    const REQUESTS_OWNER: &str =
        "pkg:deb/debian/python3-requests@2.31.0%2Bdfsg-1?arch=all&distro=debian-12";

    fn load_json(value: serde_json::Value, diff_ids: &[String]) -> Result<Report, ReportError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, serde_json::to_vec(&value).unwrap()).unwrap();
        load(&path, &subject(diff_ids), &components())
    }

    fn trivy(image_id: &str, vulnerabilities: serde_json::Value) -> serde_json::Value {
        json!({
            "SchemaVersion": 2,
            "CreatedAt": "2026-11-23T18:10:39Z",
            "ArtifactName": "app:1",
            "ArtifactType": "container_image",
            "Metadata": {"OS": {"Family": "debian", "Name": "12.15"}, "ImageID": image_id,
                         "DiffIDs": ["sha256:l0", "sha256:l1"], "RepoTags": ["app:1"]},
            "Results": [{"Target": "app:1 (debian 12.15)", "Class": "os-pkgs", "Type": "debian",
                         "Vulnerabilities": vulnerabilities}]
        })
    }

    #[test]
    fn trivy_findings_tie_to_components_by_purl_or_name() {
        let diff_ids = vec!["sha256:l0".to_string(), "sha256:l1".to_string()];
        let report = load_json(
            trivy(
                ID,
                json!([
                    {"VulnerabilityID": "CVE-2024-2961", "PkgID": "libc6@2.36-9+deb12u4", "PkgName": "libc6",
                     "PkgIdentifier": {"PURL": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?distro=debian-12.15&arch=amd64", "UID": "1"},
                     "InstalledVersion": "2.36-9+deb12u4", "FixedVersion": "2.36-9+deb12u7, 2.37-1", "Status": "fixed",
                     "Layer": {"DiffID": "sha256:l0"}, "SeveritySource": "nvd", "Title": "glibc: out-of-bounds write in iconv",
                     "Severity": "HIGH", "CVSS": {"nvd": {"V3Vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", "V3Score": 8.1}}},
                    {"VulnerabilityID": "CVE-2099-1", "PkgName": "libc6", "InstalledVersion": "2.36-9+deb12u4",
                     "Severity": "LOW", "Status": "affected"},
                    {"VulnerabilityID": "CVE-2099-2", "PkgName": "zlib1g", "InstalledVersion": "1:1.2.13",
                     "PkgIdentifier": {"PURL": "pkg:deb/debian/zlib1g@1.2.13?epoch=1"}, "Severity": "MEDIUM",
                     "Layer": {"DiffID": "sha256:l1"}}
                ]),
            ),
            &diff_ids,
        )
        .unwrap();
        assert_eq!(report.tool, "trivy");
        let f = &report.findings;
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].purl, components()[0].purl, "tied to the SBOM's purl");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].fixed_version.as_deref(), Some("2.36-9+deb12u7"));
        assert_eq!(f[0].layer_index, Some(0));
        assert_eq!(f[0].cvss.len(), 1);
        assert_eq!(f[1].purl, components()[0].purl, "no purl: by type and name");
        assert_eq!(f[1].fixed_version, None);
        assert_eq!(f[2].purl, "pkg:deb/debian/zlib1g@1.2.13?epoch=1");
        assert_eq!(f[2].layer_index, Some(1), "layer from the report's diffID");
        assert_eq!(report.unlisted, 1);
    }

    #[test]
    fn grype_findings_with_related_ids_and_fix_state() {
        let report = load_json(
            json!({
                "matches": [
                    {"vulnerability": {"id": "GHSA-9wx4-h78v-vm56", "dataSource": "https://github.com/advisories/GHSA-9wx4-h78v-vm56",
                                       "namespace": "github:language:python", "severity": "Medium", "urls": [],
                                       "description": "Requests `Session` object does not verify requests after making first request with verify=False",
                                       "cvss": [{"version": "3.1", "vector": "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N", "metrics": {"baseScore": 5.6}}],
                                       "fix": {"versions": ["2.32.0"], "state": "fixed"}, "advisories": []},
                     "relatedVulnerabilities": [{"id": "CVE-2024-35195", "dataSource": "https://nvd.nist.gov/vuln/detail/CVE-2024-35195"}],
                     "matchDetails": [],
                     "artifact": {"id": "5f1c", "name": "requests", "version": "2.31.0", "type": "python",
                                  "locations": [{"path": "/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", "layerID": "sha256:l1"}],
                                  "language": "python", "licenses": [], "cpes": [], "purl": "pkg:pypi/requests@2.31.0", "upstreams": []}},
                    {"vulnerability": {"id": "CVE-2099-3", "severity": "Negligible", "fix": {"versions": [], "state": "not-fixed"}},
                     "relatedVulnerabilities": [], "matchDetails": [],
                     "artifact": {"name": "libc6", "version": "2.36-9+deb12u4", "type": "deb", "locations": [],
                                  "purl": "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&upstream=glibc&distro=debian-12"}}
                ],
                "source": {"type": "image", "target": {"userInput": "app:1", "imageID": ID,
                           "manifestDigest": "sha256:ffff", "repoDigests": [], "layers": []}},
                "distro": {"name": "debian", "version": "12"},
                "descriptor": {"name": "grype", "version": "0.86.1"}
            }),
            &["sha256:l0".to_string(), "sha256:l1".to_string()],
        )
        .unwrap();
        assert_eq!(report.tool, "grype");
        let f = &report.findings;
        assert_eq!(f[0].aliases, ["CVE-2024-35195"]);
        assert_eq!(f[0].fixed_version.as_deref(), Some("2.32.0"));
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(f[0].layer_index, Some(1));
        assert_eq!(f[0].installed_by.as_deref(), Some(REQUESTS_OWNER));
        assert_eq!(f[1].installed_by, None, "libc6 is the OS package itself");
        assert_eq!(f[1].severity, Severity::Low, "negligible");
        assert_eq!(f[1].fixed_version, None);
        assert_eq!(f[1].purl, components()[0].purl);
        assert_eq!(report.unlisted, 0);
    }

    #[test]
    fn reports_of_other_images_and_non_images_are_refused() {
        let other = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        let err = load_json(trivy(other, json!([])), &[]).unwrap_err();
        assert!(matches!(err, ReportError::OtherImage { .. }), "{err}");
        assert!(err.to_string().contains(other), "{err}");
        let mut fs = trivy("", json!([]));
        fs["ArtifactType"] = json!("filesystem");
        let err = load_json(fs, &[]).unwrap_err();
        assert!(err.to_string().contains("filesystem"), "{err}");
        let mut by_digest = trivy("", json!([]));
        by_digest["Metadata"]["RepoDigests"] = json!(["registry.example/app@sha256:aaaa"]);
        assert!(load_json(by_digest, &[]).is_ok());
        let dir = json!({"matches": [], "source": {"type": "directory", "target": "/src"}});
        assert!(matches!(
            load_json(dir, &[]).unwrap_err(),
            ReportError::NoImage { .. }
        ));
        let err = load_json(json!({"bomFormat": "CycloneDX"}), &[]).unwrap_err();
        assert!(matches!(err, ReportError::NotAReport { .. }), "{err}");
        let err = load_json(
            json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": 3}),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("Trivy JSON"), "{err}");
    }
}
