//! R packages installed in a library (`R_HOME/library` for R's own, `site-library` for Debian's
//! r-cran-* and `install.packages`, renv and user libraries): each installed package's directory
//! holds a `DESCRIPTION` (a DCF file, read with the deb822 parser) that R completed at install with
//! a `Built:` field, which is how R's `installed.packages()` tells an installed package from a
//! source tree, and how this cataloger does. Purls: `pkg:cran/NAME@VERSION`; `Depends`, `Imports`
//! and `LinkingTo` link packages of the same library tree (R itself is no package).

use super::deb822::parse_paragraphs;
use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::FileIndex;
use crate::license::normalize;
use crate::package::{Evidence, Package};
use crate::purl::build_purl;
use std::collections::HashMap;

pub const NAME: &str = "r-package";
pub const GLOBS: &[&str] = &["**/DESCRIPTION"];

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files),
};

/// Every installed R package.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    // (package index, its library directory, the names it needs); (library, name) → index; and
    // name → the first such package in path order, for a dependency found in another library.
    let mut needs: Vec<(usize, String, Vec<String>)> = Vec::new();
    let mut by_library: HashMap<(String, String), usize> = HashMap::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for entry in files.entries() {
        let path = entry.entry.path.as_str();
        let Some(dir) = path.strip_suffix("/DESCRIPTION") else {
            continue;
        };
        let Some(bytes) = entry.contents() else {
            continue;
        };
        let text = String::from_utf8_lossy(bytes);
        let Some(Ok(fields)) = parse_paragraphs(&text).next() else {
            continue;
        };
        let (Some(name), Some(version), Some(_built)) = (
            fields.get("Package"),
            fields.get("Version"),
            fields.get("Built"),
        ) else {
            // A source tree or another program's DESCRIPTION: not an installed package.
            continue;
        };
        let (name, version) = (name.trim(), version.trim());
        let Ok(purl) = build_purl("cran", None, name, version, &[]) else {
            output.warnings.push(format!(
                "/{path}: package {name:?} {version:?} has no purl; skipped"
            ));
            continue;
        };
        let library = dir.rsplit_once('/').map_or("", |(lib, _)| lib).to_string();
        let index = output.packages.len();
        by_library.insert((library.clone(), name.to_string()), index);
        by_name.entry(name.to_string()).or_insert(index);
        let wanted: Vec<String> = ["Depends", "Imports", "LinkingTo"]
            .iter()
            .filter_map(|f| fields.get(f))
            .flat_map(|list| list.split(','))
            .filter_map(|item| item.split(['(', ' ', '\n']).find(|s| !s.is_empty()))
            .filter(|n| *n != "R")
            .map(str::to_string)
            .collect();
        needs.push((index, library, wanted));
        let license = fields.get("License").map(|l| {
            // "MIT + file LICENSE": the file only adds the copyright holders.
            l.split(" + file")
                .next()
                .unwrap_or(l)
                .split(" | file")
                .next()
                .unwrap_or(l)
                .trim()
                .to_string()
        });
        let mut properties = Vec::new();
        if let Some(built) = fields.get("Built") {
            properties.push(("vouch:r:built".into(), built.trim().to_string()));
        }
        output.packages.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            purl_type: "cran",
            purl,
            licenses: license.as_deref().and_then(normalize).into_iter().collect(),
            cpe: None,
            evidence: Evidence {
                path: path.into(),
                layer_index: entry.layer_index,
            },
            cataloger: NAME,
            properties,
        });
    }
    // A dependency is looked for in the same library, then in any other (R's search path).
    for (from, library, wanted) in needs {
        for name in wanted {
            let to = by_library
                .get(&(library.clone(), name.clone()))
                .or_else(|| by_name.get(&name));
            if let Some(&to) = to {
                output.depends(from, to);
            }
        }
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::test_index;

    /// A dependency not in the package's own library is the first package of that name in path
    /// order: the same edge on every run (a map's order would pick either).
    #[test]
    fn a_dependency_in_another_library_resolves_the_same_every_time() {
        let description = |name: &str, depends: &str| {
            format!(
                "Package: {name}\nVersion: 1.0\nDepends: {depends}\nBuilt: R 4.2.2; ; 2023; unix\n"
            )
        };
        let files = [
            ("a/library/methods/DESCRIPTION", description("methods", "R")),
            ("b/library/methods/DESCRIPTION", description("methods", "R")),
            ("c/library/app/DESCRIPTION", description("app", "methods")),
        ];
        let files: Vec<(&str, &str)> = files.iter().map(|(p, d)| (*p, d.as_str())).collect();
        for _ in 0..20 {
            let output = catalog(&test_index(&files));
            assert_eq!(output.packages[2].name, "app");
            assert_eq!(output.dependencies, [(2, 0)]);
        }
    }

    #[test]
    fn installed_packages_only_with_their_dependencies() {
        let index = test_index(&[
            (
                "usr/lib/R/site-library/jsonlite/DESCRIPTION",
                "Package: jsonlite\nVersion: 1.8.4\nLicense: MIT + file LICENSE\nDepends: methods\nBuilt: R 4.2.2; x86_64-pc-linux-gnu; 2022; unix\n",
            ),
            (
                "usr/lib/R/library/methods/DESCRIPTION",
                "Package: methods\nVersion: 4.2.2\nImports: utils, stats\nDepends: R (>= 4.0)\nLicense: Part of R 4.2.2\nBuilt: R 4.2.2; ; 2023; unix\n",
            ),
            ("src/pkg/DESCRIPTION", "Package: notinstalled\nVersion: 0.1\n"),
            ("usr/share/doc/x/DESCRIPTION", "A plain text file.\n"),
        ]);
        let output = catalog(&index);
        let found: Vec<(&str, &str)> = output
            .packages
            .iter()
            .map(|p| {
                (
                    p.purl.as_str(),
                    p.licenses.first().map_or("", |l| l.as_str()),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("pkg:cran/methods@4.2.2", "Part of R 4.2.2"),
                ("pkg:cran/jsonlite@1.8.4", "MIT")
            ]
        );
        assert_eq!(
            output.dependencies,
            [(1, 0)],
            "jsonlite depends on methods; R is no package"
        );
    }
}
