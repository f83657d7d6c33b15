//! Finding and connecting to the Docker engine the way the docker CLI does: `--host`, `--context`,
//! `DOCKER_HOST`, `DOCKER_CONTEXT`, `currentContext` in config.json, then the default socket; TLS
//! material from the flags, `DOCKER_CERT_PATH`, or the context store.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The docker CLI's connection flags, as passed before the plugin name.
#[derive(Debug, Clone, Default)]
pub struct EngineFlags {
    pub host: Option<String>,
    pub context: Option<String>,
    pub config_dir: Option<PathBuf>,
    pub tls: bool,
    pub tls_verify: bool,
    pub tls_ca_cert: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

/// Files for a TLS connection to the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Where the engine is, and how it was chosen (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub tls: Option<TlsFiles>,
    pub chosen_by: String,
}

pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// Why the engine could not be found or reached.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error("conflicting options: --host and --context cannot both be given")]
    HostAndContext,
    #[error("docker context {name:?} not found in {store} (see `docker context ls`)")]
    ContextNotFound { name: String, store: String },
    #[error("docker context {name:?}: {detail}")]
    BadContext { name: String, detail: String },
    #[error("{path}: {detail}")]
    BadConfig { path: String, detail: String },
    #[error("cannot reach the Docker engine at {host} ({chosen_by}): {detail}. Is the engine running? Start one (for tests: integration/engine.sh start) or point DOCKER_HOST / --context at a running one")]
    Unreachable {
        host: String,
        chosen_by: String,
        detail: String,
    },
    #[error("unsupported engine address {0:?}: use unix://, tcp:// or https://")]
    UnsupportedScheme(String),
}

/// The docker CLI config directory: `--config`, `DOCKER_CONFIG`, or `~/.docker`.
pub fn config_dir(flags: &EngineFlags, env: &HashMap<String, String>) -> PathBuf {
    if let Some(dir) = &flags.config_dir {
        return dir.clone();
    }
    if let Some(dir) = env.get("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = env.get("HOME").cloned().unwrap_or_else(|| "/root".into());
    Path::new(&home).join(".docker")
}

/// Resolves the engine endpoint from flags and environment, as the docker CLI does.
pub fn resolve_endpoint(
    flags: &EngineFlags,
    env: &HashMap<String, String>,
) -> Result<Endpoint, EngineError> {
    if flags.host.is_some() && flags.context.is_some() {
        return Err(EngineError::HostAndContext);
    }
    let config_dir = config_dir(flags, env);
    let non_empty = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();

    let (context, chosen_by) = if let Some(c) = &flags.context {
        (c.clone(), "--context".to_string())
    } else if flags.host.is_some() {
        ("default".to_string(), "--host".to_string())
    } else if non_empty("DOCKER_HOST").is_some() {
        ("default".to_string(), "DOCKER_HOST".to_string())
    } else if let Some(c) = non_empty("DOCKER_CONTEXT") {
        (c, "DOCKER_CONTEXT".to_string())
    } else if let Some(c) = current_context(&config_dir)? {
        (
            c,
            format!(
                "currentContext in {}",
                config_dir.join("config.json").display()
            ),
        )
    } else {
        ("default".to_string(), "default".to_string())
    };

    if context != "default" {
        let mut endpoint = context_endpoint(&config_dir, &context)?;
        endpoint.chosen_by = format!("context {context:?} from {chosen_by}");
        return Ok(endpoint);
    }

    let host = flags
        .host
        .clone()
        .or_else(|| non_empty("DOCKER_HOST"))
        .unwrap_or_else(|| DEFAULT_HOST.to_string());
    let chosen_by = if chosen_by == "default" {
        "the default socket".to_string()
    } else {
        chosen_by
    };
    let tls_wanted = flags.tls || flags.tls_verify || non_empty("DOCKER_TLS_VERIFY").is_some();
    let tls = if tls_wanted {
        let cert_dir = non_empty("DOCKER_CERT_PATH")
            .map(PathBuf::from)
            .unwrap_or_else(|| config_dir.clone());
        Some(TlsFiles {
            ca: flags
                .tls_ca_cert
                .clone()
                .unwrap_or_else(|| cert_dir.join("ca.pem")),
            cert: flags
                .tls_cert
                .clone()
                .unwrap_or_else(|| cert_dir.join("cert.pem")),
            key: flags
                .tls_key
                .clone()
                .unwrap_or_else(|| cert_dir.join("key.pem")),
        })
    } else {
        None
    };
    Ok(Endpoint {
        host,
        tls,
        chosen_by,
    })
}

fn current_context(config_dir: &Path) -> Result<Option<String>, EngineError> {
    let path = config_dir.join("config.json");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(_) => return Ok(None),
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| EngineError::BadConfig {
            path: path.display().to_string(),
            detail: format!("not valid JSON: {e}"),
        })?;
    Ok(value
        .get("currentContext")
        .and_then(|c| c.as_str())
        .filter(|c| !c.is_empty())
        .map(str::to_string))
}

/// Reads a context from the docker CLI's context store (`contexts/meta/<sha256(name)>/meta.json`,
/// TLS files in `contexts/tls/<sha256(name)>/docker/`).
fn context_endpoint(config_dir: &Path, name: &str) -> Result<Endpoint, EngineError> {
    let id = hex::encode(Sha256::digest(name.as_bytes()));
    let meta_path = config_dir
        .join("contexts")
        .join("meta")
        .join(&id)
        .join("meta.json");
    let bytes = std::fs::read(&meta_path).map_err(|_| EngineError::ContextNotFound {
        name: name.into(),
        store: config_dir.join("contexts").display().to_string(),
    })?;
    let meta: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| EngineError::BadContext {
            name: name.into(),
            detail: format!("{}: not valid JSON: {e}", meta_path.display()),
        })?;
    let host = meta
        .pointer("/Endpoints/docker/Host")
        .and_then(|h| h.as_str())
        .ok_or_else(|| EngineError::BadContext {
            name: name.into(),
            detail: "no docker endpoint Host".into(),
        })?
        .to_string();
    let tls_dir = config_dir
        .join("contexts")
        .join("tls")
        .join(&id)
        .join("docker");
    let tls = tls_dir.join("cert.pem").is_file().then(|| TlsFiles {
        ca: tls_dir.join("ca.pem"),
        cert: tls_dir.join("cert.pem"),
        key: tls_dir.join("key.pem"),
    });
    Ok(Endpoint {
        host,
        tls,
        chosen_by: String::new(),
    })
}

/// Seconds a single engine request may take: exports of large images stream for minutes.
const REQUEST_TIMEOUT_SECS: u64 = 3600;

/// Connects to the endpoint and agrees on an API version (the engine may be older than bollard).
async fn connect(endpoint: &Endpoint) -> Result<bollard::Docker, EngineError> {
    use bollard::{Docker, API_DEFAULT_VERSION};
    let unreachable = |detail: String| EngineError::Unreachable {
        host: endpoint.host.clone(),
        chosen_by: endpoint.chosen_by.clone(),
        detail,
    };
    let host = endpoint.host.as_str();
    let docker = if host.starts_with("unix://") {
        Docker::connect_with_unix(host, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
    } else if host.starts_with("tcp://")
        || host.starts_with("http://")
        || host.starts_with("https://")
    {
        match &endpoint.tls {
            Some(tls) => Docker::connect_with_ssl(
                host,
                &tls.key,
                &tls.cert,
                &tls.ca,
                REQUEST_TIMEOUT_SECS,
                API_DEFAULT_VERSION,
            ),
            None => Docker::connect_with_http(host, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION),
        }
    } else {
        return Err(EngineError::UnsupportedScheme(host.to_string()));
    }
    .map_err(|e| unreachable(e.to_string()))?;
    docker
        .negotiate_version()
        .await
        .map_err(|e| unreachable(e.to_string()))
}

/// One connection to the engine for the whole process: the endpoint, the async runtime its client
/// lives on (one worker thread, so a spawned task, such as an export stream, runs while the caller
/// reads), and the client, its API version agreed once.
pub struct Connection {
    endpoint: Endpoint,
    runtime: tokio::runtime::Runtime,
    docker: bollard::Docker,
}

impl Connection {
    /// Connects to `endpoint` and agrees on an API version.
    pub fn open(endpoint: Endpoint) -> Result<Connection, EngineError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| EngineError::Unreachable {
                host: endpoint.host.clone(),
                chosen_by: endpoint.chosen_by.clone(),
                detail: format!("starting the async runtime: {e}"),
            })?;
        let docker = runtime.block_on(connect(&endpoint))?;
        Ok(Connection {
            endpoint,
            runtime,
            docker,
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The engine client (cheap to clone into a spawned task).
    pub fn docker(&self) -> &bollard::Docker {
        &self.docker
    }

    /// The runtime the client lives on.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// Runs `future` to completion on the connection's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The error for a request the engine did not answer.
    pub fn unreachable(&self, detail: String) -> EngineError {
        EngineError::Unreachable {
            host: self.endpoint.host.clone(),
            chosen_by: self.endpoint.chosen_by.clone(),
            detail,
        }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// The engine's own message from a bollard error, without bollard's wrapping.
pub fn engine_message(error: bollard::errors::Error) -> String {
    match error {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message,
        bollard::errors::Error::DockerStreamError { error } => error,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn write_context(config: &Path, name: &str, host: &str, with_tls: bool) {
        let id = hex::encode(Sha256::digest(name.as_bytes()));
        let meta = config.join("contexts/meta").join(&id);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            format!(r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#),
        )
        .unwrap();
        if with_tls {
            let tls = config.join("contexts/tls").join(&id).join("docker");
            std::fs::create_dir_all(&tls).unwrap();
            for f in ["ca.pem", "cert.pem", "key.pem"] {
                std::fs::write(tls.join(f), "x").unwrap();
            }
        }
    }

    #[test]
    fn precedence_follows_the_docker_cli() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path();
        write_context(config, "remote", "tcp://10.0.0.1:2376", true);
        write_context(config, "other", "unix:///other.sock", false);
        std::fs::write(config.join("config.json"), r#"{"currentContext":"other"}"#).unwrap();
        let flags = EngineFlags {
            config_dir: Some(config.to_path_buf()),
            ..Default::default()
        };

        // config.json currentContext
        let e = resolve_endpoint(&flags, &env(&[])).unwrap();
        assert_eq!(e.host, "unix:///other.sock");
        // DOCKER_CONTEXT beats currentContext
        let e = resolve_endpoint(&flags, &env(&[("DOCKER_CONTEXT", "remote")])).unwrap();
        assert_eq!(e.host, "tcp://10.0.0.1:2376");
        let tls = e.tls.unwrap();
        assert!(tls.cert.ends_with("docker/cert.pem"));
        // DOCKER_HOST beats DOCKER_CONTEXT
        let e = resolve_endpoint(
            &flags,
            &env(&[
                ("DOCKER_HOST", "unix:///env.sock"),
                ("DOCKER_CONTEXT", "remote"),
            ]),
        )
        .unwrap();
        assert_eq!(e.host, "unix:///env.sock");
        assert_eq!(e.chosen_by, "DOCKER_HOST");
        // --context beats DOCKER_HOST
        let mut with_context = flags.clone();
        with_context.context = Some("remote".into());
        let e =
            resolve_endpoint(&with_context, &env(&[("DOCKER_HOST", "unix:///env.sock")])).unwrap();
        assert_eq!(e.host, "tcp://10.0.0.1:2376");
        // --host beats everything
        let mut with_host = flags.clone();
        with_host.host = Some("unix:///flag.sock".into());
        let e = resolve_endpoint(&with_host, &env(&[("DOCKER_HOST", "unix:///env.sock")])).unwrap();
        assert_eq!(e.host, "unix:///flag.sock");
        // both is an error, as in the docker CLI
        with_host.context = Some("remote".into());
        assert!(matches!(
            resolve_endpoint(&with_host, &env(&[])),
            Err(EngineError::HostAndContext)
        ));
    }

    #[test]
    fn default_socket_and_tls_flags() {
        let dir = tempfile::tempdir().unwrap();
        let flags = EngineFlags {
            config_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        let e = resolve_endpoint(&flags, &env(&[])).unwrap();
        assert_eq!(e.host, DEFAULT_HOST);
        assert_eq!(e.tls, None);

        let e = resolve_endpoint(
            &flags,
            &env(&[
                ("DOCKER_HOST", "tcp://h:2376"),
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", "/certs"),
            ]),
        )
        .unwrap();
        assert_eq!(e.tls.unwrap().ca, PathBuf::from("/certs/ca.pem"));
    }

    #[test]
    fn unknown_context_and_bad_config_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let flags = EngineFlags {
            config_dir: Some(dir.path().to_path_buf()),
            context: Some("nope".into()),
            ..Default::default()
        };
        let err = resolve_endpoint(&flags, &env(&[])).unwrap_err().to_string();
        assert!(err.contains("\"nope\" not found"), "{err}");

        std::fs::write(dir.path().join("config.json"), "{not json").unwrap();
        let flags = EngineFlags {
            config_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        let err = resolve_endpoint(&flags, &env(&[])).unwrap_err().to_string();
        assert!(err.contains("not valid JSON"), "{err}");
    }
}
