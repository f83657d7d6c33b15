//! Gentoo packages merged by Portage itself (PyPI's portage 3.0.83, Gentoo's package manager:
//! `ebuild ... merge` of two ebuilds, one depending on the other, into a root;
//! `integration/gentoo_vdb.py`), imported into the engine and compared with what Portage's vartree
//! reads back and with Syft's portage cataloger.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::*;

#[test]
fn portage_database_matches_portages_vartree() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/gentoo_vdb.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(dir.path().join("work"))
        .arg(&root)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "gentoo_vdb.py (make deps installs portage): {}",
        stderr(&out)
    );
    let installed: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected: BTreeSet<(String, String)> = installed
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(expected.len(), 2, "{installed:?}");
    // A package directory whose name is not NAME-VERSION: said, not guessed.
    let odd = root.join("var/db/pkg/app-misc/noversion");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::write(odd.join("CONTENTS"), "").unwrap();

    let tag = format!("vouch-test/portage:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, warnings) = sbom_of_image(&tag);
    assert!(
        warnings.contains("/var/db/pkg/app-misc/noversion: \"noversion\" is not NAME-VERSION"),
        "{warnings}"
    );
    let ebuilds: Vec<(String, String, String, usize, String)> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:ebuild/"))
        .collect();
    let found: BTreeSet<(String, String)> =
        ebuilds.iter().map(|p| (p.0.clone(), p.1.clone())).collect();
    assert_eq!(found, expected, "as Portage's vartree");
    assert!(
        ebuilds
            .iter()
            .any(|p| p.2 == "pkg:ebuild/app-misc/hello@2.12.1-r1"),
        "{ebuilds:?}"
    );
    assert_eq!(
        depends_on(&sbom, "pkg:ebuild/app-misc/hello@"),
        ["libgreet"]
    );
    let hello = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "app-misc/hello")
        .unwrap();
    assert_eq!(
        hello["licenses"],
        serde_json::json!([{"license": {"id": "GPL-3.0-or-later"}}])
    );

    let syft = syft_json(dir.path(), &tag);
    let syft_found: BTreeSet<(String, String)> = syft["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["foundBy"] == "portage-cataloger")
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(syft_found, expected, "as Syft");
    docker(&["rmi", "-f", &tag]);
}
