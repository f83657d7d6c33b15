//! Loading a policy: parse the file ([`super::file`]), then check and compile every rule and
//! exception before anything is evaluated: unknown rule kinds, bad version ranges, bad regular
//! expressions or globs, Rego that does not parse, exceptions naming no rule, bad dates. Each error
//! names the file, the line and what is wrong.

use super::diags::{Origin, PolicyError};
use super::file::{Action, ExceptionFile, PolicyFile, RuleFile};
use super::rules::secrets::SecretsCheck;
use super::rules::Check;
use crate::oci::digest::sha256_digest;
use marked_yaml::Spanned;
use std::collections::BTreeMap;
use std::path::Path;

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub action: Action,
    pub message: Option<String>,
    pub check: Check,
}

/// A compiled exception.
#[derive(Debug)]
pub struct Exception {
    pub rule: String,
    pub matches: String,
    pub pattern: globset::GlobMatcher,
    pub reason: String,
    pub expires: Option<String>,
}

/// A policy ready to evaluate.
#[derive(Debug)]
pub struct Policy {
    pub name: String,
    pub source: String,
    /// `sha256:` of the policy bytes.
    pub digest: String,
    pub rules: Vec<Rule>,
    pub exceptions: Vec<Exception>,
}

/// The embedded default policy, applied when no `--policy` is given.
pub const DEFAULT_POLICY: &str = include_str!("default-policy.yaml");
/// The largest policy file (or Rego module it names) read: a policy is a few kilobytes, and a path
/// naming a device must not take all memory.
pub const MAX_POLICY_BYTES: u64 = 16 * 1024 * 1024;

/// How the default policy is named in verdicts and errors.
pub const DEFAULT_SOURCE: &str = "built-in default policy";

/// The built-in policies, by the name `--policy builtin:NAME` and `extends: builtin:NAME` give.
pub const BUILTIN: &[(&str, &str)] = &[
    ("cis-docker", include_str!("builtin/cis-docker.yaml")),
    ("os-baseline", include_str!("builtin/os-baseline.yaml")),
];

/// The text of the built-in policy `builtin:NAME` names.
pub fn builtin_text(reference: &str) -> Option<&'static str> {
    let name = reference.strip_prefix("builtin:")?;
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// What a reference to a built-in policy that does not exist is told.
pub fn unknown_builtin(reference: &str) -> String {
    format!(
        "no built-in policy `{reference}` (there are {})",
        BUILTIN
            .iter()
            .map(|(n, _)| format!("builtin:{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

impl Policy {
    /// Reads and compiles a policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let name = path.display().to_string();
        let bytes = crate::fsio::read_limited(path, MAX_POLICY_BYTES).map_err(|e| PolicyError {
            file: name.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read the policy: {e}"),
        })?;
        let origin = Origin {
            name,
            dir: path.parent().map(Path::to_path_buf),
        };
        Policy::parse(&bytes, &origin)
    }

    /// A built-in policy (`builtin:cis-docker`).
    pub fn builtin(reference: &str) -> Result<Policy, PolicyError> {
        let text = builtin_text(reference).ok_or_else(|| PolicyError {
            file: reference.to_string(),
            line: 0,
            column: 0,
            message: unknown_builtin(reference),
        })?;
        let origin = Origin {
            name: reference.to_string(),
            dir: None,
        };
        Policy::parse(text.as_bytes(), &origin)
    }

    /// The embedded default policy.
    pub fn default_policy() -> Policy {
        let origin = Origin {
            name: DEFAULT_SOURCE.to_string(),
            dir: None,
        };
        Policy::parse(DEFAULT_POLICY.as_bytes(), &origin)
            .unwrap_or_else(|e| panic!("the embedded default policy is valid: {e}"))
    }

    /// Compiles policy bytes (YAML or JSON).
    pub fn parse(bytes: &[u8], origin: &Origin) -> Result<Policy, PolicyError> {
        let whole = |message: String| PolicyError {
            file: origin.name.clone(),
            line: 0,
            column: 0,
            message,
        };
        let text = std::str::from_utf8(bytes)
            .map_err(|e| whole(format!("the policy is not UTF-8 text ({e})")))?;
        // JSON is YAML, except that YAML does not allow tabs for indentation; outside strings (where
        // JSON cannot have raw tabs) a tab is only whitespace.
        let yaml = if text.trim_start().starts_with('{') {
            text.replace('\t', " ")
        } else {
            text.to_string()
        };
        let node = marked_yaml::parse_yaml(0, &yaml).map_err(|e| {
            let message = e.to_string();
            let (line, column) = yaml_error_position(&message);
            PolicyError {
                file: origin.name.clone(),
                line,
                column,
                message: format!("not valid YAML or JSON: {}", strip_position(&message)),
            }
        })?;
        let file: PolicyFile = marked_yaml::from_node(&node).map_err(|e| {
            let (line, column) = e
                .path()
                .and_then(|path| locate(&node, path))
                .or_else(|| e.start_mark().map(|m| (m.line(), m.column())))
                .unwrap_or((0, 0));
            let path = e.path().map(|p| format!("{p}: ")).unwrap_or_default();
            PolicyError {
                file: origin.name.clone(),
                line,
                column,
                message: format!("{path}{}", e.into_inner()),
            }
        })?;
        compile(file, bytes, origin)
    }

    /// Globs of paths the layer pass must note for the file rules.
    pub fn noted_paths(&self) -> Vec<String> {
        self.rules
            .iter()
            .filter_map(|r| match &r.check {
                Check::Files(files) => Some(files.noted_paths()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The files whose contents the `file_content` rules read (root-relative globs).
    pub fn content_globs(&self) -> Vec<String> {
        self.rules
            .iter()
            .filter_map(|r| match &r.check {
                Check::FileContent(c) => Some(c.content_globs()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// What the layer pass searches files for secrets with, when a rule searches: the built-in
    /// rules and every `secrets` rule's own (each rule then reports the ones it applies).
    pub fn secrets_detector(
        &self,
    ) -> Option<Result<std::sync::Arc<crate::secrets::Detector>, String>> {
        let checks: Vec<&SecretsCheck> = self
            .rules
            .iter()
            .filter_map(|r| match &r.check {
                Check::Secrets(c) if c.enabled() => Some(c),
                _ => None,
            })
            .collect();
        if checks.is_empty() {
            return None;
        }
        let custom: Vec<crate::secrets::CustomRule> = checks
            .iter()
            .flat_map(|c| c.custom_rules())
            .cloned()
            .collect();
        // Ids were checked when the policy was compiled: none is a built-in one's, and two rules
        // giving one id give it the same pattern (one search serves both).
        let mut seen = std::collections::BTreeSet::new();
        let custom = custom
            .into_iter()
            .filter(|c| seen.insert(c.id.clone()))
            .collect();
        Some(crate::secrets::Detector::new(custom).map(std::sync::Arc::new))
    }

    /// Whether any rule looks at setuid, setgid or world-writable files.
    pub fn needs_special_modes(&self) -> bool {
        self.rules.iter().any(|r| match &r.check {
            Check::Files(files) => files.needs_special_modes(),
            _ => false,
        })
    }
}

/// The position of the deepest key (or sequence item) along a serde path such as `rules[0].bogus`.
fn locate(node: &marked_yaml::Node, path: &str) -> Option<(usize, usize)> {
    let mut current = node;
    let mut best = None;
    for segment in path.split('.') {
        let (key, indices) = segment.split_once('[').unwrap_or((segment, ""));
        if !key.is_empty() {
            let (k, value) = current
                .as_mapping()?
                .iter()
                .find(|(k, _)| k.as_str() == key)?;
            best = k.span().start().map(|m| (m.line(), m.column()));
            current = value;
        }
        for index in indices.split('[').filter(|i| !i.is_empty()) {
            let index: usize = index.trim_end_matches(']').parse().ok()?;
            current = current.as_sequence()?.get(index)?;
            best = current.span().start().map(|m| (m.line(), m.column()));
        }
    }
    best
}

/// marked-yaml's parse errors start with `LINE:COL: `.
fn yaml_error_position(message: &str) -> (usize, usize) {
    let mut parts = message.splitn(3, ':');
    let line = parts.next().and_then(|l| l.trim().parse().ok());
    let column = parts.next().and_then(|c| c.trim().parse().ok());
    match (line, column) {
        (Some(l), Some(c)) => (l, c),
        _ => (0, 0),
    }
}

fn strip_position(message: &str) -> &str {
    match yaml_error_position(message) {
        (0, _) => message,
        _ => message.splitn(3, ':').nth(2).unwrap_or(message).trim(),
    }
}

fn compile(file: PolicyFile, bytes: &[u8], origin: &Origin) -> Result<Policy, PolicyError> {
    if file.version.as_str() != "1" {
        return Err(origin.at(
            &file.version,
            format!(
                "unknown policy version `{}` (this vouch reads version 1)",
                file.version.as_str()
            ),
        ));
    }
    let mut rules: Vec<Rule> = Vec::new();
    // The policy's own secrets rules across its `secrets` rules: id → pattern.
    let mut secret_patterns: BTreeMap<String, String> = BTreeMap::new();
    for spanned in &file.rules {
        let rule = compile_rule(spanned, origin)?;
        if rules.iter().any(|r| r.id == rule.id) {
            return Err(origin.at(&spanned.id, format!("rule id `{}` is used twice", rule.id)));
        }
        if let Check::Secrets(check) = &rule.check {
            for own in check.custom_rules() {
                let pattern = secret_patterns
                    .entry(own.id.clone())
                    .or_insert_with(|| own.regex.as_str().to_string());
                if *pattern != own.regex.as_str() {
                    return Err(origin.at(
                        &spanned.id,
                        format!(
                            "secrets rule id `{}` is given two patterns (by `{}` and an earlier rule)",
                            own.id, rule.id
                        ),
                    ));
                }
            }
        }
        rules.push(rule);
    }
    // The built-in policy this one extends: its rules first, each replaced by this file's rule of
    // the same id; the digest covers both texts.
    let mut digested = Vec::new();
    if let Some(extends) = &file.extends {
        let text = builtin_text(extends.trim())
            .ok_or_else(|| origin.at(extends, unknown_builtin(extends.trim())))?;
        let base = Policy::builtin(extends.trim())?;
        let mut merged: Vec<Rule> = Vec::new();
        for rule in base.rules {
            match rules.iter().position(|r| r.id == rule.id) {
                Some(at) => merged.push(rules.remove(at)),
                None => merged.push(rule),
            }
        }
        merged.append(&mut rules);
        rules = merged;
        digested.extend_from_slice(text.as_bytes());
        digested.push(b'\n');
    }
    digested.extend_from_slice(bytes);
    let mut exceptions = Vec::new();
    for exception in &file.exceptions {
        exceptions.push(compile_exception(exception, &rules, origin)?);
    }
    Ok(Policy {
        name: file.name.clone().unwrap_or_else(|| origin.name.clone()),
        source: origin.name.clone(),
        digest: sha256_digest(&digested),
        rules,
        exceptions,
    })
}

fn compile_rule(spanned: &Spanned<RuleFile>, origin: &Origin) -> Result<Rule, PolicyError> {
    let rule: &RuleFile = spanned;
    let id = rule.id.as_str();
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(origin.at(
            &rule.id,
            format!("rule id `{id}` must be letters, digits, `-`, `_` or `.`"),
        ));
    }
    let check = Check::compile(rule, origin).map_err(|e| match e {
        Some(e) => e,
        None => origin.at(
            &rule.id,
            format!(
                "rule `{id}` must have exactly one kind: {}",
                Check::KINDS.join(", ")
            ),
        ),
    })?;
    Ok(Rule {
        id: id.to_string(),
        action: rule.action,
        message: rule.message.clone(),
        check,
    })
}

fn compile_exception(
    spanned: &Spanned<ExceptionFile>,
    rules: &[Rule],
    origin: &Origin,
) -> Result<Exception, PolicyError> {
    let exception: &ExceptionFile = spanned;
    let rule = exception.rule.as_str();
    if !rules.iter().any(|r| r.id == rule) {
        return Err(origin.at(
            &exception.rule,
            format!("the exception names rule `{rule}`, which the policy does not have"),
        ));
    }
    if exception.reason.trim().is_empty() {
        return Err(origin.at(&exception.reason, "an exception needs a reason"));
    }
    let text = exception.matches.as_str();
    let pattern = globset::Glob::new(text.trim_start_matches('/'))
        .map_err(|e| origin.at(&exception.matches, format!("bad match pattern: {e}")))?
        .compile_matcher();
    let expires = match &exception.expires {
        Some(date) if !is_date(date) => {
            return Err(origin.at(
                date,
                format!("`{}` is not a date (write YYYY-MM-DD)", date.as_str()),
            ))
        }
        Some(date) => Some(date.to_string()),
        None => None,
    };
    Ok(Exception {
        rule: rule.to_string(),
        matches: text.to_string(),
        pattern,
        reason: exception.reason.to_string(),
        expires,
    })
}

/// `YYYY-MM-DD` with a plausible month and day.
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    matches!(
        (parts.as_slice(), parts.len()),
        ([y, m, d], 3) if number(y, 4).is_some()
            && number(m, 2).is_some_and(|m| (1..=12).contains(&m))
            && number(d, 2).is_some_and(|d| (1..=31).contains(&d))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse(
            text.as_bytes(),
            &Origin {
                name: "p.yaml".into(),
                dir: None,
            },
        )
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn the_default_policy_compiles() {
        let policy = Policy::default_policy();
        assert!(!policy.rules.is_empty());
        assert!(policy.digest.starts_with("sha256:"));
        assert!(policy.needs_special_modes());
    }

    #[test]
    fn file_content_rules_are_checked_before_anything_runs() {
        let rule = |body: &str| {
            format!("version: 1\nrules:\n  - id: a\n    action: deny\n    file_content:\n{body}")
        };
        assert_eq!(
            error(&rule("      path: /etc/x\n      format: yaml\n")),
            "p.yaml:7:15: unknown format `yaml` (one of sshd, login.defs, sysctl, ini, env, keyvalue, text)"
        );
        assert_eq!(
            error(&rule(
                "      path: /etc/login.defs\n      format: login.defs\n      require:\n        PASS_MAX_DAYS: \"<= ninety\"\n"
            )),
            "p.yaml:9:24: `PASS_MAX_DAYS: <= ninety`: <= compares numbers, and `ninety` is not one"
        );
        assert!(error(&rule(
            "      path: /x\n      format: text\n      require:\n        A: b\n"
        ))
        .contains("a `text` file has no settings to `require`"));
        assert!(error(&rule(
            "      path: /x\n      format: text\n      must_not_match: [\"(\"]\n"
        ))
        .starts_with("p.yaml:8:24: bad pattern `(`"));
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            error("version: 1\nrules:\n  - id: a\n    action: deny\n    bogus: {}\n"),
            "p.yaml:5:5: rules[0].bogus: Unknown field `bogus`, expected one of `id`, `action`, `message`, `base_image`, `packages`, `licenses`, `config`, `files`, `file_content`, `secrets`, `history`, `vulnerabilities`, `rego`, or `runtime`"
        );
        assert!(
            error("version: 1\nrules:\n  - id: a\n    action: block\n    config: {}\n")
                .starts_with("p.yaml:4:5: rules[0].action: unknown variant `block`"),
            "{}",
            error("version: 1\nrules:\n  - id: a\n    action: block\n    config: {}\n")
        );
        assert_eq!(
            error("version: 1\nrules:\n  - id: a\n    action: deny\n"),
            "p.yaml:3:9: rule `a` must have exactly one kind: base_image, packages, licenses, config, files, file_content, secrets, history, vulnerabilities, rego, runtime"
        );
        assert_eq!(
            error("version: 2\n"),
            "p.yaml:1:10: unknown policy version `2` (this vouch reads version 1)"
        );
        assert!(error("version: 1\nrules: [\n  - x").starts_with("p.yaml:3:"));
    }

    #[test]
    fn exceptions_are_checked() {
        let base = "version: 1\nrules:\n  - id: a\n    action: deny\n    config: {non_root_user: true}\nexceptions:\n";
        assert!(
            error(&format!("{base}  - {{rule: b, match: '*', reason: r}}\n"))
                .contains("names rule `b`, which the policy does not have")
        );
        assert!(error(&format!(
            "{base}  - {{rule: a, match: '*', reason: r, expires: 2026-13-01}}\n"
        ))
        .contains("is not a date"));
        assert!(parse(&format!(
            "{base}  - {{rule: a, match: '*', reason: r, expires: 2026-12-01}}\n"
        ))
        .is_ok());
    }

    /// The policy's own secrets rules: an id of a built-in rule, or one id with two patterns, is
    /// refused before anything runs; rules sharing one pattern share one search.
    #[test]
    fn own_secrets_rules_are_checked() {
        let rule = |id: &str, own: &str, regex: &str| {
            format!("  - id: {id}\n    action: deny\n    secrets:\n      rules:\n        - {{id: {own}, regex: '{regex}', keywords: [x]}}\n")
        };
        let policy = |rules: &[String]| format!("version: 1\nrules:\n{}", rules.concat());
        assert!(error(&policy(&[rule("a", "github-token", "x")]))
            .contains("secrets rule `github-token` has the id of a built-in rule"));
        assert!(
            error(&policy(&[rule("a", "mine", "x1"), rule("b", "mine", "x2")])).contains(
                "secrets rule id `mine` is given two patterns (by `b` and an earlier rule)"
            )
        );
        let shared = parse(&policy(&[rule("a", "mine", "x1"), rule("b", "mine", "x1")])).unwrap();
        let detector = shared.secrets_detector().unwrap().unwrap();
        assert_eq!(detector.rule_ids().filter(|id| *id == "mine").count(), 1);
        assert!(detector
            .find_in_file("a x1 b")
            .iter()
            .any(|f| f.rule == "mine"));
        assert!(parse(
            "version: 1\nrules:\n  - {id: a, action: deny, config: {healthcheck: true}}\n"
        )
        .unwrap()
        .secrets_detector()
        .is_none());
    }

    #[test]
    fn json_policies_with_tabs_load() {
        let policy = parse("{\n\t\"version\": \"1\",\n\t\"rules\": [{\"id\": \"a\", \"action\": \"warn\", \"config\": {\"healthcheck\": true}}]\n}\n").unwrap();
        assert_eq!(policy.rules.len(), 1);
        assert_eq!(policy.rules[0].action, Action::Warn);
    }
}
