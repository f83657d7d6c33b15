//! `secrets` rules: secrets baked into the image where anyone who pulls it can read them. This
//! slice searches the image's configuration: its environment (`ENV`) and every build history
//! entry (`ARG` values a `RUN` saw are recorded there by both builders). The built-in rules are
//! [`crate::secrets::RULES`]; a policy may add its own. A secret is shown redacted in every output
//! and named by its fingerprint; exceptions match the rule id, the fingerprint, or where it is
//! (`env:NAME`, `history`).

use super::super::diags::{Code, Origin, PolicyError};
use super::super::file::{SecretsFile, SecretsSettings};
use super::super::input::Input;
use super::super::verdict::{Evidence, Finding};
use crate::secrets::{find, Found};
use std::collections::BTreeSet;

#[derive(Debug)]
pub struct SecretsCheck {
    enabled: bool,
    /// The organisation's own rules: id and pattern.
    own: Vec<(String, regex::Regex)>,
}

impl SecretsCheck {
    pub fn compile(file: &SecretsFile, origin: &Origin) -> Result<SecretsCheck, PolicyError> {
        let default = SecretsSettings::default();
        let whole = |message: String| PolicyError {
            file: origin.name.clone(),
            line: 0,
            column: 0,
            message,
        };
        let (enabled, settings) = match file {
            SecretsFile::On(on) => match on.trim() {
                "true" => (true, &default),
                "false" => (false, &default),
                other => {
                    return Err(whole(format!(
                        "`secrets: {other}`: write `secrets: true`, or settings (`allow_paths`, `rules`)"
                    )))
                }
            },
            SecretsFile::Settings(settings) => (true, settings),
        };
        for pattern in &settings.allow_paths {
            globset::Glob::new(pattern.trim_start_matches('/'))
                .map_err(|e| whole(format!("secrets: bad path pattern `{pattern}`: {e}")))?;
        }
        let own = settings
            .rules
            .iter()
            .map(|r| {
                regex::RegexBuilder::new(&r.regex)
                    .size_limit(1 << 20)
                    .build()
                    .map(|regex| (r.id.clone(), regex))
                    .map_err(|e| whole(format!("secrets rule `{}`: bad pattern: {e}", r.id)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SecretsCheck { enabled, own })
    }

    /// The secrets in `text`: the built-in rules' and this policy's own.
    fn search(&self, text: &str) -> Vec<Found> {
        let mut found = find(text);
        for (id, regex) in &self.own {
            for captures in regex.captures_iter(text) {
                let Some(secret) = captures.get(1).or_else(|| captures.get(0)) else {
                    continue;
                };
                found.push(Found {
                    rule: id.clone(),
                    title: "secret (the policy's rule)".to_string(),
                    start: secret.start(),
                    secret: secret.as_str().to_string(),
                });
            }
        }
        found
    }

    pub fn evaluate(&self, input: &Input) -> Vec<Finding> {
        if !self.enabled {
            return Vec::new();
        }
        let image = input.image;
        let mut findings = Vec::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut push = |code: Code, place: String, key: String, found: &Found| {
            let fingerprint = found.fingerprint();
            findings.push(
                Finding::new(
                    code,
                    format!(
                        "{} ({}) in {place}: {}",
                        found.title,
                        found.rule,
                        found.redacted()
                    ),
                    Evidence {
                        value: Some(found.redacted()),
                        ..Default::default()
                    },
                )
                .keyed(found.rule.clone())
                .keyed(fingerprint)
                .keyed(key),
            );
        };
        for entry in &image.env {
            let name = entry.split('=').next().unwrap_or(entry);
            for found in self.search(entry) {
                if seen.insert(found.fingerprint()) {
                    push(
                        Code::SecretsEnv,
                        format!("ENV {}", crate::text::excerpt(name, 100)),
                        format!("env:{name}"),
                        &found,
                    );
                }
            }
        }
        // The history repeats each ENV; a secret already reported there is not reported again.
        for (index, created_by) in image.history.iter().enumerate() {
            for found in self.search(created_by) {
                if seen.insert(found.fingerprint()) {
                    push(
                        Code::SecretsHistory,
                        format!("build history entry {}", index + 1),
                        "history".to_string(),
                        &found,
                    );
                }
            }
        }
        findings
    }
}
