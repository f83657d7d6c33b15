//! The conda cataloger: packages conda (and mamba, micromamba, pixi: every installer of conda
//! packages) installed into an environment, one JSON record per package in the environment's
//! `conda-meta/NAME-VERSION-BUILD.json` (the base environment of the official miniconda and
//! anaconda images at `/opt/conda`, named ones under `envs/`). Each record says the package's
//! `name`, `version`, `build`, `subdir`, the `channel` it came from, its archive (`fn`), `license`,
//! `depends` (match specs) and `files` (relative to the environment's root, the directory above
//! `conda-meta`).
//!
//! Purls per the purl spec's conda type: `pkg:conda/NAME@VERSION?build=..&channel=..&subdir=..&type=..`,
//! the channel by its name only (`conda-forge`, `main`): a channel URL can hold an access token
//! (`/t/TOKEN/`) or a password, and never goes into the SBOM. Conda installs whole runtimes
//! (Python, OpenSSL, libstdc++), so it is read with the OS package managers: the files its packages
//! list are theirs, and a Python distribution or binary among them says so (`vouch:ownedBy`) or is
//! left to its package. `depends` resolve by name within the same environment; virtual packages
//! (`__glibc`) are none.

use super::relations::{self, Relations};
use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::FileIndex;
use crate::license::normalize;
use crate::package::{Evidence, Package};
use crate::purl::build_purl;
use serde::Deserialize;

pub const NAME: &str = "conda";
pub const GLOBS: &[&str] = &["**/conda-meta/*.json"];
const META_DIR: &str = "conda-meta/";

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Os,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files),
};

/// The fields of a conda-meta record read here (conda's `PrefixRecord`; the rest, such as the
/// per-file hashes of `paths_data`, is skipped).
#[derive(Deserialize)]
struct Record {
    name: String,
    version: String,
    #[serde(default)]
    build: Option<String>,
    #[serde(default)]
    subdir: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default, rename = "fn")]
    file_name: Option<String>,
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    depends: Vec<String>,
    #[serde(default)]
    files: Vec<String>,
}

/// Finds every package of every conda environment.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    // (environment root, relations) of each package, in the order of `output.packages`.
    let mut found: Vec<(String, Relations)> = Vec::new();
    for entry in files.entries() {
        let path = entry.entry.path.as_str();
        let Some(root) = environment_root(path) else {
            continue;
        };
        let Some(bytes) = entry.contents() else {
            continue;
        };
        let record: Record = match serde_json::from_slice(bytes) {
            Ok(r) => r,
            Err(e) => {
                output.warnings.push(format!(
                    "/{path}: not a conda package record ({e}); skipped"
                ));
                continue;
            }
        };
        if record.name.trim().is_empty() || record.version.trim().is_empty() {
            output
                .warnings
                .push(format!("/{path}: no name or version; skipped"));
            continue;
        }
        let purl = match purl_of(&record) {
            Ok(p) => p,
            Err(e) => {
                output.warnings.push(format!("/{path}: {e}; skipped"));
                continue;
            }
        };
        let mut properties = Vec::new();
        for (key, value) in [
            ("vouch:conda:build", &record.build),
            ("vouch:conda:subdir", &record.subdir),
            ("vouch:conda:channel", &channel_name(&record)),
        ] {
            if let Some(v) = value {
                properties.push((key.into(), v.clone()));
            }
        }
        let index = output.packages.len();
        output.packages.push(Package {
            name: record.name.clone(),
            version: record.version.clone(),
            purl_type: "conda",
            purl,
            cpe: None,
            licenses: record
                .license
                .as_deref()
                .and_then(normalize)
                .into_iter()
                .collect(),
            evidence: Evidence {
                path: path.into(),
                layer_index: entry.layer_index,
            },
            cataloger: NAME,
            properties,
        });
        output.owned_files.extend(
            record
                .files
                .iter()
                .filter(|f| !f.is_empty() && !f.split('/').any(|c| c == ".."))
                .map(|f| (format!("{root}{}", f.trim_start_matches('/')), index)),
        );
        let depends = record
            .depends
            .iter()
            .filter_map(|spec| spec.split_whitespace().next())
            .filter(|name| !name.starts_with("__"))
            .map(|name| vec![name.to_string()])
            .collect();
        found.push((
            root.to_string(),
            Relations {
                name: record.name,
                arch: None,
                depends,
                provides: Vec::new(),
            },
        ));
    }
    output.dependencies = within_environments(found);
    output
}

/// The root of the environment whose `conda-meta` holds `path` (`opt/conda/` for
/// `opt/conda/conda-meta/zlib-1.3.1-h4ab18f5_1.json`; empty for an environment at the image's
/// root), when `path` is a package record: `conda-meta/history` and the records of subdirectories
/// are not.
fn environment_root(path: &str) -> Option<&str> {
    let file = path.rsplit('/').next()?;
    let meta = path.strip_suffix(file)?;
    let root = meta.strip_suffix(META_DIR)?;
    (root.is_empty() || root.ends_with('/')).then_some(root)
}

/// Each environment's `depends`, resolved by name among its own packages.
fn within_environments(found: Vec<(String, Relations)>) -> Vec<(usize, usize)> {
    let mut by_root: std::collections::BTreeMap<String, Vec<(usize, Relations)>> =
        Default::default();
    for (index, (root, relations)) in found.into_iter().enumerate() {
        by_root.entry(root).or_default().push((index, relations));
    }
    let mut edges = Vec::new();
    for members in by_root.into_values() {
        let (indices, list): (Vec<usize>, Vec<Relations>) = members.into_iter().unzip();
        edges.extend(
            relations::resolve(&list)
                .into_iter()
                .map(|(a, b)| (indices[a], indices[b])),
        );
    }
    edges.sort_unstable();
    edges
}

/// The channel's name: the last part of its URL that is not the package's subdir
/// (`https://conda.anaconda.org/conda-forge/linux-64` → `conda-forge`), or the name itself when the
/// record gives one. Never the URL, which can carry credentials.
fn channel_name(record: &Record) -> Option<String> {
    let channel = record.channel.as_deref()?.trim().trim_end_matches('/');
    let path = match channel.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
        None => channel,
    };
    let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.last().copied() == record.subdir.as_deref() {
        parts.pop();
    }
    parts
        .last()
        .filter(|name| {
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
        .map(|name| name.to_string())
}

fn purl_of(record: &Record) -> Result<String, String> {
    let channel = channel_name(record);
    let archive = record.file_name.as_deref().and_then(|f| {
        if f.ends_with(".conda") {
            Some("conda")
        } else if f.ends_with(".tar.bz2") {
            Some("tar.bz2")
        } else {
            None
        }
    });
    let mut qualifiers: Vec<(&str, &str)> = Vec::new();
    for (key, value) in [
        ("build", record.build.as_deref()),
        ("channel", channel.as_deref()),
        ("subdir", record.subdir.as_deref()),
        ("type", archive),
    ] {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            qualifiers.push((key, v));
        }
    }
    build_purl("conda", None, &record.name, &record.version, &qualifiers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(channel: &str, subdir: &str) -> Record {
        serde_json::from_value(serde_json::json!({
            "name": "zlib", "version": "1.3.1", "build": "h4ab18f5_1", "subdir": subdir,
            "channel": channel, "fn": "zlib-1.3.1-h4ab18f5_1.conda"
        }))
        .unwrap()
    }

    #[test]
    fn the_channel_is_named_never_its_url() {
        for (url, subdir, name) in [
            (
                "https://conda.anaconda.org/conda-forge/linux-64",
                "linux-64",
                Some("conda-forge"),
            ),
            (
                "https://repo.anaconda.com/pkgs/main",
                "linux-64",
                Some("main"),
            ),
            ("conda-forge", "noarch", Some("conda-forge")),
            (
                "https://user:secret@conda.example.com/t/tk-123/private/",
                "noarch",
                Some("private"),
            ),
            ("https://conda.example.com", "noarch", None),
            ("file:///tmp/w/channel/", "noarch", Some("channel")),
        ] {
            assert_eq!(channel_name(&record(url, subdir)).as_deref(), name, "{url}");
        }
        let purl = purl_of(&record(
            "https://user:secret@conda.anaconda.org/t/tk-123/conda-forge/linux-64",
            "linux-64",
        ))
        .unwrap();
        assert_eq!(
            purl,
            "pkg:conda/zlib@1.3.1?build=h4ab18f5_1&channel=conda-forge&subdir=linux-64&type=conda"
        );
    }

    #[test]
    fn records_are_the_json_files_directly_in_conda_meta() {
        assert_eq!(
            environment_root("opt/conda/conda-meta/zlib-1.3.1-h_1.json"),
            Some("opt/conda/")
        );
        assert_eq!(
            environment_root("opt/conda/envs/app/conda-meta/x-1-0.json"),
            Some("opt/conda/envs/app/")
        );
        assert_eq!(environment_root("conda-meta/x-1-0.json"), Some(""));
        assert_eq!(environment_root("opt/myconda-meta/x-1-0.json"), None);
        assert_eq!(environment_root("opt/conda/conda-meta/sub/x.json"), None);
    }
}
