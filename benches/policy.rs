//! Policy evaluation speed (not a test): an image of 1,000 packages across ecosystems, 200 noted
//! files and an `/etc/passwd`, against a policy of 50 rules of every kind but `rego` and
//! `vulnerabilities` (plus one Rego rule and one vulnerability rule over 100 findings), with
//! exceptions. Prints the median and worst of 30 evaluations; the target is under 50 ms.
//!
//! Run with `cargo bench --bench policy` (`make bench` does).

use std::time::{Duration, Instant};
use vouch::facts::{AccountFile, FileFact, FileFacts, FileKind, PasswdEntry};
use vouch::policy::diags::Origin;
use vouch::policy::file::Severity;
use vouch::policy::input::{Component, ImageFacts, Input, VulnerabilityFinding};
use vouch::policy::{evaluate, Policy};

const ECOSYSTEMS: [(&str, &str); 5] = [
    ("deb", "pkg:deb/debian/"),
    ("pypi", "pkg:pypi/"),
    ("npm", "pkg:npm/"),
    ("maven", "pkg:maven/org.example/"),
    ("golang", "pkg:golang/github.com/example/"),
];

fn components() -> Vec<Component> {
    (0..1000)
        .map(|i| {
            let (purl_type, prefix) = ECOSYSTEMS[i % ECOSYSTEMS.len()];
            let version = match purl_type {
                "deb" => format!("1:{}.{}-{}+deb12u{}", i % 7, i % 13, i % 5, i % 3),
                "golang" => format!("v1.{}.{}", i % 11, i % 17),
                _ => format!("{}.{}.{}", i % 9, i % 13, i % 4),
            };
            Component {
                name: format!("package-{i}"),
                version: version.clone(),
                purl: format!("{prefix}package-{i}@{version}"),
                purl_type: purl_type.to_string(),
                licenses: vec![[
                    "MIT",
                    "Apache-2.0",
                    "GPL-2.0-only OR MIT",
                    "BSD-3-Clause AND ISC",
                ][i % 4]
                    .to_string()],
                layer_index: Some(i % 4),
                path: Some(format!("/usr/lib/package-{i}")),
                ..Default::default()
            }
        })
        .collect()
}

fn policy_text() -> String {
    let mut rules = String::from("version: \"1\"\nrules:\n");
    for i in 0..10 {
        rules.push_str(&format!(
            "  - id: min-{i}\n    action: deny\n    packages:\n      minimum: [\"pkg:deb/debian/package-{} >= 1:3.0-1\", \"pkg:pypi/package-{} >= 2.0.0\"]\n      deny: [{{purl: \"pkg:npm/package-{i}*\", versions: \">= 1.0.0, < 5.0.0\"}}]\n",
            i * 5,
            i * 5 + 1
        ));
    }
    for i in 0..10 {
        rules.push_str(&format!(
            "  - id: licenses-{i}\n    action: warn\n    licenses:\n      deny: [GPL-3.0-only, AGPL-3.0-only]\n      allow: [MIT, Apache-2.0, BSD-3-Clause, ISC, GPL-2.0-only]\n"
        ));
    }
    for i in 0..10 {
        rules.push_str(&format!(
            "  - id: config-{i}\n    action: deny\n    config:\n      non_root_user: true\n      entrypoint_or_cmd: true\n      forbidden_ports: [\"22\", \"23\"]\n      required_labels: {{org.opencontainers.image.source: \"https://.*\"}}\n"
        ));
    }
    for i in 0..10 {
        rules.push_str(&format!(
            "  - id: files-{i}\n    action: deny\n    files:\n      forbidden: [\"**/.ssh/**\", \"**/*.pem\"]\n      private_keys: true\n      setuid_allowed: [/usr/bin/passwd, /usr/bin/su]\n      world_writable_allowed: [/tmp, /var/tmp]\n      accounts: true\n"
        ));
    }
    for i in 0..8 {
        rules.push_str(&format!(
            "  - id: base-{i}\n    action: warn\n    base_image:\n      names: [\"debian:12*\", \"registry.example/base/*\"]\n"
        ));
    }
    rules.push_str("  - id: vulns\n    action: deny\n    vulnerabilities: {max_severity: high, max_counts: {medium: 10}, fixable_only: true}\n");
    rules.push_str("  - id: rego\n    action: warn\n    rego:\n      module: |\n        package bench\n        deny contains msg if {\n          some c in input.sbom.components\n          startswith(c.name, \"package-99\")\n          msg := c.name\n        }\n");
    rules.push_str("exceptions:\n");
    for i in 0..20 {
        rules.push_str(&format!(
            "  - {{rule: min-{}, match: \"pkg:deb/debian/package-{}\", reason: r, expires: \"2999-01-01\"}}\n",
            i % 10,
            i * 5
        ));
    }
    rules
}

fn main() {
    let policy = Policy::parse(
        policy_text().as_bytes(),
        &Origin {
            name: "bench.yaml".into(),
            dir: None,
        },
    )
    .expect("the bench policy is valid");
    assert_eq!(policy.rules.len(), 50);
    let components = components();
    let sbom = vouch::sbom::read::Sbom::Saved(serde_json::json!({
        "components": components.iter().map(|c| serde_json::json!({
            "name": c.name, "version": c.version, "purl": c.purl
        })).collect::<Vec<_>>()
    }));
    let files = FileFacts {
        files: (0..200)
            .map(|i| FileFact {
                path: format!("usr/lib/file-{i}.pem"),
                kind: FileKind::File,
                mode: if i % 10 == 0 { 0o4755 } else { 0o666 },
                uid: 0,
                gid: 0,
                size: 100,
                layer_index: i % 4,
                private_key: (i % 50 == 0)
                    .then(|| "RSA 2048-bit (PKCS#1), unencrypted".to_string()),
                installed_by: None,
            })
            .collect(),
        passwd: Some(AccountFile {
            layer_index: 0,
            entries: (0..30)
                .map(|i| PasswdEntry {
                    name: format!("user{i}"),
                    password: "x".into(),
                    uid: Some(i),
                    line: i as usize + 1,
                })
                .collect(),
        }),
        shadow: None,
        group: None,
        contents: Default::default(),
        secrets: Vec::new(),
    };
    let vulnerabilities: Vec<VulnerabilityFinding> = (0..100)
        .map(|i| VulnerabilityFinding {
            id: format!("CVE-2024-{i:04}"),
            aliases: vec![],
            purl: components[i * 10].purl.clone(),
            severity: [
                Severity::Low,
                Severity::Medium,
                Severity::High,
                Severity::Critical,
            ][i % 4],
            fixed_version: (i % 2 == 0).then(|| "9.9.9".to_string()),
            ..Default::default()
        })
        .collect();
    let image = ImageFacts {
        reference: "bench".into(),
        id: format!("sha256:{}", "0".repeat(64)),
        digest: format!("sha256:{}", "0".repeat(64)),
        user: Some("root".into()),
        exposed_ports: vec!["22/tcp".into(), "8080/tcp".into()],
        diff_ids: (0..4)
            .map(|i| format!("sha256:{}", i.to_string().repeat(64)))
            .collect(),
        ..Default::default()
    };
    let input = Input {
        image: &image,
        components: &components,
        files: Some(&files),
        prior: None,
        vulnerabilities: Some(&vulnerabilities),
        sbom: &sbom,
        judged_from_layer: None,
        today: "2026-11-23",
    };
    let mut times: Vec<Duration> = Vec::new();
    let mut findings = 0;
    for _ in 0..30 {
        let start = Instant::now();
        let verdict = evaluate(&policy, &input, "2026-11-23T00:00:00Z");
        times.push(start.elapsed());
        findings = verdict.rules.iter().map(|r| r.findings.len()).sum();
    }
    times.sort();
    println!(
        "policy evaluation: 1000 packages, 200 noted files, 100 vulnerability findings, 50 rules: median {:.1} ms, worst {:.1} ms ({findings} findings)",
        times[times.len() / 2].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
}
