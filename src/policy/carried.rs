//! Findings carried over from an attested verdict, for rules that need what a re-judgment does not
//! read. `attest --from-attestation` judges an image again from its signed SBOM, without its
//! layers: the `files` rules' results of the verified verdict of the same policy stand (the files of
//! an image never change), taken back finding by finding so that today's exceptions apply to them
//! as to any other finding.

use super::diags::Code;
use super::rules::Evaluation;
use super::verdict::{Evidence, Finding};
use serde_json::Value;

/// The findings the attested verdict `prior` (its JSON) has for the rule `rule_id`.
pub fn findings(prior: &Value, rule_id: &str) -> Evaluation {
    let rule = prior["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["id"] == rule_id)
        .ok_or_else(|| {
            "the image's files were not read again, and the attested verdict has no result of this rule"
                .to_string()
        })?;
    if rule["status"] == "not_applicable" {
        return Err(format!(
            "not applicable in the attested verdict too ({})",
            rule["note"].as_str().unwrap_or("no note")
        ));
    }
    let mut findings = Vec::new();
    for finding in rule["findings"].as_array().into_iter().flatten() {
        let text = finding["code"].as_str().unwrap_or_default();
        let code = Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| {
                format!("the attested verdict has a finding code vouch does not know ({text:?})")
            })?;
        let evidence: Evidence =
            serde_json::from_value(finding["evidence"].clone()).map_err(|e| {
                format!("the attested verdict's evidence of a {code} finding does not read ({e})")
            })?;
        let mut carried = Finding::new(
            code,
            format!(
                "{} (from the attested verdict: the files were not read again)",
                finding["message"].as_str().unwrap_or_default()
            ),
            evidence.clone(),
        );
        // The keys the rule gave it: its path (as the pattern of an exception matches it) and,
        // for accounts, the account's name.
        if let Some(path) = &evidence.path {
            carried = carried.keyed(path.trim_start_matches('/'));
        }
        if let Some(value) = &evidence.value {
            carried = carried.keyed(value.clone());
        }
        findings.push(carried);
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn findings_come_back_with_their_keys() {
        let prior = json!({"rules": [
            {"id": "files", "kind": "files", "status": "failed", "findings": [
                {"code": "files.setuid", "message": "/usr/bin/x is setuid", "gating": true,
                 "evidence": {"path": "/usr/bin/x", "layer_index": 1}}
            ]},
            {"id": "skipped", "kind": "files", "status": "not_applicable", "note": "no layers", "findings": []},
            {"id": "odd", "kind": "files", "status": "failed", "findings": [
                {"code": "files.new-kind", "message": "?", "evidence": {}}
            ]}
        ]});
        let found = findings(&prior, "files").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, Code::FilesSetuid);
        assert!(found[0].keys.contains(&"usr/bin/x".to_string()));
        assert_eq!(found[0].evidence.layer_index, Some(1));
        assert!(findings(&prior, "skipped")
            .unwrap_err()
            .contains("no layers"));
        assert!(findings(&prior, "odd")
            .unwrap_err()
            .contains("does not know"));
        assert!(findings(&prior, "absent").is_err());
    }
}
