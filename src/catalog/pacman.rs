//! The pacman cataloger: Arch Linux-family packages (Arch, Manjaro, SteamOS) from pacman's local
//! database, one directory per installed package (`var/lib/pacman/local/NAME-VERSION-REL/`) whose
//! `desc` holds `%FIELD%` headers each followed by its values, one per line, up to a blank line
//! (`%NAME%`, `%VERSION%`, `%ARCH%`, `%LICENSE%`, `%DEPENDS%`, `%PROVIDES%`, ...), and whose
//! `files` lists the paths the package installed (`%FILES%`). Purls: `pkg:alpm/DISTRO/NAME@VERSION`
//! with `arch` and `distro` qualifiers; `%DEPENDS%` resolve to installed packages by name or
//! through `%PROVIDES%`, as pacman satisfies them.

use super::relations::{self, Relations};
use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::FileIndex;
use crate::license::normalize;
use crate::package::{Distro, Evidence, Package};
use crate::purl::os_package_purl;

pub const NAME: &str = "pacman";
pub const GLOBS: &[&str] = &[
    "var/lib/pacman/local/*/desc",
    "var/lib/pacman/local/*/files",
];
const DATABASE: &str = "var/lib/pacman/local/";

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Os,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files, input.distro),
};

/// The values of each `%FIELD%` of a pacman database file, in order.
fn sections(text: &str) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        let trimmed = line.trim_end_matches('\r');
        if let Some(name) = trimmed
            .strip_prefix('%')
            .and_then(|l| l.strip_suffix('%'))
            .filter(|n| !n.is_empty() && !n.contains('%'))
        {
            out.push((name, Vec::new()));
            open = true;
        } else if trimmed.is_empty() {
            open = false;
        } else if open {
            if let Some((_, values)) = out.last_mut() {
                values.push(trimmed);
            }
        }
    }
    out
}

fn first<'a>(sections: &[(&str, Vec<&'a str>)], name: &str) -> Option<&'a str> {
    all(sections, name).first().copied()
}

/// The values of the field `name` (none when the file has no such field).
fn all<'s, 'a>(sections: &'s [(&str, Vec<&'a str>)], name: &str) -> &'s [&'a str] {
    sections
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(&[], |(_, v)| v.as_slice())
}

/// `glibc>=2.38`, `sh` → the name depended on or provided.
fn relation_name(token: &str) -> &str {
    let end = token.find(['<', '>', '=', ':']).unwrap_or(token.len());
    token[..end].trim()
}

/// Finds every installed pacman package.
pub fn catalog(files: &FileIndex, distro: Option<&Distro>) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    let namespace = distro.map(|d| d.id.as_str()).unwrap_or("arch");
    let distro_qualifier = distro.map(Distro::purl_qualifier);
    let mut relations_list = Vec::new();
    for entry in files.entries() {
        let path = entry.entry.path.as_str();
        let Some(package_dir) = path
            .strip_prefix(DATABASE)
            .and_then(|p| p.strip_suffix("/desc"))
            .filter(|d| !d.contains('/'))
        else {
            continue;
        };
        let Some(bytes) = entry.contents() else {
            continue;
        };
        let text = String::from_utf8_lossy(bytes);
        let desc = sections(&text);
        let (Some(name), Some(version)) = (first(&desc, "NAME"), first(&desc, "VERSION")) else {
            output
                .warnings
                .push(format!("/{path}: no %NAME% or %VERSION%; skipped"));
            continue;
        };
        let arch = first(&desc, "ARCH").filter(|a| !a.is_empty());
        let purl = match os_package_purl(
            "alpm",
            namespace,
            name,
            version,
            arch,
            distro_qualifier.as_deref(),
        ) {
            Ok(p) => p,
            Err(e) => {
                output.warnings.push(format!("/{path}: {e}; skipped"));
                continue;
            }
        };
        let mut properties = Vec::new();
        if let Some(base) = first(&desc, "BASE") {
            properties.push(("vouch:pacman:base".into(), base.to_string()));
        }
        if let Some(a) = arch {
            properties.push(("vouch:pacman:architecture".into(), a.to_string()));
        }
        if let Some(p) = first(&desc, "PACKAGER") {
            properties.push(("vouch:pacman:packager".into(), p.to_string()));
        }
        let index = output.packages.len();
        output.packages.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            purl_type: "alpm",
            purl,
            licenses: all(&desc, "LICENSE")
                .iter()
                .copied()
                .filter_map(normalize)
                .collect(),
            cpe: None,
            evidence: Evidence {
                path: path.into(),
                layer_index: entry.layer_index,
            },
            cataloger: NAME,
            properties,
        });
        // The files it installed (directories end with `/`).
        if let Some(listed) = files
            .get(&format!("{DATABASE}{package_dir}/files"))
            .and_then(|e| e.contents())
        {
            let listed = String::from_utf8_lossy(listed);
            for file in all(&sections(&listed), "FILES") {
                if !file.ends_with('/') {
                    output.owned_files.push((file.to_string(), index));
                }
            }
        }
        relations_list.push(Relations {
            name: name.to_string(),
            arch: None,
            depends: all(&desc, "DEPENDS")
                .iter()
                .map(|d| vec![relation_name(d).to_string()])
                .collect(),
            provides: all(&desc, "PROVIDES")
                .iter()
                .map(|p| relation_name(p).to_string())
                .collect(),
        });
    }
    output.dependencies = relations::resolve(&relations_list);
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_relations() {
        let desc = "%NAME%\nbash\n\n%VERSION%\n5.2.026-2\n\n%DEPENDS%\nreadline>=7.0\nglibc\nncurses\n\n%PROVIDES%\nsh\n\n";
        let s = sections(desc);
        assert_eq!(first(&s, "NAME"), Some("bash"));
        assert_eq!(all(&s, "DEPENDS"), ["readline>=7.0", "glibc", "ncurses"]);
        assert_eq!(relation_name("readline>=7.0"), "readline");
        assert_eq!(relation_name("libcrypto.so=3-64"), "libcrypto.so");
        assert!(sections("%BROKEN\nx\n").is_empty());
    }
}
