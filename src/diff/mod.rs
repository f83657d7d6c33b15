//! Two judged images side by side (`docker vouch diff OLD NEW`): what the new one adds, removes and
//! changes in packages (a version up or down by the package's own ecosystem's ordering), which
//! vulnerability findings are new and which were fixed, which policy rules changed their result,
//! and whether the base image changed. Below the pipeline, which judges both images, and above the
//! stages whose results it compares; [`render`] writes it as a table or Markdown, serde as JSON
//! (`schemas/diff.schema.json`).

pub mod render;

use crate::image::base::BaseImage;
use crate::policy::verdict::{Outcome, RuleResult, RuleStatus, Verdict};
use crate::purl::purl_base;
use crate::sbom::read::Component;
use crate::version::Scheme;
use crate::vuln::{Severity, VulnerabilityFinding};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// One side of the comparison, as the pipeline judged it.
pub struct Side<'a> {
    pub reference: &'a str,
    pub digest: &'a str,
    pub diff_ids: Vec<String>,
    pub components: Vec<Component>,
    /// `None` when no vulnerability source was given.
    pub findings: Option<&'a [VulnerabilityFinding]>,
    pub verdict: &'a Verdict,
    pub base: &'a BaseImage,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageDiff {
    pub old: Identity,
    pub new: Identity,
    pub base: BaseChange,
    pub packages: PackageChanges,
    /// `None` when no vulnerability source was given.
    pub findings: Option<FindingChanges>,
    pub policy: PolicyChanges,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub reference: String,
    pub digest: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BaseChange {
    /// Each side's base image name (`None` when it is not known).
    pub old: Option<String>,
    pub new: Option<String>,
    /// Whether the base changed: its name or digests differ, or (neither known) the images share
    /// no bottom layer. `None` when neither side's base nor a shared layer says.
    pub changed: Option<bool>,
    /// How many bottom layers the two images share.
    pub shared_layers: usize,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageChanges {
    pub added: Vec<Package>,
    pub removed: Vec<Package>,
    pub changed: Vec<VersionChange>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    pub name: String,
    pub version: String,
    pub purl: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Upgraded,
    Downgraded,
    /// The ecosystem's ordering cannot place one of the versions.
    Changed,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionChange {
    pub name: String,
    /// The purl without version.
    pub package: String,
    pub from: String,
    pub to: String,
    pub direction: Direction,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingChanges {
    /// Findings of the new image the old one did not have (by vulnerability and package).
    pub new: Vec<Finding>,
    /// Findings of the old image the new one no longer has.
    pub fixed: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub id: String,
    pub severity: Severity,
    pub package: String,
    pub version: String,
    pub purl: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyChanges {
    pub policy: String,
    pub old: Outcome,
    pub new: Outcome,
    /// The rules whose status or number of findings changed (a rule only one side has included).
    pub rules: Vec<RuleChange>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleChange {
    pub id: String,
    pub old: Option<RuleStatus>,
    pub new: Option<RuleStatus>,
    pub old_findings: usize,
    pub new_findings: usize,
}

impl ImageDiff {
    /// Whether the new image adds a finding at least as severe as `threshold`.
    pub fn adds_finding_at(&self, threshold: Severity) -> bool {
        self.findings
            .as_ref()
            .is_some_and(|f| f.new.iter().any(|n| n.severity >= threshold))
    }
}

/// Compares two judged images.
pub fn compare(old: &Side, new: &Side) -> ImageDiff {
    ImageDiff {
        old: identity(old),
        new: identity(new),
        base: base_change(old, new),
        packages: package_changes(&old.components, &new.components),
        findings: match (old.findings, new.findings) {
            (Some(a), Some(b)) => Some(finding_changes(a, b)),
            _ => None,
        },
        policy: policy_changes(old.verdict, new.verdict),
    }
}

fn identity(side: &Side) -> Identity {
    Identity {
        reference: side.reference.to_string(),
        digest: side.digest.to_string(),
    }
}

fn base_change(old: &Side, new: &Side) -> BaseChange {
    let shared_layers = old
        .diff_ids
        .iter()
        .zip(&new.diff_ids)
        .take_while(|(a, b)| a == b)
        .count();
    let known = |b: &BaseImage| b.name.is_some() || !b.digests.is_empty();
    let changed = if known(old.base) && known(new.base) {
        // Digests say it best (a base rebuilt under the same tag is another base); names when
        // a side has none.
        Some(
            if old.base.digests.is_empty() || new.base.digests.is_empty() {
                old.base.name != new.base.name
            } else {
                !old.base
                    .digests
                    .iter()
                    .any(|d| new.base.digests.contains(d))
            },
        )
    } else if shared_layers == 0 && !old.diff_ids.is_empty() && !new.diff_ids.is_empty() {
        Some(true)
    } else {
        None
    };
    BaseChange {
        old: old.base.name.clone(),
        new: new.base.name.clone(),
        changed,
        shared_layers,
    }
}

fn package(c: &Component) -> Package {
    Package {
        name: c.name.clone(),
        version: c.version.clone(),
        purl: c.purl.clone(),
    }
}

/// Each package (purl without version) with its components, by version.
fn by_package(components: &[Component]) -> BTreeMap<String, BTreeMap<String, Vec<&Component>>> {
    let mut map: BTreeMap<String, BTreeMap<String, Vec<&Component>>> = BTreeMap::new();
    for c in components {
        map.entry(c.purl_base())
            .or_default()
            .entry(c.version.clone())
            .or_default()
            .push(c);
    }
    map
}

/// The direction from one version to another by the purl type's ordering.
fn direction(purl_type: &str, from: &str, to: &str) -> Direction {
    match Scheme::for_purl_type(purl_type).compare(from, to) {
        Ok(Ordering::Less) => Direction::Upgraded,
        Ok(Ordering::Greater) => Direction::Downgraded,
        Ok(Ordering::Equal) | Err(_) => Direction::Changed,
    }
}

/// Packages added, removed and changed. A package both images have in the same version is the
/// same; of the versions only one side has, the old ones are paired with the new ones in each
/// side's version order (one version to another is a change), and what is left over is added or
/// removed.
pub fn package_changes(old: &[Component], new: &[Component]) -> PackageChanges {
    let (old, new) = (by_package(old), by_package(new));
    let mut changes = PackageChanges::default();
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let empty = BTreeMap::new();
    for key in keys {
        let before = old.get(key).unwrap_or(&empty);
        let after = new.get(key).unwrap_or(&empty);
        let (gone, came) = (only_in(before, after), only_in(after, before));
        let paired = gone.len().min(came.len());
        for (from, to) in gone.iter().zip(&came) {
            changes.changed.push(VersionChange {
                name: to.name.clone(),
                package: key.clone(),
                from: from.version.clone(),
                to: to.version.clone(),
                direction: direction(&to.purl_type, &from.version, &to.version),
            });
        }
        changes
            .removed
            .extend(gone[paired..].iter().map(|c| package(c)));
        changes
            .added
            .extend(came[paired..].iter().map(|c| package(c)));
    }
    changes
}

/// The versions of a package only `a` has (one component each), in the package's version order.
fn only_in<'a>(
    a: &BTreeMap<String, Vec<&'a Component>>,
    b: &BTreeMap<String, Vec<&Component>>,
) -> Vec<&'a Component> {
    let mut versions: Vec<&'a Component> = a
        .iter()
        .filter(|(v, _)| !b.contains_key(*v))
        .filter_map(|(_, cs)| cs.first().copied())
        .collect();
    if let Some(scheme) = versions
        .first()
        .map(|c| Scheme::for_purl_type(&c.purl_type))
    {
        versions.sort_by(|x, y| {
            scheme
                .compare(&x.version, &y.version)
                .unwrap_or_else(|_| x.version.cmp(&y.version))
        });
    }
    versions
}

/// A finding's identity across images: the vulnerability and the package (not its version: a
/// finding that stays after an upgrade is not new).
fn finding_key(f: &VulnerabilityFinding) -> (String, String) {
    (f.id.clone(), purl_base(&f.purl))
}

fn finding(f: &VulnerabilityFinding) -> Finding {
    Finding {
        id: f.id.clone(),
        severity: f.severity,
        package: f.package.clone(),
        version: f.version.clone(),
        purl: f.purl.clone(),
        fixed_version: f.fixed_version.clone(),
    }
}

/// Findings new in `new` and fixed since `old`; findings VEX suppresses count on neither side.
pub fn finding_changes(
    old: &[VulnerabilityFinding],
    new: &[VulnerabilityFinding],
) -> FindingChanges {
    let keys = |fs: &[VulnerabilityFinding]| -> BTreeSet<(String, String)> {
        fs.iter()
            .filter(|f| !f.suppressed())
            .map(finding_key)
            .collect()
    };
    let (before, after) = (keys(old), keys(new));
    let pick = |fs: &[VulnerabilityFinding], other: &BTreeSet<(String, String)>| {
        let mut seen = BTreeSet::new();
        let mut picked: Vec<Finding> = fs
            .iter()
            .filter(|f| !f.suppressed())
            .filter(|f| {
                let key = finding_key(f);
                !other.contains(&key) && seen.insert(key)
            })
            .map(finding)
            .collect();
        picked.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
        picked
    };
    FindingChanges {
        new: pick(new, &before),
        fixed: pick(old, &after),
    }
}

fn counted(rule: &RuleResult) -> usize {
    rule.findings
        .iter()
        .filter(|f| f.excepted_by.is_none())
        .count()
}

/// The rules whose result changed, in the new verdict's order (then the old one's rules it lacks).
pub fn policy_changes(old: &Verdict, new: &Verdict) -> PolicyChanges {
    let before: BTreeMap<&str, &RuleResult> =
        old.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let after: BTreeSet<&str> = new.rules.iter().map(|r| r.id.as_str()).collect();
    let mut rules = Vec::new();
    for rule in &new.rules {
        let prior = before.get(rule.id.as_str());
        let change = RuleChange {
            id: rule.id.clone(),
            old: prior.map(|p| p.status),
            new: Some(rule.status),
            old_findings: prior.map(|p| counted(p)).unwrap_or(0),
            new_findings: counted(rule),
        };
        if change.old != change.new || change.old_findings != change.new_findings {
            rules.push(change);
        }
    }
    for rule in old.rules.iter().filter(|r| !after.contains(r.id.as_str())) {
        rules.push(RuleChange {
            id: rule.id.clone(),
            old: Some(rule.status),
            new: None,
            old_findings: counted(rule),
            new_findings: 0,
        });
    }
    PolicyChanges {
        policy: new.policy.name.clone(),
        old: old.outcome,
        new: new.outcome,
        rules,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(purl: &str, version: &str) -> Component {
        Component {
            name: purl.rsplit('/').next().unwrap_or(purl).to_string(),
            version: version.to_string(),
            purl: format!("{purl}@{version}"),
            purl_type: purl[4..].split('/').next().unwrap_or("").to_string(),
            licenses: Vec::new(),
            layer_index: None,
            path: None,
            source: None,
            source_version: None,
            owned_by: None,
        }
    }

    #[test]
    fn versions_change_by_their_ecosystems_order() {
        let old = [
            component("pkg:deb/debian/tree", "2.1.0-1"),
            component("pkg:npm/left-pad", "1.10.0"),
            component("pkg:npm/gone", "1.0.0"),
            component("pkg:npm/dup", "1.0.0"),
            component("pkg:npm/dup", "2.0.0"),
        ];
        let new = [
            component("pkg:deb/debian/tree", "2.1.0-1+b1"),
            component("pkg:npm/left-pad", "1.9.0"),
            component("pkg:npm/added", "0.1.0"),
            component("pkg:npm/dup", "2.0.0"),
        ];
        let changes = package_changes(&old, &new);
        let changed: Vec<(&str, Direction)> = changes
            .changed
            .iter()
            .map(|c| (c.package.as_str(), c.direction))
            .collect();
        // 2.1.0-1 < 2.1.0-1+b1 by dpkg's order; 1.10.0 > 1.9.0 by semver (not by text).
        assert_eq!(
            changed,
            [
                ("pkg:deb/debian/tree", Direction::Upgraded),
                ("pkg:npm/left-pad", Direction::Downgraded)
            ]
        );
        let names = |ps: &[Package]| ps.iter().map(|p| p.purl.clone()).collect::<Vec<_>>();
        assert_eq!(names(&changes.added), ["pkg:npm/added@0.1.0"]);
        assert_eq!(
            names(&changes.removed),
            ["pkg:npm/dup@1.0.0", "pkg:npm/gone@1.0.0"]
        );
    }
}
