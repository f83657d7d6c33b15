//! `files` rules, over the file facts the layer pass noted: forbidden paths, private keys, setuid and
//! setgid files not on an allow list, world-writable files and directories not on an allow list, and
//! the accounts in `/etc/passwd` and `/etc/shadow` (no empty password, no uid 0 but `root`).

use super::super::diags::{Code, Origin, PolicyError};
use super::super::file::FilesFile;
use super::super::input::Input;
use super::super::verdict::Finding;
use super::{file_evidence, path_set, PathPattern};
use crate::facts::{FileFacts, FileKind};
use globset::GlobSet;
use marked_yaml::Spanned;

#[derive(Debug)]
pub struct FilesCheck {
    forbidden: Vec<PathPattern>,
    forbidden_set: GlobSet,
    private_keys: bool,
    setuid_allowed: Option<GlobSet>,
    accounts: bool,
    world_writable_allowed: Option<GlobSet>,
}

fn compile_set(
    list: &Option<Vec<Spanned<String>>>,
    origin: &Origin,
) -> Result<Option<GlobSet>, PolicyError> {
    list.as_ref()
        .map(|patterns| {
            let compiled = patterns
                .iter()
                .map(|p| PathPattern::compile(p, origin))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(path_set(&compiled))
        })
        .transpose()
}

impl FilesCheck {
    pub fn compile(file: &FilesFile, origin: &Origin) -> Result<FilesCheck, PolicyError> {
        let forbidden = file
            .forbidden
            .iter()
            .map(|p| PathPattern::compile(p, origin))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FilesCheck {
            forbidden_set: path_set(&forbidden),
            forbidden,
            private_keys: file.private_keys,
            setuid_allowed: compile_set(&file.setuid_allowed, origin)?,
            accounts: file.accounts,
            world_writable_allowed: compile_set(&file.world_writable_allowed, origin)?,
        })
    }

    /// The path globs the layer pass must note.
    pub fn noted_paths(&self) -> Vec<String> {
        self.forbidden
            .iter()
            .map(|p| p.glob.glob().to_string())
            .collect()
    }

    pub fn needs_special_modes(&self) -> bool {
        self.setuid_allowed.is_some() || self.world_writable_allowed.is_some()
    }

    pub fn evaluate(&self, input: &Input, facts: &FileFacts) -> Vec<Finding> {
        let mut findings = Vec::new();
        let image = input.image;
        for fact in &facts.files {
            let path = fact.path.as_str();
            let shown = format!("/{path}");
            let evidence = || file_evidence(path, fact.layer_index, image);
            let mut push = |code, message: String| {
                findings.push(Finding::new(code, message, evidence()).keyed(path.to_string()));
            };
            if self.forbidden_set.is_match(path) {
                let patterns: Vec<&str> = self
                    .forbidden
                    .iter()
                    .filter(|p| p.matcher.is_match(path))
                    .map(|p| p.text.as_str())
                    .collect();
                push(
                    Code::FilesForbiddenPath,
                    format!("{shown} matches forbidden {}", patterns.join(", ")),
                );
            }
            // A key its OS package installed, unchanged, is the package's (a demo or test key,
            // public with it), not a secret baked into the image.
            if let (true, Some(label), None) =
                (self.private_keys, &fact.private_key, &fact.installed_by)
            {
                push(
                    Code::FilesPrivateKey,
                    format!("{shown} holds a private key ({label})"),
                );
            }
            if let Some(allowed) = &self.setuid_allowed {
                if (fact.setuid() || fact.setgid()) && !allowed.is_match(path) {
                    let bits = match (fact.setuid(), fact.setgid()) {
                        (true, true) => "setuid and setgid",
                        (true, false) => "setuid",
                        _ => "setgid",
                    };
                    push(
                        if fact.setuid() {
                            Code::FilesSetuid
                        } else {
                            Code::FilesSetgid
                        },
                        format!(
                            "{shown} is {bits} (mode {:o}, owner {}) and not on the allow list",
                            fact.mode & 0o7777,
                            fact.uid
                        ),
                    );
                }
            }
            if let Some(allowed) = &self.world_writable_allowed {
                if fact.world_writable() && fact.kind != FileKind::Other && !allowed.is_match(path)
                {
                    let what = if fact.kind == FileKind::Dir {
                        "directory"
                    } else {
                        "file"
                    };
                    push(
                        Code::FilesWorldWritable,
                        format!(
                            "{shown} is a world-writable {what} (mode {:o})",
                            fact.mode & 0o7777
                        ),
                    );
                }
            }
        }
        if self.accounts {
            self.check_accounts(input, facts, &mut findings);
        }
        findings
    }

    fn check_accounts(&self, input: &Input, facts: &FileFacts, findings: &mut Vec<Finding>) {
        let image = input.image;
        if let Some(passwd) = &facts.passwd {
            for entry in &passwd.entries {
                let evidence = || {
                    let mut e = file_evidence("etc/passwd", passwd.layer_index, image);
                    e.value = Some(entry.name.clone());
                    e
                };
                if entry.uid == Some(0) && entry.name != "root" {
                    findings.push(
                        Finding::new(
                            Code::FilesExtraRootAccount,
                            format!(
                                "account {} has uid 0 (/etc/passwd line {})",
                                entry.name, entry.line
                            ),
                            evidence(),
                        )
                        .keyed(entry.name.clone()),
                    );
                }
                if entry.password.is_empty() {
                    findings.push(
                        Finding::new(
                            Code::FilesEmptyPassword,
                            format!(
                                "account {} has an empty password field in /etc/passwd (line {})",
                                entry.name, entry.line
                            ),
                            evidence(),
                        )
                        .keyed(entry.name.clone()),
                    );
                }
            }
        }
        if let Some(shadow) = &facts.shadow {
            for entry in shadow.entries.iter().filter(|e| e.password.is_empty()) {
                let mut evidence = file_evidence("etc/shadow", shadow.layer_index, image);
                evidence.value = Some(entry.name.clone());
                findings.push(
                    Finding::new(
                        Code::FilesEmptyPassword,
                        format!(
                            "account {} needs no password (/etc/shadow line {})",
                            entry.name, entry.line
                        ),
                        evidence,
                    )
                    .keyed(entry.name.clone()),
                );
            }
        }
    }
}
