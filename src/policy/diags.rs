//! What the policy room says, in one place: every finding code a rule can report ([`Code`], with its
//! rule kind, what it means, and where docs/policy.md explains it), and why a policy file is rejected
//! ([`PolicyError`], located by [`Origin`]). The rules and the loader both use this room and
//! nothing of each other's, so neither has to reach into the other for its words.
//!
//! The codes are stable: verdicts, exceptions (`matches: files.private-key`) and CI reports key on
//! them. The list here, the verdict schema's enum and docs/policy.md's table are checked against each
//! other (tests/policy.rs; the kinds, meanings and anchors in this module's tests).

use marked_yaml::{Span, Spanned};
use serde::{Serialize, Serializer};
use std::path::PathBuf;

/// Declares the finding codes: variant, code, rule kind, meaning.
macro_rules! codes {
    ($($variant:ident = $code:literal, $kind:literal, $meaning:literal;)+) => {
        /// A finding code: which rule kind found what.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(#[doc = $meaning] $variant,)+
        }

        impl Code {
            /// Every code, in the order docs/policy.md lists them.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)+];

            /// The stable code (`files.private-key`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)+
                }
            }

            /// The rule kind that reports it (`files`).
            pub fn kind(self) -> &'static str {
                match self {
                    $(Code::$variant => $kind,)+
                }
            }

            /// What a finding with this code means, as docs/policy.md says it.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Code::$variant => $meaning,)+
                }
            }
        }
    };
}

codes! {
    BaseImageUnknown = "base-image.unknown", "base_image", "the base image cannot be determined";
    BaseImageMismatch = "base-image.mismatch", "base_image", "the named base's layers are not the bottom of the image";
    BaseImageNotAllowed = "base-image.not-allowed", "base_image", "the base is not among the allowed names or digests";
    PackagesDenied = "packages.denied", "packages", "a denied package (in the denied range) is installed";
    PackagesBelowMinimum = "packages.below-minimum", "packages", "an installed version is below the minimum";
    PackagesVersionUnreadable = "packages.version-unreadable", "packages", "an installed version cannot be ordered by its ecosystem";
    LicensesDenied = "licenses.denied", "licenses", "a denied license is required";
    LicensesNotAllowed = "licenses.not-allowed", "licenses", "the allow list is not satisfied";
    LicensesUnknown = "licenses.unknown", "licenses", "no license, or not an SPDX expression, with an allow list";
    ConfigRootUser = "config.root-user", "config", "the image runs as root";
    ConfigNoEntrypoint = "config.no-entrypoint", "config", "neither entrypoint nor cmd";
    ConfigMissingLabel = "config.missing-label", "config", "a required label is not set";
    ConfigLabelMismatch = "config.label-mismatch", "config", "a required label does not match its pattern";
    ConfigForbiddenPort = "config.forbidden-port", "config", "a forbidden port is exposed";
    ConfigNoHealthcheck = "config.no-healthcheck", "config", "no healthcheck, or `HEALTHCHECK NONE`";
    FilesForbiddenPath = "files.forbidden-path", "files", "a file matches a forbidden path";
    FilesPrivateKey = "files.private-key", "files", "a file holds a PEM private key";
    FilesSetuid = "files.setuid", "files", "a setuid file not on the allow list";
    FilesSetgid = "files.setgid", "files", "a setgid file not on the allow list";
    FilesWorldWritable = "files.world-writable", "files", "a world-writable file or directory not on the allow list";
    FilesPermissions = "files.permissions", "files", "a file's mode allows more than the rule, or its owner or group is another";
    FilesExtraRootAccount = "files.extra-root-account", "files", "an account other than root has uid 0";
    FilesEmptyPassword = "files.empty-password", "files", "an account needs no password";
    FileContentMismatch = "file-content.mismatch", "file_content", "a setting has another value than the rule requires";
    FileContentMissing = "file-content.missing", "file_content", "a setting the rule requires is not set";
    FileContentForbiddenMatch = "file-content.forbidden-match", "file_content", "the file's text matches a forbidden pattern";
    FileContentNoFile = "file-content.no-file", "file_content", "no file matches the path of a rule that requires one";
    FileContentUnreadable = "file-content.unreadable", "file_content", "a file the rule reads is too large or not text, or includes a file that was not read";
    SecretsFile = "secrets.file", "secrets", "a secret in a file of some layer (also one a later layer deletes or replaces)";
    SecretsEnv = "secrets.env", "secrets", "a secret in the image's environment (ENV)";
    SecretsHistory = "secrets.history", "secrets", "a secret in the image's build history (a build argument, an instruction)";
    HistoryForbidden = "history.forbidden", "history", "a build history entry matches a forbidden instruction";
    VulnerabilitiesSeverity = "vulnerabilities.severity", "vulnerabilities", "a finding above the maximum severity";
    VulnerabilitiesCount = "vulnerabilities.count", "vulnerabilities", "more findings of a severity than allowed";
    VulnerabilitiesKev = "vulnerabilities.kev", "vulnerabilities", "a finding CISA's catalog lists as known exploited";
    RegoDeny = "rego.deny", "rego", "a result of the module's `deny` rule";
}

impl Code {
    /// Where the code is explained: its row of docs/policy.md's finding codes table (each row carries
    /// an anchor named by the code with `.` as `-`).
    pub fn docs(self) -> String {
        format!("docs/policy.md#{}", self.as_str().replace('.', "-"))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Why a policy was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", location(*line, *column))]
pub struct PolicyError {
    pub file: String,
    /// 1-based; 0 when the error has no position.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

fn location(line: usize, column: usize) -> String {
    match (line, column) {
        (0, _) => String::new(),
        (l, 0) => format!(":{l}"),
        (l, c) => format!(":{l}:{c}"),
    }
}

/// Where the policy came from, for error messages and for resolving relative paths (Rego files).
#[derive(Debug, Clone)]
pub struct Origin {
    /// As shown to the user: the path given, or `built-in default policy`.
    pub name: String,
    /// The directory relative paths are resolved from.
    pub dir: Option<PathBuf>,
}

impl Origin {
    pub fn error(&self, span: &Span, message: impl Into<String>) -> PolicyError {
        let (line, column) = span
            .start()
            .map(|m| (m.line(), m.column()))
            .unwrap_or((0, 0));
        // One line per error: messages from other crates may span several.
        let message: String = message.into();
        PolicyError {
            file: self.name.clone(),
            line,
            column,
            message: message
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    pub fn at<T>(&self, value: &Spanned<T>, message: impl Into<String>) -> PolicyError {
        self.error(value.span(), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS: &str = include_str!("../../docs/policy.md");

    /// docs/policy.md's finding codes table: (anchor, code, kind, meaning) per row.
    fn documented() -> Vec<(String, String, String, String)> {
        let table = DOCS
            .split("## Finding codes")
            .nth(1)
            .expect("docs/policy.md has a Finding codes section");
        table
            .lines()
            .skip_while(|l| !l.starts_with("|---"))
            .skip(1)
            .take_while(|l| l.starts_with('|'))
            .map(|row| {
                let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
                let (code_cell, kind, meaning) = (cells[0], cells[1], cells[2]);
                let anchor = code_cell
                    .split("<a id=\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or_default()
                    .to_string();
                let code = code_cell.split('`').nth(1).unwrap_or_default().to_string();
                (anchor, code, kind.to_string(), meaning.to_string())
            })
            .collect()
    }

    #[test]
    fn every_code_is_documented_where_its_anchor_says() {
        let rows = documented();
        let listed: Vec<(String, String, String, String)> = Code::ALL
            .iter()
            .map(|c| {
                (
                    c.docs()
                        .split_once('#')
                        .map(|(_, a)| a.to_string())
                        .unwrap_or_default(),
                    c.as_str().to_string(),
                    c.kind().to_string(),
                    c.meaning().to_string(),
                )
            })
            .collect();
        assert_eq!(rows, listed);
    }

    #[test]
    fn codes_serialize_as_their_text() {
        assert_eq!(
            serde_json::to_string(&Code::FilesPrivateKey).unwrap(),
            "\"files.private-key\""
        );
        assert_eq!(Code::RegoDeny.docs(), "docs/policy.md#rego-deny");
    }
}
