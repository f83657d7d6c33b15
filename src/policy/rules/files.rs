//! `files` rules, over the file facts the layer pass noted: forbidden paths, private keys, setuid and
//! setgid files not on an allow list, world-writable files and directories not on an allow list, and
//! the accounts in `/etc/passwd` and `/etc/shadow` (no empty password, no uid 0 but `root`), and the
//! permissions and owners of named files (`/etc/shadow` at most `0640`, owned by root).

use super::super::diags::{Code, Origin, PolicyError};
use super::super::file::{FilesFile, PermissionsFile};
use super::super::input::Input;
use super::super::verdict::Finding;
use super::{file_evidence, path_set, PathPattern};
use crate::facts::{AccountFile, FileFact, FileFacts, FileKind};
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
    permissions: Vec<Permissions>,
}

/// One `permissions` entry, compiled.
#[derive(Debug)]
struct Permissions {
    path: PathPattern,
    /// The permission bits allowed (of `0o7777`).
    max_mode: Option<u32>,
    owner: Option<Vec<Id>>,
    group: Option<Vec<Id>>,
}

/// An owner or group as the policy names it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Id {
    Number(u64),
    Name(String),
}

impl Id {
    fn parse(spanned: &Spanned<String>, origin: &Origin) -> Result<Id, PolicyError> {
        let text = spanned.trim();
        if text.is_empty() {
            return Err(origin.at(spanned, "an empty owner or group"));
        }
        Ok(match text.parse() {
            Ok(n) => Id::Number(n),
            Err(_) => Id::Name(text.to_string()),
        })
    }

    /// Whether the numeric `id` is this one; a name is looked up among `names` ((name, id) of the
    /// image's account file): a name the image does not define matches nothing.
    fn matches(&self, id: u64, names: &[(&str, Option<u64>)]) -> bool {
        match self {
            Id::Number(n) => *n == id,
            Id::Name(name) => names.iter().any(|(n, i)| n == name && *i == Some(id)),
        }
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Id::Number(n) => write!(f, "{n}"),
            Id::Name(name) => f.write_str(name),
        }
    }
}

impl Permissions {
    fn compile(file: &PermissionsFile, origin: &Origin) -> Result<Permissions, PolicyError> {
        let max_mode = file
            .max_mode
            .as_ref()
            .map(|m| {
                u32::from_str_radix(m.trim(), 8)
                    .ok()
                    .filter(|mode| *mode <= 0o7777)
                    .ok_or_else(|| {
                        origin.at(
                            m,
                            format!("max_mode `{}` is not an octal mode (\"0640\")", m.as_str()),
                        )
                    })
            })
            .transpose()?;
        let ids = |list: &Option<Vec<Spanned<String>>>| {
            list.as_ref()
                .map(|l| l.iter().map(|i| Id::parse(i, origin)).collect())
                .transpose()
        };
        if max_mode.is_none() && file.owner.is_none() && file.group.is_none() {
            return Err(origin.at(
                &file.path,
                "a permissions entry names max_mode, owner or group",
            ));
        }
        Ok(Permissions {
            path: PathPattern::compile(&file.path, origin)?,
            max_mode,
            owner: ids(&file.owner)?,
            group: ids(&file.group)?,
        })
    }

    /// What is wrong with `fact`'s mode and owners, as message parts.
    fn violations(&self, fact: &FileFact, facts: &FileFacts) -> Vec<String> {
        let mut wrong = Vec::new();
        let mode = fact.mode & 0o7777;
        if let Some(max) = self.max_mode {
            if mode & !max != 0 {
                wrong.push(format!("mode {mode:04o} allows more than {max:04o}"));
            }
        }
        if let Some(owners) = &self.owner {
            let passwd = names(&facts.passwd, |e| (e.name.as_str(), e.uid));
            wrong.extend(not_allowed("owner", owners, fact.uid, &passwd));
        }
        if let Some(groups) = &self.group {
            let group = names(&facts.group, |e| (e.name.as_str(), e.gid));
            wrong.extend(not_allowed("group", groups, fact.gid, &group));
        }
        wrong
    }
}

/// (name, id) of each entry of an account file of the image (none when it has no such file).
fn names<T>(
    file: &Option<AccountFile<T>>,
    pick: impl Fn(&T) -> (&str, Option<u64>),
) -> Vec<(&str, Option<u64>)> {
    file.as_ref()
        .map(|f| f.entries.iter().map(pick).collect())
        .unwrap_or_default()
}

/// What is wrong when the file's `id` (its owner or group, `what`) is none of `allowed`; `known`
/// are the image's names for such ids.
fn not_allowed(
    what: &str,
    allowed: &[Id],
    id: u64,
    known: &[(&str, Option<u64>)],
) -> Option<String> {
    (!allowed.iter().any(|a| a.matches(id, known))).then(|| {
        let allowed: Vec<String> = allowed.iter().map(Id::to_string).collect();
        format!(
            "{what} {} is not {}",
            shown_id(id, known),
            allowed.join(" or ")
        )
    })
}

/// `id`, with its name in the image when it has one (`42 (shadow)`).
fn shown_id(id: u64, names: &[(&str, Option<u64>)]) -> String {
    match names.iter().find(|(_, i)| *i == Some(id)) {
        Some((name, _)) => format!("{id} ({name})"),
        None => id.to_string(),
    }
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
            permissions: file
                .permissions
                .iter()
                .map(|p| Permissions::compile(p, origin))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The path globs the layer pass must note.
    pub fn noted_paths(&self) -> Vec<String> {
        self.forbidden
            .iter()
            .chain(self.permissions.iter().map(|p| &p.path))
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
            for permissions in self
                .permissions
                .iter()
                .filter(|p| fact.kind != FileKind::Other && p.path.matcher.is_match(path))
            {
                let wrong = permissions.violations(fact, facts);
                if !wrong.is_empty() {
                    push(
                        Code::FilesPermissions,
                        format!(
                            "{shown}: {} (rule `{}`)",
                            wrong.join(", "),
                            permissions.path.text
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
