//! vouch's own image and its Kubernetes manifests. The image (`Dockerfile`, built by
//! `integration/image.sh` around this build's binary) is built on the engine: it runs as its
//! unprivileged user with no shell, passes vouch's own default policy, its SBOM lists the Debian
//! packages its files come from, and `serve` in it answers an AdmissionReview over TLS. The manifests
//! in `deploy/` validate against Kubernetes' own OpenAPI schemas (kubernetes-validate, strict) and name
//! the image, ports, flags, endpoints and user that the binary and the image really have.

mod support;

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use support::*;

const MANIFESTS: &[&str] = &[
    "namespace.yaml",
    "deployment.yaml",
    "pdb.yaml",
    "service.yaml",
    "webhook.yaml",
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The tag `make image` gives vouch's image (integration/image.sh's default).
fn image_tag() -> String {
    format!("vouch/docker-vouch:{}", env!("CARGO_PKG_VERSION"))
}

/// Every document of a manifest file, read by PyYAML (a second reader) into JSON.
fn documents(file: &str) -> Vec<Value> {
    let script =
        "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(repo().join("deploy").join(file))
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{file}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn one(file: &str, kind: &str) -> Value {
    let docs = documents(file);
    assert_eq!(docs.len(), 1, "{file}");
    assert_eq!(docs[0]["kind"], kind, "{file}");
    docs[0].clone()
}

/// The value of `--NAME` in an argument list.
fn flag<'a>(args: &'a [Value], name: &str) -> &'a str {
    let at = args
        .iter()
        .position(|a| a == name)
        .unwrap_or_else(|| panic!("{name} in {args:?}"));
    args[at + 1].as_str().unwrap()
}

fn seconds(duration: &str) -> u64 {
    let (n, unit) = duration.split_at(duration.len() - 1);
    let n: u64 = n.parse().unwrap();
    match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => panic!("{duration}"),
    }
}

#[test]
fn the_manifests_validate_against_kubernetes_schemas_and_match_the_binary() {
    for version in ["1.30", "1.37"] {
        let out = Command::new("kubernetes-validate")
            .args(["--strict", "--no-warn", "-k", version])
            .args(MANIFESTS.iter().map(|m| repo().join("deploy").join(m)))
            .output()
            .expect("kubernetes-validate runs (integration/deps.sh installs it)");
        assert!(
            out.status.success(),
            "Kubernetes {version}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
    }
    let kustomization = one("kustomization.yaml", "Kustomization");
    assert_eq!(
        kustomization["resources"],
        serde_json::json!(MANIFESTS),
        "kustomization.yaml lists every manifest"
    );

    let serve_help =
        String::from_utf8(vouch().args(["serve", "--help"]).output().unwrap().stdout).unwrap();
    let deployment = one("deployment.yaml", "Deployment");
    let namespace = one("namespace.yaml", "Namespace")["metadata"]["name"].clone();
    assert_eq!(deployment["metadata"]["namespace"], namespace);
    assert_eq!(deployment["spec"]["replicas"], 2);
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(&deployment["spec"]["selector"]["matchLabels"], labels);
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["image"], image_tag().as_str());
    let args = container["args"].as_array().unwrap();
    assert_eq!(args[0], "serve");
    for arg in args.iter().filter_map(|a| a.as_str()) {
        if arg.starts_with("--") {
            assert!(
                serve_help.contains(&format!("{arg} ")) || serve_help.contains(&format!("{arg}\n")),
                "docker-vouch serve has no {arg}"
            );
        }
    }
    let listen = flag(args, "--listen");
    assert!(
        serve_help.contains(&format!("[default: {listen}]")),
        "--listen {listen} is serve's default"
    );
    let port: u64 = listen.rsplit(':').next().unwrap().parse().unwrap();
    let ports = container["ports"].as_array().unwrap();
    assert_eq!(ports[0]["containerPort"], port);
    let port_name = ports[0]["name"].as_str().unwrap();
    for probe in ["readinessProbe", "livenessProbe"] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], "/healthz", "{probe}");
        assert_eq!(get["scheme"], "HTTPS", "{probe}");
        assert_eq!(get["port"], port_name, "{probe}");
    }
    for limit in ["cpu", "memory"] {
        assert!(
            container["resources"]["limits"][limit].is_string(),
            "{limit}"
        );
        assert!(
            container["resources"]["requests"][limit].is_string(),
            "{limit}"
        );
    }
    // The pod runs as the user the image declares (the Dockerfile's USER).
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    let user = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .unwrap();
    let uid: u64 = user.split(':').next().unwrap().parse().unwrap();
    assert_eq!(pod["securityContext"]["runAsUser"], uid);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["securityContext"]["capabilities"]["drop"],
        serde_json::json!(["ALL"])
    );

    let pdb = one("pdb.yaml", "PodDisruptionBudget");
    assert_eq!(pdb["metadata"]["namespace"], namespace);
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert_eq!(&pdb["spec"]["selector"]["matchLabels"], labels);

    let service = one("service.yaml", "Service");
    assert_eq!(service["metadata"]["namespace"], namespace);
    assert_eq!(&service["spec"]["selector"], labels);
    assert_eq!(service["spec"]["ports"][0]["targetPort"], port_name);
    let service_port = &service["spec"]["ports"][0]["port"];

    let webhook = one("webhook.yaml", "ValidatingWebhookConfiguration");
    let hook = &webhook["webhooks"][0];
    assert_eq!(hook["failurePolicy"], "Fail");
    assert_eq!(hook["sideEffects"], "None");
    let timeout = hook["timeoutSeconds"].as_u64().unwrap();
    assert!(
        timeout > seconds(flag(args, "--review-timeout")),
        "the API server waits longer than serve's --review-timeout, so vouch answers and says why"
    );
    let service_ref = &hook["clientConfig"]["service"];
    assert_eq!(service_ref["name"], service["metadata"]["name"]);
    assert_eq!(service_ref["namespace"], namespace);
    assert_eq!(&service_ref["port"], service_port);
    assert_eq!(service_ref["path"], "/validate");
    let excluded = &hook["namespaceSelector"]["matchExpressions"][0];
    assert_eq!(excluded["operator"], "NotIn");
    let values = excluded["values"].as_array().unwrap();
    assert!(values.contains(&namespace) && values.contains(&Value::from("kube-system")));
    let resources: Vec<&str> = hook["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["resources"].as_array().unwrap())
        .filter_map(|r| r.as_str())
        .collect();
    for kind in ["pods", "deployments", "jobs", "cronjobs"] {
        assert!(resources.contains(&kind), "{kind} in {resources:?}");
    }
    // Namespaces choose their mode by the label vouch.dev/mode: enforce leaves out audit and off;
    // the audit webhook takes audit alone, at /validate/audit, and never blocks.
    let by_label = |hook: &Value| hook["namespaceSelector"]["matchExpressions"][1].clone();
    assert_eq!(
        by_label(hook),
        serde_json::json!({"key": "vouch.dev/mode", "operator": "NotIn", "values": ["audit", "off"]})
    );
    let audit = &webhook["webhooks"][1];
    assert_eq!(audit["clientConfig"]["service"]["path"], "/validate/audit");
    assert_eq!(audit["failurePolicy"], "Ignore");
    assert_eq!(audit["rules"], hook["rules"], "the same objects");
    assert_eq!(audit["namespaceSelector"]["matchExpressions"][0], *excluded);
    assert_eq!(
        by_label(audit),
        serde_json::json!({"key": "vouch.dev/mode", "operator": "In", "values": ["audit"]})
    );
}

/// A TCP port free on 127.0.0.1 now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn vouchs_own_image_builds_passes_its_policy_and_serves_reviews() {
    require_engine();
    let tag = format!("vouch-test/self:{}", std::process::id());
    let out = Command::new(repo().join("integration/image.sh"))
        .args([env!("CARGO_BIN_EXE_docker-vouch"), &tag])
        .output()
        .expect("integration/image.sh runs");
    assert!(out.status.success(), "image.sh: {}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), tag);
    let config: Value = serde_json::from_str(&docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config}}",
        &tag,
    ]))
    .unwrap();
    assert_eq!(config["User"], "65532:65532");
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["/usr/local/bin/docker-vouch"])
    );
    // No shell to run.
    let shell = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "/bin/sh",
            &tag,
            "-c",
            "true",
        ])
        .output()
        .unwrap();
    assert!(!shell.status.success(), "the image has a shell");
    let version = docker(&["run", "--rm", "--network", "none", &tag, "--version"]);
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");

    // vouch's own default policy passes it; its SBOM lists the Debian packages of its files.
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    let check = run_vouch(w, &["check", &tag]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let (sbom, _) = sbom_of_image(&tag);
    let names: Vec<String> = packages(&sbom).into_iter().map(|p| p.0).collect();
    for package in ["libc6", "libgcc-s1", "ca-certificates"] {
        assert!(
            names.contains(&package.to_string()),
            "{package} in {names:?}"
        );
    }

    // serve in the image, on the host's network, answers a review over TLS: a Pod whose image has
    // no attestations (its registry cannot be reached) is refused, saying why.
    self_signed(w, "tls");
    let keygen = vouch()
        .arg("keygen")
        .current_dir(w)
        .env("VOUCH_PASSWORD", "p")
        .output()
        .unwrap();
    assert!(keygen.status.success(), "{}", stderr(&keygen));
    for file in ["tls.crt", "tls.key", "cosign.pub"] {
        // The server runs as 65532: the mounted files must be readable by it.
        std::fs::set_permissions(w.join(file), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::set_permissions(w, std::fs::Permissions::from_mode(0o755)).unwrap();
    let port = free_port();
    let mount = format!("{}:/cfg:ro", w.display());
    let listen = format!("127.0.0.1:{port}");
    let container = docker(&[
        "run",
        "-d",
        "--network",
        "host",
        "-v",
        &mount,
        &tag,
        "serve",
        "--key",
        "/cfg/cosign.pub",
        "--tls-cert",
        "/cfg/tls.crt",
        "--tls-key",
        "/cfg/tls.key",
        "--listen",
        &listen,
    ]);
    let container = container.trim().to_string();
    let curl = |path: &str, body: Option<&str>| {
        let mut command = Command::new("curl");
        command
            .args(["-sS", "--max-time", "20", "--cacert"])
            .arg(w.join("tls.crt"))
            .arg(format!("https://127.0.0.1:{port}{path}"));
        if let Some(body) = body {
            command.args([
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                body,
            ]);
        }
        command.stdin(Stdio::null()).output().unwrap()
    };
    let mut healthy = false;
    let mut last = String::new();
    for _ in 0..50 {
        let out = curl("/healthz", None);
        if out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok" {
            healthy = true;
            break;
        }
        last = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let logs = || {
        let out = Command::new("docker")
            .args(["logs", &container])
            .output()
            .unwrap();
        format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out))
    };
    if !healthy {
        let said = logs();
        docker(&["rm", "-f", &container]);
        panic!("serve in the image never answered /healthz ({last}): {said}");
    }
    let review = serde_json::json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "self-1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                    "operation": "CREATE", "namespace": "demo",
                    "object": {"metadata": {"name": "p"},
                               "spec": {"containers": [{"name": "app", "image": "127.0.0.1:1/none/app:1"}]}}}
    });
    let out = curl("/validate", Some(&review.to_string()));
    let said = logs();
    let user = docker(&["inspect", "--format", "{{.Config.User}}", &container]);
    docker(&["rm", "-f", &container]);
    docker(&["rmi", "-f", &tag]);
    assert!(out.status.success(), "curl: {} {said}", stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(answer["response"]["uid"], "self-1");
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(message.contains("127.0.0.1:1/none/app:1"), "{message}");
    assert_eq!(user.trim(), "65532:65532");
}
