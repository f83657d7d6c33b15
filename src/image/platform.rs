//! Which image of a multi-platform index to read. `--platform os/arch[/variant]` names one (as
//! `docker pull --platform`, syft and trivy take it); without it, this machine's linux platform is
//! read, else the first entry that is not an attestation manifest (Docker's indexes mark those
//! `unknown/unknown`), as `docker pull` chooses.

use std::fmt;
use std::str::FromStr;

/// An OCI platform: `linux/amd64`, `linux/arm64/v8`.
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
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
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

/// One index entry's platform, as the index states it: `(os, architecture, variant)`.
pub type EntryPlatform<'a> = Option<(&'a str, &'a str, Option<&'a str>)>;

impl Platform {
    /// Whether an entry of that platform is this one (a variant asked for must be the entry's).
    fn matches(&self, (os, architecture, variant): (&str, &str, Option<&str>)) -> bool {
        os == self.os
            && architecture == self.architecture
            && (self.variant.is_none() || self.variant.as_deref() == variant)
    }
}

/// The entry to read: the one of `wanted` (or, when none states a platform that could be it, the
/// first that states none: a layout's top-level index names images, not platforms; the image
/// config is checked afterwards); without `wanted`, this machine's linux platform, else the first
/// entry that is not an attestation manifest.
pub fn choose_platform(
    platforms: &[EntryPlatform<'_>],
    wanted: Option<&Platform>,
) -> Option<usize> {
    if let Some(wanted) = wanted {
        return platforms
            .iter()
            .position(|p| p.is_some_and(|p| wanted.matches(p)))
            .or_else(|| platforms.iter().position(Option::is_none));
    }
    let arch = host_architecture();
    let host = platforms
        .iter()
        .position(|p| p.is_some_and(|(os, a, _)| os == "linux" && a == arch));
    let first_real = platforms
        .iter()
        .position(|p| p.is_none_or(|(os, a, _)| os != "unknown" && a != "unknown"));
    host.or(first_real)
}

/// The platforms an index lists, for a message (`linux/amd64, linux/arm64/v8`).
pub fn describe_platforms(platforms: &[EntryPlatform<'_>]) -> String {
    let named: Vec<String> = platforms
        .iter()
        .flatten()
        .filter(|(os, a, _)| *os != "unknown" || *a != "unknown")
        .map(|(os, a, v)| match v {
            Some(v) => format!("{os}/{a}/{v}"),
            None => format!("{os}/{a}"),
        })
        .collect();
    if named.is_empty() {
        "no platform".into()
    } else {
        named.join(", ")
    }
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

    #[test]
    fn platforms_parse_and_print() {
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(p.variant.as_deref(), Some("v8"));
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert_eq!(
            "linux/amd64".parse::<Platform>().unwrap().to_string(),
            "linux/amd64"
        );
        for bad in [
            "linux",
            "linux/",
            "/amd64",
            "Linux/amd64",
            "linux/amd64/v8/x",
            "unknown/unknown",
            "linux/../x",
        ] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_asked_platform_is_chosen_and_only_it() {
        let entries = [
            Some(("linux", "s390x", None)),
            Some(("unknown", "unknown", None)),
            Some(("linux", "arm64", Some("v8"))),
            Some(("linux", "amd64", None)),
        ];
        let arm: Platform = "linux/arm64".parse().unwrap();
        assert_eq!(choose_platform(&entries, Some(&arm)), Some(2));
        let arm_v8: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(choose_platform(&entries, Some(&arm_v8)), Some(2));
        let arm_v7: Platform = "linux/arm64/v7".parse().unwrap();
        assert_eq!(choose_platform(&entries, Some(&arm_v7)), None);
        let ppc: Platform = "linux/ppc64le".parse().unwrap();
        assert_eq!(choose_platform(&entries, Some(&ppc)), None);
        // A layout's index of images: the image is followed, its config checked later.
        assert_eq!(choose_platform(&[None, None], Some(&ppc)), Some(0));
        // Without a platform: never the attestation manifest.
        assert_eq!(
            choose_platform(
                &[
                    Some(("unknown", "unknown", None)),
                    Some(("linux", "s390x", None))
                ],
                None
            ),
            Some(1)
        );
        assert_eq!(
            describe_platforms(&entries),
            "linux/s390x, linux/arm64/v8, linux/amd64"
        );
    }
}
