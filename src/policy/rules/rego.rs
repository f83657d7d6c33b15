//! `rego` rules: a custom Rego module (regorus, Rego v1 syntax) evaluated over
//! `{image, sbom, files, findings}`; every result of the module's `deny` rule becomes a finding (a
//! string, or an object whose `msg` is the message). The module is parsed when the policy loads, so a
//! module that does not parse rejects the policy before anything is evaluated.

use super::super::diags::{Code, Origin, PolicyError};
use super::super::file::RegoFile;
use super::super::input::Input;
use super::super::verdict::{Evidence, Finding};
use super::Evaluation;
use serde_json::Value;

#[derive(Debug)]
pub struct RegoCheck {
    /// Where the module came from, for regorus' own messages.
    name: String,
    source: String,
    /// `data.<package>.deny`.
    query: String,
}

impl RegoCheck {
    pub fn compile(
        rule_id: &str,
        file: &RegoFile,
        origin: &Origin,
    ) -> Result<RegoCheck, PolicyError> {
        let (name, source, at) = match (&file.module, &file.file) {
            (Some(module), None) => (format!("{rule_id}.rego"), module.to_string(), module),
            (None, Some(path)) => {
                let full = match &origin.dir {
                    Some(dir) => dir.join(path.as_str()),
                    None => path.as_str().into(),
                };
                let source =
                    crate::fsio::read_limited(&full, crate::policy::config::MAX_POLICY_BYTES)
                        .and_then(|b| String::from_utf8(b).map_err(|e| e.to_string()))
                        .map_err(|e| {
                            origin.at(
                                path,
                                format!("cannot read Rego file {}: {e}", full.display()),
                            )
                        })?;
                (full.display().to_string(), source, path)
            }
            _ => {
                return Err(PolicyError {
                    file: origin.name.clone(),
                    line: 0,
                    column: 0,
                    message: format!(
                        "rego rule `{rule_id}` needs exactly one of `module` or `file`"
                    ),
                })
            }
        };
        let mut engine = regorus::Engine::new();
        let package = engine
            .add_policy(name.clone(), source.clone())
            .map_err(|e| {
                // regorus follows its one-line message with a source excerpt; the line is enough.
                let first = e.to_string().lines().next().unwrap_or_default().to_string();
                origin.at(at, format!("the Rego module does not parse: {first}"))
            })?;
        // `add_policy` answers `data.<package>`.
        let package = package.trim_start_matches("data.").to_string();
        Ok(RegoCheck {
            name,
            source,
            query: format!("data.{package}.deny"),
        })
    }

    pub fn evaluate(&self, input: &Input) -> Evaluation {
        let mut sbom = input
            .sbom
            .document()
            .map_err(|e| format!("the SBOM for Rego: {e}"))?;
        if let Some(from) = input.judged_from_layer {
            crate::sbom::read::retain_layers_from(sbom.to_mut(), from);
        }
        let document = serde_json::json!({
            "image": input.image,
            "sbom": sbom,
            "files": input.files,
            "findings": input.vulnerabilities.unwrap_or_default(),
        });
        let mut engine = regorus::Engine::new();
        engine
            .add_policy(self.name.clone(), self.source.clone())
            .map_err(|e| format!("the Rego module does not parse: {e}"))?;
        engine
            .set_input_json(&document.to_string())
            .map_err(|e| format!("cannot pass the input to Rego: {e}"))?;
        let result = engine
            .eval_rule(self.query.clone())
            .map_err(|e| format!("evaluating {}: {e}", self.query))?;
        if result == regorus::Value::Undefined {
            return Ok(Vec::new());
        }
        let json = result
            .to_json_str()
            .map_err(|e| format!("reading the result of {}: {e}", self.query))?;
        let value: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
        let denials = match value {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            other => {
                return Err(format!(
                    "{} must be a set of messages, not {other}",
                    self.query
                ))
            }
        };
        Ok(denials
            .into_iter()
            .map(|denial| {
                let message = match &denial {
                    Value::String(s) => s.clone(),
                    Value::Object(o) => o
                        .get("msg")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| denial.to_string()),
                    other => other.to_string(),
                };
                Finding::new(Code::RegoDeny, message.clone(), Evidence::default()).keyed(message)
            })
            .collect())
    }
}
