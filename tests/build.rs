//! `docker vouch build` on a real engine, both ways it builds: through the Engine API (no buildx in
//! the docker config: the legacy builder, the context streamed as a `.dockerignore`-aware tar) and
//! with `docker buildx` (Debian trixie's buildx, fetched by `integration/buildx.sh` into a docker
//! config of its own, driving the engine's BuildKit). Each build is attested and verified; the
//! docker build flags reach the builder; a failing verdict exits 1 unless `--warn-only`; a failed
//! build exits 3 with the builder's message and attests nothing; a wrong password stops before
//! building.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use support::*;

const PASSWORD: &str = "build test";

/// A policy that forbids what `.dockerignore` leaves out of the context, and needs a non-root user.
const POLICY: &str = r#"version: "1"
name: build-test
rules:
  - id: no-secrets
    action: deny
    files:
      forbidden: ["/ctx/secrets/**"]
  - id: runtime
    action: deny
    config:
      non_root_user: true
      required_labels:
        team: "payments"
"#;

fn unique() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    )
}

/// A context with a secret and a log `.dockerignore` leaves out, a Dockerfile under another name
/// with two stages, and a build argument that ends up in a label.
fn context(dir: &Path, user: &str) -> PathBuf {
    let ctx = dir.join("ctx");
    std::fs::create_dir_all(ctx.join("secrets")).unwrap();
    std::fs::create_dir_all(ctx.join("docker")).unwrap();
    std::fs::write(ctx.join("app"), format!("app {}\n", unique())).unwrap();
    std::fs::write(ctx.join("secrets/token"), "s3cret\n").unwrap();
    std::fs::write(ctx.join("debug.log"), "noise\n").unwrap();
    std::fs::write(ctx.join(".dockerignore"), "# not sent\nsecrets\n*.log\n").unwrap();
    std::fs::write(
        ctx.join("docker/app.Dockerfile"),
        format!(
            "FROM scratch AS builder\nCOPY app /built\n\nFROM scratch AS final\nARG VERSION=0\nCOPY . /ctx/\nLABEL version=$VERSION\n{user}CMD [\"/ctx/app\"]\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("policy.yaml"), POLICY).unwrap();
    ctx
}

fn vouch_build(cwd: &Path, config: &Path, args: &[&str], password: &str) -> Output {
    vouch()
        .arg("build")
        .args(args)
        .current_dir(cwd)
        .env("VOUCH_PASSWORD", password)
        .env("DOCKER_CONFIG", config)
        .env_remove("VOUCH_BUILDER")
        .output()
        .expect("docker-vouch runs")
}

fn keygen(cwd: &Path) {
    let out = vouch()
        .arg("keygen")
        .current_dir(cwd)
        .env("VOUCH_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

fn label(image: &str, name: &str) -> String {
    docker(&[
        "inspect",
        "--format",
        &format!("{{{{index .Config.Labels \"{name}\"}}}}"),
        image,
    ])
    .trim()
    .to_string()
}

/// Lists the paths in an image's layers (`docker save`, read here with the tar crate).
fn image_paths(image: &str) -> Vec<String> {
    let out = std::process::Command::new("docker")
        .args(["save", image])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut paths = Vec::new();
    let mut archive = tar::Archive::new(out.stdout.as_slice());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        if name.ends_with("layer.tar") {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            for inner in tar::Archive::new(bytes.as_slice()).entries().unwrap() {
                paths.push(inner.unwrap().path().unwrap().display().to_string());
            }
        }
    }
    paths
}

/// Whether the engine has an image tagged `tag`.
fn image_exists(tag: &str) -> bool {
    std::process::Command::new("docker")
        .args(["image", "inspect", tag])
        .output()
        .unwrap()
        .status
        .success()
}

fn verify_local(cwd: &Path, image: &str) -> Output {
    vouch()
        .args(["verify", image, "--key", "cosign.pub", "--require-pass"])
        .current_dir(cwd)
        .output()
        .unwrap()
}

#[test]
fn engine_api_build_is_attested_with_the_flags_applied() {
    require_engine();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    keygen(w);
    let ctx = context(w, "USER 1000\n");
    let config = w.join("no-buildx");
    std::fs::create_dir(&config).unwrap();
    let tag = format!("vouch-test/built:{}", std::process::id());
    let second = format!("vouch-test/built-too:{}", std::process::id());
    let out = vouch_build(
        w,
        &config,
        &[
            "-t",
            &tag,
            "-t",
            &second,
            "-f",
            "ctx/docker/app.Dockerfile",
            "--target",
            "final",
            "--build-arg",
            "VERSION=1.2.3",
            "--label",
            "team=payments",
            "--no-cache",
            "--key",
            "cosign.key",
            "--policy",
            "policy.yaml",
            "ctx",
        ],
        PASSWORD,
    );
    let err = stderr(&out);
    assert!(out.status.success(), "build: {err}");
    assert!(err.contains("through the engine (legacy builder"), "{err}");
    assert!(
        err.contains("Step 1/"),
        "the engine's output is shown: {err}"
    );
    for stage in ["built sha256:", "cataloging", "signing"] {
        assert!(err.contains(stage), "a progress line for {stage}: {err}");
    }
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("verdict PASSED"), "{summary}");

    // The flags reached the builder.
    assert_eq!(label(&tag, "version"), "1.2.3");
    assert_eq!(label(&tag, "team"), "payments");
    assert_eq!(
        docker(&["inspect", "--format", "{{.Id}}", &second]),
        docker(&["inspect", "--format", "{{.Id}}", &tag]),
        "both tags name the build"
    );
    // .dockerignore: the secret and the log were not sent; the Dockerfile itself was.
    let paths = image_paths(&tag);
    assert!(paths.iter().any(|p| p == "ctx/app"), "{paths:?}");
    assert!(
        paths.iter().any(|p| p == "ctx/docker/app.Dockerfile"),
        "{paths:?}"
    );
    assert!(
        !paths
            .iter()
            .any(|p| p.contains("secrets") || p.ends_with(".log")),
        "{paths:?}"
    );

    // The attestations verify.
    let out = verify_local(w, &tag);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Without the .dockerignore the secret is in the image and the same policy fails: exit 1,
    // and the FAILED verdict is still attested.
    std::fs::remove_file(ctx.join(".dockerignore")).unwrap();
    let leaky = format!("vouch-test/leaky:{}", std::process::id());
    let args = [
        "-t",
        leaky.as_str(),
        "-f",
        "ctx/docker/app.Dockerfile",
        "--label",
        "team=payments",
        "--policy",
        "policy.yaml",
        "ctx",
    ];
    let out = vouch_build(w, &config, &args, PASSWORD);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("verdict FAILED"));
    let out = verify_local(w, &leaky);
    assert_eq!(out.status.code(), Some(1), "--require-pass refuses it");
    let mut warn_only = args.to_vec();
    warn_only.insert(0, "--warn-only");
    let out = vouch_build(w, &config, &warn_only, PASSWORD);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn failures_stop_before_anything_is_attested() {
    require_engine();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    keygen(w);
    let ctx = context(w, "");
    let config = w.join("no-buildx");
    std::fs::create_dir(&config).unwrap();

    // A wrong password: exit 3 before building (the tag never appears).
    let tag = format!("vouch-test/never:{}", unique());
    let out = vouch_build(w, &config, &["-t", &tag, "ctx"], "wrong");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!image_exists(&tag), "nothing was built");

    // An invalid policy: a usage error naming it, before building (the tag never appears, though
    // the build itself would succeed).
    std::fs::write(
        w.join("bad-policy.yaml"),
        "rules:\n  - id: x\n    nonsense: {}\n",
    )
    .unwrap();
    let out = vouch_build(
        w,
        &config,
        &[
            "-t",
            &tag,
            "-f",
            "ctx/docker/app.Dockerfile",
            "--policy",
            "bad-policy.yaml",
            "ctx",
        ],
        PASSWORD,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("invalid policy: bad-policy.yaml"),
        "{}",
        stderr(&out)
    );
    assert!(!image_exists(&tag), "nothing was built");

    // A failing build: the engine's message, exit 3, no attestations.
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nCOPY no-such-file /\n",
    )
    .unwrap();
    let out = vouch_build(w, &config, &["-t", &tag, "ctx"], PASSWORD);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the build failed:") && err.contains("no-such-file"),
        "{err}"
    );
    assert!(!w.join(".vouch").exists());

    // A .dockerignore pattern that does not parse names its line.
    std::fs::write(ctx.join(".dockerignore"), "ok\n[broken\n").unwrap();
    let out = vouch_build(w, &config, &["-t", &tag, "ctx"], PASSWORD);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(".dockerignore: line 2: invalid pattern"),
        "{}",
        stderr(&out)
    );

    // Usage errors: a context that is not a directory; --push without a tag.
    let out = vouch_build(w, &config, &["no-such-dir"], PASSWORD);
    assert_eq!(out.status.code(), Some(2));
    let out = vouch_build(w, &config, &["--push", "ctx"], PASSWORD);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--push needs a tag"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn buildx_build_is_pushed_attached_and_verified_from_the_registry() {
    require_engine();
    let buildx_config = std::env::var("VOUCH_BUILDX_CONFIG").unwrap_or_default();
    assert!(
        Path::new(&buildx_config).join("cli-plugins/docker-buildx").is_file(),
        "VOUCH_BUILDX_CONFIG must name a docker config directory with cli-plugins/docker-buildx: run `integration/buildx.sh` (make test does)"
    );
    let registry = format!(
        "127.0.0.1:{}",
        std::env::var("VOUCH_REGISTRY_PORT").unwrap_or_else(|_| "5000".into())
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    keygen(w);
    context(w, "USER 1000\n");
    // The docker config the tests use: a copy holding only the buildx plugin.
    let config = w.join("with-buildx");
    std::fs::create_dir_all(config.join("cli-plugins")).unwrap();
    std::os::unix::fs::symlink(
        Path::new(&buildx_config).join("cli-plugins/docker-buildx"),
        config.join("cli-plugins/docker-buildx"),
    )
    .unwrap();
    let tag = format!("{registry}/vouch-test/buildx:{}", std::process::id());
    let out = vouch_build(
        w,
        &config,
        &[
            "-t",
            &tag,
            "-f",
            "ctx/docker/app.Dockerfile",
            "--build-arg",
            "VERSION=9",
            "--label",
            "team=payments",
            "--policy",
            "policy.yaml",
            "--push",
            "ctx",
        ],
        PASSWORD,
    );
    let err = stderr(&out);
    assert!(out.status.success(), "build: {err}");
    assert!(err.contains("with docker buildx"), "{err}");
    assert_eq!(label(&tag, "version"), "9");
    let paths = image_paths(&tag);
    assert!(!paths.iter().any(|p| p.contains("secrets")), "{paths:?}");

    let out = vouch()
        .args([
            "verify",
            &format!("registry:{tag}"),
            "--key",
            "cosign.pub",
            "--require-pass",
        ])
        .current_dir(w)
        .env("DOCKER_CONFIG", &config)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}{}", stderr(&out));
    // Both layouts found and verified (a line each), and the deciding set's table once.
    let verified_sets = report
        .lines()
        .filter(|l| l.starts_with("  ") && l.ends_with(": VERIFIED"))
        .count();
    assert_eq!(verified_sets, 2, "both layouts: {report}");
    assert_eq!(
        report.matches("\nVERIFIED\n").count(),
        1,
        "one table: {report}"
    );
}
