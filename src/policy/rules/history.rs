//! `history` rules: what the image's build history says was done. Each entry's `created_by` (the
//! `RUN`, `ADD` or `ENV` as the builder recorded it) is matched against forbidden instructions,
//! each a regular expression with an optional `unless` one: CIS Docker 4.7 (a package index
//! updated alone) and 4.9 (`ADD` of a remote URL) in `builtin:cis-docker`, or the organisation's
//! own (`curl ... | sh`). The history is what the builder chose to record: the classic builder
//! writes a hash for what an `ADD` fetched, BuildKit the URL.

use super::super::diags::{Code, Origin, PolicyError};
use super::super::file::{ForbiddenInstruction, HistoryFile};
use super::super::input::Input;
use super::super::verdict::{Evidence, Finding};
use super::Evaluation;
use marked_yaml::Spanned;
use regex::Regex;

/// The most of an entry shown in a finding.
const SHOWN_CHARS: usize = 200;

#[derive(Debug)]
pub struct HistoryCheck {
    forbidden: Vec<Forbidden>,
}

#[derive(Debug)]
struct Forbidden {
    pattern: Regex,
    unless: Option<Regex>,
    description: String,
}

fn compile_regex(text: &Spanned<String>, origin: &Origin) -> Result<Regex, PolicyError> {
    regex::RegexBuilder::new(text.as_str())
        .size_limit(1 << 20)
        .build()
        .map_err(|e| origin.at(text, format!("bad pattern `{}`: {e}", text.as_str())))
}

impl Forbidden {
    fn compile(file: &ForbiddenInstruction, origin: &Origin) -> Result<Forbidden, PolicyError> {
        if file.description.trim().is_empty() {
            return Err(origin.at(
                &file.description,
                "a forbidden instruction needs a description",
            ));
        }
        Ok(Forbidden {
            pattern: compile_regex(&file.pattern, origin)?,
            unless: file
                .unless
                .as_ref()
                .map(|u| compile_regex(u, origin))
                .transpose()?,
            description: file.description.trim().to_string(),
        })
    }

    fn matches(&self, created_by: &str) -> bool {
        self.pattern.is_match(created_by)
            && !self.unless.as_ref().is_some_and(|u| u.is_match(created_by))
    }
}

impl HistoryCheck {
    pub fn compile(file: &HistoryFile, origin: &Origin) -> Result<HistoryCheck, PolicyError> {
        Ok(HistoryCheck {
            forbidden: file
                .forbidden
                .iter()
                .map(|f| Forbidden::compile(f, origin))
                .collect::<Result<_, _>>()?,
        })
    }

    /// One finding per entry and forbidden instruction it matches; the entries of the base's
    /// layers are left out when only the application's layers are judged. Not applicable to an
    /// image without history (one judged from its SBOM, or a hand-made one).
    pub fn evaluate(&self, input: &Input) -> Evaluation {
        let image = input.image;
        if image.history.is_empty() {
            return Err("the image has no build history".into());
        }
        let mut findings = Vec::new();
        for (index, entry) in image.history.iter().enumerate() {
            // An entry of the base's layers, when only the application's are judged (kept when
            // the history does not say which layer an entry belongs to: fail closed).
            if let (Some(from), Some(layer)) = (input.judged_from_layer, entry.layer) {
                if layer < from {
                    continue;
                }
            }
            let created_by = entry.created_by.as_str();
            for forbidden in self.forbidden.iter().filter(|f| f.matches(created_by)) {
                let shown = crate::text::excerpt(created_by, SHOWN_CHARS);
                let evidence = Evidence {
                    layer: entry.layer.and_then(|l| image.layer(l)).map(str::to_string),
                    value: Some(shown.clone()),
                    ..Default::default()
                };
                findings.push(
                    Finding::new(
                        Code::HistoryForbidden,
                        format!(
                            "{}: build history entry {}{} is `{shown}`",
                            forbidden.description,
                            index + 1,
                            entry
                                .layer
                                .map(|l| format!(" (layer {})", l + 1))
                                .unwrap_or_default(),
                        ),
                        evidence,
                    )
                    .keyed(created_by.to_string()),
                );
            }
        }
        Ok(findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(pattern: &str, unless: Option<&str>) -> Forbidden {
        Forbidden {
            pattern: Regex::new(pattern).unwrap(),
            unless: unless.map(|u| Regex::new(u).unwrap()),
            description: "d".into(),
        }
    }

    /// The built-in 4.7 pattern as cis-docker.yaml writes it: an update alone is found whatever
    /// options come first; one with its install, `apk add --update`, or another command's word
    /// "update" after a separator is not.
    #[test]
    fn update_alone_is_told_from_update_and_install() {
        let policy = crate::policy::config::builtin_text("builtin:cis-docker").unwrap();
        let line = |key: &str| {
            policy
                .lines()
                .find_map(|l| l.trim().strip_prefix(key))
                .map(|v| v.trim().trim_matches('\'').to_string())
                .unwrap()
        };
        let rule = forbidden(&line("- pattern:"), Some(&line("unless:")));
        for alone in [
            "/bin/sh -c apt-get update",
            "RUN /bin/sh -c apt-get -o Acquire::Retries=3 update # buildkit",
            "/bin/sh -c apk update",
            "/bin/sh -c yum -y makecache",
            "/bin/sh -c zypper --non-interactive refresh",
        ] {
            assert!(rule.matches(alone), "{alone}");
        }
        for fine in [
            "/bin/sh -c apt-get update && apt-get install -y curl",
            "/bin/sh -c apk add --update curl",
            "/bin/sh -c apt-get clean; echo update",
            "/bin/sh -c #(nop)  ENV APT_UPDATE=1",
        ] {
            assert!(!rule.matches(fine), "{fine}");
        }
    }
}
