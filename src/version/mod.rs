//! Version ordering per ecosystem: how the policy engine (minimum versions, denied version ranges)
//! and the vulnerability matcher decide whether `1.2.3-4` is older than `1.2.10`. Each ecosystem is
//! compared with its own rules, through the crate of the field where one exists: dpkg (`debversion`),
//! rpm (`rpm-version`), PEP 440 (`pep440_rs`), semver for npm, Cargo, Go, NuGet and Composer
//! (`semver`, with the `v` prefix and short forms those ecosystems allow), Maven (`mvn_version`);
//! apk ([`apk`]) and RubyGems ([`gem`]) have no such crate and are written here.

pub mod apk;
pub mod gem;
pub mod range;

use std::cmp::Ordering;
use std::str::FromStr;

pub use range::{Op, Range, RangeError};

/// A version that its ecosystem's rules cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{version}` is not a valid {scheme} version{}", detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
pub struct VersionError {
    pub version: String,
    pub scheme: Scheme,
    pub detail: Option<String>,
}

/// An ecosystem's version ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Dpkg,
    Rpm,
    Apk,
    Pep440,
    Semver,
    Maven,
    Gem,
    /// Anything else (binaries found by classifiers, unknown purl types): rpm's segment comparison,
    /// which orders dotted numbers and letters sensibly without assuming a format.
    Generic,
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Pep440 => "PEP 440",
            Scheme::Semver => "semver",
            Scheme::Maven => "Maven",
            Scheme::Gem => "RubyGems",
            Scheme::Generic => "generic",
        })
    }
}

impl Scheme {
    /// The ordering of a purl type's versions.
    pub fn for_purl_type(purl_type: &str) -> Scheme {
        match purl_type {
            "deb" => Scheme::Dpkg,
            "rpm" => Scheme::Rpm,
            "apk" | "alpine" => Scheme::Apk,
            "pypi" => Scheme::Pep440,
            "npm" | "cargo" | "golang" | "nuget" | "composer" => Scheme::Semver,
            "maven" => Scheme::Maven,
            "gem" => Scheme::Gem,
            _ => Scheme::Generic,
        }
    }

    fn error(self, version: &str, detail: impl Into<Option<String>>) -> VersionError {
        VersionError {
            version: version.to_string(),
            scheme: self,
            detail: detail.into(),
        }
    }

    /// Checks that `version` is valid in this ecosystem (done on policy versions before anything is
    /// evaluated).
    pub fn validate(self, version: &str) -> Result<(), VersionError> {
        self.compare(version, version).map(|_| ())
    }

    /// Orders two versions by this ecosystem's rules.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        if a.trim().is_empty() || b.trim().is_empty() {
            let empty = if a.trim().is_empty() { a } else { b };
            return Err(self.error(empty, "empty".to_string()));
        }
        match self {
            Scheme::Dpkg => {
                let parse = |v: &str| {
                    debversion::Version::from_str(v).map_err(|e| self.error(v, e.to_string()))
                };
                Ok(parse(a)?.cmp(&parse(b)?))
            }
            Scheme::Rpm | Scheme::Generic => Ok(rpm_version::rpm_evr_compare(a, b)),
            Scheme::Apk => {
                let parse = |v: &str| apk::Version::parse(v).ok_or_else(|| self.error(v, None));
                Ok(parse(a)?.cmp(&parse(b)?))
            }
            Scheme::Pep440 => {
                let parse = |v: &str| {
                    pep440_rs::Version::from_str(v).map_err(|e| self.error(v, e.to_string()))
                };
                Ok(parse(a)?.cmp(&parse(b)?))
            }
            Scheme::Semver => Ok(lenient_semver(a)
                .ok_or_else(|| self.error(a, None))?
                .cmp(&lenient_semver(b).ok_or_else(|| self.error(b, None))?)),
            Scheme::Maven => {
                let parse = |v: &str| mvn_version::ComparableVersion::new(v);
                Ok(parse(a).cmp(&parse(b)))
            }
            Scheme::Gem => {
                let parse = |v: &str| gem::Version::parse(v).ok_or_else(|| self.error(v, None));
                Ok(parse(a)?.cmp(&parse(b)?))
            }
        }
    }
}

/// A semver version as npm, Cargo, Go, NuGet and Composer write them: an optional `v` (Go always
/// has one), and short forms (`1.2`, `1`) padded with zeros, keeping any pre-release and build parts.
/// A NuGet four-part version `1.2.3.4` is read as `1.2.3` with build metadata `4`, which orders it
/// after `1.2.3` (semver orders build metadata last, as a tie-breaker).
fn lenient_semver(version: &str) -> Option<semver::Version> {
    let trimmed = version.trim();
    let bare = trimmed
        .strip_prefix('v')
        .or_else(|| trimmed.strip_prefix('V'))
        .unwrap_or(trimmed);
    if let Ok(v) = semver::Version::parse(bare) {
        return Some(v);
    }
    let split_at = bare.find(['-', '+']).unwrap_or(bare.len());
    let (core, rest) = bare.split_at(split_at);
    let mut parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let fourth = if parts.len() == 4 { parts.pop() } else { None };
    if parts.len() > 3 {
        return None;
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    let numbers: Vec<String> = parts
        .iter()
        .map(|p| p.trim_start_matches('0'))
        .map(|p| {
            if p.is_empty() {
                "0".to_string()
            } else {
                p.to_string()
            }
        })
        .collect();
    let mut text = numbers.join(".");
    match fourth {
        Some(build) if rest.is_empty() => text.push_str(&format!("+{build}")),
        Some(_) => return None,
        None => text.push_str(rest),
    }
    semver::Version::parse(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn check(scheme: Scheme, cases: &[(&str, &str, Ordering)]) {
        for (a, b, expected) in cases {
            assert_eq!(
                scheme.compare(a, b).unwrap(),
                *expected,
                "{scheme}: {a} vs {b}"
            );
            assert_eq!(
                scheme.compare(b, a).unwrap(),
                expected.reverse(),
                "{scheme}: {b} vs {a}"
            );
        }
    }

    #[test]
    fn dpkg_epochs_tildes_and_revisions() {
        check(
            Scheme::Dpkg,
            &[
                ("1:1.0", "2.0", Greater),
                ("1.0~rc1", "1.0", Less),
                ("1.0~~", "1.0~", Less),
                ("3.0.15-1~deb12u1", "3.0.15-1", Less),
                ("3.0.15-1~deb12u1", "3.0.14-1", Greater),
                ("1.2.10", "1.2.9", Greater),
                ("1.0-1", "1.0-1+b1", Less),
                ("0:1.0", "1.0", Equal),
            ],
        );
        assert!(Scheme::Dpkg.validate("not a version!").is_err());
    }

    #[test]
    fn rpm_tilde_caret_and_epoch() {
        check(
            Scheme::Rpm,
            &[
                ("1.0~rc1", "1.0", Less),
                ("1.0^git1", "1.0", Greater),
                ("1.0^git1", "1.1", Less),
                ("2:1.0-1", "1:9.9-1", Greater),
                ("1.2.3-4.el9", "1.2.3-5.el9", Less),
                ("1.10", "1.9", Greater),
            ],
        );
    }

    #[test]
    fn pep440_pre_post_dev_and_local() {
        check(
            Scheme::Pep440,
            &[
                ("2.32.0", "2.31.99", Greater),
                ("1.0.dev1", "1.0a1", Less),
                ("1.0a1", "1.0b1", Less),
                ("1.0rc1", "1.0", Less),
                ("1.0", "1.0.post1", Less),
                ("1.0.post1.dev1", "1.0.post1", Less),
                ("1.0", "1.0+local", Less),
                ("1!0.5", "2.0", Greater),
                ("1.0", "1.0.0", Equal),
            ],
        );
        assert!(Scheme::Pep440.validate("1.0-banana-split").is_err());
    }

    #[test]
    fn semver_prereleases_go_pseudo_versions_and_short_forms() {
        check(
            Scheme::Semver,
            &[
                ("1.0.0-alpha", "1.0.0", Less),
                ("1.0.0-alpha", "1.0.0-alpha.1", Less),
                ("1.0.0-alpha.1", "1.0.0-beta", Less),
                ("1.0.0-rc.1", "1.0.0-rc.11", Less),
                ("v1.2.3", "1.2.3", Equal),
                ("v0.0.0-20210101000000-abcdef123456", "v0.1.0", Less),
                ("v1.2.4-0.20210101000000-abcdef123456", "v1.2.3", Greater),
                ("1.2", "1.2.0", Equal),
                ("2", "1.9.9", Greater),
                ("4.7.0.1", "4.7.0", Greater),
            ],
        );
        assert!(Scheme::Semver.validate("latest").is_err());
    }

    #[test]
    fn maven_qualifiers() {
        check(
            Scheme::Maven,
            &[
                ("1.0-alpha-1", "1.0", Less),
                ("1.0-SNAPSHOT", "1.0", Less),
                ("1.0-rc1", "1.0-SNAPSHOT", Less),
                ("1.0", "1.0-sp1", Less),
                ("1.0.0", "1", Equal),
                ("2.17.1", "2.9", Greater),
                ("1.0-beta", "1.0-alpha", Greater),
            ],
        );
    }

    #[test]
    fn purl_types_pick_their_scheme() {
        assert_eq!(Scheme::for_purl_type("deb"), Scheme::Dpkg);
        assert_eq!(Scheme::for_purl_type("golang"), Scheme::Semver);
        assert_eq!(Scheme::for_purl_type("generic"), Scheme::Generic);
    }
}
