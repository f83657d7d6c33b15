//! Platforms, and which image of an index a client takes for one. `--platform os/arch[/variant]`
//! names one (as `docker pull --platform`, syft and trivy take it); without it, this machine's
//! linux platform. Matching is containerd's (`containerd/platforms`, which docker and the kubelet's
//! runtimes use): names are normalised (`x86_64` is `amd64`, `aarch64` is `arm64`, `arm64/v8` is
//! `arm64`, `amd64/v1` is `amd64`, `arm` is `arm/v7`), an entry matches when os, architecture and
//! variant are equal after that, and a platform also takes its older variants in order of
//! preference (`amd64/v3` takes `v3`, then `v2`, then `amd64`, then `386`; `arm64` takes `arm/v8` down
//! to `arm/v5`). An entry stating `os.features` matches only a platform having them all.
//!
//! Which variant a client asks for depends on the client (containerd 2 on an x86-64-v3 machine asks
//! for `amd64/v3`, docker 20.10 on the same machine for `amd64`): an ask without a variant could
//! take any entry of the [`same_family`], and every one of them must verify.

use serde::Deserialize;
use std::fmt;
use std::str::FromStr;

/// A platform asked for: `linux/amd64`, `linux/arm64/v8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(text: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = text.split('/').collect();
        let valid = |part: &&str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
                && !part.starts_with('.')
        };
        match parts.as_slice() {
            [os, architecture] | [os, architecture, _]
                if parts.iter().all(valid) && *os != "unknown" =>
            {
                Ok(Platform {
                    os: os.to_string(),
                    architecture: architecture.to_string(),
                    variant: parts.get(2).map(|v| v.to_string()),
                })
            }
            _ => Err(format!(
                "{text:?} is not a platform: write OS/ARCH or OS/ARCH/VARIANT in lowercase, e.g. linux/amd64 or linux/arm64/v8"
            )),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl Platform {
    /// This machine's linux platform, as a client here asks for it when told nothing (no
    /// variant: which one a client would add depends on the client, see [`could_take`]).
    pub fn host() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: host_architecture().into(),
            variant: None,
        }
    }

    fn normalized(&self) -> Normalized {
        Normalized::new(&self.os, &self.architecture, self.variant.as_deref())
    }
}

/// An index entry's platform, as the index states it (OCI image-spec `platform`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct EntryPlatform {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default, rename = "os.version")]
    pub os_version: Option<String>,
    #[serde(default, rename = "os.features")]
    pub os_features: Vec<String>,
}

impl EntryPlatform {
    /// `unknown/unknown`: buildx's attestation manifests, which no client runs.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" && self.architecture == "unknown"
    }

    fn normalized(&self) -> Normalized {
        Normalized::new(&self.os, &self.architecture, self.variant.as_deref())
    }
}

impl fmt::Display for EntryPlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |s: &str| crate::text::escape_controls(s).into_owned();
        write!(f, "{}", text(&self.os))?;
        if let Some(version) = &self.os_version {
            write!(f, "({})", text(version))?;
        }
        write!(f, "/{}", text(&self.architecture))?;
        if let Some(variant) = &self.variant {
            write!(f, "/{}", text(variant))?;
        }
        Ok(())
    }
}

/// A platform in containerd's canonical form (variant `""` when there is none).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Normalized {
    os: String,
    architecture: String,
    variant: String,
}

impl Normalized {
    fn new(os: &str, architecture: &str, variant: Option<&str>) -> Normalized {
        let os = match os.to_ascii_lowercase().as_str() {
            "macos" => "darwin".to_string(),
            other => other.to_string(),
        };
        let architecture = architecture.to_ascii_lowercase();
        let variant = variant.unwrap_or("").to_ascii_lowercase();
        let (architecture, variant) = match architecture.as_str() {
            "i386" => ("386".to_string(), String::new()),
            "x86_64" | "x86-64" | "amd64" => (
                "amd64".to_string(),
                if variant == "v1" {
                    String::new()
                } else {
                    variant
                },
            ),
            "aarch64" | "arm64" => (
                "arm64".to_string(),
                if variant == "8" || variant == "v8" {
                    String::new()
                } else {
                    variant
                },
            ),
            "armhf" => ("arm".to_string(), "v7".to_string()),
            "armel" => ("arm".to_string(), "v6".to_string()),
            "arm" => (
                "arm".to_string(),
                match variant.as_str() {
                    "" | "7" => "v7".to_string(),
                    "5" | "6" | "8" => format!("v{variant}"),
                    _ => variant,
                },
            ),
            _ => (architecture, variant),
        };
        Normalized {
            os,
            architecture,
            variant,
        }
    }

    fn with_variant(&self, architecture: &str, variant: &str) -> Normalized {
        Normalized::new(&self.os, architecture, Some(variant))
    }
}

/// The platforms a client asking for `wanted` takes, most preferred first (containerd's
/// `platforms.Only`).
fn preference(wanted: &Normalized) -> Vec<Normalized> {
    let mut order = vec![wanted.clone()];
    let number = |v: &str| v.strip_prefix('v').and_then(|n| n.parse::<u32>().ok());
    match wanted.architecture.as_str() {
        "amd64" => {
            if let Some(level) = number(&wanted.variant).filter(|&n| n > 1) {
                for older in (1..level).rev() {
                    order.push(wanted.with_variant("amd64", &format!("v{older}")));
                }
            }
            order.push(wanted.with_variant("386", ""));
        }
        "arm" => {
            if let Some(version) = number(&wanted.variant).filter(|&n| n > 5) {
                for older in (5..version).rev() {
                    order.push(wanted.with_variant("arm", &format!("v{older}")));
                }
            }
        }
        "arm64" => {
            let variant = if wanted.variant.is_empty() {
                "v8"
            } else {
                wanted.variant.as_str()
            };
            let (major, minor) = match variant.strip_prefix('v').map(|v| v.split_once('.')) {
                Some(Some((major, minor))) => (major.parse::<u32>().ok(), minor.parse().ok()),
                Some(None) => (variant[1..].parse::<u32>().ok(), Some(0)),
                None => (None, None),
            };
            if let (Some(mut major), Some(mut minor)) = (major, minor) {
                if major >= 8 {
                    let name = |major: u32, minor: u32| match minor {
                        0 => format!("v{major}"),
                        _ => format!("v{major}.{minor}"),
                    };
                    if major == 9 {
                        for older in (0..minor).rev() {
                            order.push(wanted.with_variant("arm64", &name(9, older)));
                        }
                        // v9.x was split from v8.(x+5).
                        minor += 5;
                        major = 8;
                        order.push(wanted.with_variant("arm64", &name(8, minor)));
                    }
                    if major == 8 {
                        for older in (0..minor).rev() {
                            order.push(wanted.with_variant("arm64", &name(8, older)));
                        }
                    }
                }
            }
            for older in (5..=8).rev() {
                order.push(wanted.with_variant("arm", &format!("v{older}")));
            }
        }
        _ => {}
    }
    order
}

/// How much a client asking for `wanted` prefers an entry of `entry`'s platform: `Some(0)` is its
/// own platform, higher numbers older variants it also runs; `None` when it never takes it.
pub fn rank(wanted: &Platform, entry: &EntryPlatform) -> Option<usize> {
    // A platform asked for has no os.features, so an entry that requires some is not taken.
    if !entry.os_features.is_empty() {
        return None;
    }
    let entry = entry.normalized();
    preference(&wanted.normalized())
        .iter()
        .position(|p| *p == entry)
}

/// Whether an entry is of the asked platform's os and architecture, whatever its variant: a client
/// asking for `wanted` without a variant adds that of the machine it runs on, so it could take any.
pub fn same_family(wanted: &Platform, entry: &EntryPlatform) -> bool {
    let asked = wanted.normalized();
    let stated = entry.normalized();
    asked.os == stated.os && asked.architecture == stated.architecture
}

/// Whether an image of `os/architecture/variant` (its config) is one a client asking for `wanted`
/// runs: ranked, or of its family when `wanted` names no variant.
fn runs(wanted: &Platform, entry: &EntryPlatform) -> bool {
    (wanted.variant.is_none() && same_family(wanted, entry)) || rank(wanted, entry).is_some()
}

/// Whether an image config's platform is one a client asking for `wanted` runs.
pub fn config_matches(
    wanted: &Platform,
    os: Option<&str>,
    architecture: Option<&str>,
    variant: Option<&str>,
) -> bool {
    let entry = EntryPlatform {
        os: os.unwrap_or("unknown").to_string(),
        architecture: architecture.unwrap_or("unknown").to_string(),
        variant: variant.map(str::to_string),
        ..Default::default()
    };
    runs(wanted, &entry)
}

/// The OCI architecture name of this machine.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str) -> EntryPlatform {
        let parts: Vec<&str> = text.split('/').collect();
        EntryPlatform {
            os: parts[0].into(),
            architecture: parts[1].into(),
            variant: parts.get(2).map(|v| v.to_string()),
            ..Default::default()
        }
    }

    fn p(text: &str) -> Platform {
        text.parse().unwrap()
    }

    #[test]
    fn platforms_parse_and_print() {
        let parsed = p("linux/arm64/v8");
        assert_eq!(parsed.variant.as_deref(), Some("v8"));
        assert_eq!(parsed.to_string(), "linux/arm64/v8");
        assert_eq!(p("linux/amd64").to_string(), "linux/amd64");
        assert_eq!(p("linux/arm64/v8.2").to_string(), "linux/arm64/v8.2");
        for bad in [
            "linux",
            "linux/",
            "/amd64",
            "Linux/amd64",
            "linux/amd64/v8/x",
            "unknown/unknown",
            "linux/../x",
            "linux/amd64/.v3",
        ] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ranks_follow_containerd() {
        // containerd's compare_test: amd64 takes amd64 (and v1), then 386, never v2 or v3.
        let amd64 = p("linux/amd64");
        assert_eq!(rank(&amd64, &entry("linux/amd64")), Some(0));
        assert_eq!(rank(&amd64, &entry("linux/amd64/v1")), Some(0));
        assert_eq!(rank(&amd64, &entry("linux/x86_64")), Some(0));
        assert_eq!(rank(&amd64, &entry("linux/386")), Some(1));
        assert_eq!(rank(&amd64, &entry("linux/amd64/v3")), None);
        // amd64/v3 takes v3, v2, v1, then 386; never v4.
        let v3 = p("linux/amd64/v3");
        assert_eq!(rank(&v3, &entry("linux/amd64/v3")), Some(0));
        assert_eq!(rank(&v3, &entry("linux/amd64/v2")), Some(1));
        assert_eq!(rank(&v3, &entry("linux/amd64")), Some(2));
        assert_eq!(rank(&v3, &entry("linux/386")), Some(3));
        assert_eq!(rank(&v3, &entry("linux/amd64/v4")), None);
        // arm64 is arm64/v8; it also runs arm v8..v5.
        let arm64 = p("linux/arm64");
        assert_eq!(rank(&arm64, &entry("linux/arm64/v8")), Some(0));
        assert_eq!(rank(&arm64, &entry("linux/aarch64")), Some(0));
        assert_eq!(rank(&arm64, &entry("linux/arm/v7")), Some(2));
        assert_eq!(rank(&arm64, &entry("linux/arm64/v8.1")), None);
        let v9 = p("linux/arm64/v9.2");
        assert_eq!(rank(&v9, &entry("linux/arm64/v9.1")), Some(1));
        assert_eq!(rank(&v9, &entry("linux/arm64/v9")), Some(2));
        assert_eq!(rank(&v9, &entry("linux/arm64/v8.7")), Some(3));
        assert_eq!(rank(&v9, &entry("linux/arm64")), Some(10));
        // arm is arm/v7 and takes v6 and v5.
        assert_eq!(rank(&p("linux/arm"), &entry("linux/arm/v7")), Some(0));
        assert_eq!(rank(&p("linux/arm"), &entry("linux/arm/v6")), Some(1));
        assert_eq!(rank(&p("linux/arm/v6"), &entry("linux/arm/v7")), None);
        // os.features must be the asked platform's: a featureless ask takes none of them.
        let mut featured = entry("windows/amd64");
        featured.os_features = vec!["win32k".into()];
        assert_eq!(rank(&p("windows/amd64"), &featured), None);
        assert_eq!(rank(&p("windows/amd64"), &entry("windows/amd64")), Some(0));
        // Other os or architecture: never.
        assert_eq!(rank(&amd64, &entry("windows/amd64")), None);
        assert_eq!(rank(&amd64, &entry("unknown/unknown")), None);
    }

    #[test]
    fn a_variantless_ask_runs_every_variant() {
        let amd64 = p("linux/amd64");
        for could in [
            "linux/amd64",
            "linux/amd64/v3",
            "linux/amd64/v4",
            "linux/386",
        ] {
            assert!(runs(&amd64, &entry(could)), "{could}");
        }
        assert!(same_family(&amd64, &entry("linux/x86_64/v3")));
        assert!(!same_family(&amd64, &entry("linux/386")));
        assert!(!runs(&amd64, &entry("linux/arm64")));
        // A variant asked for is what the client runs: only what it ranks.
        let v2 = p("linux/amd64/v2");
        assert!(runs(&v2, &entry("linux/amd64")));
        assert!(!runs(&v2, &entry("linux/amd64/v3")));
    }
}
