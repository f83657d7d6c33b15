//! The image configuration document (Docker and OCI share its shape): platform, runtime config
//! (user, entrypoint, cmd, labels, ports, healthcheck), the layers' diffIDs and the history.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The image config JSON (`application/vnd.oci.image.config.v1+json`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub config: Option<RuntimeConfig>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
    #[serde(default)]
    pub history: Option<Vec<History>>,
}

/// How a container from the image runs.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct RuntimeConfig {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub healthcheck: Option<Healthcheck>,
    #[serde(default)]
    pub stop_signal: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    #[serde(default)]
    pub test: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RootFs {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct History {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub empty_layer: Option<bool>,
}

impl ImageConfig {
    /// The runtime config, or an empty one when the image has none.
    pub fn runtime(&self) -> RuntimeConfig {
        self.config.clone().unwrap_or_default()
    }

    /// The diffIDs the config declares, lowest layer first.
    pub fn diff_ids(&self) -> &[String] {
        self.rootfs.as_ref().map(|r| &r.diff_ids[..]).unwrap_or(&[])
    }

    /// `os/arch[/variant]`, e.g. `linux/amd64`.
    pub fn platform(&self) -> String {
        let mut platform = format!(
            "{}/{}",
            self.os.as_deref().unwrap_or("unknown"),
            self.architecture.as_deref().unwrap_or("unknown")
        );
        if let Some(variant) = &self.variant {
            platform.push('/');
            platform.push_str(variant);
        }
        platform
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_config_with_nulls() {
        let json = r#"{"architecture":"amd64","os":"linux","config":{"User":"app","Entrypoint":null,
            "Cmd":["/bin/sh"],"Labels":{"a":"b"},"ExposedPorts":{"80/tcp":{}}},
            "rootfs":{"type":"layers","diff_ids":["sha256:aa"]},"history":[{"created_by":"x"}]}"#;
        let config: ImageConfig = serde_json::from_str(json).unwrap();
        let runtime = config.runtime();
        assert_eq!(runtime.user.as_deref(), Some("app"));
        assert_eq!(runtime.entrypoint, None);
        assert_eq!(config.diff_ids(), ["sha256:aa"]);
        assert_eq!(config.platform(), "linux/amd64");
    }
}
