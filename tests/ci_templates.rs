//! The CI templates in `docs/ci/` cannot rot: each is parsed as the YAML it is, and every
//! `docker vouch` command line in it is run, in the file's order, with `docker` a wrapper that sends
//! `docker vouch` to this build, against an image built and pushed to the test registry by the
//! template's own `build --push` line, with a vulnerability database fetched by its own
//! `db update` line from a mirror directory. What the lines write is then checked as CI would read
//! it: SARIF by its schema and Microsoft's multitool, JUnit by junit-10.xsd, GitLab's report by its
//! schema's constraints, the job summary, the pull-request diff, and `verify` at deploy.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use support::registry::{open_registry, require_registries};
use support::*;

fn template(name: &str) -> (String, Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/ci")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        parsed.status.success(),
        "{name} is not YAML: {}",
        stderr(&parsed)
    );
    (text, serde_json::from_slice(&parsed.stdout).unwrap())
}

/// The shell lines of a script that run `docker vouch` (continuation lines joined).
fn vouch_lines(script: &str) -> Vec<String> {
    script
        .replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("docker vouch"))
        .map(str::to_string)
        .collect()
}

/// A working directory: a build context (Debian's base, an unprivileged user, a command), a key
/// pair, a `docker` that sends `docker vouch` to this build, and an OSV mirror directory with one
/// record for each ecosystem `db update` fetches by default.
struct Workspace {
    dir: tempfile::TempDir,
    path: String,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("Dockerfile"),
            format!(
                "FROM {}\nRUN echo ci > /etc/ci-template\nUSER 1000\nCMD [\"/bin/bash\"]\n",
                debian_image()
            ),
        )
        .unwrap();
        let keygen = vouch()
            .arg("keygen")
            .current_dir(root)
            .env("VOUCH_PASSWORD", "ci-template")
            .output()
            .unwrap();
        assert!(keygen.status.success(), "{}", stderr(&keygen));
        let bin = root.join("bin");
        std::fs::create_dir(&bin).unwrap();
        let real = String::from_utf8(
            Command::new("sh")
                .args(["-c", "command -v docker"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let wrapper = bin.join("docker");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nif [ \"$1\" = vouch ]; then shift; exec '{}' \"$@\"; fi\nexec '{}' \"$@\"\n",
                env!("CARGO_BIN_EXE_docker-vouch"),
                real.trim()
            ),
        )
        .unwrap();
        std::fs::set_permissions(
            &wrapper,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        for ecosystem in vouch::vuln::db::update::DEFAULT_ECOSYSTEMS {
            let at = root.join("mirror").join(ecosystem);
            std::fs::create_dir_all(&at).unwrap();
            let id = format!("VOUCH-TEST-{}", ecosystem.replace(' ', "-"));
            let record = serde_json::json!({
                "schema_version": "1.6.0", "id": id, "modified": "2024-01-01T00:00:00Z",
                "affected": [{"package": {"ecosystem": ecosystem, "name": "nothing-here"},
                              "versions": ["0.0.1"]}]
            });
            std::fs::write(
                at.join("all.zip"),
                support::osv::all_zip(&[(id.as_str(), record)]),
            )
            .unwrap();
        }
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Workspace { dir, path }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Runs each line with `bash -e -c` in the workspace, with `env`; every one must succeed.
    fn run(&self, lines: &[String], env: &BTreeMap<&str, String>) {
        for line in lines {
            let out = Command::new("bash")
                .args(["-e", "-c", line])
                .current_dir(self.root())
                .env("PATH", &self.path)
                .env("VOUCH_DB_DIR", self.root().join("db"))
                .env("VOUCH_DB_SOURCE", self.root().join("mirror"))
                .env("VOUCH_PASSWORD", "ci-template")
                .envs(env)
                .output()
                .expect("bash runs");
            assert!(
                out.status.success(),
                "{line}: exit {:?}\n{}\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                stderr(&out)
            );
        }
    }

    fn file(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.root().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

/// An image of the same kind pushed to the test registry as the "base branch's" image.
fn push_previous(tag: &str) {
    build_image(
        tag,
        &format!("FROM {}\nUSER 1000\nCMD [\"/bin/sh\"]\n", debian_image()),
        &[],
    );
    docker(&["push", tag]);
}

#[test]
fn the_github_actions_workflow_runs() {
    require_registries();
    let (text, doc) = template("github-actions.yml");
    assert_eq!(doc["on"]["pull_request"], Value::Null);
    assert!(doc["env"]["IMAGE"].is_string() && doc["env"]["VOUCH_DB_DIR"].is_string());
    let mut lines = Vec::new();
    for (name, job) in doc["jobs"].as_object().unwrap() {
        assert!(job["runs-on"].is_string(), "{name}: runs-on");
        for step in job["steps"].as_array().unwrap() {
            assert!(
                step["uses"].is_string() != step["run"].is_string(),
                "{name}: a step either uses an action or runs a script: {step}"
            );
            if let Some(uses) = step["uses"].as_str() {
                assert!(uses.contains("@v"), "{uses}: pinned to a version");
            }
            if let Some(run) = step["run"].as_str() {
                // Values come in through the environment, never as expressions in the script.
                assert!(
                    !run.contains("${{"),
                    "{name}: an expression inside run: {run}"
                );
                lines.extend(vouch_lines(run));
            }
        }
    }
    assert!(text.contains("upload-sarif") && text.contains("actions/cache"));
    let verbs: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().nth(2).unwrap_or(""))
        .collect();
    assert_eq!(
        verbs,
        ["db", "build", "scan", "check", "check", "diff", "verify"],
        "{lines:#?}"
    );

    let work = Workspace::new();
    let registry = open_registry();
    let id = std::process::id();
    let image = format!("{registry}/vouch-test/ci-github:{id}");
    let base = format!("{registry}/vouch-test/ci-github:{id}-base");
    push_previous(&base);
    let summary = work.root().join("summary.md");
    let env: BTreeMap<&str, String> = [
        ("IMAGE", image.clone()),
        ("PUSH", "--push".to_string()),
        ("BASE_IMAGE", base.clone()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
    ]
    .into_iter()
    .collect();
    work.run(&lines, &env);

    let sarif_warnings = validate_sarif(&work.file("vouch.sarif"));
    assert!(sarif_warnings.is_empty(), "{sarif_warnings:?}");
    let junit = validate_junit(&work.file("vouch-junit.xml"));
    assert_eq!(junit[0]["properties"]["vouch.outcome"], "PASSED", "{junit}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("## vouch check: ") && md.contains(" PASSED"),
        "{md}"
    );
    let diff = String::from_utf8(work.file("vouch-diff.md")).unwrap();
    assert!(diff.starts_with("## vouch diff: registry:"), "{diff}");
    docker(&["rmi", "-f", &image, &base]);
}

#[test]
fn the_gitlab_ci_jobs_run() {
    require_registries();
    let (text, doc) = template("gitlab-ci.yml");
    assert_eq!(
        doc["variables"]["IMAGE"],
        "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA"
    );
    let stages: Vec<&str> = doc["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let mut lines = Vec::new();
    for (name, job) in doc.as_object().unwrap() {
        if name.starts_with('.') || ["variables", "stages"].contains(&name.as_str()) {
            continue;
        }
        assert!(
            stages.contains(&job["stage"].as_str().unwrap_or("")),
            "{name}: a stage the file declares"
        );
        for command in job["script"].as_array().unwrap() {
            lines.extend(vouch_lines(command.as_str().unwrap()));
        }
    }
    assert_eq!(
        doc["vouch-build"]["artifacts"]["reports"]["container_scanning"],
        "gl-container-scanning-report.json"
    );
    assert!(text.contains("junit: vouch-junit.xml"));
    let verbs: Vec<&str> = lines
        .iter()
        .map(|l| {
            let at = l.find("docker vouch ").unwrap() + "docker vouch ".len();
            l[at..].split_whitespace().next().unwrap_or("")
        })
        .collect();
    assert_eq!(
        verbs,
        ["db", "build", "scan", "check", "diff", "verify"],
        "{lines:#?}"
    );

    let work = Workspace::new();
    let registry = open_registry();
    let id = std::process::id();
    let repo = format!("{registry}/vouch-test/ci-gitlab");
    let (sha, base_sha) = (format!("{id}new"), format!("{id}base"));
    push_previous(&format!("{repo}:{base_sha}"));
    let env: BTreeMap<&str, String> = [
        ("CI_REGISTRY_IMAGE", repo.clone()),
        ("CI_COMMIT_SHA", sha.clone()),
        ("IMAGE", format!("{repo}:{sha}")),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base_sha.clone()),
    ]
    .into_iter()
    .collect();
    work.run(&lines, &env);

    validate_gitlab(&work.file("gl-container-scanning-report.json"));
    let junit = validate_junit(&work.file("vouch-junit.xml"));
    assert_eq!(junit[0]["properties"]["vouch.outcome"], "PASSED", "{junit}");
    let diff = String::from_utf8(work.file("vouch-diff.md")).unwrap();
    assert!(diff.starts_with("## vouch diff: registry:"), "{diff}");
    docker(&[
        "rmi",
        "-f",
        &format!("{repo}:{sha}"),
        &format!("{repo}:{base_sha}"),
    ]);
}
