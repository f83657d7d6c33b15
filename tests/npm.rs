//! The npm cataloger on a real image: a project installed by `npm install`, read through the Docker
//! engine and compared with `npm ls --all --json`.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use support::*;

/// Every (name, version) in an `npm ls --all --json` tree, and name@version → child names.
fn flatten(
    node: &Value,
    all: &mut BTreeSet<(String, String)>,
    children: &mut BTreeMap<String, BTreeSet<String>>,
) {
    let Some(deps) = node["dependencies"].as_object() else {
        return;
    };
    for (name, child) in deps {
        let Some(version) = child["version"].as_str() else {
            continue;
        };
        all.insert((name.clone(), version.to_string()));
        let entry = children.entry(format!("{name}@{version}")).or_default();
        if let Some(grand) = child["dependencies"].as_object() {
            entry.extend(grand.keys().cloned());
        }
        flatten(child, all, children);
    }
}

#[test]
fn npm_installed_node_modules_match_npm_ls() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("root/srv/app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("package.json"),
        r#"{"name":"demo-app","version":"1.0.0","private":true,"dependencies":{"express":"4.21.2","@types/node":"20.11.0"}}"#,
    )
    .unwrap();
    let install = Command::new("npm")
        .args(["install", "--silent", "--no-audit", "--no-fund"])
        .current_dir(&app)
        .output()
        .expect("npm runs (make deps installs it)");
    assert!(
        install.status.success(),
        "npm install: {}",
        String::from_utf8_lossy(&install.stderr)
    );
    let ls = Command::new("npm")
        .args(["ls", "--all", "--json"])
        .current_dir(&app)
        .output()
        .unwrap();
    let tree: Value = serde_json::from_slice(&ls.stdout).expect("npm ls prints JSON");
    let mut expected = BTreeSet::new();
    let mut children = BTreeMap::new();
    flatten(&tree, &mut expected, &mut children);
    // The project itself (npm ls's root) is a component too, depending on its direct dependencies.
    let (root_name, root_version) = (
        tree["name"].as_str().unwrap(),
        tree["version"].as_str().unwrap(),
    );
    expected.insert((root_name.to_string(), root_version.to_string()));
    children.insert(
        format!("{root_name}@{root_version}"),
        tree["dependencies"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect(),
    );
    assert!(expected.len() > 50, "express brings dozens of packages");

    // A damaged manifest: a warning naming it, the rest still cataloged.
    let broken = app.join("node_modules/broken-pkg");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("package.json"), "{\"name\": \"broken-pkg\", ").unwrap();

    let tag = format!("vouch-test/npm:{}", std::process::id());
    import_dir(&dir.path().join("root"), &tag);
    let (sbom, warnings) = sbom_of_image(&tag);
    assert!(
        warnings.contains("node_modules/broken-pkg/package.json: not valid JSON"),
        "{}",
        warnings
    );

    let found: BTreeSet<(String, String)> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:npm/"))
        .map(|(name, version, _, _, _)| (name, version))
        .collect();
    assert_eq!(found, expected, "the same packages as npm ls --all");
    let purls: Vec<String> = packages(&sbom).into_iter().map(|p| p.2).collect();
    assert!(
        purls.contains(&"pkg:npm/%40types/node@20.11.0".to_string()),
        "scoped purl"
    );

    // Each package's edges name exactly the dependencies npm resolved for it.
    let name_of = |purl: &str| {
        let rest = purl.trim_start_matches("pkg:npm/").replace("%40", "@");
        rest.rsplit_once('@')
            .map(|(n, _)| n.to_string())
            .unwrap_or(rest)
    };
    let version_of = |purl: &str| {
        purl.rsplit_once('@')
            .map(|(_, v)| v.to_string())
            .unwrap_or_default()
    };
    let mut compared = 0;
    for d in sbom["dependencies"].as_array().unwrap() {
        let r = d["ref"].as_str().unwrap();
        if !r.starts_with("pkg:npm/") {
            continue;
        }
        let key = format!(
            "{}@{}",
            name_of(r),
            version_of(r.split('#').next().unwrap())
        );
        let got: BTreeSet<String> = d["dependsOn"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| name_of(x.as_str().unwrap().split('#').next().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(want) = children.get(&key) {
            assert_eq!(&got, want, "edges of {key}");
            compared += 1;
        }
    }
    assert!(
        compared >= expected.len(),
        "every package's edges were compared ({compared})"
    );
    Command::new("docker")
        .args(["rmi", "-f", &tag])
        .output()
        .unwrap();
}
