//! Docker CLI hooks with the real docker CLI: vouch installed as a CLI plugin in a docker config of
//! its own, `install-hooks` turns the hook on, and `docker build` run in a pseudo-terminal (the CLI
//! only runs hooks when its output is a terminal; `script` provides one) then prints vouch's "What's
//! next" hint; a failed build gets none; `uninstall-hooks` restores the config byte for byte in
//! meaning and the hint is gone.

mod support;

use std::path::Path;
use std::process::Command;
use support::*;

/// Runs `docker build` in a pseudo-terminal with `config`; returns everything it printed.
fn docker_build_in_terminal(config: &Path, context: &Path, extra: &str) -> String {
    let out = Command::new("script")
        .args(["-qec"])
        .arg(format!("docker build -q {extra} {}", context.display()))
        .arg("/dev/null")
        .env("DOCKER_CONFIG", config)
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .expect("script (util-linux) runs");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn the_docker_cli_shows_the_hint_after_build_until_uninstalled() {
    require_engine();
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("docker-config");
    std::fs::create_dir_all(config.join("cli-plugins")).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_docker-vouch"),
        config.join("cli-plugins/docker-vouch"),
    )
    .unwrap();
    let original = r#"{"auths":{"127.0.0.1:5000":{}},"psFormat":"table {{.ID}}"}"#;
    std::fs::write(config.join("config.json"), original).unwrap();
    let context = work.path().join("ctx");
    std::fs::create_dir(&context).unwrap();
    std::fs::write(context.join("Dockerfile"), "FROM scratch\nCOPY f /f\n").unwrap();
    std::fs::write(context.join("f"), "hooked\n").unwrap();

    // Before install-hooks: no hint.
    let printed = docker_build_in_terminal(&config, &context, "");
    assert!(printed.contains("sha256:"), "the build ran: {printed}");
    assert!(!printed.contains("docker vouch attest"), "{printed}");

    let out = vouch()
        .arg("install-hooks")
        .env("DOCKER_CONFIG", &config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = docker_build_in_terminal(&config, &context, "-t vouch-test/hooked:1");
    assert!(printed.contains("What's next"), "{printed}");
    assert!(
        printed.contains("docker vouch attest IMAGE --key cosign.key"),
        "{printed}"
    );
    // The CLI filled in the context argument of the template.
    assert!(
        printed.contains(&format!("--key cosign.key {}", context.display())),
        "{printed}"
    );
    // The same through `docker image build`.
    let out = Command::new("script")
        .args([
            "-qec",
            &format!("docker image build -q {}", context.display()),
            "/dev/null",
        ])
        .env("DOCKER_CONFIG", &config)
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("docker vouch attest IMAGE_ID"));

    // A failed build: no hint.
    std::fs::write(context.join("Dockerfile"), "FROM scratch\nCOPY missing /\n").unwrap();
    let printed = docker_build_in_terminal(&config, &context, "");
    assert!(!printed.contains("docker vouch attest"), "{printed}");

    // uninstall-hooks: the config means what it meant before, and the hint is gone.
    let out = vouch()
        .arg("uninstall-hooks")
        .env("DOCKER_CONFIG", &config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        after,
        serde_json::from_str::<serde_json::Value>(original).unwrap()
    );
    std::fs::write(context.join("Dockerfile"), "FROM scratch\nCOPY f /f\n").unwrap();
    let printed = docker_build_in_terminal(&config, &context, "");
    assert!(!printed.contains("docker vouch attest"), "{printed}");
    docker(&["rmi", "vouch-test/hooked:1"]);
}
