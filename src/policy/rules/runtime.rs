//! `runtime` rules: the privileges a container may be created with. An image has none until it
//! runs, so these are not judged at build (the verdict says `not_applicable`); `docker vouch authz`
//! applies them to every container create and exec the engine is asked for. Least privilege is the
//! default: an empty `runtime: {}` refuses `--privileged`, host namespaces, added capabilities, host
//! path mounts, devices, security options that turn confinement off, and root in an image that
//! declares a non-root user; each `allow_*` key lets some of it through.

use super::super::config::Policy;
use super::super::diags::{Origin, PolicyError};
use super::super::file::Action;
use super::super::file::RuntimeFile;
use super::config::runs_as_root;
use super::Check;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::BTreeSet;

/// Why a `runtime` rule has no status at build.
pub const NOT_AT_BUILD: &str =
    "runtime rules judge containers, not images: `docker vouch authz` applies them to each create and exec";

/// The image's user when it is not read (admission reviews name images, not their configs): an
/// explicit request for root is then refused unless `allow_root`.
pub const NOT_READ: &str = "(not read)";

/// The host namespaces a container can share.
const NAMESPACES: [&str; 4] = ["pid", "network", "ipc", "uts"];

/// Security options that turn a confinement off.
const UNCONFINED: [&str; 5] = [
    "seccomp=unconfined",
    "apparmor=unconfined",
    "label=disable",
    "no-new-privileges=false",
    "systempaths=unconfined",
];

#[derive(Debug)]
pub struct RuntimeCheck {
    privileged: bool,
    host_namespaces: BTreeSet<String>,
    capabilities: BTreeSet<String>,
    host_paths: GlobSet,
    devices: bool,
    unconfined: bool,
    root: bool,
}

/// What a container (or an exec in one) asks for, as the engine would grant it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Privileges {
    pub privileged: bool,
    /// `pid`, `network`, `ipc`, `uts` shared with the host.
    pub host_namespaces: Vec<String>,
    /// Capabilities added, as written (`SYS_ADMIN`, `CAP_NET_RAW`, `all`).
    pub capabilities: Vec<String>,
    /// Host paths bind-mounted.
    pub host_paths: Vec<String>,
    /// Host devices mapped in.
    pub devices: Vec<String>,
    /// Security options, as written.
    pub security_options: Vec<String>,
    /// The user asked for; `None` runs the image's.
    pub user: Option<String>,
}

/// `CAP_SYS_ADMIN`, `sys_admin` → `SYS_ADMIN`.
fn capability(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    upper.strip_prefix("CAP_").unwrap_or(&upper).to_string()
}

/// A host path with `.` and `..` resolved and no trailing slash, as the mount will take it.
fn lexical(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `seccomp:unconfined` and `seccomp=unconfined` are one option.
fn option(text: &str) -> String {
    text.trim().to_ascii_lowercase().replacen(':', "=", 1)
}

impl RuntimeCheck {
    pub fn compile(file: &RuntimeFile, origin: &Origin) -> Result<RuntimeCheck, PolicyError> {
        let mut host_namespaces = BTreeSet::new();
        for namespace in &file.allow_host_namespaces {
            let name = namespace.as_str().trim().to_ascii_lowercase();
            if !NAMESPACES.contains(&name.as_str()) {
                return Err(origin.at(
                    namespace,
                    format!(
                        "`{}` is not a host namespace (pid, network, ipc, uts)",
                        namespace.as_str()
                    ),
                ));
            }
            host_namespaces.insert(name);
        }
        let mut capabilities = BTreeSet::new();
        for name in &file.allow_capabilities {
            let cap = capability(name.as_str());
            if cap.is_empty() || !cap.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                return Err(origin.at(
                    name,
                    format!("`{}` is not a capability name", name.as_str()),
                ));
            }
            capabilities.insert(cap);
        }
        let mut paths = GlobSetBuilder::new();
        for path in &file.allow_host_paths {
            if !path.as_str().starts_with('/') {
                return Err(origin.at(
                    path,
                    format!("`{}`: host paths are absolute", path.as_str()),
                ));
            }
            let glob = Glob::new(&lexical(path.as_str()))
                .map_err(|e| origin.at(path, format!("bad glob `{}`: {e}", path.as_str())))?;
            paths.add(glob);
        }
        let host_paths = paths.build().map_err(|e| {
            origin.error(
                &marked_yaml::Span::new_blank(),
                format!("allow_host_paths: {e}"),
            )
        })?;
        Ok(RuntimeCheck {
            privileged: file.allow_privileged,
            host_namespaces,
            capabilities,
            host_paths,
            devices: file.allow_devices,
            unconfined: file.allow_unconfined,
            root: file.allow_root,
        })
    }

    /// What `asked` has that this rule does not allow, one line each; `image_user` is the user the
    /// image declares.
    pub fn judge(&self, asked: &Privileges, image_user: Option<&str>) -> Vec<String> {
        let mut refused = Vec::new();
        if asked.privileged && !self.privileged {
            refused.push("privileged".to_string());
        }
        for namespace in &asked.host_namespaces {
            if !self.host_namespaces.contains(namespace) {
                refused.push(format!("the host's {namespace} namespace"));
            }
        }
        for cap in &asked.capabilities {
            let name = capability(cap);
            if !self.capabilities.contains(&name) && !self.capabilities.contains("ALL") {
                refused.push(format!("capability {name}"));
            }
        }
        for path in &asked.host_paths {
            let resolved = lexical(path);
            if !self.host_paths.is_match(&resolved) {
                refused.push(format!("host path {resolved}"));
            }
        }
        if !asked.devices.is_empty() && !self.devices {
            refused.push(format!("device {}", asked.devices.join(", ")));
        }
        for opt in &asked.security_options {
            if UNCONFINED.contains(&option(opt).as_str()) && !self.unconfined {
                refused.push(format!("--security-opt {opt}"));
            }
        }
        if let Some(user) = &asked.user {
            let asks_root = runs_as_root(user) && !user.trim().is_empty();
            match image_user {
                _ if !asks_root || self.root => {}
                Some(NOT_READ) => refused.push(format!("user {user}")),
                Some(declared) if !runs_as_root(declared) => {
                    refused.push(format!("user {user} (the image declares user {declared})"))
                }
                _ => {}
            }
        }
        refused
    }
}

/// A `runtime` rule of a policy.
#[derive(Debug)]
struct RuntimeRule {
    id: String,
    action: Action,
    check: RuntimeCheck,
}

/// The `runtime` rules of a policy, in its order: what `authz` and `serve` weigh privileges with.
#[derive(Debug, Default)]
pub struct RuntimeRules(Vec<RuntimeRule>);

/// Privileges weighed: one line per rule that found something (`rule ID: privileged, ...`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Weighed {
    /// By `deny` rules: the request is refused.
    pub refused: Vec<String>,
    /// By `warn` rules: said, and let through.
    pub warned: Vec<String>,
}

impl RuntimeRules {
    /// The `runtime` rules of `policy`.
    pub fn of(policy: Policy) -> RuntimeRules {
        RuntimeRules(
            policy
                .rules
                .into_iter()
                .filter_map(|rule| match rule.check {
                    Check::Runtime(check) => Some(RuntimeRule {
                        id: rule.id,
                        action: rule.action,
                        check,
                    }),
                    _ => None,
                })
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `asked` weighed by every rule; `image_user` is the user the image declares.
    pub fn weigh(&self, asked: &Privileges, image_user: Option<&str>) -> Weighed {
        let mut weighed = Weighed::default();
        for rule in &self.0 {
            let found = rule.check.judge(asked, image_user);
            if found.is_empty() {
                continue;
            }
            let line = format!("rule {}: {}", rule.id, found.join(", "));
            match rule.action {
                Action::Deny => weighed.refused.push(line),
                Action::Warn => weighed.warned.push(line),
            }
        }
        weighed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            name: "test.yaml".into(),
            dir: None,
        }
    }

    /// A runtime rule's YAML, read as the policy reader reads it.
    fn check(yaml: &str) -> RuntimeCheck {
        let node = marked_yaml::parse_yaml(0, yaml).unwrap();
        let file: RuntimeFile = marked_yaml::from_node(&node).unwrap();
        RuntimeCheck::compile(&file, &origin()).unwrap()
    }

    #[test]
    fn least_privilege_unless_allowed() {
        let strict = check("{}");
        let asked = Privileges {
            privileged: true,
            host_namespaces: vec!["pid".into(), "network".into()],
            capabilities: vec!["cap_sys_admin".into(), "NET_BIND_SERVICE".into()],
            host_paths: vec!["/var/log/app/../../../etc".into(), "/var/log/app/x".into()],
            devices: vec!["/dev/kvm".into()],
            security_options: vec!["seccomp:unconfined".into(), "no-new-privileges".into()],
            user: Some("0".into()),
        };
        assert_eq!(
            strict.judge(&asked, Some("10001")),
            [
                "privileged",
                "the host's pid namespace",
                "the host's network namespace",
                "capability SYS_ADMIN",
                "capability NET_BIND_SERVICE",
                "host path /etc",
                "host path /var/log/app/x",
                "device /dev/kvm",
                "--security-opt seccomp:unconfined",
                "user 0 (the image declares user 10001)",
            ]
        );
        let lenient = check(
            "{allow_privileged: true, allow_host_namespaces: [network], allow_capabilities: [NET_BIND_SERVICE], \
             allow_host_paths: ['/var/log/app/**'], allow_devices: true, allow_unconfined: true, allow_root: true}",
        );
        assert_eq!(
            lenient.judge(&asked, Some("10001")),
            [
                "the host's pid namespace",
                "capability SYS_ADMIN",
                "host path /etc"
            ]
        );
        // Root is the image's own choice when it declares none.
        let as_root = Privileges {
            user: Some("root".into()),
            ..Default::default()
        };
        assert!(strict.judge(&as_root, None).is_empty());
        assert!(strict.judge(&as_root, Some("0")).is_empty());
        assert!(strict
            .judge(&Privileges::default(), Some("10001"))
            .is_empty());
        // Where the image's user is not read (Kubernetes), explicit root is refused unless allowed.
        assert_eq!(strict.judge(&as_root, Some(NOT_READ)), ["user root"]);
        assert!(lenient.judge(&as_root, Some(NOT_READ)).is_empty());
    }

    #[test]
    fn bad_names_are_errors_at_their_line() {
        for yaml in [
            "{allow_host_namespaces: [cgroup]}",
            "{allow_capabilities: ['sys admin']}",
            "{allow_host_paths: [var/log]}",
            "{allow_root: true, allow_everything: true}",
        ] {
            let node = marked_yaml::parse_yaml(0, yaml).unwrap();
            let parsed: Result<RuntimeFile, _> = marked_yaml::from_node(&node);
            let compiled = parsed
                .map_err(|e| e.to_string())
                .and_then(|f| RuntimeCheck::compile(&f, &origin()).map_err(|e| e.to_string()));
            assert!(compiled.is_err(), "{yaml}");
        }
    }
}
