//! Vulnerability findings, offline: components matched against an OSV database read in place
//! ([`db`], [`osv`]), looked up under each ecosystem's name and version rules ([`ecosystem`]), with
//! severities from CVSS vectors ([`severity`]). The policy's `vulnerabilities` rule and `docker vouch
//! scan` consume the [`VulnerabilityFinding`]s.

pub mod db;
pub mod ecosystem;
pub mod osv;
pub mod severity;

use crate::sbom::read::Component;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};

/// Severity levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VulnerabilityFinding {
    /// `CVE-2024-1234`, `GHSA-...`, `DSA-...`.
    pub id: String,
    pub aliases: Vec<String>,
    /// The affected component's purl.
    pub purl: String,
    pub severity: Severity,
    pub fixed_version: Option<String>,
    pub layer_index: Option<usize>,
}

/// The lookup keys of the components that OSV can say something about.
pub fn wanted_keys(components: &[Component]) -> HashSet<ecosystem::Key> {
    components
        .iter()
        .filter_map(ecosystem::lookup)
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
    for component in components {
        let Some(lookup) = ecosystem::lookup(component) else {
            continue;
        };
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
                                aliases: record.aliases.clone(),
                                purl: component.purl.clone(),
                                severity: record.severity(affected),
                                fixed_version: hit.fixed,
                                layer_index: component.layer_index,
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
    (findings, warnings)
}
