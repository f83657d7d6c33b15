//! Lua rocks as LuaRocks installs them: two rocks built from rockspecs by `luarocks make` into a
//! tree under /usr/local, imported into the engine, compared with `luarocks list --porcelain` on the
//! same tree.

mod support;

use std::path::Path;
use std::process::Command;
use support::*;

fn luarocks(args: &[&str], cwd: &Path) -> String {
    let out = Command::new("luarocks")
        .args(["--lua-version", "5.4"])
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("luarocks runs (make deps installs luarocks and liblua5.4-dev)");
    assert!(
        out.status.success(),
        "luarocks {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn rocks_match_luarocks_list() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let tree = root.join("usr/local");
    let tree_s = tree.display().to_string();
    for (name, version, license) in [
        ("vouchrock", "1.2.3-1", "MIT"),
        ("other-rock", "0.9-2", "Apache-2.0"),
    ] {
        let src = dir.path().join(name);
        std::fs::create_dir_all(&src).unwrap();
        let module = name.replace('-', "_");
        std::fs::write(src.join(format!("{module}.lua")), "return {}\n").unwrap();
        std::fs::write(
            src.join(format!("{name}-{version}.rockspec")),
            format!(
                "package = \"{name}\"\nversion = \"{version}\"\nsource = {{ url = \"file:///dev/null\" }}\n\
                 description = {{ summary = \"A test rock\", license = \"{license}\" }}\n\
                 dependencies = {{ \"lua >= 5.1\" }}\n\
                 build = {{ type = \"builtin\", modules = {{ {module} = \"{module}.lua\" }} }}\n"
            ),
        )
        .unwrap();
        luarocks(
            &[
                "--tree",
                &tree_s,
                "make",
                &format!("{name}-{version}.rockspec"),
            ],
            &src,
        );
    }
    let mut expected: Vec<(String, String)> =
        luarocks(&["--tree", &tree_s, "list", "--porcelain"], dir.path())
            .lines()
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((f.next()?.to_string(), f.next()?.to_string()))
            })
            .collect();
    expected.sort();
    assert_eq!(expected.len(), 2, "{expected:?}");

    let tag = import_dir(
        &root,
        &format!("vouch-test/luarocks:{}", std::process::id()),
    );
    let (sbom, _) = sbom_of_image(&tag);
    let mut found: Vec<(String, String)> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:luarocks/"))
        .map(|(name, version, purl, _, path)| {
            assert_eq!(purl, format!("pkg:luarocks/{name}@{version}"));
            assert_eq!(
                path,
                format!("/usr/local/lib/luarocks/rocks-5.4/{name}/{version}/rock_manifest")
            );
            (name, version)
        })
        .collect();
    found.sort();
    assert_eq!(found, expected);
    let licenses: Vec<String> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:luarocks/"))
        })
        .map(|c| {
            c["licenses"][0]["license"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(licenses.len(), 2);
    assert!(
        licenses.contains(&"MIT".to_string()) && licenses.contains(&"Apache-2.0".to_string()),
        "{licenses:?}"
    );
    docker(&["rmi", "-f", &tag]);
}
