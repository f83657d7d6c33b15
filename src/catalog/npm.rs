//! The npm cataloger: every package installed under a `node_modules` directory
//! (`node_modules/NAME/package.json`, `node_modules/@SCOPE/NAME/package.json`, nested at any depth),
//! including the npm that ships inside Node.js, and in the global module folders Debian's `node-*`
//! packages install into (`/usr/share/nodejs`, `/usr/lib/nodejs`, `/usr/lib/TRIPLET/nodejs`). Only
//! a folder's direct children (or `@scope` grandchildren) are packages: a package.json deeper inside
//! a package (test fixtures, `dist/`) is not. Purls are `pkg:npm/NAME@V` or
//! `pkg:npm/%40scope/NAME@V`. Dependency edges are resolved the way Node resolves `require`: from the
//! package's own `node_modules` upwards through every enclosing one, then Debian's global folders
//! (Debian's node searches them).

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{path, FileIndex, IndexedEntry};
use crate::license::{normalize, License};
use crate::package::Package;
use crate::purl::build_purl;
use serde_json::Value;
use std::collections::HashMap;

pub const NAME: &str = "npm";
pub const GLOBS: &[&str] = &[
    "**/node_modules/*/package.json",
    "**/node_modules/@*/*/package.json",
    // Project roots: a package.json beside a node_modules directory is the application itself.
    "**/package.json",
];

/// package.json files larger than this are not manifests anyone wrote by hand; they are skipped.
const MAX_MANIFEST_BYTES: usize = 8 * 1024 * 1024;

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files),
};

/// Finds every installed npm package.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    // package directory → index, and each package's dependency names.
    let mut by_dir: HashMap<String, usize> = HashMap::new();
    let mut wanted_deps: Vec<(String, Vec<String>)> = Vec::new();
    let installed_dirs: Vec<&str> = files
        .entries()
        .filter_map(|e| package_dir(&e.entry.path))
        .collect();
    for entry in files.entries() {
        let Some(package_dir) = package_dir(&entry.entry.path)
            .or_else(|| project_dir(&entry.entry.path, &installed_dirs))
        else {
            continue;
        };
        let Some(bytes) = entry.contents() else {
            continue;
        };
        match parse_manifest(bytes, package_dir).and_then(|m| to_package(m, entry)) {
            Ok((package, dependencies)) => {
                by_dir.insert(package_dir.to_string(), output.packages.len());
                wanted_deps.push((package_dir.to_string(), dependencies));
                output.packages.push(package);
            }
            Err(e) => output
                .warnings
                .push(format!("/{}: {e}; skipped", entry.entry.path)),
        }
    }
    // Debian's search order: /usr/lib/TRIPLET/nodejs, /usr/lib/nodejs, /usr/share/nodejs.
    let mut globals: Vec<&str> = by_dir
        .keys()
        .map(|dir| {
            let parent = path::parent(dir);
            if path::file_name(parent).starts_with('@') {
                path::parent(parent)
            } else {
                parent
            }
        })
        .filter(|dir| is_global_folder(dir))
        .collect();
    globals.sort_by_key(|g| (*g == "usr/share/nodejs", *g == "usr/lib/nodejs", *g));
    globals.dedup();
    for (from, (dir, dependencies)) in wanted_deps.iter().enumerate() {
        for name in dependencies {
            if let Some(to) = resolve(&by_dir, &globals, dir, name) {
                output.depends(from, to);
            }
        }
    }
    output
}

/// The package directory of a manifest path matched by [`GLOBS`].
fn package_dir(p: &str) -> Option<&str> {
    if path::file_name(p) != "package.json" {
        return None;
    }
    let dir = path::parent(p);
    let mut container = path::parent(dir);
    if path::file_name(container).starts_with('@') {
        container = path::parent(container);
    }
    (path::file_name(container) == "node_modules" || is_global_folder(container)).then_some(dir)
}

/// Debian's global module folders: `usr/share/nodejs`, `usr/lib/nodejs`, `usr/lib/TRIPLET/nodejs`.
fn is_global_folder(dir: &str) -> bool {
    match dir {
        "usr/share/nodejs" | "usr/lib/nodejs" => true,
        _ => dir
            .strip_prefix("usr/lib/")
            .and_then(|rest| rest.strip_suffix("/nodejs"))
            .is_some_and(|triplet| !triplet.is_empty() && !triplet.contains('/')),
    }
}

/// The directory of a project's own package.json: not inside `node_modules`, with packages installed
/// in its `node_modules`.
fn project_dir<'a>(p: &'a str, installed_dirs: &[&str]) -> Option<&'a str> {
    if path::file_name(p) != "package.json" || p.split('/').any(|c| c == "node_modules") {
        return None;
    }
    let dir = path::parent(p);
    let modules = path::join(dir, "node_modules");
    installed_dirs
        .iter()
        .any(|d| d.starts_with(&modules) && d.as_bytes().get(modules.len()) == Some(&b'/'))
        .then_some(dir)
}

/// Node's lookup: `DIR/node_modules/NAME`, then the same from each ancestor directory, then
/// Debian's global folders.
fn resolve(
    by_dir: &HashMap<String, usize>,
    globals: &[&str],
    from_dir: &str,
    name: &str,
) -> Option<usize> {
    let mut dir = from_dir;
    loop {
        if path::file_name(dir) != "node_modules" {
            let candidate = path::join(&path::join(dir, "node_modules"), name);
            if let Some(&i) = by_dir.get(&candidate) {
                return Some(i);
            }
        }
        if dir.is_empty() {
            break;
        }
        dir = path::parent(dir);
    }
    globals
        .iter()
        .find_map(|global| by_dir.get(&path::join(global, name)).copied())
}

/// The fields of a package.json that matter here.
#[derive(Debug, Default)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub licenses: Vec<License>,
    pub dependencies: Vec<String>,
    pub author: Option<String>,
}

/// Parses a package.json; `dir` supplies the name when the manifest has none.
pub fn parse_manifest(bytes: &[u8], dir: &str) -> Result<Manifest, String> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(format!(
            "{} bytes is more than the {MAX_MANIFEST_BYTES} bytes a package.json may have",
            bytes.len()
        ));
    }
    let json: Value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON ({e})"))?;
    let object = json.as_object().ok_or("not a JSON object")?;
    let text = |k: &str| object.get(k).and_then(Value::as_str).map(str::trim);
    let dir_name = {
        let name = path::file_name(dir);
        let scope = path::file_name(path::parent(dir));
        if scope.starts_with('@') {
            format!("{scope}/{name}")
        } else {
            name.to_string()
        }
    };
    let name = text("name")
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .unwrap_or(dir_name);
    let version = text("version")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{name}: no version"))?
        .to_string();
    let mut dependencies: Vec<String> = ["dependencies", "optionalDependencies"]
        .iter()
        .filter_map(|k| object.get(*k).and_then(Value::as_object))
        .flat_map(|deps| deps.keys().cloned())
        .collect();
    dependencies.sort();
    dependencies.dedup();
    Ok(Manifest {
        name,
        version,
        licenses: licenses(object),
        dependencies,
        author: match object.get("author") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Object(o)) => o.get("name").and_then(Value::as_str).map(str::to_string),
            _ => None,
        },
    })
}

/// `"license": "MIT"`, `"license": {"type": "MIT"}`, or the legacy `"licenses": [{"type": ...}]`.
fn licenses(object: &serde_json::Map<String, Value>) -> Vec<License> {
    let declared: Vec<&str> = match (object.get("license"), object.get("licenses")) {
        (Some(Value::String(s)), _) => vec![s.as_str()],
        (Some(Value::Object(o)), _) => o.get("type").and_then(Value::as_str).into_iter().collect(),
        (_, Some(Value::Array(list))) => list
            .iter()
            .filter_map(|l| match l {
                Value::String(s) => Some(s.as_str()),
                Value::Object(o) => o.get("type").and_then(Value::as_str),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    declared.into_iter().filter_map(normalize).collect()
}

fn to_package(manifest: Manifest, entry: &IndexedEntry) -> Result<(Package, Vec<String>), String> {
    let (namespace, short_name) = match manifest.name.split_once('/') {
        Some((scope, name)) if scope.starts_with('@') => (Some(scope), name),
        _ => (None, manifest.name.as_str()),
    };
    let purl = build_purl("npm", namespace, short_name, &manifest.version, &[])?;
    let mut properties = Vec::new();
    if let Some(a) = &manifest.author {
        properties.push(("vouch:npm:author".into(), a.clone()));
    }
    let package = Package {
        name: manifest.name,
        version: manifest.version,
        purl_type: "npm",
        purl,
        licenses: manifest.licenses,
        cpe: None,
        evidence: entry.evidence(),
        cataloger: NAME,
        properties,
    };
    Ok((package, manifest.dependencies))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_directories() {
        assert_eq!(
            package_dir("app/node_modules/express/package.json"),
            Some("app/node_modules/express")
        );
        assert_eq!(
            package_dir("app/node_modules/@types/node/package.json"),
            Some("app/node_modules/@types/node")
        );
        assert_eq!(package_dir("app/node_modules/x/lib/package.json"), None);
        assert_eq!(package_dir("app/package.json"), None);
        // Debian's global folders: direct children (and scoped grandchildren) only.
        for (manifest, dir) in [
            (
                "usr/share/nodejs/lodash/package.json",
                Some("usr/share/nodejs/lodash"),
            ),
            (
                "usr/share/nodejs/@types/node/package.json",
                Some("usr/share/nodejs/@types/node"),
            ),
            (
                "usr/lib/nodejs/acorn/package.json",
                Some("usr/lib/nodejs/acorn"),
            ),
            (
                "usr/lib/x86_64-linux-gnu/nodejs/ws/package.json",
                Some("usr/lib/x86_64-linux-gnu/nodejs/ws"),
            ),
            ("usr/share/nodejs/lodash/test/fixtures/package.json", None),
            ("usr/share/nodejs/package.json", None),
            ("opt/usr/share/nodejs/x/package.json", None),
            ("usr/lib/a/b/nodejs/x/package.json", None),
        ] {
            assert_eq!(package_dir(manifest), dir, "{manifest}");
        }
    }

    #[test]
    fn debian_global_folders_are_searched_last() {
        let by_dir: HashMap<String, usize> = [
            ("usr/share/nodejs/a".to_string(), 0),
            ("usr/share/nodejs/b".to_string(), 1),
            ("usr/share/nodejs/a/node_modules/b".to_string(), 2),
            ("usr/lib/x86_64-linux-gnu/nodejs/c".to_string(), 3),
        ]
        .into_iter()
        .collect();
        let globals = ["usr/lib/x86_64-linux-gnu/nodejs", "usr/share/nodejs"];
        assert_eq!(
            resolve(&by_dir, &globals, "usr/share/nodejs/a", "b"),
            Some(2)
        );
        assert_eq!(
            resolve(&by_dir, &globals, "usr/share/nodejs/b", "a"),
            Some(0)
        );
        assert_eq!(
            resolve(&by_dir, &globals, "usr/share/nodejs/b", "c"),
            Some(3)
        );
        assert_eq!(resolve(&by_dir, &globals, "srv/app", "a"), Some(0));
        assert_eq!(resolve(&by_dir, &[], "srv/app", "a"), None);
    }

    #[test]
    fn manifests_and_licenses() {
        let m = parse_manifest(
            br#"{"name":"@scope/pkg","version":"1.2.3","license":{"type":"ISC"},"dependencies":{"b":"^1","a":"2"},"optionalDependencies":{"a":"2"}}"#,
            "node_modules/@scope/pkg",
        )
        .unwrap();
        assert_eq!(
            (m.name.as_str(), m.version.as_str()),
            ("@scope/pkg", "1.2.3")
        );
        assert_eq!(m.dependencies, ["a", "b"]);
        assert_eq!(m.licenses, [License::Id("ISC".into())]);
        let legacy = parse_manifest(
            br#"{"version":"0.1.0","licenses":[{"type":"MIT"},"Apache-2.0"]}"#,
            "node_modules/old",
        )
        .unwrap();
        assert_eq!(legacy.name, "old");
        assert_eq!(legacy.licenses.len(), 2);
        assert!(parse_manifest(b"{not json", "node_modules/x")
            .unwrap_err()
            .contains("not valid JSON"));
        assert!(parse_manifest(b"[1,2]", "node_modules/x").is_err());
        let mut huge = br#"{"name":"x","version":"1.0.0","description":""#.to_vec();
        huge.resize(MAX_MANIFEST_BYTES + 1, b'a');
        huge.extend_from_slice(b"\"}");
        let err = parse_manifest(&huge, "node_modules/x").unwrap_err();
        assert!(err.contains("more than the 8388608 bytes"), "{err}");
        assert!(parse_manifest(br#"{"name":"x"}"#, "node_modules/x")
            .unwrap_err()
            .contains("no version"));
    }

    #[test]
    fn node_resolution_walks_up() {
        let by_dir: HashMap<String, usize> = [
            ("app/node_modules/a".to_string(), 0),
            ("app/node_modules/b".to_string(), 1),
            ("app/node_modules/a/node_modules/b".to_string(), 2),
            ("node_modules/c".to_string(), 3),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            resolve(&by_dir, &[], "app/node_modules/a", "b"),
            Some(2),
            "nested copy wins"
        );
        assert_eq!(resolve(&by_dir, &[], "app/node_modules/b", "a"), Some(0));
        assert_eq!(
            resolve(&by_dir, &[], "app/node_modules/a", "c"),
            Some(3),
            "up to the root"
        );
        assert_eq!(resolve(&by_dir, &[], "app/node_modules/a", "zzz"), None);
    }
}
