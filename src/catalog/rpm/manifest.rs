//! The rpm manifest cataloger: Azure Linux / CBL-Mariner distroless images, which keep no rpm
//! database but the list their build wrote of it. `var/lib/rpmmanifest/container-manifest-2` is
//! `rpm -qa --qf` with one tab-separated line per package: name, version-release, install time,
//! build time, vendor, epoch (`%{EPOCH}`, `(none)` when unset; some builders write `(none)`
//! always), size, arch, epoch number (`%{EPOCHNUM}`, 0 when unset) and source rpm. The
//! `container-manifest-1` beside it is not read: its producers write it differently
//! (`NAME-VERSION-RELEASE.ARCH`, `NAME.VERSION-RELEASE.ARCH`), and neither says where a dashed
//! name ends; an image with only that list gets a warning. An image that keeps its rpm database is
//! read from that (files, dependencies), not from a manifest. Purls as the rpm cataloger makes
//! them.

use super::{Installed, Purls};
use crate::catalog::{CatalogOutput, Cataloger, Kind};
use crate::layers::FileIndex;
use crate::package::Distro;

pub const NAME: &str = "rpm-manifest";
const MANIFEST: &str = "var/lib/rpmmanifest/container-manifest-2";
const NAMES_ONLY: &str = "var/lib/rpmmanifest/container-manifest-1";
pub const GLOBS: &[&str] = &[MANIFEST, NAMES_ONLY];

/// This cataloger, as [`crate::catalog::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Os,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files, input.distro),
};

/// Finds the packages a manifest lists, when the image has no rpm database.
pub fn catalog(files: &FileIndex, distro: Option<&Distro>) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    if super::GLOBS.iter().any(|db| files.get(db).is_some()) {
        return output;
    }
    let Some(entry) = files.get(MANIFEST) else {
        if files.get(NAMES_ONLY).is_some() {
            output.warnings.push(format!(
                "/{NAMES_ONLY} without /{MANIFEST}: its lines do not say where a package's name \
                 ends and its version begins; its packages are missing"
            ));
        }
        return output;
    };
    let path = entry.entry.path.as_str();
    let Some(bytes) = entry.contents() else {
        return output;
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        output
            .warnings
            .push(format!("/{path}: not UTF-8 text; its packages are missing"));
        return output;
    };
    let purls = Purls::of(distro);
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let parsed =
            manifest_line(line).and_then(|l| l.installed().package(&purls, entry.evidence(), NAME));
        match parsed {
            Ok(package) => output.packages.push(package),
            Err(e) => output
                .warnings
                .push(format!("/{path}:{}: {e}; skipped", number + 1)),
        }
    }
    output
}

/// What one manifest line says of a package.
#[derive(Debug, PartialEq, Eq)]
struct Line<'a> {
    name: &'a str,
    version: &'a str,
    release: &'a str,
    epoch: Option<u32>,
    arch: Option<&'a str>,
    vendor: Option<&'a str>,
    source_rpm: Option<&'a str>,
}

impl<'a> Line<'a> {
    fn installed(&self) -> Installed<'a> {
        Installed {
            name: self.name,
            version: self.version,
            release: self.release.to_string(),
            epoch: self.epoch,
            arch: self.arch.map(str::to_string),
            source_rpm: self.source_rpm.map(str::to_string),
            vendor: self.vendor.map(str::to_string),
            license: None,
        }
    }
}

/// rpm's answer for a tag the header lacks.
const NONE: &str = "(none)";

fn known(field: Option<&str>) -> Option<&str> {
    field.filter(|f| !f.is_empty() && *f != NONE)
}

/// A `container-manifest-2` line.
fn manifest_line(line: &str) -> Result<Line<'_>, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let name = fields[0];
    let Some(version_release) = fields.get(1).copied() else {
        return Err("not `NAME<TAB>VERSION-RELEASE<TAB>...`".into());
    };
    let (version, release) = split_release(version_release)?;
    let number = |at: usize| -> Result<Option<u32>, String> {
        known(fields.get(at).copied())
            .map(|e| {
                e.parse::<u32>()
                    .map_err(|_| format!("epoch {e:?} is not a number"))
            })
            .transpose()
    };
    // `%{EPOCH}`; else `%{EPOCHNUM}`, where 0 is also what an unset epoch reads as.
    let epoch = match number(5)? {
        Some(e) => Some(e),
        None => number(8)?.filter(|e| *e > 0),
    };
    named(Line {
        name,
        version,
        release,
        epoch,
        arch: known(fields.get(7).copied()),
        vendor: known(fields.get(4).copied()),
        source_rpm: known(fields.get(9).copied()),
    })
}

/// `VERSION-RELEASE` split at its last dash (rpm allows no dash in either).
fn split_release(version_release: &str) -> Result<(&str, &str), String> {
    match version_release.rsplit_once('-') {
        Some((v, r)) if !v.is_empty() && !r.is_empty() => Ok((v, r)),
        _ => Err(format!("{version_release:?} is not VERSION-RELEASE")),
    }
}

fn named(line: Line<'_>) -> Result<Line<'_>, String> {
    if line.name.trim().is_empty() || line.name.contains(char::is_whitespace) {
        return Err(format!("{:?} is not a package name", line.name));
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_field_of_a_line() {
        let line = "vim\t9.0-1.cm2\t1653816591\t1653753130\tMicrosoft Corporation\t2\t45000\tx86_64\t2\tvim-9.0-1.cm2.src.rpm";
        assert_eq!(
            manifest_line(line).unwrap(),
            Line {
                name: "vim",
                version: "9.0",
                release: "1.cm2",
                epoch: Some(2),
                arch: Some("x86_64"),
                vendor: Some("Microsoft Corporation"),
                source_rpm: Some("vim-9.0-1.cm2.src.rpm"),
            }
        );
        let none =
            manifest_line("glibc\t2.35-2.cm2\t1\t2\t(none)\t(none)\t3\tx86_64\t0\t(none)").unwrap();
        assert_eq!(
            (none.epoch, none.vendor, none.source_rpm),
            (None, None, None)
        );
        // A builder that writes `(none)` for %{EPOCH} always: the epoch number tells.
        let numbered = manifest_line("vim\t9.0-1\t1\t2\tv\t(none)\t3\tx86_64\t2\ts").unwrap();
        assert_eq!(numbered.epoch, Some(2));
    }

    #[test]
    fn refuses_lines_that_are_not_packages() {
        for bad in [
            "glibc",
            "glibc\t2.35",
            "glibc\t-2",
            "glibc\t2.35-2\t1\t2\tv\tbig\t3\tx86_64\t0\ts",
            "glibc\t2.35-2\t1\t2\tv\t(none)\t3\tx86_64\t-1\ts",
            "two words\t1-1",
        ] {
            assert!(manifest_line(bad).is_err(), "{bad}");
        }
    }
}
