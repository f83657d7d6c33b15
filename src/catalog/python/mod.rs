//! The Python cataloger: installed distributions from `*.dist-info/METADATA` (wheels, pip) and
//! `*.egg-info/PKG-INFO` or a bare `*.egg-info` file (setuptools), eggs unpacked or zipped
//! (`*.egg/EGG-INFO/PKG-INFO`, [`egg`]), anywhere in the image (site-packages, dist-packages, virtual
//! environments, `pip install --target` directories).
//!
//! Names are normalised for the purl as PEP 503 says (`Foo_Bar` → `foo-bar`). `Requires-Dist` edges
//! (leaving out those that only apply to an extra) link distributions installed in the same directory.
//! Licenses come from `License-Expression`, a short `License` field, or the trove classifiers.

pub mod egg;

use super::deb822::parse_paragraphs;
use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{path, FileIndex, IndexedEntry};
use crate::license::{normalize, License};
use crate::package::Package;
use crate::purl::build_purl;
use std::collections::HashMap;

pub const NAME: &str = "python";
/// `.dist-info` and `.egg-info` in any letter case, as importlib.metadata finds them; the
/// directories `easy_install` unpacks eggs into (`NAME-V-pyX.Y.egg/EGG-INFO/PKG-INFO`).
pub const GLOBS: &[&str] = &[
    "**/*.[dD][iI][sS][tT]-[iI][nN][fF][oO]/METADATA",
    "**/*.[eE][gG][gG]-[iI][nN][fF][oO]/PKG-INFO",
    "**/*.[eE][gG][gG]-[iI][nN][fF][oO]",
    "**/*.egg/EGG-INFO/PKG-INFO",
];

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: GLOBS,
    probes: &[|| std::sync::Arc::new(egg::EggProbe)],
    catalog: |input| catalog(input.files),
};

/// Finds every installed Python distribution.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    // (install directory, normalised name) → package index, and each package's requirements.
    let mut installed: HashMap<(String, String), usize> = HashMap::new();
    let mut requirements: Vec<(String, Vec<String>)> = Vec::new();
    // Each metadata text is parsed where it lies (kept files are shared, hard links included:
    // nothing is copied).
    for entry in files.entries() {
        let Some(install_dir) = install_dir(&entry.entry.path) else {
            continue;
        };
        let Some(bytes) = entry.contents() else {
            continue; // a directory named *.egg-info, or an oversized file (already warned)
        };
        let text = String::from_utf8_lossy(bytes);
        add_distribution(
            &mut output,
            &mut installed,
            &mut requirements,
            (entry, install_dir),
            &text,
        );
    }
    for (entry, snippet) in files.findings(egg::PROBE) {
        match serde_json::from_slice::<egg::EggFindings>(snippet) {
            Ok(found) => {
                if let Some(w) = found.warning {
                    output.warnings.push(format!("/{}: {w}", entry.entry.path));
                }
                if let Some(text) = found.pkg_info {
                    // A zipped egg is its own sys.path entry, as an unpacked one is.
                    add_distribution(
                        &mut output,
                        &mut installed,
                        &mut requirements,
                        (entry, &entry.entry.path),
                        &text,
                    );
                }
            }
            Err(e) => output.warnings.push(format!("/{}: {e}", entry.entry.path)),
        }
    }
    for (from, (dir, requires)) in requirements.iter().enumerate() {
        for name in requires {
            if let Some(&to) = installed.get(&(dir.clone(), normalize_name(name))) {
                output.depends(from, to);
            }
        }
    }
    output
}

/// Adds the distribution whose metadata `text` is (read from `at`: the file, and the directory the
/// distribution is installed in), with its requirements for the edges.
fn add_distribution(
    output: &mut CatalogOutput,
    installed: &mut HashMap<(String, String), usize>,
    requirements: &mut Vec<(String, Vec<String>)>,
    at: (&IndexedEntry, &str),
    text: &str,
) {
    let (entry, install_dir) = at;
    match parse_metadata(text) {
        Ok(metadata) if is_the_interpreter(&metadata, install_dir) => {}
        Ok(metadata) => match to_package(&metadata, entry) {
            Ok(package) => {
                installed.insert(
                    (install_dir.to_string(), normalize_name(&metadata.name)),
                    output.packages.len(),
                );
                requirements.push((install_dir.to_string(), metadata.requires));
                output.packages.push(package);
            }
            Err(e) => output
                .warnings
                .push(format!("/{}: {e}; skipped", entry.entry.path)),
        },
        Err(e) => output
            .warnings
            .push(format!("/{}: {e}; skipped", entry.entry.path)),
    }
}

/// The directory a metadata file's distribution is installed in (`.../site-packages`), or `None`
/// when the path is not a metadata file.
fn install_dir(p: &str) -> Option<&str> {
    let name = path::file_name(p);
    let meta_dir = if name == "METADATA" || name == "PKG-INFO" {
        let dir = path::parent(p);
        let dir_name = path::file_name(dir);
        if (name == "METADATA" && ends_with_any_case(dir_name, ".dist-info"))
            || (name == "PKG-INFO" && ends_with_any_case(dir_name, ".egg-info"))
        {
            dir
        } else if name == "PKG-INFO"
            && dir_name == "EGG-INFO"
            && path::file_name(path::parent(dir)).ends_with(".egg")
        {
            path::parent(dir) // an unpacked egg: the .egg directory is the distribution
        } else {
            return None;
        }
    } else if ends_with_any_case(name, ".egg-info") {
        p // a single-file egg-info
    } else {
        return None;
    };
    Some(path::parent(meta_dir))
}

fn ends_with_any_case(name: &str, suffix: &str) -> bool {
    name.len() > suffix.len()
        && name
            .get(name.len() - suffix.len()..)
            .is_some_and(|end| end.eq_ignore_ascii_case(suffix))
}

/// CPython's own `Python-X.Y.egg-info` (its build installs one in `lib-dynload`): the interpreter,
/// not a PyPI distribution.
fn is_the_interpreter(metadata: &Metadata, install_dir: &str) -> bool {
    normalize_name(&metadata.name) == "python" && path::file_name(install_dir) == "lib-dynload"
}

/// The fields of a METADATA / PKG-INFO file that matter here.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    pub license_expression: Option<String>,
    pub license: Option<String>,
    pub classifiers: Vec<String>,
    /// Names of required distributions (not those that apply only to an extra).
    pub requires: Vec<String>,
    pub author: Option<String>,
}

/// Parses the header block of a core-metadata file.
pub fn parse_metadata(text: &str) -> Result<Metadata, String> {
    // Headers end at the first blank line; the description body follows and is not needed.
    let headers = text.split("\n\n").next().unwrap_or_default();
    let headers = headers.split("\r\n\r\n").next().unwrap_or_default();
    let paragraph = match parse_paragraphs(headers).next() {
        Some(Ok(p)) => p,
        Some(Err(e)) => return Err(format!("not core metadata ({e})")),
        None => return Err("empty metadata file".into()),
    };
    let field = |n: &str| {
        paragraph
            .get(n)
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "UNKNOWN")
            .map(str::to_string)
    };
    let name = field("Name").ok_or("no Name field")?;
    let version = field("Version").ok_or_else(|| format!("{name}: no Version field"))?;
    let requires = paragraph
        .get_all("Requires-Dist")
        .filter(|r| {
            r.split_once(';')
                .is_none_or(|(_, marker)| !marker.contains("extra"))
        })
        .filter_map(requirement_name)
        .collect();
    Ok(Metadata {
        name,
        version,
        license_expression: field("License-Expression"),
        license: field("License"),
        classifiers: paragraph
            .get_all("Classifier")
            .map(str::to_string)
            .collect(),
        requires,
        author: field("Author"),
    })
}

/// `requests (>=2.0)` / `charset_normalizer<4,>=2` → the distribution name.
fn requirement_name(requirement: &str) -> Option<String> {
    let name: String = requirement
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (!name.is_empty()).then_some(name)
}

/// PEP 503 normalisation: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                out.push('-');
            }
            in_separator = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_separator = false;
        }
    }
    out
}

fn to_package(metadata: &Metadata, entry: &IndexedEntry) -> Result<Package, String> {
    let purl = build_purl(
        "pypi",
        None,
        &normalize_name(&metadata.name),
        &metadata.version,
        &[],
    )?;
    let mut properties = Vec::new();
    if let Some(a) = &metadata.author {
        properties.push(("vouch:python:author".into(), a.clone()));
    }
    Ok(Package {
        name: metadata.name.clone(),
        version: metadata.version.clone(),
        purl_type: "pypi",
        purl,
        licenses: licenses(metadata),
        cpe: None,
        evidence: entry.evidence(),
        cataloger: NAME,
        properties,
    })
}

/// License-Expression (PEP 639) first, then a one-line License field, then trove classifiers.
fn licenses(metadata: &Metadata) -> Vec<License> {
    if let Some(expression) = metadata.license_expression.as_deref().and_then(normalize) {
        return vec![expression];
    }
    if let Some(license) = metadata
        .license
        .as_deref()
        .filter(|l| !l.contains('\n') && l.len() <= 80)
        .and_then(normalize)
    {
        return vec![license];
    }
    let mut found: Vec<License> = metadata
        .classifiers
        .iter()
        .filter_map(|c| c.strip_prefix("License ::"))
        .filter_map(|c| classifier_license(c.rsplit("::").next().unwrap_or("").trim()))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The SPDX id of a trove license classifier's last segment, where it names exactly one license.
fn classifier_license(name: &str) -> Option<License> {
    let id = match name {
        "MIT License" => "MIT",
        "Apache Software License" => "Apache-2.0",
        "BSD License" => return Some(License::Name("BSD".into())),
        "ISC License (ISCL)" => "ISC",
        "Python Software Foundation License" => "PSF-2.0",
        "Mozilla Public License 2.0 (MPL 2.0)" => "MPL-2.0",
        "GNU General Public License v2 (GPLv2)" => "GPL-2.0-only",
        "GNU General Public License v2 or later (GPLv2+)" => "GPL-2.0-or-later",
        "GNU General Public License v3 (GPLv3)" => "GPL-3.0-only",
        "GNU General Public License v3 or later (GPLv3+)" => "GPL-3.0-or-later",
        "GNU Lesser General Public License v2 or later (LGPLv2+)" => "LGPL-2.0-or-later",
        "GNU Lesser General Public License v3 (LGPLv3)" => "LGPL-3.0-only",
        "GNU Lesser General Public License v3 or later (LGPLv3+)" => "LGPL-3.0-or-later",
        "The Unlicense (Unlicense)" => "Unlicense",
        "OSI Approved" | "" => return None,
        other => return Some(License::Name(other.to_string())),
    };
    Some(License::Id(id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_metadata_headers_only() {
        let text = "Metadata-Version: 2.1\nName: requests\nVersion: 2.32.3\nLicense: Apache-2.0\n\
                    Classifier: License :: OSI Approved :: Apache Software License\n\
                    Requires-Dist: charset-normalizer<4,>=2\nRequires-Dist: idna (<4,>=2.5)\n\
                    Requires-Dist: PySocks!=1.5.7,>=1.5.6; extra == \"socks\"\n\
                    Requires-Dist: importlib-metadata; python_version < \"3.8\"\n\n\
                    # Requests\n\nName: not-a-header\n";
        let m = parse_metadata(text).unwrap();
        assert_eq!(
            (m.name.as_str(), m.version.as_str()),
            ("requests", "2.32.3")
        );
        assert_eq!(
            m.requires,
            ["charset-normalizer", "idna", "importlib-metadata"]
        );
        assert_eq!(licenses(&m), [License::Id("Apache-2.0".into())]);
    }

    #[test]
    fn names_and_classifiers() {
        assert_eq!(normalize_name("Foo__Bar.baz"), "foo-bar-baz");
        let m = Metadata {
            license: Some("Copyright (c) 2010 someone\nPermission is hereby granted...".into()),
            classifiers: vec!["License :: OSI Approved :: MIT License".into()],
            ..Default::default()
        };
        assert_eq!(licenses(&m), [License::Id("MIT".into())]);
    }

    #[test]
    fn malformed_metadata_is_an_error() {
        assert!(parse_metadata("").is_err());
        assert!(parse_metadata("Version: 1.0\n")
            .unwrap_err()
            .contains("no Name"));
        assert!(parse_metadata("\u{0}\u{1}garbage without colon").is_err());
    }

    /// CPython's build installs `lib-dynload/Python-X.Y.egg-info` (this one from a 2.7.18 build);
    /// it is the interpreter, not a distribution. A distribution named Python elsewhere is one.
    #[test]
    fn the_interpreters_own_egg_info_is_not_a_package() {
        let text = "Metadata-Version: 1.1\nName: Python\nVersion: 2.7.18\nSummary: A high-level object-oriented programming language\nHome-page: http://www.python.org/2.7\nAuthor: Guido van Rossum and the Python community\nAuthor-email: python-dev@python.org\nLicense: PSF license\n";
        let metadata = parse_metadata(text).unwrap();
        let path = "usr/local/lib/python2.7/lib-dynload/Python-2.7.18-py2.7.egg-info";
        assert!(is_the_interpreter(&metadata, install_dir(path).unwrap()));
        assert!(!is_the_interpreter(
            &metadata,
            install_dir("srv/site-packages/Python-2.7.18.egg-info").unwrap()
        ));
    }

    #[test]
    fn install_directories() {
        assert_eq!(
            install_dir("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"),
            Some("usr/lib/python3/dist-packages")
        );
        assert_eq!(install_dir("app/pkg.egg-info/PKG-INFO"), Some("app"));
        assert_eq!(install_dir("app/pkg.egg-info"), Some("app"));
        // importlib.metadata takes the suffixes in any case; easy_install's unpacked eggs.
        assert_eq!(install_dir("sp/Foo-1.0.DIST-INFO/METADATA"), Some("sp"));
        assert_eq!(install_dir("sp/Foo-1.0.Egg-Info/PKG-INFO"), Some("sp"));
        assert_eq!(
            install_dir("sp/six-1.16.0-py3.11.egg/EGG-INFO/PKG-INFO"),
            Some("sp")
        );
        assert_eq!(install_dir("sp/x/EGG-INFO/PKG-INFO"), None);
        assert_eq!(install_dir("sp/.dist-info/METADATA"), None);
        assert_eq!(install_dir("sp/x.dist-info/metadata"), None);
        assert_eq!(install_dir("app/METADATA"), None);
    }
}
