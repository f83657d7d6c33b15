//! `file_content` rules: what configuration files say, read as their programs read them
//! ([`formats`]), against the values the organisation's standard requires (`PermitRootLogin: "no"`,
//! `PASS_MAX_DAYS: "<= 90"`), and patterns their text must not match. The layer pass keeps the
//! files a rule names (and those its format reads with them: sshd's `sshd_config.d`, the sysctl.d
//! directories), each at most [`crate::facts::MAX_CONTENT_BYTES`]; a finding names the file and
//! line that set the value.

pub mod formats;

use super::super::diags::{Code, Origin, PolicyError};
use super::super::file::FileContentFile;
use super::super::input::{ImageFacts, Input};
use super::super::verdict::{Evidence, Finding};
use super::{file_evidence, PathPattern};
use crate::facts::FileFacts;
use crate::version::range::Op;
use formats::{Files, Format, Setting};
use marked_yaml::Spanned;

/// Whether an operator compares numbers (the others compare text).
fn numeric(op: Op) -> bool {
    matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge)
}

#[derive(Debug)]
struct Requirement {
    /// As the rule writes it, and as it is looked up (case-folded for sshd).
    key: String,
    lookup: String,
    op: Op,
    expected: String,
}

impl Requirement {
    fn describe(&self) -> String {
        match self.op {
            Op::Eq => format!("\"{}\"", self.expected),
            op => format!("{} {}", op.symbol(), self.expected),
        }
    }
}

#[derive(Debug)]
pub struct FileContentCheck {
    path: PathPattern,
    format: Format,
    require: Vec<Requirement>,
    must_not_match: Vec<(String, regex::Regex)>,
    required: bool,
}

/// `"<= 90"`, `"!= yes"`, or a plain value (equality).
fn requirement(
    key: &str,
    text: &Spanned<String>,
    format: Format,
    origin: &Origin,
) -> Result<Requirement, PolicyError> {
    let trimmed = text.trim();
    let (op, rest) = Op::split(trimmed).unwrap_or((Op::Eq, trimmed));
    if numeric(op) && rest.parse::<i64>().is_err() {
        return Err(origin.at(
            text,
            format!(
                "`{key}: {trimmed}`: {} compares numbers, and `{rest}` is not one",
                op.symbol()
            ),
        ));
    }
    Ok(Requirement {
        key: key.to_string(),
        lookup: if format.keys_fold_case() {
            key.to_ascii_lowercase()
        } else {
            key.to_string()
        },
        op,
        expected: rest.to_string(),
    })
}

/// The kept files, as the formats read them.
struct Kept<'a>(&'a FileFacts);

impl Files for Kept<'_> {
    fn text(&self, path: &str) -> Option<Result<&str, String>> {
        let kept = self.0.contents.get(path)?;
        Some(match &kept.bytes {
            None => Err(format!(
                "larger than {} bytes: not read",
                crate::facts::MAX_CONTENT_BYTES
            )),
            Some(bytes) => std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string()),
        })
    }

    fn matching(&self, glob: &str) -> Vec<String> {
        let Ok(matcher) = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map(|g| g.compile_matcher())
        else {
            return Vec::new();
        };
        self.0
            .contents
            .keys()
            .filter(|p| matcher.is_match(p.as_str()))
            .cloned()
            .collect()
    }
}

/// The 1-based line of byte offset `at` in `text`.
fn line_at(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

impl FileContentCheck {
    pub fn compile(
        file: &FileContentFile,
        origin: &Origin,
    ) -> Result<FileContentCheck, PolicyError> {
        let format = Format::parse(file.format.trim()).ok_or_else(|| {
            origin.at(
                &file.format,
                format!(
                    "unknown format `{}` (one of {})",
                    file.format.as_str(),
                    Format::NAMES.join(", ")
                ),
            )
        })?;
        if format == Format::Text && !file.require.is_empty() {
            return Err(origin.at(
                &file.format,
                "a `text` file has no settings to `require`: use `must_not_match`",
            ));
        }
        let require = file
            .require
            .iter()
            .map(|(key, value)| requirement(key, value, format, origin))
            .collect::<Result<Vec<_>, _>>()?;
        let must_not_match = file
            .must_not_match
            .iter()
            .map(|p| {
                regex::RegexBuilder::new(p.as_str())
                    .size_limit(1 << 20)
                    .build()
                    .map(|r| (p.to_string(), r))
                    .map_err(|e| origin.at(p, format!("bad pattern `{}`: {e}", p.as_str())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FileContentCheck {
            path: PathPattern::compile(&file.path, origin)?,
            format,
            require,
            must_not_match,
            required: file.required,
        })
    }

    /// The files the layer pass must keep the bytes of.
    pub fn content_globs(&self) -> Vec<String> {
        std::iter::once(self.path.glob.glob().to_string())
            .chain(self.format.companion_globs().iter().map(|g| g.to_string()))
            .collect()
    }

    pub fn evaluate(&self, input: &Input, facts: &FileFacts) -> Result<Vec<Finding>, String> {
        let image = input.image;
        let paths: Vec<&String> = facts
            .contents
            .keys()
            .filter(|p| self.path.matcher.is_match(p.as_str()))
            .collect();
        if paths.is_empty() {
            if !self.required {
                return Err(format!("no file matches {}", self.path.text));
            }
            return Ok(vec![Finding::new(
                Code::FileContentNoFile,
                format!("no file matches {}", self.path.text),
                Evidence {
                    path: Some(self.path.text.clone()),
                    ..Default::default()
                },
            )
            .keyed(self.path.text.trim_start_matches('/').to_string())]);
        }
        let files = Kept(facts);
        let mut findings = Vec::new();
        for path in paths {
            let layer = facts.contents[path].layer_index;
            let settings = formats::read(self.format, path, &files);
            let mut problems = settings.problems.clone();
            for requirement in &self.require {
                match settings.values.get(&requirement.lookup) {
                    None => findings.push(
                        Finding::new(
                            Code::FileContentMissing,
                            format!(
                                "{} is not set in /{path} (required: {})",
                                requirement.key,
                                requirement.describe()
                            ),
                            file_evidence(path, layer, image),
                        )
                        .keyed(path.to_string())
                        .keyed(format!("{path}:{}", requirement.key)),
                    ),
                    Some(setting) => {
                        if let Some(message) = self.mismatch(requirement, setting) {
                            findings.push(
                                Finding::new(
                                    Code::FileContentMismatch,
                                    message,
                                    setting_evidence(setting, facts, image),
                                )
                                .keyed(path.to_string())
                                .keyed(format!("{path}:{}", requirement.key)),
                            );
                        }
                    }
                }
            }
            if !self.must_not_match.is_empty() {
                match files.text(path) {
                    Some(Ok(text)) => {
                        for (pattern, regex) in &self.must_not_match {
                            if let Some(found) = regex.find(text) {
                                let line = line_at(text, found.start());
                                findings.push(
                                    Finding::new(
                                        Code::FileContentForbiddenMatch,
                                        format!("/{path}:{line} matches `{pattern}`"),
                                        Evidence {
                                            line: Some(line),
                                            value: Some(
                                                crate::text::excerpt(found.as_str(), 200)
                                                    .to_string(),
                                            ),
                                            ..file_evidence(path, layer, image)
                                        },
                                    )
                                    .keyed(path.to_string()),
                                );
                            }
                        }
                    }
                    Some(Err(why)) => problems.push(format!("/{path}: {why}")),
                    None => {}
                }
            }
            problems.dedup();
            for problem in problems {
                findings.push(
                    Finding::new(
                        Code::FileContentUnreadable,
                        problem,
                        file_evidence(path, layer, image),
                    )
                    .keyed(path.to_string()),
                );
            }
        }
        Ok(findings)
    }

    /// Why `setting` does not satisfy `requirement`, if it does not.
    fn mismatch(&self, requirement: &Requirement, setting: &Setting) -> Option<String> {
        let shown = format!(
            "{} is \"{}\" ({}:{}); required: {}",
            requirement.key,
            crate::text::excerpt(&setting.value, 200),
            setting.file,
            setting.line,
            requirement.describe()
        );
        let ordering = if numeric(requirement.op) {
            let first = setting.value.split_whitespace().next().unwrap_or("");
            match (first.parse::<i64>(), requirement.expected.parse::<i64>()) {
                (Ok(actual), Ok(expected)) => actual.cmp(&expected),
                _ => return Some(format!("{shown}, and it is not a number")),
            }
        } else if self.format.keys_fold_case() {
            // sshd reads yes/no and its other keywords without regard to case.
            setting
                .value
                .to_ascii_lowercase()
                .cmp(&requirement.expected.to_ascii_lowercase())
        } else {
            setting.value.as_str().cmp(requirement.expected.as_str())
        };
        (!requirement.op.holds(ordering)).then_some(shown)
    }
}

/// Evidence of a setting: the file and line that set it, and its value.
fn setting_evidence(setting: &Setting, facts: &FileFacts, image: &ImageFacts) -> Evidence {
    let path = setting.file.trim_start_matches('/');
    let layer = facts.contents.get(path).map_or(0, |c| c.layer_index);
    Evidence {
        line: Some(setting.line),
        value: Some(crate::text::excerpt(&setting.value, 200).to_string()),
        ..file_evidence(path, layer, image)
    }
}
