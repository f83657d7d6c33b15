//! The Python cataloger on a real image: wheels installed by pip (`pip install --target`), plus a
//! legacy egg-info, read through the Docker engine and compared with `pip list --path`.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::*;

fn pip(args: &[&str]) -> String {
    let out = Command::new("python3")
        .args(["-m", "pip", "--disable-pip-version-check"])
        .args(args)
        .output()
        .expect("python3 -m pip runs");
    assert!(
        out.status.success(),
        "pip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

fn pip_list(site: &Path) -> BTreeSet<(String, String)> {
    let listed: Value = serde_json::from_str(&pip(&[
        "list",
        "--path",
        site.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .unwrap();
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                normalize(p["name"].as_str().unwrap()),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn pip_installed_site_packages_match_pip_list() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let site = root.join("usr/local/lib/python3.11/site-packages");
    std::fs::create_dir_all(&site).unwrap();
    pip(&[
        "install",
        "--no-compile",
        "--target",
        site.to_str().unwrap(),
        "requests==2.32.3",
        "six==1.16.0",
    ]);
    // A setuptools-era single-file egg-info, which pip also lists.
    std::fs::write(
        site.join("Legacy_Tool-0.3.1-py3.11.egg-info"),
        "Metadata-Version: 1.1\nName: Legacy_Tool\nVersion: 0.3.1\nLicense: BSD-3-Clause\n",
    )
    .unwrap();
    // Broken metadata: a warning naming the file, the rest still cataloged.
    let broken = site.join("broken-1.0.dist-info");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("METADATA"),
        "Metadata-Version: 2.1\nthis is not a header\n",
    )
    .unwrap();

    let expected = pip_list(&site);
    assert!(expected.len() >= 6, "{expected:?}");
    let tag = format!("vouch-test/python:{}", std::process::id());
    import_dir(&root, &tag);

    let (sbom, warnings) = sbom_of_image(&tag);
    let err = warnings;
    assert!(
        err.contains("broken-1.0.dist-info/METADATA: not core metadata"),
        "{err}"
    );
    let found: BTreeSet<(String, String)> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:pypi/"))
        .map(|(name, version, _, _, _)| (normalize(&name), version))
        .collect();
    let listed_ok: BTreeSet<(String, String)> =
        expected.into_iter().filter(|p| p.0 != "broken").collect();
    assert_eq!(found, listed_ok, "the same distributions as pip list");

    let purls: Vec<String> = packages(&sbom).into_iter().map(|p| p.2).collect();
    assert!(
        purls.contains(&"pkg:pypi/requests@2.32.3".to_string()),
        "{purls:?}"
    );
    assert!(
        purls.contains(&"pkg:pypi/legacy-tool@0.3.1".to_string()),
        "PEP 503 name in the purl: {purls:?}"
    );

    // requests' Requires-Dist edges, to what is installed beside it.
    assert_eq!(
        depends_on(&sbom, "pkg:pypi/requests@"),
        ["certifi", "charset-normalizer", "idna", "urllib3"]
    );
    let requests_component = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "requests")
        .unwrap();
    assert_eq!(
        requests_component["licenses"],
        serde_json::json!([{"license": {"id": "Apache-2.0"}}])
    );
    Command::new("docker")
        .args(["rmi", "-f", &tag])
        .output()
        .unwrap();
}

/// What Python's own importlib.metadata finds on `paths`: (normalized name, version).
fn importlib_distributions(paths: &[&Path]) -> BTreeSet<(String, String)> {
    let script = "import importlib.metadata as m, json, sys\n\
                  print(json.dumps([[d.metadata['Name'], d.version] for d in m.distributions(path=sys.argv[1:])]))";
    let out = Command::new("python3")
        .args(["-c", script])
        .args(paths)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Vec<(String, String)> = serde_json::from_slice(&out.stdout).unwrap();
    found.into_iter().map(|(n, v)| (normalize(&n), v)).collect()
}

/// Layouts pip does not make: an egg that setuptools built (`bdist_egg` of six's sdist from PyPI),
/// unpacked as `easy_install` unpacks it (`six-1.16.0-pyX.Y.egg/EGG-INFO/PKG-INFO`), another
/// (toml's) left zipped as easy_install leaves zip-safe eggs, and a
/// `.dist-info` whose suffix is not in lower case (importlib.metadata takes any case). Each is
/// reported as importlib.metadata reports it, with easy_install's `.egg` directory and zip on the
/// path as its `.pth` file puts them. None was before.
#[test]
fn eggs_and_any_case_dist_info_are_found_as_importlib_finds_them() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let venv = work.join("venv");
    let run = |program: &Path, args: &[&str], cwd: &Path| {
        let out = Command::new(program)
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap_or_else(|e| panic!("{program:?} runs: {e}"));
        assert!(
            out.status.success(),
            "{program:?} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(
        Path::new("python3"),
        &["-m", "venv", venv.to_str().unwrap()],
        &work,
    );
    let python = venv.join("bin/python");
    let pip = |args: &[&str]| {
        let mut all = vec!["-m", "pip", "--disable-pip-version-check", "-q"];
        all.extend_from_slice(args);
        run(&python, &all, &work);
    };
    // setuptools before 81 still builds eggs.
    pip(&["install", "setuptools<81"]);
    let build_egg = |sdist_name: &str| -> std::path::PathBuf {
        let (name, version) = sdist_name.split_once("==").unwrap();
        pip(&[
            "download",
            "--no-binary",
            ":all:",
            "--no-deps",
            "-d",
            ".",
            sdist_name,
        ]);
        run(
            Path::new("tar"),
            &["xzf", &format!("{name}-{version}.tar.gz")],
            &work,
        );
        let sdist = work.join(format!("{name}-{version}"));
        run(&python, &["setup.py", "-q", "bdist_egg"], &sdist);
        std::fs::read_dir(sdist.join("dist"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "egg"))
            .expect("bdist_egg made an egg")
    };
    let egg = build_egg("six==1.16.0");
    let zipped_egg = build_egg("toml==0.10.2");

    let root = dir.path().join("root");
    let site = root.join("usr/local/lib/python3.11/site-packages");
    std::fs::create_dir_all(&site).unwrap();
    let unpacked = site.join(egg.file_name().unwrap());
    run(
        Path::new("python3"),
        &[
            "-m",
            "zipfile",
            "-e",
            egg.to_str().unwrap(),
            unpacked.to_str().unwrap(),
        ],
        &work,
    );
    pip(&[
        "install",
        "--no-deps",
        "--no-compile",
        "--target",
        site.to_str().unwrap(),
        "attrs==23.2.0",
    ]);
    std::fs::rename(
        site.join("attrs-23.2.0.dist-info"),
        site.join("attrs-23.2.0.Dist-Info"),
    )
    .unwrap();

    // A zip-safe egg as easy_install leaves it: the zip itself on sys.path.
    let zipped = site.join(zipped_egg.file_name().unwrap());
    std::fs::copy(&zipped_egg, &zipped).unwrap();

    let expected = importlib_distributions(&[&site, &unpacked, &zipped]);
    assert_eq!(
        expected,
        BTreeSet::from([
            ("attrs".to_string(), "23.2.0".to_string()),
            ("six".to_string(), "1.16.0".to_string()),
            ("toml".to_string(), "0.10.2".to_string())
        ]),
        "importlib.metadata's own answer"
    );
    let tag = format!("vouch-test/python-layouts:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, warnings) = sbom_of_image(&tag);
    docker(&["rmi", "-f", &tag]);
    let found: BTreeSet<(String, String)> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:pypi/"))
        .map(|(name, version, _, _, _)| (normalize(&name), version))
        .collect();
    assert_eq!(found, expected, "{warnings}");
}
