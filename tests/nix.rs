//! A Nix store as Nix writes it: store paths added by `nix-store --add` and their references
//! registered in Nix's database by `nix-store --register-validity` (what image builders such as
//! `dockerTools` do with a closure), run in a container whose `/nix` is a directory of the test
//! (the host's Nix, Debian's nix-bin 2.8, is mounted in read-only). Names are split as Nix's
//! `builtins.parseDrvName` splits them; edges are what `nix-store -q --references` answers; Syft's
//! nix-store cataloger finds the same store paths.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::*;

/// Runs `script` with the host's Nix in a container where `nix` is `/nix` and `src` is `/src`.
fn in_nix_container(nix: &Path, src: &Path, script: &str) -> String {
    std::fs::write(src.join("script.sh"), script).unwrap();
    let mount = |from: &Path, to: &str| format!("{}:{to}", from.display());
    docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        "/usr:/usr:ro",
        "-v",
        &mount(nix, "/nix"),
        "-v",
        &mount(src, "/src"),
        &debian_image(),
        "sh",
        "-e",
        "/src/script.sh",
    ])
}

#[test]
fn nix_store_paths_and_their_references() {
    require_engine();
    assert!(
        Command::new("nix-store")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "nix-store not found: make deps installs nix-bin"
    );
    let dir = tempfile::tempdir().unwrap();
    let (root, src) = (dir.path().join("root"), dir.path().join("src"));
    std::fs::create_dir_all(root.join("nix")).unwrap();
    // Store paths as nixpkgs names them: a library, an output other than `out`, a program that
    // references both, and Debian's real bash (also copied outside the store, where it is found by
    // its bytes).
    let bash = std::fs::read("/bin/bash").unwrap();
    let trees: [(&str, &str, &[u8]); 4] = [
        ("glibc-2.37-8", "lib/libc.so.6", b"not really glibc\n"),
        ("openssl-3.0.13-bin", "bin/openssl", b"not really openssl\n"),
        ("hello-2.12.1", "bin/hello", b"#!/bin/sh\necho hello\n"),
        ("bash-5.2-p15", "bin/bash", &bash),
    ];
    for (name, file, bytes) in trees {
        let path = src.join(name).join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    std::fs::create_dir_all(root.join("opt/bin")).unwrap();
    std::fs::write(root.join("opt/bin/bash"), &bash).unwrap();
    let out = in_nix_container(
        &root.join("nix"),
        &src,
        "cd /src\n\
         for p in glibc-2.37-8 openssl-3.0.13-bin hello-2.12.1 bash-5.2-p15; do nix-store --add $p > $p.path; done\n\
         H=$(cat hello-2.12.1.path)\n\
         printf '%s\\n%s\\n%s\\n\\n2\\n%s\\n%s\\n' \"$H\" \"$(nix-store -q --hash $H)\" \"$(nix-store -q --size $H)\" \
           \"$(cat glibc-2.37-8.path)\" \"$(cat openssl-3.0.13-bin.path)\" \
           | nix-store --register-validity --reregister --hash-given\n\
         nix-store -q --references $H\n",
    );
    // What Nix says hello references, and how it names each store path.
    let references: BTreeSet<String> = out
        .lines()
        .filter(|l| l.starts_with("/nix/store/"))
        .map(|l| l.trim_start_matches("/nix/store/").to_string())
        .collect();
    assert_eq!(references.len(), 2, "{out}");
    let names = Command::new("nix-instantiate")
        .args(["--store", "dummy://", "--eval", "--strict", "--json", "-E"])
        .arg(r#"map builtins.parseDrvName ["glibc-2.37-8" "openssl-3.0.13" "hello-2.12.1" "bash-5.2-p15"]"#)
        .output()
        .unwrap();
    assert!(
        names.status.success(),
        "nix-instantiate: {}",
        stderr(&names)
    );
    let parsed: Value = serde_json::from_slice(&names.stdout).unwrap();
    let expected: BTreeSet<(String, String)> = parsed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();

    let tag = format!("vouch-test/nix:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, _) = sbom_of_image(&tag);
    let all = packages(&sbom);
    let nix: Vec<&(String, String, String, usize, String)> =
        all.iter().filter(|p| p.2.starts_with("pkg:nix/")).collect();
    let found: BTreeSet<(String, String)> =
        nix.iter().map(|p| (p.0.clone(), p.1.clone())).collect();
    assert_eq!(found, expected, "as Nix names them");
    let openssl = nix.iter().find(|p| p.0 == "openssl").unwrap();
    assert!(
        openssl.2.contains("output=bin&outputhash="),
        "{}",
        openssl.2
    );
    // hello's edges are the references Nix registered.
    let hello = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "hello")
        .unwrap();
    let edges: BTreeSet<String> = sbom["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["ref"] == hello["bom-ref"])
        .unwrap()["dependsOn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let to = sbom["components"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["bom-ref"] == *r)
                .unwrap();
            component_property(to, "vouch:path")
                .unwrap()
                .trim_start_matches("/nix/store/")
                .to_string()
        })
        .collect();
    assert_eq!(edges, references);
    // The bash in the store is the store path's; the copy outside it is found by its bytes.
    let classified: Vec<&String> = all
        .iter()
        .filter(|p| p.0 == "bash" && p.2.starts_with("pkg:generic/"))
        .map(|p| &p.4)
        .collect();
    assert_eq!(classified, ["/opt/bin/bash"]);

    // Syft's nix-store cataloger finds the same store paths (it takes a numeric last part such as
    // glibc's `-8` off the version, where Nix keeps it).
    let syft = syft_json(dir.path(), &tag);
    let hashes = |purls: Vec<&str>| -> BTreeSet<String> {
        purls
            .into_iter()
            .filter_map(|p| p.split("outputhash=").nth(1))
            .map(|h| h.split('&').next().unwrap().to_string())
            .collect()
    };
    let syft_paths = hashes(
        syft["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["foundBy"] == "nix-store-cataloger")
            .map(|a| a["purl"].as_str().unwrap())
            .collect(),
    );
    assert_eq!(
        syft_paths,
        hashes(nix.iter().map(|p| p.2.as_str()).collect()),
        "as Syft"
    );
    docker(&["rmi", "-f", &tag]);
}
