//! Where each package came from: the instruction that made its layer, read from the history the
//! engine's own builder wrote (empty-layer entries such as ENV skipped), in the SBOM and the table.

mod support;

use support::*;

/// The Dockerfile line that installs a node module by hand, in every image here.
const LEFT_PAD: &str = "RUN mkdir -p /srv/app/node_modules/left-pad && printf '{\"name\":\"left-pad\",\"version\":\"1.3.0\"}' > /srv/app/node_modules/left-pad/package.json";

#[test]
fn each_component_names_the_instruction_that_made_its_layer() {
    let base = debian_image();
    let tag = format!("vouch-test/provenance:{}", std::process::id());
    let dockerfile = format!(
        "FROM {base}\n\
         ENV APP_HOME=/srv/app\n\
         {LEFT_PAD}\n\
         LABEL team=platform\n\
         COPY METADATA /usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA\n"
    );
    build_image(
        &tag,
        &dockerfile,
        &[(
            "METADATA",
            b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n" as &[u8],
        )],
    );
    let (sbom, _) = sbom_of_image(&tag);
    let created_by = |name: &str| -> Option<String> {
        let component = sbom["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} in the SBOM"));
        component_property(component, "vouch:createdBy")
    };
    // The engine's history says `/bin/sh -c mkdir ...`; the SBOM says it as the Dockerfile did.
    assert_eq!(created_by("left-pad").as_deref(), Some(LEFT_PAD));
    let copied = created_by("six").expect("the COPY layer's instruction");
    assert!(
        copied.starts_with("COPY ")
            && copied.ends_with("/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"),
        "{copied}"
    );
    // The imported base layer has a history entry without an instruction: nothing is made up.
    assert_eq!(created_by("bash"), None);

    let out = run_vouch(&std::env::temp_dir(), &["sbom", "--format", "table", &tag]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    let row = table
        .lines()
        .find(|l| l.starts_with("left-pad "))
        .unwrap_or_else(|| panic!("a left-pad row in\n{table}"));
    assert!(
        row.contains("RUN mkdir -p /srv/app/node_modules/left-pad"),
        "{row}"
    );
    assert!(table
        .lines()
        .next()
        .is_some_and(|l| l.starts_with("Image:")));
    assert!(table.contains("CREATED BY"), "{table}");
    docker(&["rmi", "-f", &tag]);
}

/// `sbom --scope all-layers` on an image whose last layer deletes a node module and purges a
/// Debian package with dpkg itself: both are listed once, marked with the layer that removed them;
/// the default scope lists neither, and nothing else is listed twice.
#[test]
fn all_layers_scope_lists_what_a_later_layer_removed() {
    let base = debian_image();
    let tag = format!("vouch-test/all-layers:{}", std::process::id());
    let dockerfile = format!(
        "FROM {base}\n\
         {LEFT_PAD}\n\
         RUN rm -rf /srv/app/node_modules/left-pad && dpkg --purge --force-all e2fsprogs\n"
    );
    build_image(&tag, &dockerfile, &[]);
    let (squashed, _) = sbom_of_image(&tag);
    let out = run_vouch(
        &std::env::temp_dir(),
        &["sbom", "--scope", "all-layers", &tag],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let all = valid_cyclonedx(&out.stdout);
    let listed =
        |sbom: &serde_json::Value| -> Vec<(String, String, Option<String>, Option<String>)> {
            sbom["components"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["type"] == "library")
                .map(|c| {
                    (
                        c["purl"].as_str().unwrap_or_default().to_string(),
                        component_property(c, "vouch:path").unwrap_or_default(),
                        component_property(c, "vouch:layerIndex"),
                        component_property(c, "vouch:removedInLayer"),
                    )
                })
                .collect()
        };
    let (squashed, all) = (listed(&squashed), listed(&all));
    assert!(squashed.iter().all(|p| p.3.is_none()));
    assert!(!squashed
        .iter()
        .any(|p| p.0.contains("left-pad") || p.0.contains("/e2fsprogs@")));
    let removed: Vec<_> = all.iter().filter(|p| p.3.is_some()).cloned().collect();
    let left_pad = removed
        .iter()
        .find(|p| p.0.starts_with("pkg:npm/left-pad@1.3.0"))
        .unwrap_or_else(|| panic!("left-pad among {removed:?}"));
    assert_eq!(
        (
            left_pad.1.as_str(),
            left_pad.2.as_deref(),
            left_pad.3.as_deref()
        ),
        (
            "/srv/app/node_modules/left-pad/package.json",
            Some("1"),
            Some("2")
        )
    );
    let e2fsprogs = removed
        .iter()
        .find(|p| p.0.starts_with("pkg:deb/debian/e2fsprogs@"))
        .unwrap_or_else(|| panic!("e2fsprogs among {removed:?}"));
    assert_eq!(
        (
            e2fsprogs.1.as_str(),
            e2fsprogs.2.as_deref(),
            e2fsprogs.3.as_deref()
        ),
        ("/var/lib/dpkg/status", Some("0"), Some("2"))
    );
    // Everything else is the squashed view's, once.
    let rest: Vec<_> = all.iter().filter(|p| p.3.is_none()).cloned().collect();
    assert_eq!(rest, squashed);
    assert_eq!(removed.len(), 2, "{removed:?}");

    let out = run_vouch(
        &std::env::temp_dir(),
        &["sbom", "--scope", "all-layers", "--format", "table", &tag],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    let row = table
        .lines()
        .find(|l| l.starts_with("left-pad "))
        .unwrap_or_else(|| panic!("a left-pad row in\n{table}"));
    assert!(row.contains("(removed by layer 3)"), "{row}");
    docker(&["rmi", "-f", &tag]);
}

/// `check --only-app-layers` judges what the Dockerfile added on top of its base (found among the
/// engine's images): a denied package of the base is left out, the app layer's is judged, and the
/// verdict says which layers it judged; without it, the base's finding says it is the base's. A
/// base that cannot be known is a usage error, not a judgment of everything or nothing.
#[test]
fn only_app_layers_judges_what_the_dockerfile_added() {
    let base = debian_image();
    let tag = format!("vouch-test/app-layers:{}", std::process::id());
    build_image(
        &tag,
        &format!(
            "FROM {base}\n\
             {LEFT_PAD}\n"
        ),
        &[],
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policy.yaml"),
        "version: \"1\"\nname: denied\nrules:\n  - id: denied\n    action: deny\n    packages:\n      deny:\n        - purl: pkg:deb/debian/bash\n        - purl: pkg:npm/left-pad\n",
    )
    .unwrap();
    // The same judgment by a Rego rule over `input.sbom`, and by a vulnerability report that names
    // the layer of each finding (Grype's shape): one on the base's bash, one on a package of the
    // base's layer that the SBOM does not list, one on the app layer's left-pad.
    std::fs::write(
        dir.path().join("everything.yaml"),
        "version: \"1\"\nname: everything\nrules:\n  - id: rego\n    action: deny\n    rego:\n      module: |\n        package layers\n        deny contains msg if {\n          some c in input.sbom.components\n          c.name in {\"bash\", \"left-pad\"}\n          some d in input.sbom.dependencies\n          d.ref == c[\"bom-ref\"]\n          msg := c.name\n        }\n  - id: vulns\n    action: deny\n    vulnerabilities: {max_severity: medium}\n",
    )
    .unwrap();
    let inspect: serde_json::Value =
        serde_json::from_str(&docker(&["image", "inspect", &tag])).unwrap();
    let diff_ids = &inspect[0]["RootFS"]["Layers"];
    let (sbom, _) = sbom_of_image(&tag);
    let bash = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "bash")
        .expect("bash in the SBOM");
    let artifact = |name: &str, purl: &str, layer: &serde_json::Value| {
        serde_json::json!({
            "vulnerability": {"id": format!("CVE-2099-{name}"), "severity": "High", "urls": [],
                              "fix": {"versions": [], "state": "not-fixed"}},
            "relatedVulnerabilities": [], "matchDetails": [],
            "artifact": {"id": name, "name": name, "version": purl.rsplit('@').next().unwrap(),
                         "type": "binary", "locations": [{"path": "/x", "layerID": layer}],
                         "language": "", "licenses": [], "cpes": [], "purl": purl, "upstreams": []}
        })
    };
    let report = serde_json::json!({
        "matches": [
            artifact("bash", bash["purl"].as_str().unwrap(), &diff_ids[0]),
            artifact("libghost", "pkg:generic/libghost@1.0", &diff_ids[0]),
            artifact("left-pad", "pkg:npm/left-pad@1.3.0", &diff_ids[1]),
        ],
        "source": {"type": "image", "target": {"userInput": tag, "imageID": inspect[0]["Id"], "manifestDigest": "sha256:1d2e",
                   "tags": [tag], "imageSize": 1, "layers": [], "repoDigests": [], "architecture": "amd64", "os": "linux"}},
        "descriptor": {"name": "grype", "version": "0.86.1"}
    });
    std::fs::write(
        dir.path().join("grype.json"),
        serde_json::to_vec(&report).unwrap(),
    )
    .unwrap();
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--policy", "policy.yaml", "--format", "json"];
        args.extend_from_slice(extra);
        args.push(&tag);
        run_vouch(dir.path(), &args)
    };
    // Rule id → what each of its findings is about, sorted.
    let judged = |extra: &[&str]| -> std::collections::BTreeMap<String, Vec<String>> {
        let mut args = vec![
            "check",
            "--policy",
            "everything.yaml",
            "--vuln-report",
            "grype.json",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        args.push(&tag);
        let out = run_vouch(dir.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        verdict["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|rule| {
                let mut about: Vec<String> = rule["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| {
                        let e = &f["evidence"];
                        e["package"].as_str().or(e["msg"].as_str()).map_or_else(
                            || f["message"].as_str().unwrap_or_default().to_string(),
                            str::to_string,
                        )
                    })
                    .collect();
                about.sort();
                (rule["id"].as_str().unwrap().to_string(), about)
            })
            .collect()
    };
    let everything = judged(&[]);
    assert_eq!(everything["rego"], ["bash", "left-pad"], "{everything:?}");
    assert_eq!(
        everything["vulns"],
        ["bash", "left-pad", "libghost"],
        "{everything:?}"
    );
    let app_only = judged(&["--only-app-layers"]);
    assert_eq!(app_only["rego"], ["left-pad"], "{app_only:?}");
    assert_eq!(app_only["vulns"], ["left-pad"], "{app_only:?}");
    let denied = |out: &std::process::Output| -> Vec<(String, Option<bool>)> {
        let verdict: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(out)));
        let mut found: Vec<(String, Option<bool>)> = verdict["rules"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["evidence"]["package"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    f["evidence"]["base_image_layer"].as_bool(),
                )
            })
            .collect();
        found.sort();
        found
    };

    let whole = check(&[]);
    assert_eq!(whole.status.code(), Some(1), "{}", stderr(&whole));
    assert_eq!(
        denied(&whole),
        [
            ("bash".to_string(), Some(true)),
            ("left-pad".to_string(), Some(false))
        ]
    );
    let whole_verdict: serde_json::Value = serde_json::from_slice(&whole.stdout).unwrap();
    assert!(whole_verdict.get("judgedLayers").is_none());

    let app = check(&["--only-app-layers"]);
    assert_eq!(app.status.code(), Some(1), "{}", stderr(&app));
    assert_eq!(denied(&app), [("left-pad".to_string(), Some(false))]);
    let verdict: serde_json::Value = serde_json::from_slice(&app.stdout).unwrap();
    assert_eq!(verdict["judgedLayers"]["fromLayer"], 1);
    // Found among the engine's images (any tagged image with the same layers may be named).
    assert!(
        verdict["judgedLayers"]["baseImage"].is_string(),
        "{verdict}"
    );
    let named = check(&["--only-app-layers", "--base-image", &base]);
    assert_eq!(named.status.code(), Some(1), "{}", stderr(&named));
    assert_eq!(denied(&named), [("left-pad".to_string(), Some(false))]);
    let named: serde_json::Value = serde_json::from_slice(&named.stdout).unwrap();
    assert_eq!(named["judgedLayers"]["baseImage"], base.as_str());
    validate_schema("verdict.schema.json", &app.stdout, ".json");

    let table = run_vouch(
        dir.path(),
        &[
            "check",
            "--policy",
            "policy.yaml",
            "--only-app-layers",
            "--base-image",
            &base,
            &tag,
        ],
    );
    assert!(
        String::from_utf8_lossy(&table.stdout).contains(&format!(
            "Layers 2 and up only: the base image's ({base}) were not judged"
        )),
        "{}",
        String::from_utf8_lossy(&table.stdout)
    );

    // A saved archive has no engine to find its base in and no base-image labels.
    let archive = dir.path().join("app.tar");
    docker(&["save", "-o", &archive.display().to_string(), &tag]);
    let unknown = run_vouch(
        dir.path(),
        &[
            "check",
            "--policy",
            "policy.yaml",
            "--only-app-layers",
            "docker-archive:app.tar",
        ],
    );
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(
        stderr(&unknown).contains("--only-app-layers needs the base image"),
        "{}",
        stderr(&unknown)
    );
    docker(&["rmi", "-f", &tag]);
}
