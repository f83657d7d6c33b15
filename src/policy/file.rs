//! The policy file as written: YAML or JSON (JSON is read as YAML, of which it is a subset), with
//! the position of every value a later check may reject, so that each error names the file, the line
//! and what is wrong. Shapes only; [`super::config`] checks the contents and compiles the rules.

pub use crate::vuln::Severity;
use marked_yaml::Spanned;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `deny` findings fail the verdict; `warn` findings are reported only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Deny,
    Warn,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// The policy format version; only `1` exists.
    pub version: Spanned<String>,
    pub name: Option<String>,
    /// A built-in policy whose rules come first (`builtin:cis-docker`); a rule of this file with
    /// the same id replaces the built-in one.
    pub extends: Option<Spanned<String>>,
    #[serde(default)]
    pub rules: Vec<Spanned<RuleFile>>,
    #[serde(default)]
    pub exceptions: Vec<Spanned<ExceptionFile>>,
}

/// One rule: common fields, and exactly one of the kind keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub id: Spanned<String>,
    pub action: Action,
    pub message: Option<String>,
    pub base_image: Option<BaseImageFile>,
    pub packages: Option<PackagesFile>,
    pub licenses: Option<LicensesFile>,
    pub config: Option<ConfigFile>,
    pub files: Option<FilesFile>,
    pub file_content: Option<FileContentFile>,
    pub secrets: Option<SecretsFile>,
    pub history: Option<HistoryFile>,
    pub vulnerabilities: Option<VulnerabilitiesFile>,
    pub rego: Option<RegoFile>,
    pub runtime: Option<RuntimeFile>,
}

/// Secrets baked into the image: `secrets: true` for the built-in rules, or settings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum SecretsFile {
    /// `true` or `false` (YAML scalars reach an untagged enum as text).
    On(String),
    Settings(SecretsSettings),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsSettings {
    /// Paths whose files are not searched (globs). Plain text, not `Spanned`: the field sits in
    /// an untagged enum, which hands its values over as text.
    #[serde(default)]
    pub allow_paths: Vec<String>,
    /// Rules of the organisation's own, beside the built-in ones.
    #[serde(default)]
    pub rules: Vec<SecretRuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRuleFile {
    pub id: String,
    /// A regular expression; its first group (or the whole match) is the secret.
    pub regex: String,
    /// Words one of which every match contains (ASCII case ignored): a file holding none is not
    /// searched with this rule. Without them, every text file is.
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// What configuration files say: the settings a format's program would read from them, and
/// patterns their text must not match.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileContentFile {
    /// The files, as a glob over image paths (`/etc/ssh/sshd_config`, `/app/**/*.properties`).
    pub path: Spanned<String>,
    /// `sshd`, `login.defs`, `sysctl`, `ini`, `env`, `keyvalue` or `text`.
    pub format: Spanned<String>,
    /// Key → the value it must have (`"no"`), or a comparison for numbers (`"<= 90"`).
    #[serde(default)]
    pub require: BTreeMap<String, Spanned<String>>,
    /// Regular expressions the file's text must not match.
    #[serde(default)]
    pub must_not_match: Vec<Spanned<String>>,
    /// A finding when no file matches `path` (otherwise the rule is not applicable).
    #[serde(default)]
    pub required: bool,
}

/// What the image's build history must not show.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryFile {
    /// Instructions no history entry may match.
    pub forbidden: Vec<ForbiddenInstruction>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForbiddenInstruction {
    /// A regular expression over an entry's `created_by`.
    pub pattern: Spanned<String>,
    /// An entry that also matches this one is not reported (`apt-get update` with an `install`).
    pub unless: Option<Spanned<String>>,
    /// What the pattern means, for the finding's message (`ADD of a remote URL`).
    pub description: Spanned<String>,
}

/// What a container may be created with beyond the defaults: everything not allowed here is
/// refused where containers are created (`docker vouch authz`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeFile {
    /// `--privileged` (and a privileged `exec`).
    #[serde(default)]
    pub allow_privileged: bool,
    /// Host namespaces that may be shared: `pid`, `network`, `ipc`, `uts`.
    #[serde(default)]
    pub allow_host_namespaces: Vec<Spanned<String>>,
    /// Capabilities that may be added (`NET_BIND_SERVICE`; `ALL` only if listed).
    #[serde(default)]
    pub allow_capabilities: Vec<Spanned<String>>,
    /// Host paths that may be bind-mounted, as globs (`/var/log/app/**`).
    #[serde(default)]
    pub allow_host_paths: Vec<Spanned<String>>,
    /// Host devices (`--device`).
    #[serde(default)]
    pub allow_devices: bool,
    /// Security options that turn confinement off: `seccomp=unconfined`, `apparmor=unconfined`,
    /// `label=disable`, `no-new-privileges=false`, `systempaths=unconfined`.
    #[serde(default)]
    pub allow_unconfined: bool,
    /// Running as root (`--user 0`, an `exec` as root) an image that declares a non-root user.
    #[serde(default)]
    pub allow_root: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseImageFile {
    /// Allowed base image names, as globs over `name:tag` (`debian:12*`, `registry.example/base/*`).
    #[serde(default)]
    pub names: Vec<Spanned<String>>,
    /// Allowed base image digests (`sha256:...`): manifest digests or image IDs.
    #[serde(default)]
    pub digests: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesFile {
    #[serde(default)]
    pub deny: Vec<Spanned<DeniedPackageFile>>,
    /// `PURL-PATTERN OP VERSION`, e.g. `pkg:pypi/requests >= 2.32.0`.
    #[serde(default)]
    pub minimum: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeniedPackageFile {
    /// A purl without version, `*` allowed: `pkg:npm/event-stream`, `pkg:deb/debian/telnet*`.
    pub purl: Spanned<String>,
    /// Only these versions (see the range syntax); all versions when absent.
    pub versions: Option<Spanned<String>>,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicensesFile {
    #[serde(default)]
    pub deny: Vec<Spanned<String>>,
    /// When present, every license must be one of these.
    pub allow: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub non_root_user: bool,
    #[serde(default)]
    pub entrypoint_or_cmd: bool,
    /// Label name → regular expression the whole value must match (`""` or `.*`: any value).
    #[serde(default)]
    pub required_labels: BTreeMap<String, Spanned<String>>,
    /// `22`, `22/tcp`, `53/udp`.
    #[serde(default)]
    pub forbidden_ports: Vec<Spanned<String>>,
    #[serde(default)]
    pub healthcheck: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesFile {
    /// Paths that must not exist, as globs from the image root (`**/.ssh/**`, `**/*.pem`).
    #[serde(default)]
    pub forbidden: Vec<Spanned<String>>,
    /// Files holding a PEM private key, wherever they are.
    #[serde(default)]
    pub private_keys: bool,
    /// setuid and setgid files must be on this allow list (globs).
    pub setuid_allowed: Option<Vec<Spanned<String>>>,
    /// `/etc/passwd` and `/etc/shadow`: no empty password, no uid 0 but `root`.
    #[serde(default)]
    pub accounts: bool,
    /// World-writable files and directories must be on this allow list (globs).
    pub world_writable_allowed: Option<Vec<Spanned<String>>>,
    /// The permissions and owners of named files (`/etc/shadow` at most `0640`, owned by root).
    #[serde(default)]
    pub permissions: Vec<PermissionsFile>,
}

/// The mode and owners one file (or the files of a glob) may have.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionsFile {
    /// The file, a glob from the image root.
    pub path: Spanned<String>,
    /// The permission bits the file may have at most, in octal (`"0640"`): a bit set on the file
    /// and not here is a finding.
    pub max_mode: Option<Spanned<String>>,
    /// The owners allowed, by uid or by name (resolved through the image's `/etc/passwd`).
    pub owner: Option<Vec<Spanned<String>>>,
    /// The groups allowed, by gid or by name (resolved through the image's `/etc/group`).
    pub group: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VulnerabilitiesFile {
    /// Findings of a higher severity are violations.
    pub max_severity: Option<Severity>,
    /// At most this many findings of each severity.
    #[serde(default)]
    pub max_counts: BTreeMap<Severity, u64>,
    /// Count only findings that have a fixed version.
    #[serde(default)]
    pub fixable_only: bool,
    /// Findings CISA's KEV catalog lists are findings of this action, whatever the thresholds.
    pub kev: Option<Action>,
    /// Count only findings whose EPSS score is at least this (0 to 1); a finding with no score
    /// counts.
    pub epss_min: Option<Spanned<f64>>,
    /// A fixable finding counts only once its fix has been published this many days.
    pub max_days_since_fix: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegoFile {
    /// The module's source, inline.
    pub module: Option<Spanned<String>>,
    /// Or a `.rego` file, relative to the policy file.
    pub file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionFile {
    /// The id of the rule it applies to.
    pub rule: Spanned<String>,
    /// What it covers: a purl pattern (packages, licenses, vulnerabilities), a path glob (files), a
    /// vulnerability id, a finding code (config, base_image, rego).
    #[serde(rename = "match")]
    pub matches: Spanned<String>,
    pub reason: Spanned<String>,
    /// `YYYY-MM-DD`: from that day on, the exception no longer applies.
    pub expires: Option<Spanned<String>>,
}
