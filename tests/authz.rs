//! `docker vouch authz` as the authorization plugin of a real engine: a second engine of the test's
//! own (its own data root, exec root, socket and managed containerd), started with
//! `--authorization-plugin` naming the plugin through a spec file in /etc/docker/plugins, as an
//! operator installs a plugin that is not in /run/docker/plugins. Images are `docker import`s of a
//! static binary built here; attestations are made by `docker vouch attest` against that engine.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::*;

const PASSWORD: &str = "authz test";

/// A `docker vouch authz` process serving `socket`, its stderr in `log`.
struct Plugin {
    child: Child,
    log: PathBuf,
}

impl Plugin {
    fn start(dir: &Path, engine: &str, extra: &[&str]) -> Plugin {
        let socket = dir.join("plugin.sock");
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let log = dir.join(format!("plugin-{n}.log"));
        let child = vouch()
            .args([
                "authz",
                "--key",
                "cosign.pub",
                "--attestations",
                "att",
                "--socket",
            ])
            .arg(&socket)
            .args(extra)
            .env("DOCKER_HOST", engine)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("docker-vouch authz starts");
        let started = Instant::now();
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("listening on")
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the plugin did not listen: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Plugin { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it as systemd does (SIGTERM) and waits; it removes its socket.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A second engine with the plugin named `plugin`, and the spec file that names its socket.
struct Engine {
    child: Child,
    host: String,
    spec: PathBuf,
    dir: PathBuf,
}

impl Engine {
    fn start(dir: &Path, plugin: &str) -> Engine {
        assert!(
            Command::new("dockerd").arg("--version").output().is_ok(),
            "dockerd not found: integration/engine.sh installs Debian's docker.io (make test does this)"
        );
        let plugins = Path::new("/etc/docker/plugins");
        std::fs::create_dir_all(plugins)
            .expect("/etc/docker/plugins: the authz test runs as root, as make test does");
        let spec = plugins.join(format!("{plugin}.spec"));
        std::fs::write(
            &spec,
            format!("unix://{}\n", dir.join("plugin.sock").display()),
        )
        .unwrap();
        let host = format!("unix://{}", dir.join("docker.sock").display());
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(dir.join("root"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("dockerd.pid"))
            .args(["--host", &host, "--storage-driver=vfs", "--iptables=false"])
            .args(["--ip-masq=false", "--bridge=none"])
            .arg(format!("--authorization-plugin={plugin}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("dockerd.log")).unwrap())
            .spawn()
            .expect("dockerd starts");
        let engine = Engine {
            child,
            host,
            spec,
            dir: dir.to_path_buf(),
        };
        let started = Instant::now();
        while !engine.docker(&["version"]).status.success() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the second engine did not answer; its log ends: {}",
                std::fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        engine
    }

    fn docker(&self, args: &[&str]) -> Output {
        docker_at(&self.host, &self.dir, args)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.spec);
    }
}

/// The docker CLI against the engine at `host`.
fn docker_at(host: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new("docker")
        .args(["--host", host])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("docker runs")
}

/// A root holding one static binary, `/app`, that exits with `code` (or waits, for 255), imported
/// as `tag` into the engine at `host`.
fn import_static(host: &str, dir: &Path, tag: &str, code: u8) {
    let root = dir.join(format!("rootfs-{code}"));
    std::fs::create_dir_all(&root).unwrap();
    let source = dir.join(format!("app-{code}.c"));
    let program = match code {
        255 => "#include <unistd.h>\nint main(void) { for (;;) pause(); }\n".to_string(),
        code => format!("int main(void) {{ return {code}; }}\n"),
    };
    std::fs::write(&source, program).unwrap();
    let built = Command::new("gcc")
        .args(["-static", "-Os", "-o"])
        .arg(root.join("app"))
        .arg(&source)
        .output()
        .expect("gcc runs (the Rust toolchain needs it; make test's deps.sh installs libc6-dev)");
    assert!(built.status.success(), "{}", stderr(&built));
    let tar = dir.join(format!("rootfs-{code}.tar"));
    let packed = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .output()
        .unwrap();
    assert!(packed.status.success());
    let imported = docker_at(
        host,
        dir,
        &[
            "import",
            "--change",
            r#"CMD ["/app"]"#,
            tar.to_str().unwrap(),
            tag,
        ],
    );
    assert!(imported.status.success(), "{}", stderr(&imported));
}

fn vouch_on(host: &str, dir: &Path, args: &[&str]) -> Output {
    vouch()
        .args(args)
        .env("DOCKER_HOST", host)
        .env("VOUCH_PASSWORD", PASSWORD)
        .env_remove("COSIGN_PASSWORD")
        .current_dir(dir)
        .output()
        .expect("docker-vouch runs")
}

fn image_id(engine: &Engine, tag: &str) -> String {
    let out = engine.docker(&["image", "inspect", "--format", "{{.Id}}", tag]);
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A raw API request to the second engine, as a client that is not the docker CLI sends it.
fn api(engine: &Engine, path: &str, body: &str) -> (String, String) {
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", "--unix-socket"])
        .arg(engine.dir.join("docker.sock"))
        .args([
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
        ])
        .arg(format!("http://engine{path}"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or((&text, ""));
    (status.to_string(), body.to_string())
}

/// A directory of a second engine's own (under /tmp: unix socket paths are short), with a key pair
/// and an empty attestations directory, and the plugin name the engine is to ask for.
fn workspace(prefix: &str) -> (tempfile::TempDir, String) {
    require_engine();
    let work = tempfile::Builder::new()
        .prefix("vouch-authz")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::create_dir_all(work.path().join("att")).unwrap();
    let out = vouch_on("unix:///var/run/docker.sock", work.path(), &["keygen"]);
    assert!(out.status.success(), "{}", stderr(&out));
    (work, format!("{prefix}-{}", std::process::id()))
}

#[test]
fn the_engine_runs_only_images_that_verify() {
    let (work, plugin_name) = workspace("vouch-test");
    let dir = work.path();

    // The plugin listens before the engine starts: the engine activates it at startup.
    let host = format!("unix://{}", dir.join("docker.sock").display());
    let plugin = Plugin::start(dir, &host, &[]);
    let engine = Engine::start(dir, &plugin_name);
    import_static(&engine.host, dir, "vouch-test/app:1", 0);
    import_static(&engine.host, dir, "vouch-test/other:1", 3);
    let app = image_id(&engine, "vouch-test/app:1");
    let other = image_id(&engine, "vouch-test/other:1");
    let denied = format!("authorization denied by plugin {plugin_name}: vouch: ");

    // Unattested: refused at create, with vouch's message in `docker run`.
    let out = engine.docker(&["run", "--rm", "--network", "none", "vouch-test/app:1"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{denied}vouch-test/app:1 ({app}): NOT VERIFIED: no vouch attestations for it in {}",
            dir.join("att").display()
        )),
        "{}",
        stderr(&out)
    );

    // Attested (its verdict FAILED under the default policy: no USER): it runs.
    let out = vouch_on(
        &engine.host,
        dir,
        &[
            "attest",
            "vouch-test/app:1",
            "--key",
            "cosign.key",
            "--output-dir",
            "att",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(said.contains("verdict FAILED"), "{said}");
    let out = engine.docker(&[
        "run",
        "--name",
        "ran",
        "--network",
        "none",
        "vouch-test/app:1",
    ]);
    assert!(
        out.status.success(),
        "an attested image runs: {}",
        stderr(&out)
    );
    // Its other names and its ID are the same image.
    let out = engine.docker(&["run", "--rm", "--network", "none", &app[7..19]]);
    assert!(out.status.success(), "by short ID: {}", stderr(&out));

    // Everything else goes through.
    for args in [
        &["ps", "-a"][..],
        &["images"],
        &["logs", "ran"],
        &["inspect", "ran"],
        &["rm", "ran"],
    ] {
        let out = engine.docker(args);
        assert!(out.status.success(), "docker {args:?}: {}", stderr(&out));
    }

    // Another image, by tag, by ID, and through raw API calls written to slip past a plugin
    // that reads requests differently from the engine.
    let out = engine.docker(&["run", "--rm", "--network", "none", "vouch-test/other:1"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains(&format!(
            "{denied}vouch-test/other:1 ({other}): NOT VERIFIED"
        )),
        "{}",
        stderr(&out)
    );
    for (path, body) in [
        (
            "/v1.41/containers/create",
            r#"{"Image":"vouch-test/other:1"}"#.to_string(),
        ),
        (
            "/v1.41/containers/create",
            r#"{"image":"vouch-test/other:1"}"#.to_string(),
        ),
        (
            "/v1.41/containers/%63reate",
            format!(r#"{{"Image":"{other}"}}"#),
        ),
        (
            "/containers/create",
            r#"{"Image":"vouch-test/app:1","IMAGE":"vouch-test/other:1"}"#.to_string(),
        ),
    ] {
        let (status, answer) = api(&engine, path, &body);
        assert_ne!(status, "201", "{path} {body}: created: {answer}");
        assert!(
            answer.contains(&format!("authorization denied by plugin {plugin_name}")),
            "{path} {body}: {status} {answer}"
        );
    }
    // A path the engine's router would clean is redirected, never acted on.
    let (status, answer) = api(
        &engine,
        "//v1.41//containers/create",
        r#"{"Image":"vouch-test/other:1"}"#,
    );
    assert!(
        status.starts_with('3') || answer.contains("denied"),
        "{status} {answer}"
    );
    let listed = engine.docker(&["ps", "-aq"]);
    assert!(listed.stdout.is_empty(), "no container was made");

    // A container created while its image verified does not start once it no longer does (the
    // start is judged by the image the container has): here, under --require-pass, which the
    // FAILED verdict does not meet.
    let out = engine.docker(&[
        "create",
        "--name",
        "later",
        "--network",
        "none",
        "vouch-test/app:1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    plugin.stop();
    // With the plugin down, the engine refuses everything: it fails closed.
    let out = engine.docker(&["ps"]);
    assert!(
        !out.status.success(),
        "the engine answered without its plugin"
    );
    assert!(stderr(&out).contains(&plugin_name), "{}", stderr(&out));
    let strict = Plugin::start(dir, &host, &["--require-pass"]);
    let out = engine.docker(&["start", "later"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("{denied}container later ({app}): NOT VERIFIED"))
            && stderr(&out).contains("FAILED"),
        "{}",
        stderr(&out)
    );
    let out = engine.docker(&["run", "--rm", "--network", "none", "vouch-test/app:1"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        strict
            .log()
            .contains("POST /v1.41/containers/create: refused"),
        "{}",
        strict.log()
    );
    drop(engine);
    drop(strict);
    assert!(
        !dir.join("plugin.sock").exists() || std::fs::metadata(dir.join("plugin.sock")).is_ok(),
        "the socket is the plugin's to remove"
    );
}

/// What the plugin does before any engine asks: a file that is not a socket is never replaced.
#[test]
fn the_plugin_never_replaces_a_file_at_its_socket_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "keep me").unwrap();
    let keys = tempfile::tempdir().unwrap();
    let out = vouch()
        .arg("keygen")
        .env("VOUCH_PASSWORD", PASSWORD)
        .current_dir(keys.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = vouch()
        .args(["authz", "--key"])
        .arg(keys.path().join("cosign.pub"))
        .arg("--socket")
        .arg(dir.path().join("notes.txt"))
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exists and is not a socket; not replaced"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "keep me"
    );
}

/// `docker vouch ps` on the engine the tests share: a running container whose image is attested,
/// one whose image is not; exit 1, each named with its image and why.
#[test]
fn ps_says_which_running_containers_verify() {
    require_engine();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::create_dir_all(dir.join("att")).unwrap();
    let out = vouch_on("unix:///var/run/docker.sock", dir, &["keygen"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let pid = std::process::id();
    let (good, bad) = (
        format!("vouch-test/ps-good:{pid}"),
        format!("vouch-test/ps-bad:{pid}"),
    );
    import_static(&host, dir, &good, 255);
    import_static(&host, &dir.join("other"), &bad, 255);
    let out = vouch_on(
        &host,
        dir,
        &[
            "attest",
            &good,
            "--key",
            "cosign.key",
            "--output-dir",
            "att",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let names = [
        format!("vouch-ps-good-{pid}"),
        format!("vouch-ps-bad-{pid}"),
    ];
    for (name, image) in names.iter().zip([&good, &bad]) {
        let out = docker_at(
            &host,
            dir,
            &["run", "-d", "--name", name, "--network", "none", image],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = vouch_on(
        &host,
        dir,
        &[
            "ps",
            "--key",
            "cosign.pub",
            "--attestations",
            "att",
            "--format",
            "json",
        ],
    );
    let table = vouch_on(
        &host,
        dir,
        &["ps", "--key", "cosign.pub", "--attestations", "att"],
    );
    for name in &names {
        docker_at(&host, dir, &["rm", "-f", name]);
    }
    docker_at(&host, dir, &["rmi", "-f", &good, &bad]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |name: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed: {rows}"))
            .clone()
    };
    let (g, b) = (row(&names[0]), row(&names[1]));
    assert_eq!(
        (g["verified"].as_bool(), g["image"].as_str()),
        (Some(true), Some(good.as_str()))
    );
    assert_eq!(b["verified"].as_bool(), Some(false));
    assert!(
        b["reason"]
            .as_str()
            .unwrap()
            .contains("no attestations for"),
        "{b}"
    );
    let text = String::from_utf8_lossy(&table.stdout);
    assert_eq!(table.status.code(), Some(1));
    assert!(
        text.lines()
            .any(|l| l.starts_with(&names[0]) && l.ends_with("yes"))
            && text
                .lines()
                .any(|l| l.starts_with(&names[1]) && l.contains("NO: ")),
        "{text}"
    );
}

/// The policy's `runtime` rules, applied by the plugin: under the example policy's least privilege
/// (`runtime: {}`), `--privileged`, an added capability, a host path (bound directly or through a
/// volume's driver options) and a privileged exec are refused, naming the rule and what was asked;
/// a policy that allows some of it lets exactly that through.
#[test]
fn runtime_rules_weigh_the_privileges_asked_for() {
    let (work, plugin_name) = workspace("vouch-test-runtime");
    let dir = work.path();
    let host = format!("unix://{}", dir.join("docker.sock").display());
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policy.yaml");
    std::fs::write(
        dir.join("lenient.yaml"),
        "version: \"1\"\nrules:\n  - id: least-privilege\n    action: deny\n    runtime:\n      allow_privileged: true\n      allow_capabilities: [SYS_ADMIN]\n",
    )
    .unwrap();
    let plugin = Plugin::start(dir, &host, &["--policy", example.to_str().unwrap()]);
    let engine = Engine::start(dir, &plugin_name);
    import_static(&engine.host, dir, "vouch-test/app:1", 0);
    import_static(&engine.host, dir, "vouch-test/sleeper:1", 255);
    for image in ["vouch-test/app:1", "vouch-test/sleeper:1"] {
        let out = vouch_on(
            &engine.host,
            dir,
            &[
                "attest",
                image,
                "--key",
                "cosign.key",
                "--output-dir",
                "att",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--rm", "--network", "none"];
        args.extend(extra);
        args.push("vouch-test/app:1");
        engine.docker(&args)
    };
    let out = run(&[]);
    assert!(out.status.success(), "no privilege asked: {}", stderr(&out));
    let refused = "not allowed by the policy's runtime rules: rule least-privilege: ";
    for (extra, what) in [
        (&["--privileged"][..], "privileged"),
        (&["--cap-add", "SYS_ADMIN"], "capability SYS_ADMIN"),
        (&["-v", "/etc:/host-etc:ro"], "host path /etc"),
        (&["--pid", "host"], "the host's pid namespace"),
        (
            &["--security-opt", "seccomp=unconfined"],
            "--security-opt seccomp=unconfined",
        ),
    ] {
        let out = run(extra);
        assert_eq!(out.status.code(), Some(125), "{extra:?} ran");
        assert!(
            stderr(&out).contains(&format!("{refused}{what}")),
            "{extra:?}: {}",
            stderr(&out)
        );
    }
    let out = engine.docker(&[
        "volume",
        "create",
        "--opt",
        "type=none",
        "--opt",
        "o=bind",
        "--opt",
        "device=/etc",
        "etc",
    ]);
    assert!(!out.status.success(), "a volume binding /etc was made");
    assert!(stderr(&out).contains("host path /etc"), "{}", stderr(&out));
    let out = engine.docker(&[
        "run",
        "-d",
        "--name",
        "sleeps",
        "--network",
        "none",
        "vouch-test/sleeper:1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = engine.docker(&["exec", "--privileged", "sleeps", "/app"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("{refused}privileged")),
        "{}",
        stderr(&out)
    );
    let out = engine.docker(&["exec", "-d", "sleeps", "/app"]);
    assert!(out.status.success(), "a plain exec: {}", stderr(&out));

    // A policy that allows privileged containers and SYS_ADMIN lets exactly those through (created,
    // not run: this sandbox's runc may not grant them).
    plugin.stop();
    let lenient = Plugin::start(dir, &host, &["--policy", "lenient.yaml"]);
    let create = |extra: &[&str]| {
        let mut args = vec!["create", "--network", "none"];
        args.extend(extra);
        args.push("vouch-test/app:1");
        engine.docker(&args)
    };
    for extra in [&["--privileged"][..], &["--cap-add", "SYS_ADMIN"]] {
        let out = create(extra);
        assert!(out.status.success(), "{extra:?}: {}", stderr(&out));
    }
    let out = create(&["--cap-add", "NET_ADMIN"]);
    assert!(
        stderr(&out).contains(&format!("{refused}capability NET_ADMIN")),
        "{}",
        stderr(&out)
    );
    engine.docker(&["rm", "-f", "sleeps"]);
    drop(engine);
    drop(lenient);
}

/// An image attested in the registry it was pulled from (`attest --push`), with no set in the
/// plugin's directory, runs: verified beside it in the registry, as `serve` verifies it; one the
/// registry holds no attestations for is refused, saying where it looked.
#[test]
fn images_pulled_from_a_registry_are_verified_there() {
    support::registry::require_registries();
    let (work, plugin_name) = workspace("vouch-test-registry");
    let dir = work.path();
    let registry = support::registry::open_registry();
    let pid = std::process::id();
    let shared =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let image = |name: &str| format!("{registry}/vouch-test/authz-{name}:{pid}");
    let (signed, unsigned, keyless, keyless_other) = (
        image("signed"),
        image("unsigned"),
        image("keyless"),
        image("keyless-other"),
    );
    // Built on the shared engine, pushed, and (all but one) attested in the registry; two are
    // then signed again keylessly (as CI signs with Sigstore), by two identities of one CA.
    import_static(&shared, dir, &signed, 0);
    import_static(&shared, &dir.join("other"), &unsigned, 7);
    import_static(&shared, dir, &keyless, 3);
    import_static(&shared, dir, &keyless_other, 4);
    let all = [&signed, &unsigned, &keyless, &keyless_other];
    for image in all {
        let out = docker_at(&shared, dir, &["push", image]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for image in [&signed, &keyless, &keyless_other] {
        let out = vouch_on(
            &shared,
            dir,
            &[
                "attest",
                image,
                "--key",
                "cosign.key",
                "--push",
                "--output-dir",
                "elsewhere",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let trust = dir.join("trust");
    let release = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
    let nightly = "https://github.com/acme/app/.github/workflows/nightly.yml@refs/heads/main";
    for (image, repo, identity) in [
        (&keyless, "vouch-test/authz-keyless", release),
        (&keyless_other, "vouch-test/authz-keyless-other", nightly),
    ] {
        let digest = support::registry::repo_digest(image, &registry);
        support::registry::sign_keylessly(&registry, repo, &digest, &trust, identity);
    }
    for image in all {
        docker_at(&shared, dir, &["rmi", "-f", image]);
    }

    let host = format!("unix://{}", dir.join("docker.sock").display());
    let root = trust.join("trusted_root.json").display().to_string();
    // The key and the release workflow's identity are both accepted.
    let plugin = Plugin::start(
        dir,
        &host,
        &[
            "--certificate-identity",
            release,
            "--certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com",
            "--trusted-root",
            &root,
        ],
    );
    let engine = Engine::start(dir, &plugin_name);
    for image in all {
        let out = engine.docker(&["pull", "-q", image]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = engine.docker(&["run", "--rm", "--network", "none", &signed]);
    assert!(
        out.status.success(),
        "attested in its registry: {}",
        stderr(&out)
    );
    let out = engine.docker(&["run", "--rm", "--network", "none", &keyless]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "signed keylessly by the identity named, it runs (and exits 3): {}",
        stderr(&out)
    );
    let out = engine.docker(&["run", "--rm", "--network", "none", &keyless_other]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "keyless: certificate identity: identity mismatch: expected {release}, got {nightly}"
        )),
        "{}",
        stderr(&out)
    );
    assert!(
        std::fs::read_dir(dir.join("att")).unwrap().next().is_none(),
        "no local set was used"
    );
    let out = engine.docker(&["run", "--rm", "--network", "none", &unsigned]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains(&format!(
            ", nor in its registry ({registry}/vouch-test/authz-unsigned@sha256:"
        )) && stderr(&out).contains("no vouch attestations beside it in the registry"),
        "{}",
        stderr(&out)
    );
    drop(engine);
    drop(plugin);
}
