//! Which OSV ecosystem, package name and version a component is looked up under. Distribution
//! packages take their release from the purl's `distro` qualifier (`Debian:12`, `Alpine:v3.19`) and
//! match through their source package, as Debian's and Alpine's advisories are per source package.
//! Names are normalised as each ecosystem's OSV records write them (PyPI's PEP 503 form, Maven's
//! `group:artifact`, Go module paths, `@scope/name`).

use crate::purl::pypi_name;
use crate::sbom::read::Component;
use crate::version::Scheme;
use std::str::FromStr;

/// Where a component is looked up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub ecosystem: String,
    pub name: String,
}

/// A component's lookup key, the version to compare, and the ordering to compare it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub key: Key,
    pub version: String,
    pub scheme: Scheme,
}

/// `12` from `debian-12`, `v3.19` from `alpine-3.19.1`.
fn distro_release(distro: Option<&str>, id: &str) -> Option<String> {
    let version = distro?.strip_prefix(id)?.strip_prefix('-')?;
    let mut parts = version.split('.');
    match id {
        "alpine" => Some(format!("v{}.{}", parts.next()?, parts.next()?)),
        // Ubuntu releases are `YY.MM`.
        "ubuntu" => Some(format!("{}.{}", parts.next()?, parts.next()?)),
        _ => Some(parts.next()?.to_string()),
    }
}

/// The lookup for a component; `None` for types OSV has no ecosystem for (or a distro release that
/// cannot be told).
pub fn lookup(component: &Component) -> Option<Lookup> {
    let purl = purl::GenericPurl::<String>::from_str(&component.purl).ok()?;
    let name = purl.name().to_string();
    let namespace = purl.namespace();
    let joined = match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.clone(),
    };
    let distro = purl.qualifiers().get("distro");
    let version = component.version.clone();
    let (ecosystem, name, version, scheme) = match component.purl_type.as_str() {
        "deb" => {
            let ecosystem = match namespace? {
                "debian" => format!("Debian:{}", distro_release(distro, "debian")?),
                "ubuntu" => format!("Ubuntu:{}", distro_release(distro, "ubuntu")?),
                _ => return None,
            };
            // Advisories name the source package and its version (the binary's version when the
            // two are the same, which dpkg then does not repeat).
            let name = component.source.clone().unwrap_or(name);
            let version = component.source_version.clone().unwrap_or(version);
            (ecosystem, name, version, Scheme::Dpkg)
        }
        "rpm" => {
            // Red Hat's streams are CPEs (`Red Hat:enterprise_linux:9::appstream`), keyed without
            // their repository (see [`normalize`]); Rocky Linux and AlmaLinux by major release.
            let ecosystem = match namespace? {
                "redhat" => format!(
                    "Red Hat:enterprise_linux:{}",
                    distro_release(distro, "rhel")?
                ),
                "rocky" => format!("Rocky Linux:{}", distro_release(distro, "rocky")?),
                "almalinux" => format!("AlmaLinux:{}", distro_release(distro, "almalinux")?),
                _ => return None,
            };
            (ecosystem, name, version, Scheme::Rpm)
        }
        "apk" => {
            let ecosystem = format!("Alpine:{}", distro_release(distro, "alpine")?);
            let name = component.source.clone().unwrap_or(name);
            (ecosystem, name, version, Scheme::Apk)
        }
        "pypi" => ("PyPI".into(), pypi_name(&name), version, Scheme::Pep440),
        "npm" => ("npm".into(), joined, version, Scheme::Semver),
        "golang" => {
            let version = version.trim_start_matches('v').to_string();
            ("Go".into(), joined, version, Scheme::Semver)
        }
        "maven" => {
            let group = namespace?;
            (
                "Maven".into(),
                format!("{group}:{name}"),
                version,
                Scheme::Maven,
            )
        }
        "cargo" => ("crates.io".into(), name, version, Scheme::Semver),
        "gem" => ("RubyGems".into(), name, version, Scheme::Gem),
        "composer" => ("Packagist".into(), joined, version, Scheme::Semver),
        "nuget" => ("NuGet".into(), name, version, Scheme::Semver),
        // Bitnami's advisories (bitnami/vulndb) give the application's upstream version; its
        // packages' versions add Bitnami's revision (`7.4.2-0`), which semver would read as a
        // pre-release.
        "bitnami" => {
            let upstream = match version.rsplit_once('-') {
                Some((v, revision)) if revision.bytes().all(|b| b.is_ascii_digit()) => v,
                _ => version.as_str(),
            };
            ("Bitnami".into(), name, upstream.to_string(), Scheme::Semver)
        }
        _ => return None,
    };
    Some(Lookup {
        key: Key { ecosystem, name },
        version,
        scheme,
    })
}

/// Every lookup of a component: its [`lookup`], and for an rpm also its source rpm's name, as the
/// OSV schema lets Red Hat name binary or source rpms and has Rocky Linux and AlmaLinux name source
/// packages (their records name binaries too; both are looked up, a record matching both counts
/// once).
pub fn lookups(component: &Component) -> Vec<Lookup> {
    let Some(first) = lookup(component) else {
        return Vec::new();
    };
    let by_source = (component.purl_type == "rpm")
        .then_some(component.source.as_ref())
        .flatten()
        .filter(|source| **source != first.key.name)
        .map(|source| Lookup {
            key: Key {
                ecosystem: first.key.ecosystem.clone(),
                name: source.clone(),
            },
            ..first.clone()
        });
    std::iter::once(first).chain(by_source).collect()
}

/// An OSV ecosystem as vouch keys it: Ubuntu's `:LTS` suffix dropped (`Ubuntu:22.04:LTS` and
/// `Ubuntu:22.04` name the same release), and Red Hat's stream without its repository
/// (`Red Hat:enterprise_linux:9::appstream` and `::baseos` are both what a RHEL 9 or UBI 9 image
/// installs from; `rhel_eus:9.2` and the other streams stay apart).
pub fn normalize(ecosystem: &str) -> &str {
    if ecosystem.starts_with("Red Hat:") {
        return ecosystem.split("::").next().unwrap_or(ecosystem);
    }
    ecosystem.strip_suffix(":LTS").unwrap_or(ecosystem)
}

/// The ordering of an OSV ecosystem's versions (`Debian:12` → dpkg).
pub fn scheme_of(ecosystem: &str) -> Option<Scheme> {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    Some(match base {
        "Debian" | "Ubuntu" => Scheme::Dpkg,
        "Alpine" => Scheme::Apk,
        "Red Hat" | "Rocky Linux" | "AlmaLinux" => Scheme::Rpm,
        "PyPI" => Scheme::Pep440,
        "npm" | "Go" | "crates.io" | "Packagist" | "NuGet" | "Bitnami" => Scheme::Semver,
        "Maven" => Scheme::Maven,
        "RubyGems" => Scheme::Gem,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(purl: &str, version: &str) -> Component {
        Component {
            name: String::new(),
            version: version.into(),
            purl: purl.into(),
            purl_type: purl[4..].split('/').next().unwrap().into(),
            ..Default::default()
        }
    }

    fn key(purl: &str, version: &str, source: Option<(&str, &str)>) -> (String, String, String) {
        let mut c = component(purl, version);
        c.source = source.map(|s| s.0.to_string());
        c.source_version = source.map(|s| s.1.to_string());
        let l = lookup(&c).unwrap();
        (l.key.ecosystem, l.key.name, l.version)
    }

    #[test]
    fn maps_purls_to_osv_ecosystems() {
        assert_eq!(
            key(
                "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12",
                "3.0.11-1~deb12u2",
                Some(("openssl", "3.0.11-1~deb12u2"))
            ),
            (
                "Debian:12".into(),
                "openssl".into(),
                "3.0.11-1~deb12u2".into()
            )
        );
        assert_eq!(
            key(
                "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1",
                "1.36.1-r15",
                None
            ),
            ("Alpine:v3.19".into(), "busybox".into(), "1.36.1-r15".into())
        );
        assert_eq!(
            key("pkg:pypi/Flask_SQLAlchemy@3.1.1", "3.1.1", None).1,
            "flask-sqlalchemy"
        );
        assert_eq!(
            key("pkg:npm/%40babel/core@7.1.0", "7.1.0", None).1,
            "@babel/core"
        );
        assert_eq!(
            key("pkg:golang/golang.org/x/net@v0.17.0", "v0.17.0", None),
            ("Go".into(), "golang.org/x/net".into(), "0.17.0".into())
        );
        assert_eq!(
            key(
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                "2.14.1",
                None
            )
            .1,
            "org.apache.logging.log4j:log4j-core"
        );
        assert_eq!(
            key(
                "pkg:bitnami/redis@7.4.2-0?arch=amd64&distro=debian-12",
                "7.4.2-0",
                None
            ),
            ("Bitnami".into(), "redis".into(), "7.4.2".into())
        );
        assert_eq!(
            key("pkg:bitnami/wait-for-port@1.0.8", "1.0.8", None).2,
            "1.0.8"
        );
        assert!(
            lookup(&component("pkg:deb/debian/bash@5.2", "5.2")).is_none(),
            "no distro"
        );
        assert!(lookup(&component("pkg:generic/openssl@3.0.2", "3.0.2")).is_none());
    }

    /// rpm-based images as vouch's rpm cataloger writes their purls (`distro` from os-release's ID
    /// and VERSION_ID), looked up under the binary and the source rpm's names.
    #[test]
    fn rpm_distributions_and_their_source_packages() {
        let keys = |purl: &str, version: &str, source: Option<&str>| {
            let mut c = component(purl, version);
            c.source = source.map(str::to_string);
            lookups(&c)
                .into_iter()
                .map(|l| (l.key.ecosystem, l.key.name, l.version, l.scheme))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys(
                "pkg:rpm/redhat/bind-libs@9.16.23-5.el9_1?arch=x86_64&distro=rhel-9.3&epoch=32",
                "32:9.16.23-5.el9_1",
                Some("bind")
            ),
            [
                (
                    "Red Hat:enterprise_linux:9".to_string(),
                    "bind-libs".to_string(),
                    "32:9.16.23-5.el9_1".to_string(),
                    Scheme::Rpm
                ),
                (
                    "Red Hat:enterprise_linux:9".to_string(),
                    "bind".to_string(),
                    "32:9.16.23-5.el9_1".to_string(),
                    Scheme::Rpm
                )
            ]
        );
        let one = |purl: &str| keys(purl, "1.0-1", Some("same"))[0].0.clone();
        assert_eq!(
            one("pkg:rpm/rocky/same@1.0-1?distro=rocky-9.3"),
            "Rocky Linux:9"
        );
        assert_eq!(
            one("pkg:rpm/almalinux/same@1.0-1?distro=almalinux-8.10"),
            "AlmaLinux:8"
        );
        assert_eq!(
            keys(
                "pkg:rpm/rocky/same@1.0-1?distro=rocky-9.3",
                "1.0-1",
                Some("same")
            )
            .len(),
            1,
            "a source named as its binary is one lookup"
        );
        assert!(
            keys("pkg:rpm/redhat/x@1-1", "1-1", None).is_empty(),
            "no distro"
        );
        assert!(keys("pkg:rpm/sles/x@1-1?distro=sles-15.5", "1-1", None).is_empty());
        for (stream, keyed) in [
            (
                "Red Hat:enterprise_linux:9::appstream",
                "Red Hat:enterprise_linux:9",
            ),
            (
                "Red Hat:enterprise_linux:9::baseos",
                "Red Hat:enterprise_linux:9",
            ),
            ("Red Hat:rhel_eus:9.2::baseos", "Red Hat:rhel_eus:9.2"),
            ("Rocky Linux:9", "Rocky Linux:9"),
        ] {
            assert_eq!(normalize(stream), keyed);
            assert_eq!(scheme_of(stream), Some(Scheme::Rpm));
        }
        // Red Hat writes epoch 0 where the rpm database has none.
        assert_eq!(
            Scheme::Rpm.compare("0:5.1.8-5.el9", "5.1.8-6.el9").unwrap(),
            std::cmp::Ordering::Less
        );
        assert_eq!(
            Scheme::Rpm.compare("0:5.1.8-6.el9", "5.1.8-6.el9").unwrap(),
            std::cmp::Ordering::Equal
        );
    }
}
