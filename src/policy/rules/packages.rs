//! `packages` rules: denied packages (a purl pattern, optionally only in a version range) and minimum
//! versions (`pkg:pypi/requests >= 2.32.0`), with versions ordered by each package's own ecosystem.
//! A version that its ecosystem cannot read is a finding of its own: the rule cannot vouch for it.

use super::super::diags::{Code, Origin, PolicyError};
use super::super::file::PackagesFile;
use super::super::input::Input;
use super::super::verdict::Finding;
use super::{component_evidence, PurlPattern};
use crate::version::{Op, Range, Scheme};
use marked_yaml::Spanned;

#[derive(Debug)]
struct Denied {
    pattern: PurlPattern,
    versions: Option<Range>,
    reason: Option<String>,
}

#[derive(Debug)]
struct Minimum {
    pattern: PurlPattern,
    /// One `>=` or `>` comparison.
    range: Range,
}

#[derive(Debug)]
pub struct PackagesCheck {
    denied: Vec<Denied>,
    minimums: Vec<Minimum>,
}

/// Checks the versions of a range in the pattern's ecosystem, when the pattern names one.
fn validate(
    range: &Range,
    pattern: &PurlPattern,
    at: &Spanned<String>,
    origin: &Origin,
) -> Result<(), PolicyError> {
    if let Some(purl_type) = pattern.purl_type() {
        range
            .validate(Scheme::for_purl_type(purl_type))
            .map_err(|e| origin.at(at, e.to_string()))?;
    }
    Ok(())
}

impl PackagesCheck {
    pub fn compile(file: &PackagesFile, origin: &Origin) -> Result<PackagesCheck, PolicyError> {
        let mut denied = Vec::new();
        for entry in &file.deny {
            let pattern = PurlPattern::compile(&entry.purl, origin)?;
            let versions = match &entry.versions {
                Some(text) => {
                    let range = Range::parse(text)
                        .map_err(|e| origin.at(text, format!("bad version range: {e}")))?;
                    validate(&range, &pattern, text, origin)?;
                    Some(range)
                }
                None => None,
            };
            denied.push(Denied {
                pattern,
                versions,
                reason: entry.reason.clone(),
            });
        }
        let mut minimums = Vec::new();
        for entry in &file.minimum {
            let text = entry.trim();
            let split = text.find(['<', '>', '=', '!', ' ']).unwrap_or(text.len());
            let (purl, constraint) = text.split_at(split);
            let range = Range::parse(constraint).map_err(|e| {
                origin.at(entry, format!("`{text}`: write `PURL >= VERSION` ({e})"))
            })?;
            let pattern =
                PurlPattern::compile(&Spanned::new(*entry.span(), purl.to_string()), origin)?;
            validate(&range, &pattern, entry, origin)?;
            if !range
                .single()
                .is_some_and(|c| matches!(c.op, Op::Ge | Op::Gt))
            {
                return Err(origin.at(
                    entry,
                    format!("`{text}`: a minimum is one `>=` or `>` comparison"),
                ));
            }
            minimums.push(Minimum { pattern, range });
        }
        Ok(PackagesCheck { denied, minimums })
    }

    pub fn evaluate(&self, input: &Input) -> Vec<Finding> {
        let mut findings = Vec::new();
        for component in input.components {
            let scheme = Scheme::for_purl_type(&component.purl_type);
            let evidence = || component_evidence(component, input.image);
            let unreadable = |e: crate::version::VersionError| {
                Finding::new(
                    Code::PackagesVersionUnreadable,
                    format!(
                        "{} {}: cannot be compared ({e})",
                        component.name, component.version
                    ),
                    evidence(),
                )
                .keyed(component.purl_base())
                .keyed(component.purl.clone())
            };
            for denied in self.denied.iter().filter(|d| d.pattern.matches(component)) {
                let hit = match &denied.versions {
                    None => Ok(true),
                    Some(range) => range.contains(scheme, &component.version),
                };
                match hit {
                    Ok(true) => {
                        let range = denied
                            .versions
                            .as_ref()
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default();
                        let reason = denied
                            .reason
                            .as_ref()
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default();
                        findings.push(
                            Finding::new(
                                Code::PackagesDenied,
                                format!(
                                    "{} {} is denied by {}{range}{reason}",
                                    component.name, component.version, denied.pattern.text
                                ),
                                evidence(),
                            )
                            .keyed(component.purl_base())
                            .keyed(component.purl.clone()),
                        );
                    }
                    Ok(false) => {}
                    Err(e) => findings.push(unreadable(e)),
                }
            }
            for minimum in self
                .minimums
                .iter()
                .filter(|m| m.pattern.matches(component))
            {
                let range = &minimum.range;
                match range.contains(scheme, &component.version) {
                    Ok(true) => {}
                    Ok(false) => findings.push(
                        Finding::new(
                            Code::PackagesBelowMinimum,
                            format!(
                                "{} {} is below the minimum {range}",
                                component.name, component.version
                            ),
                            evidence(),
                        )
                        .keyed(component.purl_base())
                        .keyed(component.purl.clone()),
                    ),
                    Err(e) => findings.push(unreadable(e)),
                }
            }
        }
        findings
    }
}
