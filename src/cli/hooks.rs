//! Docker CLI hooks (docker CLI 26.1 and later): `install-hooks` turns on the hooks feature in the
//! docker `config.json` and asks the CLI to call vouch after `docker build`, `docker image build`
//! and `docker buildx build`; `uninstall-hooks` takes back exactly what it added (it records that
//! in its own `plugins.vouch` entry). After such a command the CLI runs
//! `docker-vouch docker-cli-plugin-hooks '{"RootCmd":...,"Flags":...,"CommandError":...}'`, which
//! answers at once, without reading anything else, with a "next steps" hint naming the command that
//! attests the image.

use crate::fsio::write_atomically_with_mode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The commands the hint follows.
pub const HOOKED_COMMANDS: &[&str] = &["build", "image build", "buildx build"];
const PLUGIN: &str = super::plugin::PLUGIN_NAME;
/// Bookkeeping keys in `plugins.vouch`: what install-hooks added.
const ADDED_COMMANDS: &str = "vouch-added-hooks";
const ADDED_FEATURE: &str = "vouch-enabled-hooks-feature";

/// What the docker CLI sends (`hooks.Request`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HookRequest {
    #[serde(default)]
    pub root_cmd: String,
    #[serde(default)]
    pub flags: std::collections::HashMap<String, String>,
    #[serde(default)]
    pub command_error: String,
}

/// What the docker CLI reads back (`hooks.Response`; type 0 is "next steps").
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HookResponse {
    #[serde(rename = "Type")]
    pub kind: u8,
    pub template: String,
}

/// The answer to a hook call: a hint after a successful build, nothing otherwise. `{{arg . 0}}` is
/// the docker CLI's template for the command's first argument (the build context).
pub fn answer(request_json: &str) -> HookResponse {
    let request: Option<HookRequest> = serde_json::from_str(request_json).ok();
    let template = match request {
        Some(request)
            if request.command_error.is_empty()
                && HOOKED_COMMANDS.contains(&request.root_cmd.as_str()) =>
        {
            let tagged = request.flags.contains_key("t") || request.flags.contains_key("tag");
            let image = if tagged { "IMAGE" } else { "IMAGE_ID" };
            format!(
                "Vouch for this image (SBOM, policy verdict, signed attestations): docker vouch attest {image} --key cosign.key\n\
                 Or build, check and attest in one step next time: docker vouch build -t NAME --key cosign.key {{{{arg . 0}}}}"
            )
        }
        _ => String::new(),
    };
    HookResponse { kind: 0, template }
}

#[derive(Debug, thiserror::Error)]
pub enum HooksError {
    #[error("{path}: not a docker config file ({detail}); left unchanged")]
    BadConfig { path: String, detail: String },
    #[error("{path}: {detail}")]
    Io { path: String, detail: String },
}

fn read_config(path: &Path) -> Result<Map<String, Value>, HooksError> {
    let bad = |detail: String| HooksError::BadConfig {
        path: path.display().to_string(),
        detail,
    };
    match std::fs::read(path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(bad("not a JSON object".into())),
            Err(e) => Err(bad(format!("not valid JSON: {e}"))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
        Err(e) => Err(HooksError::Io {
            path: path.display().to_string(),
            detail: e.to_string(),
        }),
    }
}

fn write_config(path: &Path, config: &Map<String, Value>) -> Result<(), HooksError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o600);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| HooksError::Io {
            path: dir.display().to_string(),
            detail: e.to_string(),
        })?;
    }
    let mut bytes = serde_json::to_vec_pretty(&Value::Object(config.clone())).unwrap_or_default();
    bytes.push(b'\n');
    write_atomically_with_mode(path, &bytes, mode).map_err(|e| HooksError::Io {
        path: path.display().to_string(),
        detail: e.to_string(),
    })
}

/// An object member, created empty when missing or not an object.
fn object<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut().expect("made an object above")
}

fn list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_str)
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Turns the hooks on in `config_dir/config.json`; returns the file and what changed.
pub fn install(config_dir: &Path) -> Result<(PathBuf, Vec<String>), HooksError> {
    let path = config_dir.join("config.json");
    let mut config = read_config(&path)?;
    let mut changes = Vec::new();
    let features = object(&mut config, "features");
    let feature_was_on = features.get("hooks").and_then(Value::as_str) == Some("true");
    if !feature_was_on {
        features.insert("hooks".into(), Value::String("true".into()));
        changes.push("features.hooks = \"true\"".to_string());
    }
    let plugin = object(object(&mut config, "plugins"), PLUGIN);
    let mut hooks = list(plugin.get("hooks"));
    let mut added = list(plugin.get(ADDED_COMMANDS));
    for command in HOOKED_COMMANDS {
        if !hooks.iter().any(|h| h == command) {
            hooks.push(command.to_string());
            added.push(command.to_string());
            changes.push(format!("plugins.{PLUGIN}.hooks += {command:?}"));
        }
    }
    plugin.insert("hooks".into(), Value::String(hooks.join(",")));
    if !added.is_empty() {
        plugin.insert(ADDED_COMMANDS.into(), Value::String(added.join(",")));
    }
    if !feature_was_on {
        plugin.insert(ADDED_FEATURE.into(), Value::String("true".into()));
    }
    if !changes.is_empty() {
        write_config(&path, &config)?;
    }
    Ok((path, changes))
}

/// Removes what [`install`] added; leaves everything else as it is.
pub fn uninstall(config_dir: &Path) -> Result<(PathBuf, Vec<String>), HooksError> {
    let path = config_dir.join("config.json");
    let mut config = read_config(&path)?;
    let mut changes = Vec::new();
    let Some(plugin) = config
        .get_mut("plugins")
        .and_then(Value::as_object_mut)
        .and_then(|plugins| plugins.get_mut(PLUGIN))
        .and_then(Value::as_object_mut)
    else {
        return Ok((path, changes));
    };
    let added = list(plugin.get(ADDED_COMMANDS));
    let hooks: Vec<String> = list(plugin.get("hooks"))
        .into_iter()
        .filter(|h| !added.contains(h))
        .collect();
    for command in &added {
        changes.push(format!("plugins.{PLUGIN}.hooks -= {command:?}"));
    }
    if hooks.is_empty() {
        plugin.remove("hooks");
    } else {
        plugin.insert("hooks".into(), Value::String(hooks.join(",")));
    }
    plugin.remove(ADDED_COMMANDS);
    let enabled_feature = plugin.remove(ADDED_FEATURE).is_some();
    let plugin_empty = plugin.is_empty();
    if let Some(plugins) = config.get_mut("plugins").and_then(Value::as_object_mut) {
        if plugin_empty {
            plugins.remove(PLUGIN);
        }
        if plugins.is_empty() {
            config.remove("plugins");
        }
    }
    if enabled_feature {
        if let Some(features) = config.get_mut("features").and_then(Value::as_object_mut) {
            features.remove("hooks");
            changes.push("features.hooks removed".to_string());
            if features.is_empty() {
                config.remove("features");
            }
        }
    }
    if !changes.is_empty() || plugin_empty {
        write_config(&path, &config)?;
    }
    Ok((path, changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_a_hint_after_a_successful_build_only() {
        let ok = answer(r#"{"RootCmd":"build","Flags":{"t":""},"CommandError":""}"#);
        assert_eq!(ok.kind, 0);
        assert!(ok
            .template
            .contains("docker vouch attest IMAGE --key cosign.key"));
        assert!(ok.template.contains("{{arg . 0}}"));
        let json = serde_json::to_value(&ok).unwrap();
        assert_eq!(json["Type"], 0);
        assert!(json["Template"].is_string());
        let untagged = answer(r#"{"RootCmd":"buildx build","Flags":{},"CommandError":""}"#);
        assert!(untagged.template.contains("attest IMAGE_ID"));
        for quiet in [
            r#"{"RootCmd":"build","Flags":{},"CommandError":"exit status 1"}"#,
            r#"{"RootCmd":"pull","Flags":{},"CommandError":""}"#,
            "not json",
        ] {
            assert_eq!(answer(quiet).template, "", "{quiet}");
        }
    }

    #[test]
    fn uninstall_takes_back_only_what_install_added() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let original = r#"{"auths":{"r:5000":{"auth":"eDp5"}},"plugins":{"vouch":{"hooks":"pull"},"scout":{"hooks":"build"}},"currentContext":"ci"}"#;
        std::fs::write(&path, original).unwrap();
        let (_, changes) = install(dir.path()).unwrap();
        assert_eq!(changes.len(), 4, "{changes:?}");
        let installed: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(installed["features"]["hooks"], "true");
        assert_eq!(
            installed["plugins"]["vouch"]["hooks"],
            "pull,build,image build,buildx build"
        );
        assert_eq!(installed["auths"]["r:5000"]["auth"], "eDp5");
        // Installing twice changes nothing.
        assert!(install(dir.path()).unwrap().1.is_empty());
        uninstall(dir.path()).unwrap();
        let after: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let before: Value = serde_json::from_str(original).unwrap();
        assert_eq!(after, before);

        // A feature the user had turned on stays on.
        std::fs::write(&path, r#"{"features":{"hooks":"true"}}"#).unwrap();
        install(dir.path()).unwrap();
        uninstall(dir.path()).unwrap();
        let after: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(after, serde_json::json!({"features":{"hooks":"true"}}));
    }

    #[test]
    fn a_config_that_is_not_json_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{\"auths\": ").unwrap();
        let err = install(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a docker config file"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"auths\": ");
        // No file: one is created.
        let empty = tempfile::tempdir().unwrap();
        install(&empty.path().join("new")).unwrap();
        assert!(empty.path().join("new/config.json").is_file());
    }
}
