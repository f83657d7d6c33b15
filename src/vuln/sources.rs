//! Every vulnerability source of one scan together: the offline OSV database, imported Trivy and
//! Grype reports, then VEX documents over the result. The same vulnerability of the same component
//! reported by several sources (under its id or an alias) becomes one finding that names them all.
//! `docker vouch scan` prints the result; `docker vouch check` gives it to the policy.

use super::db::index::Index;
use super::db::{Database, DbError};
use super::feeds::{self, Epss, Feed, FeedError, Kev};
use super::report::{self, ReportError};
use super::vex::{self, StatementResult, VexError};
use super::{match_components, wanted_keys, ImageSubject, VulnerabilityFinding};
use crate::sbom::read::Component;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

/// Where findings come from, as the command line gives them.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub db: Option<PathBuf>,
    pub reports: Vec<PathBuf>,
    pub vex: Vec<PathBuf>,
    /// Exploitation data to mark the findings with (the local database's KEV and EPSS files).
    pub feeds: Vec<FeedFile>,
    /// The database at `db`, indexed once for many judgments in a row (`serve --rejudge`, `verify
    /// --rejudge` over several sets): records are loaded through it instead of reading `db` again.
    pub index: Option<Arc<Index>>,
}

/// An exploitation feed's file, and its digest as the database's manifest records it.
#[derive(Debug, Clone)]
pub struct FeedFile {
    pub feed: Feed,
    pub path: PathBuf,
    pub digest: String,
}

impl Sources {
    /// These sources with their database indexed once ([`Sources::index`]), for many judgments in
    /// a row; the index's warnings are in it.
    pub fn indexed(self) -> Result<Sources, DbError> {
        let Some(path) = &self.db else {
            return Ok(self);
        };
        let index = Index::build(path)?;
        Ok(Sources {
            index: Some(Arc::new(index)),
            ..self
        })
    }

    /// Whether any source of findings was given (VEX alone finds nothing).
    pub fn any(&self) -> bool {
        self.db.is_some() || !self.reports.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Vex(#[from] VexError),
    #[error(transparent)]
    Feed(#[from] FeedError),
}

impl SourceError {
    /// Whether the user gave something unusable (exit 2) rather than the machine failing to read
    /// it (exit 3).
    pub fn is_usage(&self) -> bool {
        match self {
            SourceError::Db(e) => e.is_usage(),
            SourceError::Report(e) => !matches!(e, ReportError::Unreadable { .. }),
            SourceError::Vex(e) => matches!(e, VexError::NotVex { .. }),
            SourceError::Feed(_) => false,
        }
    }
}

/// One input, as the scan output and the verdict record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceRef {
    /// `osv`, `trivy`, `grype`, `openvex`, `cyclonedx-vex`.
    pub kind: String,
    pub path: String,
    /// `sha256:` of the file (reports and VEX documents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Records read (OSV), findings (reports), statements (VEX) or entries (KEV, EPSS).
    pub entries: usize,
    /// The KEV catalog's version, or the date of the EPSS scores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// For the local database `db update` keeps: each ecosystem's zip as it was judged with (when it
    /// was last checked, its digest and record count), so a reader of the verdict can tell how fresh
    /// the judgment was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub snapshot: Vec<EcosystemSnapshot>,
}

/// One ecosystem of the local database, as a verdict records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EcosystemSnapshot {
    pub ecosystem: String,
    /// When the source last said this data was current (RFC 3339).
    pub checked: String,
    /// `sha256:` of the ecosystem's all.zip.
    pub digest: String,
    pub records: u64,
}

/// The snapshot of the local database whose zips are under `osv_dir` (`DIR/osv` beside
/// `DIR/manifest.json`); empty for any other database.
fn snapshot_of(osv_dir: &std::path::Path) -> Vec<EcosystemSnapshot> {
    let (Some(dir), Some("osv")) = (
        osv_dir.parent(),
        osv_dir.file_name().and_then(|n| n.to_str()),
    ) else {
        return Vec::new();
    };
    let store = super::db::store::Store::new(dir.to_path_buf());
    let Ok(manifest) = store.manifest() else {
        return Vec::new();
    };
    manifest
        .ecosystems
        .into_iter()
        .filter(|(ecosystem, _)| store.zip_path(ecosystem).is_file())
        .map(|(ecosystem, fetched)| EcosystemSnapshot {
            ecosystem,
            checked: fetched.checked,
            digest: fetched.digest,
            records: fetched.records,
        })
        .collect()
}

/// The findings of all sources, after VEX.
#[derive(Debug, Default)]
pub struct Collected {
    pub findings: Vec<VulnerabilityFinding>,
    pub inputs: Vec<SourceRef>,
    pub vex: Vec<StatementResult>,
    pub warnings: Vec<String>,
    /// The OSV ecosystems the components were looked up in (`Debian`, `PyPI`), when a database was
    /// read: what `db update --ecosystems auto` fetches.
    pub ecosystems: std::collections::BTreeSet<String>,
}

/// Reads every source and merges their findings. VEX documents are read before any database work,
/// so a bad one fails fast.
pub fn collect(
    components: &[Component],
    subject: &ImageSubject,
    sources: &Sources,
) -> Result<Collected, SourceError> {
    let mut collected = Collected::default();
    let documents: Vec<vex::Document> = sources
        .vex
        .iter()
        .map(|p| vex::load(p))
        .collect::<Result<_, _>>()?;
    let mut reports = Vec::new();
    for path in &sources.reports {
        reports.push((path, report::load(path, subject, components)?));
    }
    if let Some(path) = &sources.db {
        let wanted = wanted_keys(components);
        let db = match &sources.index {
            Some(index) => index.load(&wanted),
            None => Database::load(path, &wanted)?,
        };
        collected.ecosystems = wanted
            .iter()
            .filter_map(|key| key.ecosystem.split(':').next())
            .map(str::to_string)
            .collect();
        let (found, warnings) = match_components(components, &db);
        let shown = path.display();
        collected.warnings.extend(
            db.warnings
                .iter()
                .chain(&warnings)
                .map(|w| format!("{shown}: {w}")),
        );
        collected.inputs.push(SourceRef {
            kind: "osv".into(),
            path: shown.to_string(),
            digest: None,
            entries: db.records_read,
            snapshot: snapshot_of(path),
            version: None,
        });
        merge(&mut collected.findings, found);
    }
    for (path, report) in reports {
        if report.unlisted > 0 {
            collected.warnings.push(format!(
                "{}: {} finding(s) are on packages the SBOM does not list; kept as the report gives them",
                path.display(),
                report.unlisted
            ));
        }
        collected.inputs.push(SourceRef {
            kind: report.tool.into(),
            path: path.display().to_string(),
            digest: Some(report.digest.clone()),
            entries: report.findings.len(),
            snapshot: Vec::new(),
            version: None,
        });
        merge(&mut collected.findings, report.findings);
    }
    for document in &documents {
        collected.warnings.extend(
            document
                .warnings
                .iter()
                .map(|w| format!("{}: {w}", document.path)),
        );
        collected.inputs.push(SourceRef {
            kind: match document.format {
                "cyclonedx" => "cyclonedx-vex".into(),
                other => other.into(),
            },
            path: document.path.clone(),
            digest: Some(document.digest.clone()),
            entries: document.statements.len(),
            snapshot: Vec::new(),
            version: None,
        });
    }
    if !collected.findings.is_empty() {
        for file in &sources.feeds {
            collected
                .inputs
                .push(mark_exploitation(&mut collected.findings, file)?);
        }
    }
    collected.vex = vex::apply(&documents, &mut collected.findings, subject);
    for unmatched in collected.vex.iter().filter(|r| r.matched == 0) {
        collected.warnings.push(format!(
            "{}: the statement on {} for {} matched no finding",
            unmatched.document,
            unmatched.vulnerability,
            unmatched.products.join(", ")
        ));
    }
    super::present::sort_findings(&mut collected.findings, super::present::SortKey::Severity);
    Ok(collected)
}

/// Marks `findings` with what the feed `file` says of their CVEs; describes the feed as an input.
fn mark_exploitation(
    findings: &mut [VulnerabilityFinding],
    file: &FeedFile,
) -> Result<SourceRef, SourceError> {
    let wanted = feeds::cve_ids(findings);
    let path = file.path.as_path();
    let (entries, version) = match file.feed {
        Feed::Kev => {
            let kev = Kev::load(path, Some(&wanted))?;
            feeds::annotate(findings, Some(&kev), None);
            (kev.count, kev.version)
        }
        Feed::Epss => {
            let epss = Epss::load(path, Some(&wanted))?;
            feeds::annotate(findings, None, Some(&epss));
            (epss.rows as usize, epss.date)
        }
    };
    Ok(SourceRef {
        kind: file.feed.name().into(),
        path: path.display().to_string(),
        digest: Some(file.digest.clone()),
        entries,
        snapshot: Vec::new(),
        version,
    })
}

/// Adds `new` findings to `all`, folding a finding into one already there when it is about the
/// same component and shares an id or alias with it.
fn merge(all: &mut Vec<VulnerabilityFinding>, new: Vec<VulnerabilityFinding>) {
    for finding in new {
        let same = all.iter_mut().find(|f| {
            f.purl == finding.purl
                && f.names()
                    .any(|a| finding.names().any(|b| a.eq_ignore_ascii_case(b)))
        });
        let Some(existing) = same else {
            all.push(finding);
            continue;
        };
        for name in finding.names() {
            if !existing.names().any(|n| n.eq_ignore_ascii_case(name)) {
                existing.aliases.push(name.to_string());
            }
        }
        // The sources may rate it differently (a distribution's rating against NVD's): keep the
        // higher, so that merging never hides a finding from a threshold.
        existing.severity = existing.severity.max(finding.severity);
        if existing.fixed_version.is_none() {
            existing.fixed_version = finding.fixed_version;
        }
        if existing.layer_index.is_none() {
            existing.layer_index = finding.layer_index;
        }
        if existing.title.is_none() {
            existing.title = finding.title;
        }
        for vector in finding.cvss {
            if !existing.cvss.contains(&vector) {
                existing.cvss.push(vector);
            }
        }
        for source in finding.sources {
            if !existing.sources.contains(&source) {
                existing.sources.push(source);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vuln::Severity;

    #[test]
    fn the_same_vulnerability_from_two_sources_is_one_finding() {
        let osv = VulnerabilityFinding {
            id: "DEBIAN-CVE-2024-2961".into(),
            aliases: vec!["CVE-2024-2961".into()],
            purl: "pkg:deb/debian/libc6@2.36".into(),
            severity: Severity::Medium,
            sources: vec!["osv".into()],
            ..Default::default()
        };
        let trivy = VulnerabilityFinding {
            id: "CVE-2024-2961".into(),
            purl: "pkg:deb/debian/libc6@2.36".into(),
            severity: Severity::High,
            fixed_version: Some("2.36-9+deb12u7".into()),
            sources: vec!["trivy".into()],
            ..Default::default()
        };
        let other_package = VulnerabilityFinding {
            purl: "pkg:deb/debian/libc-bin@2.36".into(),
            ..trivy.clone()
        };
        let mut all = Vec::new();
        merge(&mut all, vec![osv]);
        merge(&mut all, vec![trivy, other_package]);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].id, "DEBIAN-CVE-2024-2961");
        assert_eq!(all[0].severity, Severity::High);
        assert_eq!(all[0].fixed_version.as_deref(), Some("2.36-9+deb12u7"));
        assert_eq!(all[0].sources, ["osv", "trivy"]);
    }
}
