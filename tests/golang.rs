//! The Go cataloger on a real image: a module-mode binary built here by Debian's Go toolchain (a
//! vendored dependency and a local replacement, so no module proxy is needed), the host's docker CLI
//! (a real release binary), and a truncated one, read through the Docker engine and compared with
//! `go version -m`.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::*;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Builds the test program and returns the binary's path.
fn build_module_binary(dir: &Path) -> std::path::PathBuf {
    let app = dir.join("src");
    write(
        &app.join("go.mod"),
        "module example.com/app\n\ngo 1.19\n\nrequire (\n\tgithub.com/fake/dep v1.4.2\n\texample.com/lib v0.3.0\n)\n\nreplace example.com/lib => ./lib\n",
    );
    write(
        &app.join("main.go"),
        "package main\n\nimport (\n\t\"example.com/lib\"\n\t\"fmt\"\n\t\"github.com/fake/dep\"\n)\n\nfunc main() { fmt.Println(dep.Hello(), lib.Name()) }\n",
    );
    write(
        &app.join("lib/go.mod"),
        "module example.com/lib\n\ngo 1.19\n",
    );
    let lib = "package lib\n\nfunc Name() string { return \"lib\" }\n";
    write(&app.join("lib/lib.go"), lib);
    write(&app.join("vendor/example.com/lib/lib.go"), lib);
    write(
        &app.join("vendor/github.com/fake/dep/dep.go"),
        "package dep\n\nfunc Hello() string { return \"hi\" }\n",
    );
    write(
        &app.join("vendor/modules.txt"),
        "# example.com/lib v0.3.0 => ./lib\n## explicit; go 1.19\nexample.com/lib\n# github.com/fake/dep v1.4.2\n## explicit\ngithub.com/fake/dep\n# example.com/lib => ./lib\n",
    );
    let binary = dir.join("app");
    let out = Command::new("go")
        .args(["build", "-o", binary.to_str().unwrap(), "."])
        .current_dir(&app)
        .env("GOFLAGS", "-mod=vendor")
        .env("GOPROXY", "off")
        .env("GOCACHE", dir.join("gocache"))
        .output()
        .expect("go runs (make deps installs golang-go)");
    assert!(
        out.status.success(),
        "go build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    binary
}

/// (module path, version) of `mod` and `dep` lines, replacements applied, plus ("stdlib", go version).
fn go_version_m(binary: &Path) -> BTreeSet<(String, String)> {
    let out = Command::new("go")
        .args(["version", "-m", binary.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut modules: Vec<(String, String)> = Vec::new();
    let go = text
        .lines()
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    modules.push(("stdlib".into(), go));
    for line in text.lines() {
        let f: Vec<&str> = line.trim_start_matches('\t').split('\t').collect();
        match f.as_slice() {
            ["mod" | "dep", path, version, ..] => {
                modules.push((path.to_string(), version.to_string()))
            }
            ["=>", path, version, ..] => {
                let last = modules.last_mut().unwrap();
                if path.starts_with('.') {
                    last.1 = version.to_string();
                } else {
                    *last = (path.to_string(), version.to_string());
                }
            }
            _ => {}
        }
    }
    modules.into_iter().collect()
}

fn go_packages_at(sbom: &serde_json::Value, path: &str) -> BTreeSet<(String, String)> {
    packages(sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:golang/") && p.4 == path)
        .map(|(name, version, _, _, _)| (name, version))
        .collect()
}

#[test]
fn go_binaries_match_go_version_m() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let binary = build_module_binary(dir.path());
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("usr/local/bin")).unwrap();
    std::fs::copy(&binary, root.join("usr/local/bin/app")).unwrap();
    let docker_cli = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v docker"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let docker_cli = std::fs::canonicalize(docker_cli.trim()).unwrap();
    std::fs::copy(&docker_cli, root.join("usr/local/bin/docker")).unwrap();
    // A binary cut off inside its build info: a warning, not a failure.
    let bytes = std::fs::read(&binary).unwrap();
    let at = bytes
        .windows(14)
        .position(|w| w == b"\xff Go buildinf:")
        .expect("the magic is in the binary");
    std::fs::write(root.join("usr/local/bin/truncated"), &bytes[..at + 40]).unwrap();

    let tag = format!("vouch-test/golang:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, warnings) = sbom_of_image(&tag);
    assert!(
        warnings.contains("/usr/local/bin/truncated: truncated or damaged Go build info"),
        "{}",
        warnings
    );

    let app = go_packages_at(&sbom, "/usr/local/bin/app");
    assert_eq!(app, go_version_m(&binary));
    assert!(
        app.contains(&("example.com/lib".into(), "(devel)".into())),
        "{app:?}"
    );
    assert!(
        app.contains(&("github.com/fake/dep".into(), "v1.4.2".into())),
        "{app:?}"
    );
    // The docker CLI is built outside module mode: `go version -m` shows no module, and the main
    // module is inferred from its path and the version its release build links in.
    let client_version = docker(&["version", "--format", "{{.Client.Version}}"])
        .trim()
        .to_string();
    let mut expected_cli = go_version_m(&docker_cli);
    expected_cli.insert(("github.com/docker/cli".into(), format!("v{client_version}")));
    assert_eq!(go_packages_at(&sbom, "/usr/local/bin/docker"), expected_cli);

    let stdlib = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "stdlib")
        .expect("a stdlib component");
    let go = stdlib["version"]
        .as_str()
        .unwrap()
        .trim_start_matches("go")
        .to_string();
    assert_eq!(
        stdlib["cpe"],
        format!("cpe:2.3:a:golang:go:{go}:*:*:*:*:*:*:*")
    );
    let purls: Vec<String> = packages(&sbom).into_iter().map(|p| p.2).collect();
    assert!(
        purls
            .iter()
            .any(|p| p == "pkg:golang/github.com/fake/dep@v1.4.2"),
        "{purls:?}"
    );
    assert_eq!(
        depends_on(&sbom, "pkg:golang/example.com/app@"),
        ["dep", "lib", "stdlib"],
        "github.com/fake/dep, example.com/lib and stdlib"
    );
    Command::new("docker")
        .args(["rmi", "-f", &tag])
        .output()
        .unwrap();
}
