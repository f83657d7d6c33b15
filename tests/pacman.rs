//! Arch Linux packages in pacman's local database as pacman itself writes it: three packages built
//! by makepkg (one depending on a name another provides) and installed by `pacman -U` into a root,
//! imported into the engine, compared with `pacman -Q` on the same database; their files are owned.

mod support;

use std::path::Path;
use std::process::Command;
use support::*;

fn run(program: &str, args: &[&str], cwd: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} runs (make deps installs pacman-package-manager and makepkg): {e}")
        });
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn pacman_database_matches_pacman_query() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let (build, root) = (dir.path().join("build"), dir.path().join("root"));
    let dbpath = root.join("var/lib/pacman");
    std::fs::create_dir_all(&dbpath).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n",
    )
    .unwrap();
    let recipes = [
        (
            "vouch-shell",
            "5.2.026",
            "2",
            "GPL-3.0-or-later",
            "provides=('vouch-sh')\ndepends=()",
        ),
        ("vouch-lib", "1.0.1", "1", "MIT", "depends=()"),
        (
            "vouch-app",
            "0.3",
            "7",
            "Apache-2.0",
            "depends=('vouch-sh' 'vouch-lib>=1.0')",
        ),
    ];
    let mut built = Vec::new();
    for (name, version, rel, license, relations) in recipes {
        // vouch-lib also installs a Python package: its files are vouch-lib's.
        let extra = if name == "vouch-lib" {
            "  d=\"$pkgdir/usr/lib/python3.11/site-packages/vouchlib-1.0.1.dist-info\"\n  mkdir -p \"$d\"\n  printf 'Metadata-Version: 2.1\\nName: vouchlib\\nVersion: 1.0.1\\n' > \"$d/METADATA\""
        } else {
            ""
        };
        let src = build.join(name);
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            src.join("PKGBUILD"),
            format!(
                "pkgname={name}\npkgver={version}\npkgrel={rel}\npkgdesc='a test package'\narch=('x86_64')\n\
                 license=('{license}')\n{relations}\n\
                 package() {{\n  mkdir -p \"$pkgdir/usr/share/{name}\"\n  echo {name} > \"$pkgdir/usr/share/{name}/README\"\n\
                 {extra}\n}}\n"
            ),
        )
        .unwrap();
        run(
            "chown",
            &["-R", "nobody", &src.display().to_string()],
            dir.path(),
        );
        // makepkg refuses to run as root.
        run(
            "runuser",
            &[
                "-u",
                "nobody",
                "--",
                "env",
                "PKGEXT=.pkg.tar.gz",
                "makepkg",
                "--nodeps",
                "--skipinteg",
            ],
            &src,
        );
        built.push(
            src.join(format!("{name}-{version}-{rel}-x86_64.pkg.tar.gz"))
                .display()
                .to_string(),
        );
    }
    let (root_s, db_s) = (root.display().to_string(), dbpath.display().to_string());
    let mut install = vec![
        "-U",
        "--noconfirm",
        "--nodeps",
        "--nodeps",
        "--noscriptlet",
        "--root",
        &root_s,
        "--dbpath",
        &db_s,
    ];
    install.extend(built.iter().map(String::as_str));
    run("pacman", &install, dir.path());
    let mut expected: Vec<(String, String)> = run(
        "pacman",
        &["-Q", "--root", &root_s, "--dbpath", &db_s],
        dir.path(),
    )
    .lines()
    .filter_map(|l| l.split_once(' '))
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    expected.sort();
    assert_eq!(expected.len(), 3, "{expected:?}");

    let tag = import_dir(&root, &format!("vouch-test/pacman:{}", std::process::id()));
    let (sbom, _) = sbom_of_image(&tag);
    let mut found: Vec<(String, String)> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:alpm/"))
        .map(|(name, version, purl, _, path)| {
            assert_eq!(
                purl,
                format!("pkg:alpm/arch/{name}@{version}?arch=x86_64&distro=arch")
            );
            assert_eq!(path, format!("/var/lib/pacman/local/{name}-{version}/desc"));
            (name, version)
        })
        .collect();
    found.sort();
    assert_eq!(found, expected);
    assert_eq!(
        depends_on(&sbom, "pkg:alpm/arch/vouch-app@"),
        ["vouch-lib", "vouch-shell"]
    );
    let license = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "vouch-shell")
        .map(|c| c["licenses"][0]["license"]["id"].clone());
    assert_eq!(license, Some(serde_json::json!("GPL-3.0-or-later")));
    let python = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "vouchlib")
        .expect("the Python package vouch-lib installed");
    assert!(
        component_property(python, "vouch:ownedBy")
            .is_some_and(|o| o.starts_with("pkg:alpm/arch/vouch-lib@1.0.1-1")),
        "{python}"
    );
    docker(&["rmi", "-f", &tag]);
}
