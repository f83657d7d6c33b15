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

/// Lists, with the image's own Node (run in its root), every package Node can load from its global
/// folders (`require("module").globalPaths`): each folder's children and `@scope` grandchildren
/// holding a package.json of their own (not a symbolic link to another package's), and the same in
/// each package's `node_modules`, recursively; each package once, at its real path. One line per
/// package: `path<TAB>name<TAB>version`.
const NODE_LISTING: &str = r#"
const fs = require("fs"), path = require("path"), Module = require("module");
const out = [], seen = new Set();
function packagesIn(folder) {
  if (!fs.existsSync(folder)) return;
  for (const entry of fs.readdirSync(folder)) {
    const dirs = entry.startsWith("@")
      ? fs.readdirSync(path.join(folder, entry)).map((n) => path.join(folder, entry, n))
      : [path.join(folder, entry)];
    for (const dir of dirs) {
      const manifest = path.join(dir, "package.json");
      let stat;
      try { stat = fs.lstatSync(manifest); } catch (e) { continue; }
      if (!stat.isFile()) continue;
      let json;
      try { json = JSON.parse(fs.readFileSync(manifest, "utf8")); } catch (e) { continue; }
      if (typeof json.version !== "string" || json.version === "") continue;
      // A package reached through a linked folder (Debian links `gyp` to `node-gyp`, and
      // libnpm*/node_modules to npm's) is one package, where it really is.
      const real = fs.realpathSync(dir);
      if (seen.has(real)) continue;
      seen.add(real);
      out.push([real.slice(1), json.name || path.relative(folder, dir), json.version].join("\t"));
      packagesIn(path.join(dir, "node_modules"));
    }
  }
}
for (const folder of Module.globalPaths) packagesIn(folder);
console.log(out.join("\n"));
"#;

/// Debian's `nodejs` and `npm` (and the 335 `node-*` packages npm depends on) install modules in
/// Node's global folders, not under a `node_modules`: every module Node can load from them is
/// reported, with the Debian package that installed it. (Only 76 of 1,590 were, those in nested
/// `node_modules`.)
#[test]
fn debian_node_modules_are_found_where_node_finds_them() {
    require_engine();
    let root = debian_root_with("debian-node", "nodejs,npm");
    let listed = Command::new("chroot")
        .arg(&root)
        .args(["/usr/bin/node", "-e", NODE_LISTING])
        .output()
        .expect("chroot runs (as root)");
    assert!(
        listed.status.success(),
        "node in the image's root: {}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let expected: BTreeSet<(String, String, String)> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((
                f.next()?.to_string(),
                f.next()?.to_string(),
                f.next()?.to_string(),
            ))
        })
        .collect();
    assert!(
        expected.len() > 1000,
        "node lists {} packages",
        expected.len()
    );
    // Which Debian package installed each manifest, from dpkg's own file lists.
    let mut installed_by: BTreeMap<String, String> = BTreeMap::new();
    for entry in std::fs::read_dir(root.join("var/lib/dpkg/info")).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(package) = name.strip_suffix(".list") else {
            continue;
        };
        let package = package.split(':').next().unwrap().to_string();
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            installed_by.insert(line.trim_start_matches('/').to_string(), package.clone());
        }
    }

    let tag = format!("vouch-test/debian-node:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, warnings) = sbom_of_image(&tag);
    docker(&["rmi", "-f", &tag]);
    let mut found = BTreeSet::new();
    for component in sbom["components"].as_array().unwrap() {
        if !component["purl"]
            .as_str()
            .is_some_and(|p| p.starts_with("pkg:npm/"))
        {
            continue;
        }
        let property = |name: &str| component_property(component, name);
        let manifest = property("vouch:path").unwrap();
        let dir = manifest
            .trim_start_matches('/')
            .strip_suffix("/package.json")
            .unwrap()
            .to_string();
        let owner = installed_by
            .get(manifest.trim_start_matches('/'))
            .unwrap_or_else(|| panic!("{manifest}: no Debian package installed it"));
        let owned_by = property("vouch:ownedBy").unwrap_or_default();
        assert!(
            owned_by.starts_with(&format!("pkg:deb/debian/{owner}@")),
            "{manifest}: vouch:ownedBy {owned_by:?}, dpkg says {owner}"
        );
        found.insert((
            dir,
            component["name"].as_str().unwrap().to_string(),
            component["version"].as_str().unwrap().to_string(),
        ));
    }
    let missing: Vec<_> = expected.difference(&found).take(10).collect();
    let extra: Vec<_> = found.difference(&expected).take(10).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} found, {} listed by node; missing {missing:?}; extra {extra:?}; {warnings}",
        found.len(),
        expected.len()
    );
}
