//! `secrets` rules: secrets baked into the image where anyone who pulls it can read them: in the
//! text files of every layer (also those a later layer deletes or replaces: their bytes are still
//! in the image; found by [`crate::facts::SecretsProbe`] in the single layer pass), in the image's
//! environment (`ENV`), and in every build history entry (`ARG` values a `RUN` saw are recorded
//! there by both builders). The built-in rules are [`crate::secrets::RULES`]; a policy may add its
//! own, which search files too. A secret is shown redacted in every output and named by its
//! fingerprint; exceptions match the rule id, the fingerprint, or where it is (`env:NAME`,
//! `history`).

use super::super::diags::{Code, Origin, PolicyError};
use super::super::file::{SecretsFile, SecretsSettings};
use super::super::input::Input;
use super::super::verdict::{Evidence, Finding};
use crate::secrets::{CustomRule, Detector, Found};
use std::collections::BTreeSet;

#[derive(Debug)]
pub struct SecretsCheck {
    enabled: bool,
    /// Files not searched.
    allowed: globset::GlobSet,
    /// The built-in rules and the organisation's own (the layer pass searches files with the
    /// rules of every `secrets` rule at once; each reports the hits of its own).
    detector: Detector,
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
        let mut allowed = globset::GlobSetBuilder::new();
        for pattern in &settings.allow_paths {
            allowed.add(
                globset::GlobBuilder::new(pattern.trim().trim_start_matches('/'))
                    .literal_separator(true)
                    .build()
                    .map_err(|e| whole(format!("secrets: bad path pattern `{pattern}`: {e}")))?,
            );
        }
        let allowed = allowed
            .build()
            .map_err(|e| whole(format!("secrets: allow_paths: {e}")))?;
        let own = settings
            .rules
            .iter()
            .map(|r| {
                if r.keywords.iter().any(|k| k.trim().is_empty()) {
                    return Err(whole(format!("secrets rule `{}`: an empty keyword", r.id)));
                }
                regex::RegexBuilder::new(&r.regex)
                    .size_limit(1 << 20)
                    .build()
                    .map(|regex| CustomRule {
                        id: r.id.clone(),
                        regex,
                        keywords: r.keywords.clone(),
                    })
                    .map_err(|e| whole(format!("secrets rule `{}`: bad pattern: {e}", r.id)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SecretsCheck {
            enabled,
            allowed,
            detector: Detector::new(own).map_err(whole)?,
        })
    }

    /// The policy's own rules.
    pub fn custom_rules(&self) -> &[CustomRule] {
        self.detector.custom_rules()
    }

    /// Whether the rule searches at all (`secrets: false` does not).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn evaluate(&self, input: &Input) -> Vec<Finding> {
        if !self.enabled {
            return Vec::new();
        }
        let image = input.image;
        let mut findings = Vec::new();
        // Each secret once: in its file, else in the environment, else in the history.
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
        for hit in input.files.iter().flat_map(|f| &f.secrets) {
            if self.allowed.is_match(&hit.path)
                || !self.detector.applies(&hit.rule)
                || !reported.insert((hit.path.clone(), hit.fingerprint.clone()))
            {
                continue;
            }
            seen.insert(hit.fingerprint.clone());
            let whereabouts = if hit.present {
                format!("layer {}", hit.layer_index + 1)
            } else {
                format!(
                    "layer {}, deleted or replaced by a later layer but still in the image",
                    hit.layer_index + 1
                )
            };
            findings.push(
                Finding::new(
                    Code::SecretsFile,
                    format!(
                        "{} ({}) in /{}:{} ({whereabouts}): {}",
                        crate::secrets::title_of(&hit.rule),
                        hit.rule,
                        hit.path,
                        hit.line,
                        hit.redacted
                    ),
                    Evidence {
                        line: Some(hit.line),
                        value: Some(hit.redacted.clone()),
                        ..super::file_evidence(&hit.path, hit.layer_index, image)
                    },
                )
                .keyed(hit.rule.clone())
                .keyed(hit.fingerprint.clone())
                .keyed(hit.path.clone()),
            );
        }
        let mut configured = |code: Code, place: String, key: String, found: &Found| {
            let fingerprint = found.fingerprint();
            if !seen.insert(fingerprint.clone()) {
                return;
            }
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
            for found in self.detector.find(entry) {
                configured(
                    Code::SecretsEnv,
                    format!("ENV {}", crate::text::excerpt(name, 100)),
                    format!("env:{name}"),
                    &found,
                );
            }
        }
        for (index, entry) in image.history.iter().enumerate() {
            for found in self.detector.find(&entry.created_by) {
                configured(
                    Code::SecretsHistory,
                    format!("build history entry {}", index + 1),
                    "history".to_string(),
                    &found,
                );
            }
        }
        findings
    }
}
