//! The .NET cataloger: NuGet packages from the `*.deps.json` files the .NET SDK writes beside every
//! application (`libraries` entries of type `package`), with edges from the `targets` section.
//! Purls are `pkg:nuget/NAME@VERSION`.

use super::{json_files, CatalogOutput, Cataloger, Kind};
use crate::layers::FileIndex;
use crate::package::{Evidence, Package};
use crate::purl::build_purl;
use serde_json::Value;
use std::collections::HashMap;

pub const NAME: &str = "dotnet-deps";
pub const GLOBS: &[&str] = &["**/*.deps.json"];

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files),
};

/// Finds every NuGet package listed in `.deps.json` files.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for (entry, json) in json_files(files, ".deps.json", &mut output.warnings) {
        let path = &entry.entry.path;
        let Some(libraries) = json.get("libraries").and_then(Value::as_object) else {
            output
                .warnings
                .push(format!("/{path}: no \"libraries\" section; skipped"));
            continue;
        };
        // "Name/Version" → package index, for this file only.
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for (key, library) in libraries {
            if library.get("type").and_then(Value::as_str) != Some("package") {
                continue; // the application's own projects
            }
            let Some((name, version)) = key.rsplit_once('/') else {
                output.warnings.push(format!(
                    "/{path}: library {key:?} is not NAME/VERSION; skipped"
                ));
                continue;
            };
            let purl = match build_purl("nuget", None, name, version, &[]) {
                Ok(p) => p,
                Err(e) => {
                    output.warnings.push(format!("/{path}: {e}; skipped"));
                    continue;
                }
            };
            let mut properties = Vec::new();
            if let Some(sha) = library.get("sha512").and_then(Value::as_str) {
                properties.push(("vouch:nuget:sha512".into(), sha.to_string()));
            }
            by_key.insert(key.to_ascii_lowercase(), output.packages.len());
            output.packages.push(Package {
                name: name.to_string(),
                version: version.to_string(),
                purl_type: "nuget",
                purl,
                licenses: Vec::new(),
                cpe: None,
                evidence: Evidence {
                    path: path.as_str().into(),
                    layer_index: entry.layer_index,
                },
                cataloger: NAME,
                properties,
            });
        }
        let targets = json.get("targets").and_then(Value::as_object);
        for target in targets
            .into_iter()
            .flat_map(|t| t.values())
            .filter_map(Value::as_object)
        {
            for (key, library) in target {
                let Some(&from) = by_key.get(&key.to_ascii_lowercase()) else {
                    continue;
                };
                let deps = library.get("dependencies").and_then(Value::as_object);
                for (name, version) in deps.into_iter().flatten() {
                    let dep_key = format!("{name}/{}", version.as_str().unwrap_or_default())
                        .to_ascii_lowercase();
                    if let Some(&to) = by_key.get(&dep_key) {
                        output.depends(from, to);
                    }
                }
            }
        }
    }
    output
}
