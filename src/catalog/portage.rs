//! The Portage cataloger: Gentoo packages from Portage's installed-package database (the VDB), one
//! directory per package, `var/db/pkg/CATEGORY/PF/` (`PF` = name, version and revision,
//! `hello-2.12.1-r1`), holding `CONTENTS` (the files it installed: `obj PATH MD5 MTIME`,
//! `sym PATH -> TARGET MTIME`, `dir PATH`), `LICENSE` (Gentoo's license names) and `RDEPEND` (its
//! runtime dependencies, USE conditionals already applied).
//!
//! The name and version split as Portage splits `PF`: the version is the last part that is a
//! Gentoo version (`1.2.3`, `1.2.3b`, `_alpha`/`_beta`/`_pre`/`_rc`/`_p` suffixes, `-rN`). Purls as
//! Syft writes them: `pkg:ebuild/CATEGORY/NAME@VERSION`, the component named `CATEGORY/NAME` as
//! Gentoo names packages. `RDEPEND` atoms resolve to installed packages by `CATEGORY/NAME`.

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::FileIndex;
use crate::license::{normalize, License};
use crate::package::{Evidence, Package};
use crate::purl::build_purl;
use std::collections::HashMap;

pub const NAME: &str = "portage";
const DATABASE: &str = "var/db/pkg/";
pub const GLOBS: &[&str] = &[
    "var/db/pkg/*/*/CONTENTS",
    "var/db/pkg/*/*/LICENSE",
    "var/db/pkg/*/*/RDEPEND",
];

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Os,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files),
};

/// Whether `text` is a Gentoo version (PMS 3.2: `1.2.3b_rc1_p2-r4`).
fn is_version(text: &str) -> bool {
    let main = match text.rsplit_once("-r") {
        Some((m, r)) if !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()) => m,
        _ => text,
    };
    let mut parts = main.split('_');
    let Some(numbers) = parts.next() else {
        return false;
    };
    let numbers = numbers
        .strip_suffix(|c: char| c.is_ascii_lowercase())
        .unwrap_or(numbers);
    let numeric = !numbers.is_empty()
        && numbers
            .split('.')
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    numeric
        && parts.all(|suffix| {
            ["alpha", "beta", "pre", "rc", "p"].iter().any(|s| {
                suffix
                    .strip_prefix(s)
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            })
        })
}

/// `hello-2.12.1-r1` → (`hello`, `2.12.1-r1`).
fn split_pf(pf: &str) -> Option<(&str, &str)> {
    pf.match_indices('-')
        .map(|(i, _)| (&pf[..i], &pf[i + 1..]))
        .find(|(name, version)| !name.is_empty() && is_version(version))
}

/// `>=app-misc/libgreet-1.4:0/0=[ssl]` → `app-misc/libgreet`: an atom with an operator names a
/// version after the package; one without names the package alone.
fn atom_package(atom: &str) -> Option<String> {
    let bare = atom.trim_start_matches(['!', '<', '>', '=', '~']);
    let versioned = bare.len() != atom.len();
    let bare = bare.split([':', '[']).next()?.trim_end_matches('*');
    let (category, rest) = bare.split_once('/')?;
    let name = if versioned {
        split_pf(rest).map_or(rest, |(name, _)| name)
    } else {
        rest
    };
    (!category.is_empty() && !name.is_empty()).then(|| format!("{category}/{name}"))
}

/// Finds every package of Portage's database.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut depends: Vec<(usize, String)> = Vec::new();
    for entry in files.entries() {
        let path = entry.entry.path.as_str();
        let Some(package_dir) = path
            .strip_prefix(DATABASE)
            .and_then(|p| p.strip_suffix("/CONTENTS"))
        else {
            continue;
        };
        let Some((category, pf)) = package_dir
            .split_once('/')
            .filter(|(_, pf)| !pf.contains('/'))
        else {
            continue;
        };
        let Some((name, version)) = split_pf(pf) else {
            output.warnings.push(format!(
                "/{DATABASE}{package_dir}: {pf:?} is not NAME-VERSION as Portage names packages; skipped"
            ));
            continue;
        };
        let Ok(purl) = build_purl("ebuild", Some(category), name, version, &[]) else {
            continue;
        };
        let text_of = |file: &str| {
            files
                .get(&format!("{DATABASE}{package_dir}/{file}"))
                .and_then(|e| e.contents())
                .map(|b| String::from_utf8_lossy(b).trim().to_string())
        };
        let index = output.packages.len();
        let atom = format!("{category}/{name}");
        by_name.insert(atom.clone(), index);
        output.packages.push(Package {
            name: atom,
            version: version.to_string(),
            purl_type: "ebuild",
            purl,
            cpe: None,
            licenses: text_of("LICENSE")
                .as_deref()
                .and_then(gentoo_license)
                .into_iter()
                .collect(),
            evidence: Evidence {
                path: path.into(),
                layer_index: entry.layer_index,
            },
            cataloger: NAME,
            properties: Vec::new(),
        });
        if let Some(contents) = entry.contents() {
            for line in String::from_utf8_lossy(contents).lines() {
                if let Some(owned) = owned_path(line) {
                    output.owned_files.push((owned.to_string(), index));
                }
            }
        }
        if let Some(rdepend) = text_of("RDEPEND") {
            depends.extend(
                rdepend
                    .split_whitespace()
                    .filter(|t| t.contains('/') && !t.starts_with('!'))
                    .filter_map(atom_package)
                    .map(|d| (index, d)),
            );
        }
    }
    for (from, atom) in depends {
        if let Some(&to) = by_name.get(&atom) {
            if to != from {
                output.dependencies.push((from, to));
            }
        }
    }
    output
}

/// The path a `CONTENTS` line says the package installed (files and links; not directories).
fn owned_path(line: &str) -> Option<&str> {
    if let Some(rest) = line.strip_prefix("obj ") {
        // obj PATH MD5 MTIME: the path may hold spaces.
        let mut fields = rest.rsplitn(3, ' ');
        let (_mtime, _md5, path) = (fields.next()?, fields.next()?, fields.next()?);
        return Some(path);
    }
    if let Some(rest) = line.strip_prefix("sym ") {
        return rest.split(" -> ").next();
    }
    None
}

/// Gentoo's license expression as SPDX: licenses side by side are all of them (`MIT BSD` → `MIT
/// AND BSD`), each translated (`GPL-3+` → `GPL-3.0-or-later`); one with choices or USE conditionals
/// (`|| ( MIT Apache-2.0 )`) is kept as Gentoo wrote it.
fn gentoo_license(text: &str) -> Option<License> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    if tokens.is_empty() {
        return None;
    }
    if tokens
        .iter()
        .any(|t| ["||", "(", ")"].contains(t) || t.ends_with('?'))
    {
        return Some(License::Name(text.to_string()));
    }
    normalize(&tokens.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_names_and_versions_as_portage_does() {
        assert_eq!(split_pf("hello-2.12.1-r1"), Some(("hello", "2.12.1-r1")));
        assert_eq!(split_pf("libgreet-1.4.2"), Some(("libgreet", "1.4.2")));
        assert_eq!(split_pf("python-3.12.3_p1"), Some(("python", "3.12.3_p1")));
        assert_eq!(
            split_pf("font-adobe-100dpi-1.0.4"),
            Some(("font-adobe-100dpi", "1.0.4"))
        );
        assert_eq!(
            split_pf("openssl-3.0.13b_rc2-r10"),
            Some(("openssl", "3.0.13b_rc2-r10"))
        );
        assert_eq!(split_pf("nover"), None);
        assert_eq!(split_pf("bad-1.x"), None);
    }

    #[test]
    fn atoms_name_their_package() {
        let a = |s: &str| atom_package(s);
        assert_eq!(
            a(">=app-misc/libgreet-1.4:0/0="),
            Some("app-misc/libgreet".into())
        );
        assert_eq!(a("app-misc/libgreet"), Some("app-misc/libgreet".into()));
        assert_eq!(a("=dev-lang/python-3.12*"), Some("dev-lang/python".into()));
        assert_eq!(
            a("dev-libs/openssl:0=[-bindist(-)]"),
            Some("dev-libs/openssl".into())
        );
        assert_eq!(
            a("media-fonts/font-adobe-100dpi"),
            Some("media-fonts/font-adobe-100dpi".into())
        );
        assert_eq!(a("||"), None);
    }

    #[test]
    fn contents_lines_name_files_and_links() {
        assert_eq!(
            owned_path("obj /usr/bin/hello b1946ac92492d2347c6235b4d2611184 1796220543"),
            Some("/usr/bin/hello")
        );
        assert_eq!(
            owned_path("obj /usr/share/a file b1946ac9 17"),
            Some("/usr/share/a file")
        );
        assert_eq!(
            owned_path("sym /usr/lib/libx.so -> libx.so.1 17"),
            Some("/usr/lib/libx.so")
        );
        assert_eq!(owned_path("dir /usr/bin"), None);
        assert_eq!(owned_path("obj short"), None);
    }
}
