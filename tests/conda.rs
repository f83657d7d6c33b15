//! Conda environments as conda tooling writes them: packages bundled by conda-package-handling,
//! indexed into a local channel and installed by rattler (`integration/conda_env.py`), into the base
//! environment at `/opt/conda` and a named one at `/opt/conda/envs/app`, as the miniconda images lay
//! them out. Compared with the records rattler reads back, and with Trivy, which reads named
//! environments only.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::*;

/// Makes an environment at `prefix`; the records rattler reads back, as (name, version, build,
/// subdir).
fn conda_env(work: &Path, prefix: &Path) -> BTreeSet<(String, String, String, String)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/conda_env.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(work)
        .arg(prefix)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "conda_env.py (make deps installs py-rattler and conda-package-handling): {}",
        stderr(&out)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let r: Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            (s("name"), s("version"), s("build"), s("subdir"))
        })
        .collect()
}

/// The SBOM's conda components whose record is under `environment`, as (name, version, build,
/// subdir) from the purl's qualifiers.
fn conda_components(sbom: &Value, environment: &str) -> BTreeSet<(String, String, String, String)> {
    packages(sbom)
        .into_iter()
        .filter(|p| {
            p.2.starts_with("pkg:conda/") && p.4.starts_with(&format!("{environment}/conda-meta/"))
        })
        .map(|(name, version, purl, _, _)| {
            let qualifier = |key: &str| {
                purl.split(['?', '&'])
                    .find_map(|q| q.strip_prefix(&format!("{key}=")))
                    .unwrap_or_default()
                    .to_string()
            };
            (name, version, qualifier("build"), qualifier("subdir"))
        })
        .collect()
}

#[test]
fn conda_environments_list_what_conda_installed() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let base = conda_env(&dir.path().join("base"), &root.join("opt/conda"));
    let app = conda_env(&dir.path().join("app"), &root.join("opt/conda/envs/app"));
    assert_eq!(base.len(), 4, "{base:?}");
    // A record that is not one: said, and the others still read.
    std::fs::write(
        root.join("opt/conda/conda-meta/broken-1.0-0.json"),
        "{\"name\": ",
    )
    .unwrap();

    let tag = format!("vouch-test/conda:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, warnings) = sbom_of_image(&tag);
    assert_eq!(conda_components(&sbom, "/opt/conda"), base);
    assert_eq!(conda_components(&sbom, "/opt/conda/envs/app"), app);
    assert!(
        warnings.contains("/opt/conda/conda-meta/broken-1.0-0.json: not a conda package record"),
        "{warnings}"
    );

    // Purls per the purl spec; the channel by name (a file:// channel named by its directory).
    let purls: BTreeSet<String> = packages(&sbom).into_iter().map(|p| p.2).collect();
    assert!(
        purls.contains(
            "pkg:conda/zlib@1.3.1?build=hb9d3cd8_2&channel=channel&subdir=linux-64&type=conda"
        ),
        "{purls:?}"
    );
    // Edges within each environment, by name; the virtual __glibc is no package. The two
    // environments hold the same purls: each component's bom-ref tells them apart.
    let components = sbom["components"].as_array().unwrap();
    let bom_ref = |environment: &str, name: &str| -> String {
        components
            .iter()
            .find(|c| {
                c["name"] == name
                    && component_property(c, "vouch:path")
                        .is_some_and(|p| p.starts_with(&format!("{environment}/conda-meta/")))
            })
            .unwrap_or_else(|| panic!("{name} in {environment}"))["bom-ref"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let edges = |environment: &str, name: &str| -> Vec<String> {
        let from = bom_ref(environment, name);
        let entry = sbom["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["ref"] == from.as_str())
            .unwrap_or_else(|| panic!("a dependencies entry for {from}"));
        entry["dependsOn"]
            .as_array()
            .map(|a| a.iter().map(|r| r.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    for environment in ["/opt/conda", "/opt/conda/envs/app"] {
        assert_eq!(
            edges(environment, "zlib"),
            [bom_ref(environment, "libzlib")],
            "{environment}"
        );
        assert!(edges(environment, "libzlib").is_empty(), "{environment}");
        assert_eq!(
            edges(environment, "python-dateutil-lite"),
            [bom_ref(environment, "six")],
            "{environment}"
        );
    }
    assert_ne!(
        bom_ref("/opt/conda", "six"),
        bom_ref("/opt/conda/envs/app", "six")
    );
    // The Python distributions conda installed say so.
    let six = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["purl"] == "pkg:pypi/six@1.16.0"
                && component_property(c, "vouch:path")
                    .is_some_and(|p| p.starts_with("/opt/conda/site-packages"))
        })
        .expect("six's dist-info in the base environment");
    assert!(
        component_property(six, "vouch:ownedBy")
            .is_some_and(|o| o.starts_with("pkg:conda/six@1.16.0")),
        "{six}"
    );
    let license = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["name"] == "python-dateutil-lite"
                && c["purl"].as_str().unwrap().starts_with("pkg:conda/")
        })
        .unwrap()["licenses"]
        .clone();
    assert_eq!(
        license,
        serde_json::json!([{"expression": "Apache-2.0 OR BSD-3-Clause"}])
    );
    docker(&["rmi", "-f", &tag]);

    // Trivy reads the named environment (`envs/*/conda-meta`), not the base one.
    let out = Command::new(peer("trivy"))
        .args([
            "rootfs",
            "-q",
            "-f",
            "json",
            "--list-all-pkgs",
            "--scanners",
            "license",
            "--cache-dir",
        ])
        .arg(dir.path().join("trivy-cache"))
        .arg(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "trivy: {}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let trivy: BTreeSet<(String, String)> = report["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["Type"] == "conda-pkg")
        .flat_map(|r| r["Packages"].as_array().cloned().unwrap_or_default())
        .map(|p| {
            (
                p["Name"].as_str().unwrap().to_string(),
                p["Version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let ours: BTreeSet<(String, String)> = app
        .iter()
        .map(|(n, v, _, _)| (n.clone(), v.clone()))
        .collect();
    assert_eq!(trivy, ours, "as Trivy, in the named environment");
}
