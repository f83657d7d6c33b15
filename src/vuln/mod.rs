//! Vulnerability findings, offline: components matched against an OSV database read in place
//! ([`db`], [`osv`]), looked up under each ecosystem's name and version rules ([`ecosystem`]), with
//! severities from CVSS vectors ([`severity`]); imported Trivy and Grype reports ([`report`]); VEX
//! statements over them ([`vex`], compared by [`crate::purl`]); all of it merged by [`sources`]. The policy's
//! `vulnerabilities` rule and `docker vouch scan` ([`present`]) consume the
//! [`VulnerabilityFinding`]s.

pub mod db;
pub mod ecosystem;
pub mod feeds;
pub mod osv;
pub mod present;
pub mod report;
pub mod severity;
pub mod sources;
pub mod vex;

use crate::sbom::read::Component;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Severity levels, lowest first.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

/// A vulnerability affecting a component, from whichever source found it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VulnerabilityFinding {
    /// `CVE-2024-1234`, `GHSA-...`, `DSA-...`.
    pub id: String,
    pub aliases: Vec<String>,
    /// The affected component's purl.
    pub purl: String,
    /// The component's name and installed version.
    pub package: String,
    pub version: String,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_index: Option<usize>,
    /// A one-line description, when the source has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The CVSS vectors the severity was computed from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cvss: Vec<String>,
    /// Which sources reported it: `osv`, `trivy`, `grype`.
    pub sources: Vec<String>,
    /// What a VEX statement says about it, when one matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vex: Option<vex::Applied>,
    /// The purl of the OS package that installed the affected component's files, when one did (a
    /// GitHub advisory on npm `lodash` whose files Debian's `node-lodash` installed): that package's
    /// update is what fixes it, and its own advisories are a separate finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_by: Option<String>,
    /// When the advisory that gives the fix was published (`YYYY-MM-DD…`, from the OSV record's
    /// `published`), for `max_days_since_fix`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_published: Option<String>,
    /// What CISA's Known Exploited Vulnerabilities catalog says of it, when it lists it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kev: Option<feeds::KevEntry>,
    /// Its EPSS score, when the scores were loaded and name it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epss: Option<feeds::EpssScore>,
}

impl VulnerabilityFinding {
    /// Whether a VEX statement takes it out of the count (`not_affected` or `fixed`).
    pub fn suppressed(&self) -> bool {
        self.vex.as_ref().is_some_and(|v| v.status.suppresses())
    }

    /// Its id and aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// The image findings are about, as reports and VEX statements name it.
#[derive(Debug, Clone, Default)]
pub struct ImageSubject {
    /// The `IMAGE` argument, for messages.
    pub reference: String,
    /// The image ID (config digest).
    pub id: String,
    /// Registry manifest digests (`sha256:…`).
    pub digests: Vec<String>,
    /// Repository names without tag or digest (`registry.example/team/app`).
    pub repositories: Vec<String>,
    pub diff_ids: Vec<String>,
}

impl ImageSubject {
    pub fn of(image: &crate::image::Image) -> ImageSubject {
        let mut digests: Vec<String> = image.manifest_digest.iter().cloned().collect();
        let mut repositories = Vec::new();
        for repo_digest in &image.repo_digests {
            if let Some((name, digest)) = repo_digest.rsplit_once('@') {
                digests.push(digest.to_string());
                repositories.push(name.to_string());
            }
        }
        for tag in &image.repo_tags {
            repositories.push(crate::image::repository(tag).to_string());
        }
        // Each once, the manifest digest first (a repository digest may repeat it, not next to it).
        let mut seen = std::collections::HashSet::new();
        digests.retain(|d| seen.insert(d.clone()));
        repositories.sort();
        repositories.dedup();
        ImageSubject {
            reference: image.reference.clone(),
            id: image.id.clone(),
            digests,
            repositories,
            diff_ids: image.layers.iter().map(|l| l.diff_id.clone()).collect(),
        }
    }
}

/// The lookup keys of the components that OSV can say something about.
pub fn wanted_keys(components: &[Component]) -> HashSet<ecosystem::Key> {
    components
        .iter()
        .flat_map(ecosystem::lookups)
        .map(|l| l.key)
        .collect()
}

/// Matches every component against the database. Returns the findings, one per (component,
/// record), and warnings for records whose versions could not be compared: a comparison that fails
/// is reported, never taken as "not affected" in silence.
pub fn match_components(
    components: &[Component],
    db: &db::Database,
) -> (Vec<VulnerabilityFinding>, Vec<String>) {
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    let mut seen = BTreeSet::new();
    for (component, lookup) in components
        .iter()
        .flat_map(|c| ecosystem::lookups(c).into_iter().map(move |l| (c, l)))
    {
        let Some(records) = db.records.get(&lookup.key) else {
            continue;
        };
        for record in records {
            for affected in &record.affected {
                let names_it = affected.package.as_ref().is_some_and(|p| {
                    ecosystem::normalize(&p.ecosystem) == lookup.key.ecosystem
                        && p.name == lookup.key.name
                });
                if !names_it {
                    continue;
                }
                match affected.affects(lookup.scheme, &lookup.version) {
                    Ok(Some(hit)) => {
                        if seen.insert((component.purl.clone(), record.id.clone())) {
                            findings.push(VulnerabilityFinding {
                                id: record.id.clone(),
                                aliases: record.aliases_and_upstream(),
                                purl: component.purl.clone(),
                                package: component.name.clone(),
                                version: component.version.clone(),
                                severity: record.severity(affected),
                                fixed_version: hit.fixed,
                                layer_index: component.layer_index,
                                title: record.summary.clone(),
                                cvss: record.cvss_vectors(affected),
                                sources: vec!["osv".into()],
                                vex: None,
                                installed_by: component.owned_by.clone(),
                                fix_published: record
                                    .published
                                    .clone()
                                    .or_else(|| record.modified.clone()),
                                kev: None,
                                epss: None,
                            });
                        }
                    }
                    Ok(None) => {}
                    Err(e) => warnings.push(format!(
                        "OSV record {}: cannot tell whether {} {} is affected: {e}",
                        record.id, component.name, lookup.version
                    )),
                }
            }
        }
    }
    warnings.extend(not_looked_up(components));
    (findings, warnings)
}

/// A warning for each distribution whose packages no OSV ecosystem vouch matches covers (SUSE's
/// rpms, a dpkg database without an os-release): they are in the SBOM, and a scan finding nothing
/// in them must say it did not look, not let "no findings" pass for "not affected".
fn not_looked_up(components: &[Component]) -> Vec<String> {
    let mut missed: BTreeMap<(String, String), usize> = BTreeMap::new();
    for component in components {
        if !matches!(component.purl_type.as_str(), "deb" | "rpm" | "apk")
            || ecosystem::lookup(component).is_some()
        {
            continue;
        }
        let distro = <::purl::GenericPurl<String> as std::str::FromStr>::from_str(&component.purl)
            .ok()
            .and_then(|p| p.qualifiers().get("distro").map(|d| format!("distro {d}")))
            .unwrap_or_else(|| "no distro qualifier".to_string());
        *missed
            .entry((component.purl_type.clone(), distro))
            .or_default() += 1;
    }
    missed
        .into_iter()
        .map(|((kind, distro), count)| {
            format!(
                "{count} {kind} package(s) ({distro}) not looked up: vouch matches no OSV ecosystem \
                 for that distribution, so they have no findings"
            )
        })
        .collect()
}

#[cfg(test)]
mod subject_tests {
    use super::*;

    /// A repository digest that repeats the manifest digest, not next to it: each digest once.
    #[test]
    fn an_images_digests_are_listed_once_manifest_first() {
        let mut image = crate::sbom::cyclonedx_json::tests::image();
        image.repo_digests = vec![
            "registry.test/example@sha256:3333".into(),
            "mirror.test/example@sha256:2222".into(),
        ];
        let subject = ImageSubject::of(&image);
        assert_eq!(subject.digests, ["sha256:2222", "sha256:3333"]);
    }
}
