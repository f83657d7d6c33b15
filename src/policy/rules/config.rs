//! `config` rules: the image's runtime configuration. A non-root user (an empty user, `root`, uid `0`
//! and `0:...` all run as root), an entrypoint or cmd, required labels whose whole value matches a
//! pattern, no forbidden exposed port, a healthcheck that is set and not `NONE`.

use super::super::diags::{Code, Origin, PolicyError};
use super::super::file::ConfigFile;
use super::super::input::Input;
use super::super::verdict::{Evidence, Finding};
use regex::Regex;

#[derive(Debug)]
pub struct ConfigCheck {
    non_root_user: bool,
    entrypoint_or_cmd: bool,
    required_labels: Vec<(String, String, Regex)>,
    forbidden_ports: Vec<(u16, Option<String>)>,
    healthcheck: bool,
}

impl ConfigCheck {
    pub fn compile(file: &ConfigFile, origin: &Origin) -> Result<ConfigCheck, PolicyError> {
        let mut required_labels = Vec::new();
        for (name, pattern) in &file.required_labels {
            let text = if pattern.is_empty() {
                ".*"
            } else {
                pattern.as_str()
            };
            let regex = Regex::new(&format!("^(?:{text})$")).map_err(|e| {
                // The regex crate draws the pattern with a caret over several lines; its last line
                // says what is wrong.
                let text = e.to_string();
                let what = text
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim_start_matches("error: ");
                origin.at(
                    pattern,
                    format!(
                        "label `{name}`: bad regular expression `{}`: {what}",
                        pattern.as_str()
                    ),
                )
            })?;
            required_labels.push((name.clone(), pattern.to_string(), regex));
        }
        let mut forbidden_ports = Vec::new();
        for port in &file.forbidden_ports {
            forbidden_ports.push(parse_port(port).ok_or_else(|| {
                origin.at(
                    port,
                    format!(
                        "`{}` is not a port (write `22`, `22/tcp` or `53/udp`)",
                        port.as_str()
                    ),
                )
            })?);
        }
        Ok(ConfigCheck {
            non_root_user: file.non_root_user,
            entrypoint_or_cmd: file.entrypoint_or_cmd,
            required_labels,
            forbidden_ports,
            healthcheck: file.healthcheck,
        })
    }

    pub fn evaluate(&self, input: &Input) -> Vec<Finding> {
        let image = input.image;
        let mut findings = Vec::new();
        let value = |v: &str| Evidence {
            value: Some(v.to_string()),
            ..Default::default()
        };
        if self.non_root_user {
            let user = image.user.as_deref().unwrap_or("");
            if runs_as_root(user) {
                let shown = if user.is_empty() { "(unset)" } else { user };
                findings.push(Finding::new(
                    Code::ConfigRootUser,
                    format!("the image runs as root (user {shown})"),
                    value(shown),
                ));
            }
        }
        if self.entrypoint_or_cmd && image.entrypoint.is_empty() && image.cmd.is_empty() {
            findings.push(Finding::new(
                Code::ConfigNoEntrypoint,
                "the image sets neither an entrypoint nor a cmd".into(),
                Evidence::default(),
            ));
        }
        for (name, pattern, regex) in &self.required_labels {
            match image.labels.get(name) {
                None => findings.push(
                    Finding::new(
                        Code::ConfigMissingLabel,
                        format!("label {name} is not set"),
                        Evidence::default(),
                    )
                    .keyed(name.clone()),
                ),
                Some(v) if !regex.is_match(v) => findings.push(
                    Finding::new(
                        Code::ConfigLabelMismatch,
                        format!("label {name} is `{v}`, which does not match `{pattern}`"),
                        value(v),
                    )
                    .keyed(name.clone()),
                ),
                Some(_) => {}
            }
        }
        for exposed in &image.exposed_ports {
            let Some((port, protocol)) = parse_port(exposed) else {
                continue;
            };
            let protocol = protocol.unwrap_or_else(|| "tcp".into());
            let forbidden = self
                .forbidden_ports
                .iter()
                .any(|(p, proto)| *p == port && proto.as_ref().is_none_or(|f| *f == protocol));
            if forbidden {
                findings.push(
                    Finding::new(
                        Code::ConfigForbiddenPort,
                        format!("the image exposes port {port}/{protocol}"),
                        value(exposed),
                    )
                    .keyed(format!("{port}/{protocol}")),
                );
            }
        }
        if self.healthcheck {
            let test = image.healthcheck.as_deref().unwrap_or_default();
            if test.is_empty() || test[0] == "NONE" {
                findings.push(Finding::new(
                    Code::ConfigNoHealthcheck,
                    "the image has no healthcheck".into(),
                    Evidence::default(),
                ));
            }
        }
        findings
    }
}

/// Whether a config `User` runs as root: unset, `root`, uid 0, with or without a group.
pub fn runs_as_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name.is_empty() || name == "root" || name.trim_start_matches('0').is_empty()
}

/// `22`, `22/tcp`, `53/udp` → (port, protocol).
fn parse_port(text: &str) -> Option<(u16, Option<String>)> {
    let (port, protocol) = match text.trim().split_once('/') {
        Some((p, proto)) => (p, Some(proto.to_ascii_lowercase())),
        None => (text.trim(), None),
    };
    if protocol
        .as_deref()
        .is_some_and(|p| !matches!(p, "tcp" | "udp" | "sctp"))
    {
        return None;
    }
    Some((port.parse().ok()?, protocol))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_users() {
        for user in ["", "root", "0", "0:0", "root:wheel", "00"] {
            assert!(runs_as_root(user), "{user:?}");
        }
        for user in ["app", "1000", "1000:0", "nobody"] {
            assert!(!runs_as_root(user), "{user:?}");
        }
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("22"), Some((22, None)));
        assert_eq!(parse_port("53/UDP"), Some((53, Some("udp".into()))));
        assert_eq!(parse_port("22/http"), None);
        assert_eq!(parse_port("99999"), None);
    }
}
