//! Package URLs, in one place: built from a cataloger's parts (percent-encoded as the purl spec
//! requires), their type and base (`pkg:type/namespace/name`, what policy patterns match) read from
//! a string, and parsed into a normal form ([`PackageUrl`]) for comparing as packages, not strings:
//! the same package written by another tool (a VEX document, a Trivy or Grype report) differs in
//! qualifier order, percent-encoding, name case, where the epoch sits (`epoch=1` qualifier or `1:`
//! in the version) and how the distribution is named (`distro=debian-12.5`, `distro=bookworm`,
//! `distro=debian-12`). [`PackageUrl::covers`] is the one comparison VEX statements and report
//! imports use.

use std::collections::BTreeMap;
use std::str::FromStr;

/// A purl in normal form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageUrl {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    /// Qualifiers that tell packages apart; `distro` in [`distro_release`] form.
    pub qualifiers: BTreeMap<String, String>,
}

/// Qualifiers that say where a package came from, not which package it is.
const PROVENANCE_QUALIFIERS: &[&str] = &[
    "upstream",
    "repository_url",
    "download_url",
    "vcs_url",
    "file_name",
    "checksum",
    "checksums",
    "package-id",
];

/// Types whose names and namespaces are case-insensitive (purl spec).
const CASE_INSENSITIVE: &[&str] = &[
    "deb",
    "apk",
    "rpm",
    "alpm",
    "pypi",
    "github",
    "bitbucket",
    "composer",
    "hex",
];

impl PackageUrl {
    /// Parses and normalises a purl; `None` when it is not one.
    pub fn parse(text: &str) -> Option<PackageUrl> {
        let purl = ::purl::GenericPurl::<String>::from_str(text.trim()).ok()?;
        let kind = purl.package_type().to_ascii_lowercase();
        let fold = CASE_INSENSITIVE.contains(&kind.as_str());
        let mut name = purl.name().to_string();
        let mut namespace = purl.namespace().map(str::to_string);
        if fold {
            name = name.to_lowercase();
            namespace = namespace.map(|n| n.to_lowercase());
        }
        if kind == "pypi" {
            name = pypi_name(&name);
        }
        let mut qualifiers: BTreeMap<String, String> = purl
            .qualifiers()
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_string()))
            .filter(|(k, _)| !PROVENANCE_QUALIFIERS.contains(&k.as_str()))
            .collect();
        let mut version = purl.version().map(str::to_string);
        if kind == "golang" {
            version = version.map(|v| v.trim_start_matches('v').to_string());
        }
        // rpm and deb epochs: in the version (`1:2.3`), never as a qualifier; epoch 0 is no epoch.
        if let Some(epoch) = qualifiers.remove("epoch") {
            if let Some(v) = &version {
                if epoch != "0" && !v.contains(':') {
                    version = Some(format!("{epoch}:{v}"));
                }
            }
        }
        if let Some(v) = &version {
            if let Some(rest) = v.strip_prefix("0:") {
                version = Some(rest.to_string());
            }
        }
        if let Some(distro) = qualifiers.get_mut("distro") {
            *distro = distro_release(distro);
        }
        Some(PackageUrl {
            kind,
            namespace,
            name,
            version,
            qualifiers,
        })
    }

    /// Whether this purl, as a statement or report names a package, covers `target`: the same
    /// type, namespace and name; the same version when this one gives a version; and every
    /// qualifier both give agrees. A qualifier only one side gives does not tell them apart.
    pub fn covers(&self, target: &PackageUrl) -> bool {
        self.kind == target.kind
            && self.name == target.name
            && (self.namespace == target.namespace
                || self.namespace.is_none()
                || target.namespace.is_none())
            && self
                .version
                .as_ref()
                .is_none_or(|v| target.version.as_ref().is_none_or(|t| t == v))
            && self.qualifiers.iter().all(|(k, v)| {
                target
                    .qualifiers
                    .get(k)
                    .is_none_or(|t| t.eq_ignore_ascii_case(v))
            })
    }

    /// Whether the two name the same package at the same version (each covers the other).
    pub fn same_package(&self, other: &PackageUrl) -> bool {
        self.version.is_some() == other.version.is_some()
            && self.covers(other)
            && other.covers(self)
    }
}

/// Debian and Ubuntu code names, for distro qualifiers written as names.
const CODENAMES: &[(&str, &str)] = &[
    ("buster", "debian-10"),
    ("bullseye", "debian-11"),
    ("bookworm", "debian-12"),
    ("trixie", "debian-13"),
    ("forky", "debian-14"),
    ("bionic", "ubuntu-18.04"),
    ("focal", "ubuntu-20.04"),
    ("jammy", "ubuntu-22.04"),
    ("noble", "ubuntu-24.04"),
    ("oracular", "ubuntu-24.10"),
    ("plucky", "ubuntu-25.04"),
];

/// A distro qualifier reduced to the release that advisories are written for: `debian-12.5` and
/// `bookworm` → `debian-12`, `alpine-3.19.1` → `alpine-3.19`, `ubuntu-22.04` unchanged.
pub fn distro_release(distro: &str) -> String {
    let lower = distro.trim().to_ascii_lowercase();
    if let Some((_, release)) = CODENAMES.iter().find(|(name, _)| *name == lower) {
        return release.to_string();
    }
    let Some((id, version)) = lower.split_once('-') else {
        return lower;
    };
    let parts: Vec<&str> = version.split('.').collect();
    let keep = match id {
        "debian" | "rhel" | "centos" | "rocky" | "almalinux" | "ol" | "amzn" | "fedora" => 1,
        _ => 2,
    };
    format!("{id}-{}", parts[..keep.min(parts.len())].join("."))
}

/// An OS package's purl, `pkg:TYPE/NAMESPACE/NAME@VERSION?arch=ARCH&distro=DISTRO`, with the
/// qualifiers that are known (apk, pacman).
pub fn os_package_purl(
    purl_type: &str,
    namespace: &str,
    name: &str,
    version: &str,
    arch: Option<&str>,
    distro: Option<&str>,
) -> Result<String, String> {
    let mut qualifiers = Vec::with_capacity(2);
    if let Some(a) = arch {
        qualifiers.push(("arch", a));
    }
    if let Some(d) = distro {
        qualifiers.push(("distro", d));
    }
    build_purl(purl_type, Some(namespace), name, version, &qualifiers)
}

/// Builds a purl string from its parts, percent-encoding as the purl spec requires (no `@version`
/// when the version is unknown, i.e. empty).
pub fn build_purl(
    purl_type: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, &str)],
) -> Result<String, String> {
    let mut builder =
        ::purl::GenericPurlBuilder::new(purl_type.to_string(), name).with_version(version);
    if let Some(ns) = namespace {
        builder = builder.with_namespace(ns);
    }
    for (k, v) in qualifiers {
        builder = builder
            .with_qualifier(*k, *v)
            .map_err(|e| format!("qualifier {k}={v}: {e}"))?;
    }
    builder
        .build()
        .map(|p| p.to_string())
        .map_err(|e| format!("{purl_type}/{name}@{version}: {e}"))
}

/// The purl's type (`deb` of `pkg:deb/...`).
pub fn purl_type(purl: &str) -> Option<&str> {
    purl.strip_prefix("pkg:")?.split('/').next()
}

/// `pkg:type/namespace/name` of a purl, percent-decoded (`%40scope` → `@scope`).
pub fn purl_base(purl: &str) -> String {
    let end = purl.find(['@', '?', '#']).unwrap_or(purl.len());
    percent_decode(&purl[..end])
}

/// Decodes `%XX` escapes; anything else passes through.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// PEP 503 name normalisation: lowercase, runs of `-`, `_`, `.` become `-`.
pub fn pypi_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && !out.is_empty() {
            out.push('-');
        }
        separator = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> PackageUrl {
        PackageUrl::parse(text).unwrap()
    }

    #[test]
    fn qualifier_order_encoding_and_case_do_not_matter() {
        let ours = p("pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12");
        for theirs in [
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12&arch=amd64",
            "pkg:deb/Debian/LibSSL3@3.0.11-1%7Edeb12u2?arch=amd64",
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=bookworm",
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12.5",
            "pkg:deb/debian/libssl3",
            "pkg:deb/debian/libssl3?upstream=openssl",
        ] {
            assert!(p(theirs).covers(&ours), "{theirs}");
        }
        for other in [
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u1",
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=arm64",
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-11",
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=trixie",
            "pkg:rpm/debian/libssl3@3.0.11-1~deb12u2",
            "pkg:deb/debian/libssl",
        ] {
            assert!(!p(other).covers(&ours), "{other}");
        }
    }

    #[test]
    fn epochs_names_and_go_versions_are_normalised() {
        assert!(p("pkg:rpm/redhat/openssl@3.0.7-1?epoch=1&arch=x86_64")
            .covers(&p("pkg:rpm/redhat/openssl@1:3.0.7-1?arch=x86_64")));
        assert!(!p("pkg:rpm/redhat/openssl@3.0.7-1?epoch=1")
            .covers(&p("pkg:rpm/redhat/openssl@3.0.7-1")));
        assert!(p("pkg:rpm/redhat/openssl@3.0.7-1?epoch=0")
            .covers(&p("pkg:rpm/redhat/openssl@3.0.7-1")));
        assert!(p("pkg:pypi/Flask_SQLAlchemy@3.1.1").covers(&p("pkg:pypi/flask-sqlalchemy@3.1.1")));
        assert!(!p("pkg:npm/Foo@1.0.0").covers(&p("pkg:npm/foo@1.0.0")));
        assert!(p("pkg:golang/golang.org/x/net@v0.17.0")
            .covers(&p("pkg:golang/golang.org/x/net@0.17.0")));
        assert!(p("pkg:npm/%40babel/core@7.1.0").covers(&p("pkg:npm/@babel/core@7.1.0")));
        assert!(PackageUrl::parse("CVE-2024-1234").is_none());
    }

    #[test]
    fn distro_releases() {
        assert_eq!(distro_release("debian-12.5"), "debian-12");
        assert_eq!(distro_release("bookworm"), "debian-12");
        assert_eq!(distro_release("alpine-3.19.1"), "alpine-3.19");
        assert_eq!(distro_release("ubuntu-22.04"), "ubuntu-22.04");
        assert_eq!(distro_release("jammy"), "ubuntu-22.04");
        assert_eq!(distro_release("rhel-9.3"), "rhel-9");
    }

    #[test]
    fn debian_purl_keeps_epoch_and_plus() {
        let purl = build_purl(
            "deb",
            Some("debian"),
            "libc6",
            "1:2.36-9+deb12u4",
            &[("arch", "amd64"), ("distro", "debian-12")],
        )
        .unwrap();
        assert_eq!(
            purl,
            "pkg:deb/debian/libc6@1:2.36-9+deb12u4?arch=amd64&distro=debian-12"
        );
    }

    #[test]
    fn purl_base_drops_version_and_qualifiers_and_decodes() {
        assert_eq!(
            purl_base("pkg:npm/%40babel/core@7.1.0?x=y#sub"),
            "pkg:npm/@babel/core"
        );
        assert_eq!(
            purl_base("pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64"),
            "pkg:deb/debian/openssl"
        );
        assert_eq!(purl_base("pkg:generic/odd%zz"), "pkg:generic/odd%zz");
    }
}
