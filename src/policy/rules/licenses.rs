//! `licenses` rules: denied and/or allowed SPDX license ids. A component's licenses (all of them
//! apply) are evaluated as an SPDX expression with the `spdx` crate, the way cargo-deny does: an `OR`
//! is satisfied when one side is acceptable. With an allow list, a component whose license is not
//! known or not an SPDX expression cannot be vouched for and is a finding too.

use super::super::diags::{Code, Origin, PolicyError};
use super::super::file::LicensesFile;
use super::super::input::Input;
use super::super::verdict::Finding;
use super::component_evidence;
use marked_yaml::Spanned;
use spdx::{Expression, LicenseItem, LicenseReq, ParseMode};

#[derive(Debug)]
pub struct LicensesCheck {
    deny: Vec<String>,
    allow: Option<Vec<String>>,
}

fn license_ids(list: &[Spanned<String>], origin: &Origin) -> Result<Vec<String>, PolicyError> {
    list.iter()
        .map(|id| {
            let text = id.trim();
            if text.starts_with("LicenseRef-") {
                return Ok(text.to_string());
            }
            spdx::license_id(text)
                .map(|l| l.name.to_string())
                .ok_or_else(|| origin.at(id, format!("`{text}` is not an SPDX license id")))
        })
        .collect()
}

/// The license name a requirement names (`GPL-2.0-or-later` for `GPL-2.0+`).
fn requirement_name(req: &LicenseReq) -> String {
    match &req.license {
        LicenseItem::Spdx { id, or_later } if *or_later && !id.name.ends_with("-or-later") => {
            let base = id.name.trim_end_matches("-only");
            spdx::license_id(&format!("{base}-or-later"))
                .map(|l| l.name.to_string())
                .unwrap_or_else(|| format!("{}+", id.name))
        }
        LicenseItem::Spdx { id, .. } => id.name.to_string(),
        LicenseItem::Other(other) => other.to_string(),
    }
}

impl LicensesCheck {
    pub fn compile(file: &LicensesFile, origin: &Origin) -> Result<LicensesCheck, PolicyError> {
        Ok(LicensesCheck {
            deny: license_ids(&file.deny, origin)?,
            allow: file
                .allow
                .as_ref()
                .map(|a| license_ids(a, origin))
                .transpose()?,
        })
    }

    fn acceptable(&self, name: &str) -> bool {
        !self.deny.iter().any(|d| d == name)
            && self
                .allow
                .as_ref()
                .is_none_or(|allow| allow.iter().any(|a| a == name))
    }

    pub fn evaluate(&self, input: &Input) -> Vec<Finding> {
        let mut findings = Vec::new();
        for component in input.components {
            let evidence = || component_evidence(component, input.image);
            let finding = |code, message: String, value: String| {
                let mut evidence = evidence();
                evidence.value = Some(value);
                Finding::new(code, message, evidence)
                    .keyed(component.purl_base())
                    .keyed(component.purl.clone())
            };
            if component.licenses.is_empty() {
                if self.allow.is_some() {
                    findings.push(finding(
                        Code::LicensesUnknown,
                        format!(
                            "{} {} has no known license",
                            component.name, component.version
                        ),
                        String::new(),
                    ));
                }
                continue;
            }
            let joined = component
                .licenses
                .iter()
                .map(|l| format!("({l})"))
                .collect::<Vec<_>>()
                .join(" AND ");
            let expression = match Expression::parse_mode(&joined, ParseMode::LAX) {
                Ok(e) => e,
                Err(_) => {
                    if self.allow.is_some() {
                        findings.push(finding(
                            Code::LicensesUnknown,
                            format!(
                                "{} {}: license `{}` is not an SPDX expression",
                                component.name,
                                component.version,
                                component.licenses.join(", ")
                            ),
                            component.licenses.join(", "),
                        ));
                    }
                    continue;
                }
            };
            if expression.evaluate(|req| self.acceptable(&requirement_name(req))) {
                continue;
            }
            let names: Vec<String> = expression
                .requirements()
                .map(|r| requirement_name(&r.req))
                .collect();
            let mut denied: Vec<&String> = names
                .iter()
                .filter(|n| self.deny.iter().any(|d| d == *n))
                .collect();
            denied.sort();
            denied.dedup();
            let shown = component.licenses.join(" AND ");
            if denied.is_empty() {
                findings.push(finding(
                    Code::LicensesNotAllowed,
                    format!(
                        "{} {} is licensed {shown}, not on the allow list",
                        component.name, component.version
                    ),
                    shown,
                ));
            } else {
                let denied: Vec<&str> = denied.iter().map(|s| s.as_str()).collect();
                findings.push(finding(
                    Code::LicensesDenied,
                    format!(
                        "{} {} is licensed {shown} ({} denied)",
                        component.name,
                        component.version,
                        denied.join(", ")
                    ),
                    shown,
                ));
            }
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(deny: &[&str], allow: Option<&[&str]>) -> LicensesCheck {
        LicensesCheck {
            deny: deny.iter().map(|s| s.to_string()).collect(),
            allow: allow.map(|a| a.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn accepts(c: &LicensesCheck, expression: &str) -> bool {
        Expression::parse_mode(expression, ParseMode::LAX)
            .unwrap()
            .evaluate(|req| c.acceptable(&requirement_name(req)))
    }

    #[test]
    fn or_needs_one_acceptable_side_and_and_needs_both() {
        let c = check(&["GPL-3.0-only", "GPL-3.0-or-later"], None);
        assert!(accepts(&c, "MIT OR GPL-3.0-only"));
        assert!(!accepts(&c, "MIT AND GPL-3.0-only"));
        assert!(!accepts(&c, "GPL-3.0+"), "or-later spelled with +");
        let allow = check(&[], Some(&["MIT", "Apache-2.0"]));
        assert!(accepts(&allow, "MIT"));
        assert!(!accepts(&allow, "BSD-3-Clause"));
        assert!(accepts(&allow, "BSD-3-Clause OR Apache-2.0"));
    }
}
