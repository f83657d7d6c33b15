//! OSV records (https://ossf.github.io/osv-schema/): the subset vouch matches on, and whether a
//! record affects a version. Ranges are evaluated as the schema's reference algorithm does, with the
//! package's own version ordering: events sorted by version, `introduced` opens, `fixed` closes at
//! the version, `last_affected` closes after it, `limit` bounds the range from above.

use super::Severity;
use crate::version::{Scheme, VersionError};
use serde::Deserialize;
use std::cmp::Ordering;

#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    pub id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The advisories this one derives from (schema 1.6: Debian's `DEBIAN-CVE-…` name the CVE).
    #[serde(default)]
    pub upstream: Vec<String>,
    pub withdrawn: Option<String>,
    /// When the advisory was published and last modified (RFC 3339).
    #[serde(default)]
    pub published: Option<String>,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub severity: Vec<SeverityScore>,
    #[serde(default)]
    pub affected: Vec<Affected>,
    #[serde(default)]
    pub database_specific: Option<Specific>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SeverityScore {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Package {
    pub ecosystem: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Affected {
    pub package: Option<Package>,
    #[serde(default)]
    pub ranges: Vec<Range>,
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default)]
    pub severity: Vec<SeverityScore>,
    #[serde(default)]
    pub database_specific: Option<Specific>,
    #[serde(default)]
    pub ecosystem_specific: Option<Specific>,
}

/// What vouch reads of a `database_specific` or `ecosystem_specific` object: a database's own
/// severity rating (GitHub's `MODERATE`, Debian's `low`). The rest is skipped as it is parsed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Specific {
    #[serde(default)]
    pub severity: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One range event; exactly one field is set.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    pub introduced: Option<String>,
    pub fixed: Option<String>,
    pub last_affected: Option<String>,
    pub limit: Option<String>,
}

impl Event {
    /// The event's version (`"0"` for "from the beginning").
    fn version(&self) -> Option<&str> {
        self.introduced
            .as_deref()
            .or(self.fixed.as_deref())
            .or(self.last_affected.as_deref())
            .or(self.limit.as_deref())
    }
}

/// What a match found: the record affects the version, and the version that fixes it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub fixed: Option<String>,
}

/// Sorts a range's events by version. Not with `sort_by`: the versions are the record's, and a
/// comparison that fails, or an ordering that is not total (rpm's segment comparison is not, for
/// some strings), makes the standard sort panic. An insertion sort takes any answers (a range has
/// a handful of events) and stops at the first version that cannot be read.
fn sort_events(events: &mut [&Event], scheme: Scheme) -> Result<(), VersionError> {
    for i in 1..events.len() {
        let mut j = i;
        while j > 0 {
            let (a, b) = (
                events[j - 1].version().unwrap_or("0"),
                events[j].version().unwrap_or("0"),
            );
            if order(scheme, a, b)? != Ordering::Greater {
                break;
            }
            events.swap(j - 1, j);
            j -= 1;
        }
    }
    Ok(())
}

/// Orders two event versions, `"0"` first.
fn order(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    match (a == "0", b == "0") {
        (true, true) => Ok(Ordering::Equal),
        (true, false) => Ok(Ordering::Less),
        (false, true) => Ok(Ordering::Greater),
        (false, false) => scheme.compare(a, b),
    }
}

impl Affected {
    /// Whether `version` is affected, by the explicit `versions` list or an `ECOSYSTEM`/`SEMVER`
    /// range (`GIT` ranges name commits, which an image does not carry). An unreadable version in the
    /// record or the image is an error, never a silent "not affected".
    pub fn affects(&self, scheme: Scheme, version: &str) -> Result<Option<Hit>, VersionError> {
        let mut hit = None;
        for range in &self.ranges {
            if range.kind != "ECOSYSTEM" && range.kind != "SEMVER" {
                continue;
            }
            let scheme = if range.kind == "SEMVER" {
                Scheme::Semver
            } else {
                scheme
            };
            let mut events: Vec<&Event> = range
                .events
                .iter()
                .filter(|e| e.version().is_some())
                .collect();
            sort_events(&mut events, scheme)?;
            let mut affected = false;
            let mut fixed = None;
            for event in &events {
                if let Some(introduced) = &event.introduced {
                    if order(scheme, introduced, version)? != Ordering::Greater {
                        affected = true;
                        fixed = None;
                    }
                } else if let Some(f) = &event.fixed {
                    if order(scheme, f, version)? != Ordering::Greater {
                        affected = false;
                    } else if affected && fixed.is_none() {
                        fixed = Some(f.clone());
                    }
                } else if let Some(last) = &event.last_affected {
                    if order(scheme, last, version)? == Ordering::Less {
                        affected = false;
                    }
                } else if let Some(limit) = &event.limit {
                    if order(scheme, limit, version)? != Ordering::Greater {
                        affected = false;
                    }
                }
            }
            if affected {
                hit = Some(Hit { fixed });
                if hit.as_ref().is_some_and(|h| h.fixed.is_some()) {
                    break;
                }
            }
        }
        if hit.is_none() {
            for listed in &self.versions {
                if order(scheme, listed, version)? == Ordering::Equal {
                    hit = Some(Hit { fixed: None });
                    break;
                }
            }
        }
        Ok(hit)
    }
}

impl Record {
    /// Its aliases and upstream ids, each once: the names other sources may report it under.
    pub fn aliases_and_upstream(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::with_capacity(self.aliases.len() + self.upstream.len());
        for name in self.aliases.iter().chain(&self.upstream) {
            if *name != self.id && !names.contains(name) {
                names.push(name.clone());
            }
        }
        names
    }

    /// The CVSS vectors of the record and of the affected entry.
    pub fn cvss_vectors(&self, affected: &Affected) -> Vec<String> {
        self.severity
            .iter()
            .chain(&affected.severity)
            .filter(|s| s.kind.starts_with("CVSS"))
            .map(|s| s.score.clone())
            .collect()
    }

    /// The record's severity: the highest CVSS base score among its (and the affected entry's)
    /// vectors, else a database's own rating (`database_specific.severity`, as GitHub and Debian
    /// write it), else unknown.
    pub fn severity(&self, affected: &Affected) -> Severity {
        let scored = self
            .severity
            .iter()
            .chain(&affected.severity)
            .filter_map(|s| super::severity::from_cvss(&s.score))
            .max();
        if let Some(severity) = scored {
            return severity;
        }
        [
            &affected.database_specific,
            &self.database_specific,
            &affected.ecosystem_specific,
        ]
        .into_iter()
        .flatten()
        .filter_map(|d| d.severity.as_ref().and_then(|s| s.as_str()))
        .find_map(super::severity::from_name)
        .unwrap_or(Severity::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_with_odd_versions_sort_without_panicking() {
        // Found by `make fuzz` (osv_record): many `fixed` events whose rpm-style comparison is not
        // a total order made `sort_by` panic.
        let record: Record = serde_json::from_str(include_str!(
            "../../fuzz/regressions/osv_record/total-order.json"
        ))
        .unwrap();
        for affected in &record.affected {
            for scheme in [
                Scheme::Dpkg,
                Scheme::Rpm,
                Scheme::Apk,
                Scheme::Generic,
                Scheme::Gem,
            ] {
                let _ = affected.affects(scheme, "5.2.15-2");
            }
        }
    }

    fn affected(json: &str) -> Affected {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn ranges_follow_the_reference_algorithm() {
        let a = affected(
            r#"{"package": {"ecosystem": "PyPI", "name": "requests"},
                "ranges": [{"type": "ECOSYSTEM", "events": [
                    {"introduced": "2.3.0"}, {"fixed": "2.31.0"},
                    {"introduced": "2.32.0rc1"}, {"last_affected": "2.32.1"}]}]}"#,
        );
        let pep = Scheme::Pep440;
        assert_eq!(a.affects(pep, "2.2.9").unwrap(), None);
        assert_eq!(
            a.affects(pep, "2.3.0").unwrap(),
            Some(Hit {
                fixed: Some("2.31.0".into())
            })
        );
        assert_eq!(a.affects(pep, "2.31.0").unwrap(), None);
        assert_eq!(a.affects(pep, "2.32.0").unwrap(), Some(Hit { fixed: None }));
        assert_eq!(a.affects(pep, "2.32.1").unwrap(), Some(Hit { fixed: None }));
        assert_eq!(a.affects(pep, "2.32.2").unwrap(), None);
    }

    #[test]
    fn introduced_zero_versions_list_and_dpkg_ordering() {
        let debian = affected(
            r#"{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.15-1~deb12u1"}]}]}"#,
        );
        let dpkg = Scheme::Dpkg;
        assert!(debian.affects(dpkg, "3.0.11-1~deb12u2").unwrap().is_some());
        assert!(debian.affects(dpkg, "3.0.15-1~deb12u1").unwrap().is_none());
        assert!(
            debian.affects(dpkg, "1:0.1").unwrap().is_none(),
            "epoch 1 sorts after"
        );
        let listed = affected(
            r#"{"package": {"ecosystem": "npm", "name": "event-stream"}, "versions": ["3.3.6"]}"#,
        );
        assert!(listed.affects(Scheme::Semver, "3.3.6").unwrap().is_some());
        assert!(listed.affects(Scheme::Semver, "3.3.5").unwrap().is_none());
    }

    #[test]
    fn unreadable_versions_are_errors() {
        let a = affected(
            r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "not a version"}]}]}"#,
        );
        assert!(a.affects(Scheme::Pep440, "1.0").is_err());
        let git =
            affected(r#"{"ranges": [{"type": "GIT", "events": [{"introduced": "abc123"}]}]}"#);
        assert_eq!(git.affects(Scheme::Pep440, "1.0").unwrap(), None);
    }
}
