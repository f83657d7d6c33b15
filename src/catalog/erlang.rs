//! Erlang/OTP installed without a package database (the official erlang images build it from
//! source into `/usr/local/lib/erlang`; RabbitMQ's and Elixir's images copy it): the runtime names
//! its release in `lib/erlang/releases/MAJOR/OTP_VERSION` (`25.2.3`), a one-line file its install
//! writes, where the emulator binary (`beam.smp`) carries only the major release. One component
//! per file, `pkg:generic/erlang-otp@VERSION` with the NVD's CPE `erlang:erlang\/otp`; an
//! installation an OS package owns (Debian's `erlang-base`) is that package's.

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::FileIndex;
use crate::package::{cpe, Package};
use crate::purl::build_purl;

pub const NAME: &str = "erlang-otp";
pub const GLOBS: &[&str] = &["**/lib/erlang/releases/*/OTP_VERSION"];

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files, input.owners),
};

/// Whether `text` is an OTP release: dotted numbers (`25.2.3`, `26.2.5.3`), optionally `-rcN`.
fn is_release(text: &str) -> bool {
    let numbers = text.split_once("-rc").map_or(text, |(n, rc)| {
        if rc.bytes().all(|b| b.is_ascii_digit()) && !rc.is_empty() {
            n
        } else {
            ""
        }
    });
    !numbers.is_empty()
        && numbers
            .split('.')
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Lists the Erlang/OTP installations no OS package owns.
pub fn catalog(files: &FileIndex, owned: &super::Owners) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for entry in files.entries() {
        let path = &entry.entry.path;
        if !path.ends_with("/OTP_VERSION") || !path.contains("lib/erlang/releases/") {
            continue;
        }
        if owned.contains_key(path.as_ref() as &str) {
            continue;
        }
        let Some(bytes) = entry.contents() else {
            continue;
        };
        let text = String::from_utf8_lossy(bytes);
        let version = text.lines().next().unwrap_or_default().trim();
        if !is_release(version) {
            output.warnings.push(format!(
                "/{path}: {version:?} is not an OTP release; skipped"
            ));
            continue;
        }
        let Ok(purl) = build_purl("generic", None, "erlang-otp", version, &[]) else {
            continue;
        };
        output.packages.push(Package {
            name: "erlang-otp".to_string(),
            version: version.to_string(),
            purl_type: "generic",
            purl,
            cpe: Some(cpe("erlang", "erlang\\/otp", version)),
            licenses: Vec::new(),
            evidence: entry.evidence(),
            cataloger: NAME,
            properties: Vec::new(),
        });
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otp_releases() {
        for good in ["25.2.3", "26.2.5.3", "27.0-rc3", "24"] {
            assert!(is_release(good), "{good}");
        }
        for bad in ["", "25.x", "25.2.3 junk", "-rc1", "27.0-rc"] {
            assert!(!is_release(bad), "{bad}");
        }
    }
}
