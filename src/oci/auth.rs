//! Registry credentials found the way the docker CLI finds them, in the docker `config.json`
//! (`--config`, `DOCKER_CONFIG`, `~/.docker`): `credHelpers[host]`, else `credsStore`, else
//! `auths[host]` (`auth` = base64 `user:password`, or `username`/`password`). A credential helper is
//! the program `docker-credential-NAME`, asked with `get` and the server on standard input.
//!
//! Written here rather than through a crate: the existing crates read only `~/.docker` (not the
//! `--config` directory the docker CLI passes to plugins) and lose the file and helper names the
//! messages need.

use base64::Engine as _;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Docker Hub's key in `auths` and the server name its credential helpers know.
pub const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

/// What to authenticate with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Anonymous,
    Basic { username: String, password: String },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{path}: not a docker config file ({detail})")]
    BadConfig { path: String, detail: String },
    #[error("{path}: auths[{server:?}]: {detail}")]
    BadEntry {
        path: String,
        server: String,
        detail: String,
    },
    #[error("credential helper docker-credential-{helper} (from {path}) for {server}: {detail}")]
    Helper {
        helper: String,
        path: String,
        server: String,
        detail: String,
    },
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// The key docker uses for `registry` (a host[:port] as in an image reference).
pub fn server_key(registry: &str) -> String {
    if matches!(
        registry,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    ) {
        DOCKER_HUB_SERVER.to_string()
    } else {
        registry.to_string()
    }
}

/// `https://host:port/v2/` → `host:port`, as the docker CLI normalises `auths` keys.
fn hostname(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

/// The credentials for `registry` from the config in `config_dir` (no file: anonymous).
pub fn credentials_for(config_dir: &Path, registry: &str) -> Result<Credentials, AuthError> {
    let path = config_dir.join("config.json");
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Credentials::Anonymous),
        Err(e) => {
            return Err(AuthError::BadConfig {
                path: path.display().to_string(),
                detail: e.to_string(),
            })
        }
    };
    let config: ConfigFile = serde_json::from_slice(&bytes).map_err(|e| AuthError::BadConfig {
        path: path.display().to_string(),
        detail: format!("not valid JSON: {e}"),
    })?;
    let server = server_key(registry);
    let wanted = hostname(&server);
    let helper = config
        .cred_helpers
        .iter()
        .find(|(key, _)| hostname(key) == wanted || key.as_str() == server)
        .map(|(_, helper)| helper.clone())
        .or_else(|| config.creds_store.clone().filter(|s| !s.is_empty()));
    if let Some(helper) = helper {
        return ask_helper(&helper, &path, &server);
    }
    let entry = config
        .auths
        .iter()
        .find(|(key, _)| key.as_str() == server || hostname(key) == wanted)
        .map(|(key, entry)| (key.clone(), entry));
    let Some((key, entry)) = entry else {
        return Ok(Credentials::Anonymous);
    };
    let bad = |detail: &str| AuthError::BadEntry {
        path: path.display().to_string(),
        server: key.clone(),
        detail: detail.to_string(),
    };
    if entry
        .identitytoken
        .as_deref()
        .is_some_and(|t| !t.is_empty())
    {
        return Err(bad(
            "holds an identity token (an OAuth refresh token), which vouch cannot use yet: log in with a password or access token (docker login -u USER --password-stdin)",
        ));
    }
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| bad("\"auth\" is not base64"))?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad("\"auth\" is not UTF-8"))?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| bad("\"auth\" is not base64 of USER:PASSWORD"))?;
        return Ok(Credentials::Basic {
            username: username.to_string(),
            password: password.to_string(),
        });
    }
    match (&entry.username, &entry.password) {
        (Some(username), Some(password)) => Ok(Credentials::Basic {
            username: username.clone(),
            password: password.clone(),
        }),
        _ => Ok(Credentials::Anonymous),
    }
}

/// Runs `docker-credential-HELPER get` with `server` on standard input.
fn ask_helper(helper: &str, config: &Path, server: &str) -> Result<Credentials, AuthError> {
    let error = |detail: String| AuthError::Helper {
        helper: helper.to_string(),
        path: config.display().to_string(),
        server: server.to_string(),
        detail,
    };
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(error("not a valid helper name".into()));
    }
    let program = PathBuf::from(format!("docker-credential-{helper}"));
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            error(if e.kind() == std::io::ErrorKind::NotFound {
                format!("{} is not on PATH", program.display())
            } else {
                e.to_string()
            })
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(server.as_bytes())
            .map_err(|e| error(format!("writing to it: {e}")))?;
    }
    let output = child.wait_with_output().map_err(|e| error(e.to_string()))?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stdout).trim().to_string()
            + String::from_utf8_lossy(&output.stderr).trim();
        // The helpers' protocol: this message means "no credentials", not a failure.
        if message.contains("credentials not found") {
            return Ok(Credentials::Anonymous);
        }
        return Err(error(format!("exited with {}: {message}", output.status)));
    }
    let answer: HelperAnswer = serde_json::from_slice(&output.stdout)
        .map_err(|e| error(format!("answered something that is not its JSON ({e})")))?;
    Ok(Credentials::Basic {
        username: answer.username,
        password: answer.secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), json).unwrap();
        dir
    }

    #[test]
    fn auths_entries_by_host_with_or_without_scheme() {
        let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret:with:colons");
        let dir = config(&format!(
            r#"{{"auths":{{"https://reg.example:5000/v2/":{{"auth":"{auth}"}},
                 "https://index.docker.io/v1/":{{"username":"bob","password":"pw"}}}}}}"#
        ));
        assert_eq!(
            credentials_for(dir.path(), "reg.example:5000").unwrap(),
            Credentials::Basic {
                username: "alice".into(),
                password: "s3cret:with:colons".into()
            }
        );
        assert_eq!(
            credentials_for(dir.path(), "docker.io").unwrap(),
            Credentials::Basic {
                username: "bob".into(),
                password: "pw".into()
            }
        );
        assert_eq!(
            credentials_for(dir.path(), "other.example").unwrap(),
            Credentials::Anonymous
        );
    }

    #[test]
    fn missing_file_is_anonymous_and_bad_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            credentials_for(dir.path(), "r").unwrap(),
            Credentials::Anonymous
        );
        let dir = config("{not json");
        let err = credentials_for(dir.path(), "r").unwrap_err().to_string();
        assert!(
            err.contains("config.json: not a docker config file (not valid JSON"),
            "{err}"
        );
        let dir = config(r#"{"auths":{"r":{"auth":"%%%"}}}"#);
        let err = credentials_for(dir.path(), "r").unwrap_err().to_string();
        assert!(
            err.contains("auths[\"r\"]: \"auth\" is not base64"),
            "{err}"
        );
        let dir = config(r#"{"auths":{"r":{"identitytoken":"tok"}}}"#);
        let err = credentials_for(dir.path(), "r").unwrap_err().to_string();
        assert!(err.contains("identity token"), "{err}");
    }

    #[test]
    fn a_missing_helper_is_named() {
        let dir = config(r#"{"credHelpers":{"r:5000":"vouch-no-such-helper"}}"#);
        let err = credentials_for(dir.path(), "r:5000")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("docker-credential-vouch-no-such-helper is not on PATH"),
            "{err}"
        );
        let dir = config(r#"{"credsStore":"../evil"}"#);
        let err = credentials_for(dir.path(), "r").unwrap_err().to_string();
        assert!(err.contains("not a valid helper name"), "{err}");
    }
}
