//! Attestations in a real OCI registry (`integration/registry.sh`: Debian's docker-registry on
//! 127.0.0.1) with a real engine: `attest --push` pushes the image and attaches the statements in
//! cosign's `.att` layout and as OCI 1.1 referrers (this registry has no referrers API, so through
//! the fallback tag); a second reader (`integration/registry_tool.py`, urllib + dsse_tool.py)
//! checks every layout rule and signature; `verify registry:REF` finds and checks them; tampered
//! `.att` and referrer copies are refused; re-attesting replaces vouch's statements and keeps
//! another tool's; credentials come from config.json `auths` or a credential helper; bad
//! configurations, missing credentials and unreachable registries are clear errors that attach
//! nothing. `registry:REF` images are read straight from the registry (no engine), compared with
//! the engine's copy, attested in place, and refused when a manifest names the wrong layer or size.

mod support;

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use support::registry::*;
use support::*;

const PASSWORD: &str = "registry test";

fn vouch_in(cwd: &Path, config: &Path, args: &[&str]) -> Output {
    vouch()
        .args(args)
        .current_dir(cwd)
        .env("VOUCH_PASSWORD", PASSWORD)
        .env("DOCKER_CONFIG", config)
        .output()
        .expect("docker-vouch runs")
}

/// The second reader's summary of what is attached to `digest`.
fn check_layouts(registry: &str, repo: &str, digest: &str, public: &Path) -> Value {
    let out = registry_tool(&[
        "check",
        registry,
        repo,
        digest,
        &public.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "registry_tool check: {}",
        stderr(&out)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default()).expect("a JSON summary")
}

/// `verify --format json` on a registry image; the exit code and each set's (location, verified,
/// failed check names).
fn verify_registry(
    cwd: &Path,
    config: &Path,
    name: &str,
    extra: &[&str],
) -> (i32, Vec<(String, bool, Vec<String>)>) {
    let image = format!("registry:{name}");
    let mut args = vec!["verify", &image, "--key", "cosign.pub", "--format", "json"];
    args.extend_from_slice(extra);
    let out = vouch_in(cwd, config, &args);
    let code = out.status.code().unwrap_or(-1);
    if code == 3 {
        panic!("verify could not run: {}", stderr(&out));
    }
    let reports: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let sets = reports
        .iter()
        .map(|r| {
            (
                r["attestations"].as_str().unwrap().to_string(),
                r["verified"] == true,
                failed_checks(r).into_iter().map(|(name, _)| name).collect(),
            )
        })
        .collect();
    (code, sets)
}

/// A working directory with an empty docker config directory and a fresh key pair.
fn workspace() -> (tempfile::TempDir, std::path::PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("docker-config");
    std::fs::create_dir(&config).unwrap();
    let out = vouch_in(work.path(), &config, &["keygen"]);
    assert!(out.status.success(), "keygen: {}", stderr(&out));
    (work, config)
}

#[test]
fn attest_push_attaches_both_layouts_and_verify_reads_them() {
    require_registries();
    let (work, config) = workspace();
    let w = work.path();
    let registry = open_registry();
    let name = app_image(&registry, "pushed");
    let repo = "vouch-test/pushed".to_string();

    let out = vouch_in(
        w,
        &config,
        &["attest", &name, "--key", "cosign.key", "--push"],
    );
    assert!(out.status.success(), "attest --push: {}", stderr(&out));
    let digest = repo_digest(&name, &registry);
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains(&format!("({digest}): verdict PASSED")),
        "the set is named by the registry digest: {summary}"
    );
    assert!(
        summary.contains(&format!("{}.att", digest.replace(':', "-"))),
        "{summary}"
    );
    // The local set is written too, named by the manifest digest.
    assert!(w
        .join(".vouch")
        .join(digest.replace(':', "-"))
        .join("verdict.sigstore.json")
        .is_file());

    // A second reader finds every statement in both layouts, signed by our key, about this image.
    let both = vec![
        "https://cyclonedx.org/bom".to_string(),
        "https://slsa.dev/verification_summary/v1".to_string(),
    ];
    let found = check_layouts(&registry, &repo, &digest, &w.join("cosign.pub"));
    assert_eq!(found["att"], serde_json::json!(both));
    assert_eq!(found["referrers"], serde_json::json!(both));
    assert_eq!(found["foreign"], 0);
    assert_eq!(
        found["referrers_api"], false,
        "distribution 2.8 has no referrers API"
    );

    // verify registry:REF, by tag and by digest: both layouts found and verified.
    let (code, sets) = verify_registry(w, &config, &name, &["--require-pass"]);
    assert_eq!(code, 0, "{sets:?}");
    assert_eq!(sets.len(), 2);
    assert!(sets[0].0.contains("referrers of"), "{sets:?}");
    assert!(sets[1].0.ends_with(".att"), "{sets:?}");
    assert!(sets.iter().all(|s| s.1), "{sets:?}");
    let by_digest = format!("{registry}/{repo}@{digest}");
    let (code, _) = verify_registry(w, &config, &by_digest, &["--layout", "att"]);
    assert_eq!(code, 0);

    // Another tool's attestation in the .att manifest is kept when vouch attests again.
    let out = registry_tool(&["add-foreign", &registry, &repo, &digest]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = vouch_in(
        w,
        &config,
        &["attest", &name, "--key", "cosign.key", "--push", "-q"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let found = check_layouts(&registry, &repo, &digest, &w.join("cosign.pub"));
    assert_eq!(
        found["att"],
        serde_json::json!(both),
        "ours replaced, not added"
    );
    assert_eq!(found["foreign"], 1, "the other tool's layer kept");
    assert_eq!(
        found["referrers"],
        serde_json::json!(both),
        "the index keeps one of each"
    );

    // An .att manifest flooded with statement layers claiming vouch's predicate types is not
    // fetched layer by layer: that layout is unreadable (exit 3 when it is the only one asked
    // for, a warning beside the referrers otherwise); attesting again clears it.
    let out = registry_tool(&["flood-att", &registry, &repo, &digest, "20"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let image = format!("registry:{name}");
    let out = vouch_in(
        w,
        &config,
        &["verify", &image, "--key", "cosign.pub", "--layout", "att"],
    );
    fails_with(
        &out,
        3,
        "statement layers claim vouch's predicate types (at most 16 are read)",
    );
    let (code, sets) = verify_registry(w, &config, &name, &[]);
    assert_eq!(code, 0, "{sets:?}");
    assert_eq!(sets.len(), 1, "the referrers alone: {sets:?}");
    let out = vouch_in(
        w,
        &config,
        &["attest", &name, "--key", "cosign.key", "--push", "-q"],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    // A tampered .att (the SBOM envelope's payload changed, the manifest rewritten to match) is
    // refused; the untouched referrers still verify the image, and the report says which failed.
    let out = registry_tool(&["tamper-att", &registry, &repo, &digest]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, sets) = verify_registry(w, &config, &name, &["--layout", "att"]);
    assert_eq!(code, 1);
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].2, ["sbom.signature"], "{sets:?}");
    let (code, sets) = verify_registry(w, &config, &name, &[]);
    assert_eq!(code, 0, "{sets:?}");
    assert!(sets[0].1 && !sets[1].1, "{sets:?}");
    // With the referrers forged too, nothing verifies.
    let out = registry_tool(&["tamper-referrers", &registry, &repo, &digest]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, sets) = verify_registry(w, &config, &name, &[]);
    assert_eq!(code, 1, "{sets:?}");
    assert!(sets.iter().all(|s| s.2 == ["sbom.signature"]), "{sets:?}");

    // Another key verifies nothing.
    let other = w.join("other");
    std::fs::create_dir(&other).unwrap();
    let out = vouch_in(&other, &config, &["keygen"]);
    assert!(out.status.success());
    std::fs::copy(other.join("cosign.pub"), w.join("cosign.pub")).unwrap();
    let out = vouch_in(
        w,
        &config,
        &["attest", &name, "--key", "cosign.key", "--push", "-q"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, sets) = verify_registry(w, &config, &name, &[]);
    assert_eq!(code, 1);
    assert!(sets
        .iter()
        .all(|s| s.2 == ["sbom.signature", "verdict.signature"]));

    // An image never attested: not verified (exit 1), not an error.
    let bare = app_image(&registry, "bare");
    docker(&["push", &bare]);
    let out = vouch_in(
        w,
        &config,
        &["verify", &format!("registry:{bare}"), "--key", "cosign.pub"],
    );
    fails_with(&out, 1, "no vouch attestations beside it");
    // A tag the registry does not have: a runtime error naming it.
    let missing = format!("registry:{registry}/vouch-test/none:0");
    let out = vouch_in(w, &config, &["verify", &missing, "--key", "cosign.pub"]);
    fails_with(&out, 3, "no such image in the registry");
}

#[test]
fn credentials_from_config_and_helpers_and_clear_failures() {
    require_registries();
    let (work, config) = workspace();
    let w = work.path();
    let registry = auth_registry();
    let name = app_image(&registry, "private");

    // No credentials: the engine's push is refused; nothing is written locally.
    let out = vouch_in(
        w,
        &config,
        &["attest", &name, "--key", "cosign.key", "--push"],
    );
    fails_with(&out, 3, "pushing");
    assert!(!w.join(".vouch").exists(), "nothing written");

    // config.json that is not JSON.
    std::fs::write(config.join("config.json"), "{\"auths\": ").unwrap();
    let out = vouch_in(
        w,
        &config,
        &["attest", &name, "--key", "cosign.key", "--push"],
    );
    fails_with(&out, 3, "config.json: not a docker config file");

    // Wrong password in auths.
    let auth = |user_password: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(user_password)
    };
    std::fs::write(
        config.join("config.json"),
        format!(
            r#"{{"auths":{{"{registry}":{{"auth":"{}"}}}}}}"#,
            auth("vouch:wrong")
        ),
    )
    .unwrap();
    let out = vouch_in(
        w,
        &config,
        &["attest", &name, "--key", "cosign.key", "--push"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(!w.join(".vouch").exists());

    // The right password in auths: pushed, attached, verified from the registry.
    std::fs::write(
        config.join("config.json"),
        format!(
            r#"{{"auths":{{"http://{registry}/v2/":{{"auth":"{}"}}}}}}"#,
            auth("vouch:vouch-test")
        ),
    )
    .unwrap();
    let out = vouch_in(
        w,
        &config,
        &["attest", &name, "--key", "cosign.key", "--push", "-q"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, sets) = verify_registry(w, &config, &name, &[]);
    assert_eq!(code, 0, "{sets:?}");
    assert_eq!(sets.len(), 2);

    // Without credentials, verify is told to log in.
    std::fs::write(config.join("config.json"), "{}").unwrap();
    let out = vouch_in(
        w,
        &config,
        &["verify", &format!("registry:{name}"), "--key", "cosign.pub"],
    );
    fails_with(&out, 3, "docker login");

    // A credential helper (the docker-credential-* protocol) answers for this registry.
    let bin = w.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let helper = bin.join("docker-credential-vouchtest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\n[ \"$server\" = \"{registry}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\necho '{{\"ServerURL\":\"{registry}\",\"Username\":\"vouch\",\"Secret\":\"vouch-test\"}}'\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        config.join("config.json"),
        format!(r#"{{"credHelpers":{{"{registry}":"vouchtest"}}}}"#),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = vouch()
        .args([
            "verify",
            &format!("registry:{name}"),
            "--key",
            "cosign.pub",
            "--format",
            "json",
        ])
        .current_dir(w)
        .env("DOCKER_CONFIG", &config)
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A helper that is not installed is named.
    std::fs::write(
        config.join("config.json"),
        r#"{"credsStore":"vouch-missing"}"#,
    )
    .unwrap();
    let out = vouch_in(
        w,
        &config,
        &["verify", &format!("registry:{name}"), "--key", "cosign.pub"],
    );
    fails_with(&out, 3, "docker-credential-vouch-missing is not on PATH");
}

#[test]
fn push_refusals_attach_nothing() {
    require_registries();
    let (work, config) = workspace();
    let w = work.path();

    // Nobody listens on this port: the push fails with the engine's message, exit 3.
    let name = app_image("127.0.0.1:5999", "unreachable");
    let out = vouch_in(
        w,
        &config,
        &["attest", &name, "--key", "cosign.key", "--push"],
    );
    fails_with(&out, 3, "pushing 127.0.0.1:5999/");
    assert!(!w.join(".vouch").exists());

    // --push of an archive is a usage error.
    std::fs::write(
        w.join("a.tar"),
        TestImage::new(vec![Layer::new().file("f", "x").bytes()]).docker_archive("a:1"),
    )
    .unwrap();
    let out = vouch_in(
        w,
        &config,
        &[
            "attest",
            "docker-archive:a.tar",
            "--key",
            "cosign.key",
            "--push",
        ],
    );
    fails_with(&out, 2, "--push needs an engine image");
}

#[test]
fn a_failed_attach_says_what_was_written() {
    require_registries();
    let (work, config) = workspace();
    let w = work.path();
    let registry = open_registry();
    let name = app_image(&registry, "collision");
    // Push the image first to learn its digest, then put an image manifest under the referrers
    // fallback tag `sha256-<hex>` (a tag collision): the .att is attached, the referrers are not.
    docker(&["push", &name]);
    let digest = repo_digest(&name, &registry);
    let squatter = format!(
        "{registry}/vouch-test/collision:{}",
        digest.replace(':', "-")
    );
    docker(&["tag", &name, &squatter]);
    docker(&["push", &squatter]);
    let out = vouch_in(
        w,
        &config,
        &["attest", &name, "--key", "cosign.key", "--push"],
    );
    fails_with(&out, 3, "attaching the attestations to");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "Written to the registry before the failure: {registry}/vouch-test/collision:{}.att",
            digest.replace(':', "-")
        )),
        "{err}"
    );
    assert!(err.contains("the signed set is in"), "{err}");
    // What was written is whole: the .att verifies; the local set is there too.
    let (code, sets) = verify_registry(w, &config, &name, &["--layout", "att"]);
    assert_eq!(code, 0, "{sets:?}");
    // Both layouts (the default): the unreadable referrers layout is a warning, the .att set
    // still verifies the image.
    let image = format!("registry:{name}");
    let out = vouch_in(w, &config, &["verify", &image, "--key", "cosign.pub"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: registry:")
            && stderr(&out).contains("the referrers layout could not be read"),
        "{}",
        stderr(&out)
    );
    assert!(w.join(".vouch").join(digest.replace(':', "-")).is_dir());
    docker(&["rmi", &squatter]);
}

/// An image of two layers with OS and language packages, for comparing what the engine and the
/// registry give.
fn packaged_image(registry: &str, name: &str) -> String {
    let tag = format!("{registry}/vouch-test/{name}:{}", std::process::id());
    let status = [
        dpkg_paragraph("base-files", "12.4+deb12u5"),
        dpkg_paragraph("libc6", "2.36-9+deb12u4"),
    ]
    .concat();
    let metadata = "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache-2.0\n";
    let package_json = r#"{"name": "lodash", "version": "4.17.21", "license": "MIT"}"#;
    let nonce = format!("{name} {:?}", std::time::SystemTime::now());
    build_image(
        &tag,
        "FROM scratch\nCOPY os/ /\nCOPY app/ /app/\nUSER 1000\nCMD [\"/app/run\"]\n",
        &[
            ("os/etc/os-release", OS_RELEASE.as_bytes()),
            ("os/var/lib/dpkg/status", status.as_bytes()),
            (
                "os/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
                metadata.as_bytes(),
            ),
            (
                "app/node_modules/lodash/package.json",
                package_json.as_bytes(),
            ),
            ("app/run", nonce.as_bytes()),
        ],
    )
}

/// `sbom --format cyclonedx-json` of `image` (run with DOCKER_HOST pointing nowhere when
/// `no_engine`): the parsed, schema-valid document.
fn sbom_json(w: &Path, config: &Path, image: &str, no_engine: bool) -> Value {
    let mut command = vouch();
    command
        .args(["sbom", image])
        .current_dir(w)
        .env("DOCKER_CONFIG", config);
    if no_engine {
        command.env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    }
    let out = command.output().expect("docker-vouch runs");
    assert!(out.status.success(), "sbom {image}: {}", stderr(&out));
    valid_cyclonedx(&out.stdout)
}

#[test]
fn images_are_read_straight_from_the_registry() {
    require_registries();
    let (work, config) = workspace();
    let w = work.path();
    let registry = open_registry();
    let name = packaged_image(&registry, "pulled");
    docker(&["push", &name]);
    let digest = repo_digest(&name, &registry);
    let id = docker(&["inspect", "--format", "{{.Id}}", &name])
        .trim()
        .to_string();

    // The registry's copy (gzip layers, read without any engine) gives the SBOM the engine's copy
    // gives: the same components, with the same layers and paths, and the same dependencies.
    let from_engine = sbom_json(w, &config, &name, false);
    let image = format!("registry:{name}");
    let from_registry = sbom_json(w, &config, &image, true);
    assert_eq!(packages(&from_registry).len(), 4, "{from_registry:#}");
    assert_eq!(packages(&from_registry), packages(&from_engine));
    assert_eq!(from_registry["components"], from_engine["components"]);
    assert_eq!(from_registry["dependencies"], from_engine["dependencies"]);
    assert_eq!(
        image_properties(&from_registry, "vouch:image:manifestDigest"),
        vec![digest.clone()]
    );
    assert_eq!(
        image_properties(&from_registry, "vouch:image:layer"),
        image_properties(&from_engine, "vouch:image:layer")
    );
    assert_eq!(
        image_properties(&from_registry, "vouch:image:source"),
        vec!["registry".to_string()]
    );
    assert_eq!(
        image_properties(&from_registry, "vouch:image:id"),
        vec![id.clone()]
    );

    // attest registry:REF --push: nothing is pushed (there is no engine), the set is attached to
    // the manifest that was read, and verify finds it there; a second reader agrees.
    let out = vouch()
        .args(["attest", &image, "--key", "cosign.key", "--push"])
        .current_dir(w)
        .env("VOUCH_PASSWORD", PASSWORD)
        .env("DOCKER_CONFIG", &config)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .expect("docker-vouch runs");
    assert!(out.status.success(), "attest registry: {}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("({digest}): verdict PASSED")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let found = check_layouts(
        &registry,
        "vouch-test/pulled",
        &digest,
        &w.join("cosign.pub"),
    );
    assert_eq!(found["att"].as_array().map(Vec::len), Some(2), "{found}");
    assert_eq!(
        found["referrers"].as_array().map(Vec::len),
        Some(2),
        "{found}"
    );
    let (code, sets) = verify_registry(w, &config, &name, &["--require-pass"]);
    assert_eq!(code, 0, "{sets:?}");

    // A multi-platform index: this machine's platform is read (not the first entry, another
    // image for s390x; never the attestation manifest), and verify resolves the index the same way.
    // (An index names manifests of its own repository: the other image is pushed there too.)
    let repo = "vouch-test/pulled";
    let (other, other_image, other_digest) = another_image_in(&registry, repo, "pulled-other");
    let arch = index_arch();
    let out = registry_tool(&[
        "put-index",
        &registry,
        repo,
        "multi",
        &digest,
        &other_digest,
        arch,
    ]);
    assert!(out.status.success(), "put-index: {}", stderr(&out));
    let multi = format!("{registry}/{repo}:multi");
    let from_index = sbom_json(w, &config, &format!("registry:{multi}"), true);
    assert_eq!(packages(&from_index), packages(&from_engine));
    assert_eq!(
        image_properties(&from_index, "vouch:image:manifestDigest"),
        vec![digest.clone()]
    );
    let (code, sets) = verify_registry(w, &config, &multi, &["--require-pass"]);
    assert_eq!(code, 0, "{sets:?}");

    // A manifest re-pushed with another image's layer: every blob is a valid blob, but the layer
    // is not the one the config declares.
    let out = registry_tool(&[
        "forge-layer",
        &registry,
        repo,
        "forged",
        &digest,
        &other_digest,
    ]);
    assert!(out.status.success(), "forge-layer: {}", stderr(&out));
    let forged = format!("registry:{registry}/{repo}:forged");
    let out = vouch_in(w, &config, &["sbom", &forged]);
    fails_with(&out, 3, "layer 1 (uncompressed) has digest");
    fails_with(&out, 3, "the image is corrupt or was tampered with");
    // A layer declared one byte shorter than the registry's blob.
    let out = registry_tool(&["shrink-layer", &registry, repo, "shrunk", &digest]);
    assert!(out.status.success(), "shrink-layer: {}", stderr(&out));
    let shrunk = format!("registry:{registry}/{repo}:shrunk");
    let out = vouch_in(w, &config, &["sbom", &shrunk]);
    fails_with(&out, 3, "the registry sent more than the declared");

    // No such tag; a reference that is not one.
    let out = vouch_in(
        w,
        &config,
        &["sbom", &format!("registry:{registry}/{repo}:absent")],
    );
    fails_with(&out, 3, "image not found");
    let out = vouch_in(w, &config, &["sbom", "registry:Not A Reference"]);
    fails_with(&out, 2, "is not an image reference");
    docker(&["rmi", &other, &other_image]);
}

#[test]
fn https_registries_are_trusted_through_the_system_certificates() {
    require_registries();
    let (tls, ca) = tls_registry();
    let (work, config) = workspace();
    let w = work.path();
    let registry = open_registry();
    let name = app_image(&registry, "over-tls");
    docker(&["push", &name]);
    // The image is copied to the HTTPS registry by skopeo, trusting the test CA (and only it).
    let certs = w.join("certs");
    std::fs::create_dir(&certs).unwrap();
    std::fs::copy(&ca, certs.join("ca.crt")).unwrap();
    let target = format!("{tls}/vouch-test/over-tls:{}", std::process::id());
    let copied = Command::new("skopeo")
        .args(["copy", "--src-tls-verify=false", "--dest-cert-dir"])
        .arg(&certs)
        .arg(format!("docker://{name}"))
        .arg(format!("docker://{target}"))
        .output()
        .expect("skopeo runs");
    assert!(copied.status.success(), "skopeo copy: {}", stderr(&copied));
    let image = format!("registry:{target}");

    // Not a loopback registry: HTTPS, and a certificate from an unknown CA is refused, saying so.
    let out = vouch_in(w, &config, &["sbom", &image]);
    fails_with(&out, 3, "the registry's TLS certificate is not trusted");
    fails_with(&out, 3, "UnknownIssuer");

    // With the CA among the trusted certificates: read, attested in place, verified.
    let trusting = |args: &[&str]| {
        vouch()
            .args(args)
            .current_dir(w)
            .env("VOUCH_PASSWORD", PASSWORD)
            .env("DOCKER_CONFIG", &config)
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .env("SSL_CERT_FILE", &ca)
            .output()
            .expect("docker-vouch runs")
    };
    let out = trusting(&["sbom", "-f", "table", &image]);
    assert!(out.status.success(), "sbom over TLS: {}", stderr(&out));
    let out = trusting(&["attest", &image, "--key", "cosign.key", "--push"]);
    assert!(out.status.success(), "attest over TLS: {}", stderr(&out));
    let out = trusting(&["verify", &image, "--key", "cosign.pub", "--require-pass"]);
    assert!(
        out.status.success(),
        "verify over TLS: {}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("VERIFIED (by at least one attestation set)"),
        "{said}"
    );
    // One line per set found (both layouts), then the table of the set that decides, once.
    let set_lines = said
        .lines()
        .filter(|l| l.starts_with("  ") && l.ends_with(": VERIFIED"))
        .count();
    assert!(
        said.contains("Attestation sets of ") && set_lines >= 2,
        "{said}"
    );
    assert_eq!(said.matches("Image:").count(), 1, "{said}");
}

/// Another small image pushed into `repo` (an index names manifests of its own repository): its
/// tag there, its engine name, and its manifest digest.
fn another_image_in(registry: &str, repo: &str, name: &str) -> (String, String, String) {
    let image = app_image(registry, name);
    let tag = format!("{registry}/{repo}:other-{}", std::process::id());
    docker(&["tag", &image, &tag]);
    docker(&["push", &tag]);
    let digest = repo_digest(&tag, registry);
    (tag, image, digest)
}

#[test]
fn an_index_tag_carries_the_attestations_cosign_looks_for() {
    // buildx pushes even one platform as an index (the image and its unknown/unknown attestation
    // manifest); cosign, Kyverno and policy-controller resolve the tag to that index and look for
    // attestations attached to it, whose statements name it.
    require_registries();
    let (work, config) = workspace();
    let w = work.path();
    let registry = open_registry();
    let repo = "vouch-test/indexed";
    let name = app_image(&registry, "indexed");
    docker(&["push", &name]);
    let digest = repo_digest(&name, &registry);
    let (other, other_image, other_digest) = another_image_in(&registry, repo, "indexed-other");
    let arch = index_arch();
    let single_tag = format!("single-{}", std::process::id());
    let index = put_index(&[
        "put-single-index",
        &registry,
        repo,
        &single_tag,
        &digest,
        &other_digest,
        arch,
    ]);
    let single = format!("{registry}/{repo}:{single_tag}");

    let attest = |reference: &str| {
        vouch()
            .args(["attest", &format!("registry:{reference}"), "--push"])
            .current_dir(w)
            .env("VOUCH_PASSWORD", PASSWORD)
            .env("DOCKER_CONFIG", &config)
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .output()
            .expect("docker-vouch runs")
    };
    let out = attest(&single);
    assert!(out.status.success(), "attest: {}", stderr(&out));
    let summary = String::from_utf8_lossy(&out.stdout).to_string();
    for at in [&digest, &index] {
        assert!(
            summary.contains(&format!("attached to {registry}/{repo}@{at}")),
            "{summary}"
        );
    }
    // The second reader finds both statements in both layouts at the index and at the image
    // manifest, each statement naming the digest it is attached to.
    let public = w.join("cosign.pub");
    for at in [&index, &digest] {
        let found = check_layouts(&registry, repo, at, &public);
        assert_eq!(
            found["att"].as_array().map(Vec::len),
            Some(2),
            "{at}: {found}"
        );
        assert_eq!(
            found["referrers"].as_array().map(Vec::len),
            Some(2),
            "{at}: {found}"
        );
    }
    let (code, sets) = verify_registry(w, &config, &single, &["--require-pass"]);
    assert_eq!(code, 0, "{sets:?}");
    assert_eq!(sets.len(), 4, "two layouts at two places: {sets:?}");
    assert!(sets.iter().all(|(_, verified, _)| *verified), "{sets:?}");

    // The image manifest's own attestations tampered with: through the tag, those at the index
    // still vouch for the image; by the manifest digest (no index in the way), nothing does.
    for command in ["tamper-att", "tamper-referrers"] {
        let out = registry_tool(&[command, &registry, repo, &digest]);
        assert!(out.status.success(), "{command}: {}", stderr(&out));
    }
    let (code, sets) = verify_registry(w, &config, &single, &["--require-pass"]);
    assert_eq!(code, 0, "{sets:?}");
    let verified: Vec<&str> = sets
        .iter()
        .filter(|(_, verified, _)| *verified)
        .map(|(location, _, _)| location.as_str())
        .collect();
    assert_eq!(verified.len(), 2, "{sets:?}");
    assert!(
        verified
            .iter()
            .all(|l| l.contains(&index.replace(':', "-")) || l.contains(&index)),
        "only the index's sets verify: {sets:?}"
    );
    let (code, sets) = verify_registry(
        w,
        &config,
        &format!("{registry}/{repo}@{digest}"),
        &["--require-pass"],
    );
    assert_eq!(code, 1, "{sets:?}");

    // An index of two platforms: statements describe one of its images, so they are attached to
    // that image's manifest only, and with --platform the warning says where verifiers will not
    // find them.
    let multi_tag = format!("multi-{}", std::process::id());
    let multi_index = put_index(&[
        "put-index",
        &registry,
        repo,
        &multi_tag,
        &digest,
        &other_digest,
        arch,
    ]);
    let multi = format!("{registry}/{repo}:{multi_tag}");
    let out = vouch_in(
        w,
        &config,
        &[
            "attest",
            &format!("registry:{multi}"),
            "--platform",
            &format!("linux/{arch}"),
            "--push",
        ],
    );
    assert!(out.status.success(), "attest: {}", stderr(&out));
    assert!(
        stderr(&out).contains("is an index of 2 runnable images")
            && stderr(&out).contains(&multi_index),
        "{}",
        stderr(&out)
    );
    // Without --platform, each runnable image of the index is attested by its digest (the
    // attestation manifest is not), and still nothing is attached to the index.
    let out = attest(&multi);
    assert!(out.status.success(), "attest: {}", stderr(&out));
    assert!(
        stderr(&out).contains("an index of 2 runnable images (linux/s390x, linux/"),
        "{}",
        stderr(&out)
    );
    let summary = String::from_utf8_lossy(&out.stdout).to_string();
    for at in [&digest, &other_digest] {
        assert!(
            summary.contains(&format!("attached to {registry}/{repo}@{at}")),
            "{summary}"
        );
    }
    assert!(!summary.contains(&multi_index), "{summary}");
    let out = registry_tool(&[
        "check",
        &registry,
        repo,
        &multi_index,
        &public.display().to_string(),
    ]);
    assert!(
        !out.status.success() && stderr(&out).contains("no .att manifest"),
        "nothing at the multi-platform index: {}",
        stderr(&out)
    );
    // The image manifest was re-attested (the tampered statements replaced).
    let found = check_layouts(&registry, repo, &digest, &public);
    assert_eq!(found["att"].as_array().map(Vec::len), Some(2), "{found}");
    let (code, sets) = verify_registry(w, &config, &multi, &["--require-pass"]);
    assert_eq!(code, 0, "{sets:?}");
    // That index lists the other image as s390x, but its config says otherwise: refused.
    let out = vouch_in(
        w,
        &config,
        &[
            "sbom",
            &format!("registry:{multi}"),
            "--platform",
            "linux/s390x",
        ],
    );
    fails_with(&out, 3, "the image is linux/amd64, not linux/s390x");

    // --platform: the s390x image of a two-platform index (pushed from an OCI layout by skopeo) is
    // read, attested where it is, and verified; a platform the index lacks is named.
    let s390x_digest = push_image_of("s390x", w, &registry, repo);
    let both_tag = format!("both-{}", std::process::id());
    put_index(&[
        "put-index",
        &registry,
        repo,
        &both_tag,
        &digest,
        &s390x_digest,
        arch,
    ]);
    let both = format!("registry:{registry}/{repo}:{both_tag}");
    let out = vouch_in(
        w,
        &config,
        &["attest", &both, "--platform", "linux/s390x", "--push"],
    );
    assert!(out.status.success(), "attest --platform: {}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("attached to {registry}/{repo}@{s390x_digest}")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let found = check_layouts(&registry, repo, &s390x_digest, &public);
    assert_eq!(found["att"].as_array().map(Vec::len), Some(2), "{found}");
    let out = vouch_in(
        w,
        &config,
        &[
            "verify",
            &both,
            "--platform",
            "linux/s390x",
            "--key",
            "cosign.pub",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = vouch_in(w, &config, &["sbom", &both, "--platform", "linux/ppc64le"]);
    fails_with(
        &out,
        3,
        &format!("the image index has no linux/ppc64le image (it has: linux/s390x, linux/{arch})"),
    );
    docker(&["rmi", &other, &other_image, &name]);
}
