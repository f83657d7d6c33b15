//! The Docker CLI plugin protocol: the metadata answer, and the argv shape the docker CLI uses when it
//! runs us (`docker-vouch [docker global flags] vouch SUBCOMMAND ...`).

use serde::Serialize;
use std::ffi::OsString;

/// The plugin name the docker CLI shows (`docker vouch`).
pub const PLUGIN_NAME: &str = "vouch";

/// The answer to `docker-cli-plugin-metadata`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metadata {
    pub schema_version: &'static str,
    pub vendor: &'static str,
    pub version: &'static str,
    pub short_description: &'static str,
    #[serde(rename = "URL")]
    pub url: &'static str,
}

pub fn metadata() -> Metadata {
    Metadata {
        schema_version: "0.1.0",
        vendor: "vouch",
        version: env!("CARGO_PKG_VERSION"),
        short_description: "SBOM, policy verdict and signed attestations for images",
        url: env!("CARGO_PKG_REPOSITORY"),
    }
}

/// Docker CLI global flags that take a value (as the next argument unless written `--flag=value`).
const VALUE_FLAGS: &[&str] = &[
    "-H",
    "--host",
    "-c",
    "--context",
    "--config",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
    "-l",
    "--log-level",
];

/// Removes the plugin name the docker CLI puts after its global flags, so that
/// `docker-vouch -H unix:///x vouch sbom img` parses like `docker-vouch -H unix:///x sbom img`.
pub fn strip_plugin_name(args: Vec<OsString>) -> Vec<OsString> {
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].to_string_lossy();
        if arg == "--" || !arg.starts_with('-') {
            break;
        }
        let takes_value = VALUE_FLAGS.contains(&arg.as_ref());
        i += if takes_value { 2 } else { 1 };
    }
    let mut args = args;
    if i < args.len() && args[i] == PLUGIN_NAME {
        args.remove(i);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(args: &[&str]) -> Vec<String> {
        strip_plugin_name(args.iter().map(OsString::from).collect())
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn removes_plugin_name_after_global_flags() {
        assert_eq!(
            strip(&[
                "docker-vouch",
                "-H",
                "unix:///x",
                "--tlsverify",
                "vouch",
                "sbom",
                "img"
            ]),
            [
                "docker-vouch",
                "-H",
                "unix:///x",
                "--tlsverify",
                "sbom",
                "img"
            ]
        );
        assert_eq!(
            strip(&["docker-vouch", "--context=ci", "vouch", "sbom", "vouch"]),
            ["docker-vouch", "--context=ci", "sbom", "vouch"]
        );
        assert_eq!(
            strip(&["docker-vouch", "sbom", "vouch"]),
            ["docker-vouch", "sbom", "vouch"]
        );
    }

    #[test]
    fn metadata_has_the_protocol_fields() {
        let json = serde_json::to_value(metadata()).unwrap();
        assert_eq!(json["SchemaVersion"], "0.1.0");
        for key in ["Vendor", "Version", "ShortDescription", "URL"] {
            assert!(json[key].as_str().is_some_and(|s| !s.is_empty()), "{key}");
        }
    }
}
