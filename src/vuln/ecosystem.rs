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
        _ => return None,
    };
    Some(Lookup {
        key: Key { ecosystem, name },
        version,
        scheme,
    })
}

/// An OSV ecosystem as vouch keys it: Ubuntu's `:LTS` suffix dropped (`Ubuntu:22.04:LTS` and
/// `Ubuntu:22.04` name the same release).
pub fn normalize(ecosystem: &str) -> &str {
    ecosystem.strip_suffix(":LTS").unwrap_or(ecosystem)
}

/// The ordering of an OSV ecosystem's versions (`Debian:12` → dpkg).
pub fn scheme_of(ecosystem: &str) -> Option<Scheme> {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    Some(match base {
        "Debian" | "Ubuntu" => Scheme::Dpkg,
        "Alpine" => Scheme::Apk,
        "PyPI" => Scheme::Pep440,
        "npm" | "Go" | "crates.io" | "Packagist" | "NuGet" => Scheme::Semver,
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
        assert!(
            lookup(&component("pkg:deb/debian/bash@5.2", "5.2")).is_none(),
            "no distro"
        );
        assert!(lookup(&component("pkg:generic/openssl@3.0.2", "3.0.2")).is_none());
    }
}
