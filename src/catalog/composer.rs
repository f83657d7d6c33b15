//! The PHP cataloger: packages Composer installed, from `vendor/composer/installed.json` (Composer 2's
//! `{"packages": [...]}` and Composer 1's bare list). Purls are `pkg:composer/VENDOR/NAME@VERSION`;
//! `require` edges link packages of the same installation (platform requirements such as `php` and
//! `ext-*` name no package and are left out).

use super::{json_files, CatalogOutput, Cataloger, Kind};
use crate::layers::FileIndex;
use crate::license::normalize;
use crate::package::{Evidence, Package};
use crate::purl::build_purl;
use serde_json::Value;
use std::collections::HashMap;

pub const NAME: &str = "php-composer";
pub const GLOBS: &[&str] = &["**/vendor/composer/installed.json"];

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files),
};

/// Finds every Composer-installed package.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    let manifests = json_files(
        files,
        "vendor/composer/installed.json",
        &mut output.warnings,
    );
    for (entry, json) in manifests {
        let path = &entry.entry.path;
        let list = match &json {
            Value::Array(list) => list,
            Value::Object(o) => match o.get("packages") {
                Some(Value::Array(list)) => list,
                _ => {
                    output
                        .warnings
                        .push(format!("/{path}: no \"packages\" list; skipped"));
                    continue;
                }
            },
            _ => {
                output
                    .warnings
                    .push(format!("/{path}: neither a list nor an object; skipped"));
                continue;
            }
        };
        let first = output.packages.len();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut requires: Vec<(usize, Vec<String>)> = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let text = |k: &str| {
                item.get(k)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            };
            let (Some(name), Some(version)) = (text("name"), text("version")) else {
                output.warnings.push(format!(
                    "/{path}: package {} has no name or version; skipped",
                    i + 1
                ));
                continue;
            };
            let version = version.strip_prefix('v').unwrap_or(version);
            let (vendor, short) = name.split_once('/').unwrap_or(("", name));
            let purl = match build_purl(
                "composer",
                (!vendor.is_empty()).then_some(vendor),
                short,
                version,
                &[],
            ) {
                Ok(p) => p,
                Err(e) => {
                    output.warnings.push(format!("/{path}: {e}; skipped"));
                    continue;
                }
            };
            let licenses = match item.get("license") {
                Some(Value::Array(l)) => l
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(normalize)
                    .collect(),
                Some(Value::String(s)) => normalize(s).into_iter().collect(),
                _ => Vec::new(),
            };
            by_name.insert(name.to_ascii_lowercase(), output.packages.len());
            requires.push((
                output.packages.len(),
                item.get("require")
                    .and_then(Value::as_object)
                    .map(|r| r.keys().map(|k| k.to_ascii_lowercase()).collect())
                    .unwrap_or_default(),
            ));
            output.packages.push(Package {
                name: name.to_string(),
                version: version.to_string(),
                purl_type: "composer",
                purl,
                licenses,
                cpe: None,
                evidence: Evidence {
                    path: path.as_str().into(),
                    layer_index: entry.layer_index,
                },
                cataloger: NAME,
                properties: Vec::new(),
            });
        }
        for (from, names) in requires {
            for name in names {
                if let Some(&to) = by_name.get(&name) {
                    if to >= first {
                        output.depends(from, to);
                    }
                }
            }
        }
    }
    output
}
