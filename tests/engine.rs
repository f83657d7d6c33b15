//! End to end against a real Docker engine (started by `integration/engine.sh`): images imported
//! from a debootstrap Debian 12 root and from the host's own dpkg database, images built by the
//! engine with later layers that replace and delete files, read through the engine, through
//! `docker save` tars and through OCI layouts made by skopeo, and compared with `dpkg-query`.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use support::*;

/// (name, version, architecture) of every package whose files dpkg says are on disk.
fn dpkg_query(admindir: &Path) -> BTreeSet<(String, String, String)> {
    let out = Command::new("dpkg-query")
        .arg(format!("--admindir={}", admindir.display()))
        .args([
            "-W",
            "-f",
            "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n",
        ])
        .output()
        .expect("dpkg-query runs");
    assert!(
        out.status.success(),
        "dpkg-query: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            // Second letter of the abbreviation is the state: n = not-installed, c = config-files.
            let state = f[0].chars().nth(1)?;
            (!matches!(state, 'n' | 'c'))
                .then(|| (f[1].to_string(), f[2].to_string(), f[3].to_string()))
        })
        .collect()
}

/// (name, version, arch) of the SBOM's deb components, taken from the purl's arch qualifier.
fn sbom_debs(sbom: &Value) -> BTreeSet<(String, String, String)> {
    packages(sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:deb/"))
        .map(|(name, version, purl, _, _)| {
            let arch = purl
                .split_once("arch=")
                .map(|(_, rest)| rest.split('&').next().unwrap_or("").to_string())
                .unwrap_or_default();
            (name, version, arch)
        })
        .collect()
}

fn sbom(args: &[&str]) -> Value {
    let dir = std::env::temp_dir();
    let out = run_vouch(&dir, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    valid_cyclonedx(&out.stdout)
}

fn unique_tag(name: &str) -> String {
    format!("vouch-test/{name}:{}", std::process::id())
}

fn os_component(sbom: &Value) -> (String, String) {
    let os = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "operating-system")
        .expect("an operating-system component");
    (
        os["name"].as_str().unwrap().into(),
        os["version"].as_str().unwrap().into(),
    )
}

#[test]
fn debootstrap_debian_12_through_engine_save_and_oci() {
    require_engine();
    let root = debian_rootfs();
    let tag = import_dir(&root, &unique_tag("debian"));
    let expected = dpkg_query(&root.join("var/lib/dpkg"));
    assert!(expected.len() > 50, "a minbase root has dozens of packages");

    let from_engine = sbom(&["sbom", &tag]);
    assert_eq!(sbom_debs(&from_engine), expected, "through the engine");
    assert_eq!(os_component(&from_engine), ("debian".into(), "12".into()));
    let id = docker(&["image", "inspect", "--format", "{{.Id}}", &tag])
        .trim()
        .to_string();
    assert_eq!(image_properties(&from_engine, "vouch:image:id"), [id]);
    assert_eq!(from_engine["metadata"]["component"]["name"], tag.as_str());

    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved.tar");
    docker(&["save", "-o", saved.to_str().unwrap(), &tag]);
    let from_save = sbom(&["sbom", &format!("docker-archive:{}", saved.display())]);
    assert_eq!(sbom_debs(&from_save), expected, "through docker save");

    // OCI layouts as skopeo writes them (gzip-compressed layers).
    let oci_archive = dir.path().join("oci.tar");
    let oci_dir = dir.path().join("oci");
    for target in [
        format!("oci-archive:{}", oci_archive.display()),
        format!("oci:{}", oci_dir.display()),
    ] {
        let out = Command::new("skopeo")
            .args([
                "copy",
                "-q",
                &format!("docker-archive:{}", saved.display()),
                &target,
            ])
            .output()
            .expect("skopeo runs (make deps installs it)");
        assert!(
            out.status.success(),
            "skopeo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let from_oci_archive = sbom(&["sbom", &format!("oci-archive:{}", oci_archive.display())]);
    assert_eq!(
        sbom_debs(&from_oci_archive),
        expected,
        "through an OCI archive"
    );
    let from_oci_dir = sbom(&["sbom", &format!("oci-dir:{}", oci_dir.display())]);
    assert_eq!(
        sbom_debs(&from_oci_dir),
        expected,
        "through an OCI directory"
    );

    docker(&["rmi", "-f", &tag]);
}

/// Package → the names its Pre-Depends/Depends mention (any alternative), and virtual name → the
/// packages providing it, straight from dpkg-query.
/// Package → its dependency groups (alternatives by name).
type DependsByPackage = BTreeMap<String, Vec<Vec<String>>>;
/// Virtual package name → the packages providing it.
type Providers = BTreeMap<String, Vec<String>>;

fn dpkg_relations(admindir: &Path) -> (DependsByPackage, Providers) {
    let out = Command::new("dpkg-query")
        .arg(format!("--admindir={}", admindir.display()))
        .args([
            "-W",
            "-f",
            "${Package}\t${Pre-Depends}, ${Depends}\t${Provides}\n",
        ])
        .output()
        .expect("dpkg-query runs");
    let names = |field: &str| -> Vec<Vec<String>> {
        field
            .split(',')
            .map(|group| {
                group
                    .split('|')
                    .map(|alt| {
                        alt.trim()
                            .split([' ', ':', '('])
                            .next()
                            .unwrap_or("")
                            .to_string()
                    })
                    .filter(|n| !n.is_empty())
                    .collect::<Vec<_>>()
            })
            .filter(|g| !g.is_empty())
            .collect()
    };
    let mut depends = BTreeMap::new();
    let mut provides: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let f: Vec<&str> = line.split('\t').collect();
        depends.insert(f[0].to_string(), names(f[1]));
        for virtual_name in names(f[2]).into_iter().flatten() {
            provides
                .entry(virtual_name)
                .or_default()
                .push(f[0].to_string());
        }
    }
    (depends, provides)
}

/// The SBOM's dependency graph as package name → dependency names.
fn sbom_graph(sbom: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let refs: BTreeSet<String> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["bom-ref"].as_str().map(str::to_string))
        .collect();
    let mut graph = BTreeMap::new();
    for d in sbom["dependencies"].as_array().expect("dependencies") {
        let on: Vec<String> = d["dependsOn"]
            .as_array()
            .map(|a| a.iter().map(|r| r.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        let unique: BTreeSet<String> = on.iter().cloned().collect();
        assert_eq!(unique.len(), on.len(), "no duplicate dependsOn");
        assert!(
            on.iter().all(|r| refs.contains(r)),
            "every dependsOn names a component"
        );
        graph.insert(
            purl_name(d["ref"].as_str().unwrap()),
            on.iter().map(|r| purl_name(r)).collect(),
        );
    }
    graph
}

#[test]
fn dpkg_graph_and_licenses_match_the_database() {
    require_engine();
    let root = debian_rootfs();
    let tag = import_dir(&root, &unique_tag("graph"));
    let sbom = sbom(&["sbom", &tag]);
    let graph = sbom_graph(&sbom);
    let installed: BTreeSet<String> = dpkg_query(&root.join("var/lib/dpkg"))
        .into_iter()
        .map(|p| p.0)
        .collect();
    let (depends, provides) = dpkg_relations(&root.join("var/lib/dpkg"));
    assert_eq!(graph.keys().cloned().collect::<BTreeSet<_>>(), installed);
    let mut edges = 0;
    for (package, groups) in &depends {
        if !installed.contains(package) {
            continue;
        }
        let got = &graph[package];
        // Every edge is something the package's own fields ask for (by name or through Provides)...
        for dependency in got {
            let asked = groups.iter().flatten().any(|alt| {
                alt == dependency || provides.get(alt).is_some_and(|p| p.contains(dependency))
            });
            assert!(
                asked,
                "{package} -> {dependency} is not in its Depends/Pre-Depends"
            );
        }
        // ...and every group that an installed package satisfies has an edge.
        for group in groups {
            let satisfiers: BTreeSet<&String> = group
                .iter()
                .flat_map(|alt| {
                    let direct = installed.get(alt).into_iter();
                    let virtual_ = provides
                        .get(alt)
                        .into_iter()
                        .flatten()
                        .filter(|p| installed.contains(*p));
                    direct.chain(virtual_)
                })
                .filter(|p| *p != package)
                .collect();
            if !satisfiers.is_empty() {
                assert!(
                    satisfiers.iter().any(|s| got.contains(*s)),
                    "{package}: no edge for {group:?}"
                );
            }
        }
        edges += got.len();
    }
    assert!(
        edges > 100,
        "a minbase root has a dense graph ({edges} edges)"
    );

    // Licenses: the copyright files of well-known packages.
    let ids = |name: &str| -> String {
        let c = sbom["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        c["licenses"].to_string()
    };
    assert!(ids("bash").contains("GPL-3.0-or-later"), "{}", ids("bash"));
    assert!(ids("libc6").contains("LGPL-2.1"), "{}", ids("libc6"));
    let with_licenses = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["licenses"].is_array())
        .count();
    assert!(
        with_licenses * 10 >= installed.len() * 9,
        "{with_licenses} of {} packages have licenses",
        installed.len()
    );
    docker(&["rmi", "-f", &tag]);
}

#[test]
fn host_dpkg_database_image() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    for (from, to) in [
        ("/var/lib/dpkg/status", "var/lib/dpkg/status"),
        ("/usr/lib/os-release", "usr/lib/os-release"),
    ] {
        std::fs::create_dir_all(root.join(to).parent().unwrap()).unwrap();
        std::fs::copy(from, root.join(to)).unwrap();
    }
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::os::unix::fs::symlink("../usr/lib/os-release", root.join("etc/os-release")).unwrap();
    let tag = import_dir(&root, &unique_tag("hostdpkg"));
    let from_engine = sbom(&["sbom", &format!("docker:{tag}")]);
    assert_eq!(
        sbom_debs(&from_engine),
        dpkg_query(&root.join("var/lib/dpkg"))
    );
    docker(&["rmi", "-f", &tag]);
}

#[test]
fn later_layers_replace_and_delete() {
    require_engine();
    let root = debian_rootfs();
    let base = import_dir(&root, &unique_tag("base"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kept"),
        dpkg_paragraph("kept-extra", "1.0-1"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("gone"),
        dpkg_paragraph("gone-extra", "2.0-1"),
    )
    .unwrap();
    let dockerfile = format!(
        "FROM {base}\n\
         COPY kept gone /var/lib/dpkg/status.d/\n\
         RUN rm /var/lib/dpkg/status.d/gone\n\
         RUN dpkg --purge --force-all e2fsprogs\n\
         USER 1000\n\
         LABEL org.example.team=core\n\
         EXPOSE 8080\n\
         CMD [\"/bin/bash\"]\n"
    );
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    let tag = unique_tag("layered");
    docker(&["build", "-q", "-t", &tag, dir.path().to_str().unwrap()]);

    let sbom = sbom(&["sbom", &tag]);
    let pkgs = packages(&sbom);
    let find = |name: &str| pkgs.iter().find(|p| p.0 == name);
    assert!(
        find("gone-extra").is_none(),
        "deleted in a later layer (whiteout)"
    );
    assert!(find("e2fsprogs").is_none(), "purged in a later layer");
    let kept = find("kept-extra").expect("kept-extra is listed");
    assert_eq!(
        (kept.3, kept.4.as_str()),
        (1, "/var/lib/dpkg/status.d/kept")
    );
    let bash = find("bash").expect("bash is listed");
    assert_eq!(
        bash.3, 3,
        "the replaced status file is read from the layer that rewrote it"
    );

    let mut expected = dpkg_query(&root.join("var/lib/dpkg"));
    expected.retain(|p| p.0 != "e2fsprogs");
    expected.insert(("kept-extra".into(), "1.0-1".into(), "amd64".into()));
    assert_eq!(sbom_debs(&sbom), expected);

    assert_eq!(image_properties(&sbom, "vouch:config:user"), ["1000"]);
    assert_eq!(
        image_properties(&sbom, "vouch:config:label:org.example.team"),
        ["core"]
    );
    assert_eq!(
        image_properties(&sbom, "vouch:config:exposedPort"),
        ["8080/tcp"]
    );
    assert_eq!(
        image_properties(&sbom, "vouch:config:cmd"),
        [r#"["/bin/bash"]"#]
    );
    docker(&["rmi", "-f", &tag, &base]);
}

#[test]
fn an_image_the_engine_does_not_have() {
    require_engine();
    let out = run_vouch(
        &std::env::temp_dir(),
        &["sbom", "vouch-test/does-not-exist:never"],
    );
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("docker:vouch-test/does-not-exist:never: image not found"),
        "{err}"
    );
}

#[test]
fn the_docker_cli_runs_the_plugin() {
    require_engine();
    let config = tempfile::tempdir().unwrap();
    let plugins = config.path().join("cli-plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_docker-vouch"),
        plugins.join("docker-vouch"),
    )
    .unwrap();
    let docker_with_plugin = |args: &[&str]| {
        Command::new("docker")
            .args(args)
            .env("DOCKER_CONFIG", config.path())
            .output()
            .unwrap()
    };
    let help = docker_with_plugin(&["vouch", "--help"]);
    assert!(
        help.status.success(),
        "{}",
        String::from_utf8_lossy(&help.stderr)
    );
    assert!(String::from_utf8_lossy(&help.stdout).contains("sbom"));

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        dpkg_paragraph("via-cli", "1.0"),
    )
    .unwrap();
    let tag = import_dir(&root, &unique_tag("plugin"));
    // Global flags before the plugin name reach the plugin.
    let out = docker_with_plugin(&[
        "-H",
        "unix:///var/run/docker.sock",
        "vouch",
        "sbom",
        "--format",
        "table",
        &tag,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("via-cli"));
    let bad = docker_with_plugin(&["-H", "unix:///nonexistent.sock", "vouch", "sbom", &tag]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unix:///nonexistent.sock"));
    docker(&["rmi", "-f", &tag]);
}
