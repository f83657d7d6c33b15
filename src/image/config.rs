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

/// The most of one history entry's `created_by` kept as a layer's instruction.
const MAX_INSTRUCTION_CHARS: usize = 1024;

impl ImageConfig {
    /// The build instruction that made each layer, in the order of `rootfs.diff_ids`: the
    /// `created_by` of the history entries that made a layer (those not marked `empty_layer`), as a
    /// Dockerfile would say it (`RUN apt-get install -y curl`, not `/bin/sh -c apt-get ...` or
    /// `... # buildkit`). All `None` when the history does not account for exactly the image's
    /// layers (squashed or hand-made images): a guess could name the wrong instruction.
    pub fn layer_instructions(&self) -> Vec<Option<String>> {
        let layers = self.rootfs.as_ref().map_or(0, |r| r.diff_ids.len());
        let made: Vec<&History> = self
            .history
            .iter()
            .flatten()
            .filter(|h| h.empty_layer != Some(true))
            .collect();
        if made.len() != layers {
            return vec![None; layers];
        }
        made.iter()
            .map(|h| {
                h.created_by
                    .as_deref()
                    .map(instruction)
                    .filter(|i| !i.is_empty())
            })
            .collect()
    }
    /// For each history entry, the layer it belongs to: the layer it made, or for a metadata
    /// entry (`ENV`, `CMD`: `empty_layer`) the next layer made after it (the last layer when none
    /// follows). All `None` when the history does not account for exactly the image's layers.
    pub fn history_layers(&self) -> Vec<Option<usize>> {
        let entries = self.history.as_deref().unwrap_or_default();
        let layers = self.rootfs.as_ref().map_or(0, |r| r.diff_ids.len());
        let made = entries
            .iter()
            .filter(|h| h.empty_layer != Some(true))
            .count();
        if made != layers || layers == 0 {
            return vec![None; entries.len()];
        }
        let mut next = 0;
        entries
            .iter()
            .map(|h| {
                let layer = next.min(layers - 1);
                if h.empty_layer != Some(true) {
                    next += 1;
                }
                Some(layer)
            })
            .collect()
    }

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

/// A history entry's `created_by` as the Dockerfile said it: the classic builder's
/// `/bin/sh -c #(nop) ` before metadata instructions and `/bin/sh -c ` before RUN's command, and
/// BuildKit's ` # buildkit` suffix, taken off; bounded, controls escaped.
fn instruction(created_by: &str) -> String {
    let text = created_by.trim();
    let text = text.strip_suffix("# buildkit").unwrap_or(text).trim_end();
    let text = match text.strip_prefix("/bin/sh -c ") {
        Some(rest) => match rest.trim_start().strip_prefix("#(nop)") {
            Some(metadata) => metadata.trim().to_string(),
            None => format!("RUN {}", rest.trim_start()),
        },
        None => text.to_string(),
    };
    crate::text::excerpt(&text, MAX_INSTRUCTION_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_history(layers: usize, history: serde_json::Value) -> ImageConfig {
        let diff_ids: Vec<String> = (0..layers).map(|i| format!("sha256:{i:064}")).collect();
        serde_json::from_value(serde_json::json!({
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        }))
        .unwrap()
    }

    /// Classic builder, BuildKit and imported entries; empty layers skipped; a history that does
    /// not account for every layer names none.
    #[test]
    fn layer_instructions_follow_the_entries_that_made_layers() {
        let config = with_history(
            3,
            serde_json::json!([
                {"created_by": "", "comment": "Imported from -"},
                {"created_by": "/bin/sh -c #(nop)  ENV A=1", "empty_layer": true},
                {"created_by": "/bin/sh -c apt-get install -y curl"},
                {"created_by": "ENV B=2", "empty_layer": true},
                {"created_by": "COPY app /srv/app # buildkit"},
            ]),
        );
        assert_eq!(
            config.layer_instructions(),
            [
                None,
                Some("RUN apt-get install -y curl".to_string()),
                Some("COPY app /srv/app".to_string()),
            ]
        );
        let nop = with_history(
            1,
            serde_json::json!([{"created_by": "/bin/sh -c #(nop) COPY file:ab12 in /x "}]),
        );
        assert_eq!(
            nop.layer_instructions(),
            [Some("COPY file:ab12 in /x".to_string())]
        );
        let short = with_history(2, serde_json::json!([{"created_by": "RUN a"}]));
        assert_eq!(short.layer_instructions(), [None, None]);
        let hostile = with_history(
            1,
            serde_json::json!([{"created_by": "x".repeat(5000) + "\u{1b}[2J"}]),
        );
        let kept = hostile.layer_instructions()[0].clone().unwrap();
        assert!(
            kept.chars().count() <= MAX_INSTRUCTION_CHARS + 3,
            "{}",
            kept.len()
        );
        assert!(!kept.contains('\u{1b}'));
    }

    /// Metadata entries belong to the next layer made (the last when none follows); a history
    /// that does not account for every layer places none.
    #[test]
    fn history_entries_are_placed_on_layers() {
        let config = with_history(
            2,
            serde_json::json!([
                {"created_by": "ADD rootfs.tar /"},
                {"created_by": "ENV A=1", "empty_layer": true},
                {"created_by": "RUN make"},
                {"created_by": "CMD [\"app\"]", "empty_layer": true},
            ]),
        );
        assert_eq!(
            config.history_layers(),
            [Some(0), Some(1), Some(1), Some(1)]
        );
        let short = with_history(2, serde_json::json!([{"created_by": "RUN a"}]));
        assert_eq!(short.history_layers(), [None]);
        let none = with_history(
            0,
            serde_json::json!([{"created_by": "CMD x", "empty_layer": true}]),
        );
        assert_eq!(none.history_layers(), [None]);
    }

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
