//! File facts for the policy's file rules, taken from the squashed index the layer pass built (beside
//! the catalogers, and like them knowing nothing of policies): the files and directories noted for
//! their mode or path ([`crate::layers::Notable`]), files that hold a PEM private key (found by a
//! content probe on the first bytes every file shows the probes anyway), and the accounts in
//! `/etc/passwd` and `/etc/shadow`.

use crate::layers::{
    EntryKind, FileIndex, Notable, Probe, ProbeScan, Probes, Wanted, MODE_SETGID, MODE_SETUID,
    MODE_WORLD_WRITABLE,
};
use crate::secrets::Detector;
use globset::GlobSet;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Files whose contents the facts need: the accounts, and dpkg's records of each installed file's
/// MD5 (a private key in a file its package installed unchanged is that package's, not a secret).
pub const GLOBS: &[&str] = &[
    "etc/passwd",
    "etc/shadow",
    "etc/group",
    "var/lib/dpkg/info/*.md5sums",
];

/// `wanted` (the catalogers' files) with what the facts need from the layer pass: the files of
/// [`GLOBS`], the private-key probe (and the secrets probe, when a policy's rule searches with
/// `secrets`), and the `notable` paths and modes the policy's file rules look at.
pub fn add_wanted(wanted: Wanted, notable: Notable, secrets: Option<Arc<Detector>>) -> Wanted {
    let mut probes: Vec<Arc<dyn Probe>> = vec![Arc::new(PrivateKeyProbe)];
    if let Some(detector) = secrets {
        probes.push(Arc::new(SecretsProbe(detector)));
    }
    wanted
        .with_globs(GLOBS.iter().copied())
        .expect("the facts' globs are valid")
        .with_probes(Probes(probes))
        .with_notable(notable)
}

/// Whether the facts read `path`'s contents (its bytes are kept past cataloging).
pub fn keeps(path: &str) -> bool {
    matches!(path, "etc/passwd" | "etc/shadow" | "etc/group")
        || dpkg_md5sums_package(path).is_some()
}

/// The package whose MD5 list `path` is (`var/lib/dpkg/info/PKG[:ARCH].md5sums`, or a distroless
/// `var/lib/dpkg/status.d/PKG.md5sums`).
fn dpkg_md5sums_package(path: &str) -> Option<&str> {
    let name = path
        .strip_prefix("var/lib/dpkg/info/")
        .or_else(|| path.strip_prefix("var/lib/dpkg/status.d/"))?
        .strip_suffix(".md5sums")?;
    (!name.contains('/')).then(|| name.split(':').next().unwrap_or(name))
}

/// The name secret findings are filed under.
pub const SECRETS_PROBE: &str = "secrets";

/// The largest file searched for secrets (what a configuration or credentials file is).
pub const MAX_SECRET_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// How many bytes before a chunk are kept with it, so that a secret split across two chunks, or
/// its keyword just before, is still found.
const SECRET_CARRY: usize = 1024;

/// Finds secrets (with the [`Detector`]'s rules: the built-in ones and a policy's own) in text
/// files (no NUL in the first bytes) of at most [`MAX_SECRET_FILE_BYTES`], in every layer: nothing
/// is copied until a chunk holds one of the rules' keywords, and then only from there on. The
/// finding is one line per secret: rule, fingerprint, redacted value and line, tab-separated;
/// never the secret itself.
#[derive(Debug)]
pub struct SecretsProbe(pub Arc<Detector>);

impl Probe for SecretsProbe {
    fn name(&self) -> &'static str {
        SECRETS_PROBE
    }

    fn accepts(&self, _path: &str, size: u64, head: &[u8]) -> bool {
        size <= MAX_SECRET_FILE_BYTES && !head.contains(&0)
    }

    fn start(&self, _path: &str) -> Box<dyn ProbeScan> {
        Box::new(SecretsScan {
            detector: self.0.clone(),
            carried: Vec::new(),
            lines_before: 0,
            kept: None,
        })
    }
}

struct SecretsScan {
    detector: Arc<Detector>,
    /// The last bytes of the chunks fed so far, while nothing is kept.
    carried: Vec<u8>,
    /// Line breaks in what was fed before `carried` (or `kept`) starts.
    lines_before: usize,
    /// The file from the chunk (and carried bytes) where a keyword first showed.
    kept: Option<Vec<u8>>,
}

impl ProbeScan for SecretsScan {
    fn feed(&mut self, chunk: &[u8]) -> bool {
        if let Some(kept) = &mut self.kept {
            kept.extend_from_slice(chunk);
            return true;
        }
        let mut window = std::mem::take(&mut self.carried);
        window.extend_from_slice(chunk);
        if self.detector.may_hold(&window) {
            self.kept = Some(window);
            return true;
        }
        let cut = window.len().saturating_sub(SECRET_CARRY);
        self.lines_before += window[..cut].iter().filter(|b| **b == b'\n').count();
        self.carried = window[cut..].to_vec();
        true
    }

    fn finish(self: Box<Self>) -> Option<Vec<u8>> {
        let kept = self.kept?;
        let text = String::from_utf8_lossy(&kept);
        let mut out = String::new();
        for found in self.detector.find_in_file(&text) {
            let line =
                self.lines_before + text[..found.start].bytes().filter(|b| *b == b'\n').count() + 1;
            out.push_str(&format!(
                "{}\t{}\t{}\t{line}\n",
                found.rule,
                found.fingerprint(),
                found.redacted()
            ));
        }
        (!out.is_empty()).then(|| out.into_bytes())
    }
}

/// A secret found in a file of some layer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecretHit {
    /// Image-root-relative path, without a leading `/`.
    pub path: String,
    pub layer_index: usize,
    pub rule: String,
    pub fingerprint: String,
    pub redacted: String,
    pub line: usize,
    /// Whether the file is still in the squashed image (a later layer did not delete or replace it).
    pub present: bool,
}

/// The secrets the probe found in every layer's files.
fn secret_hits(index: &FileIndex) -> Vec<SecretHit> {
    let mut hits = Vec::new();
    for (layer_index, path, bytes) in index.layered_findings(SECRETS_PROBE) {
        let present = index
            .get(path)
            .is_some_and(|e| e.layer_index == layer_index);
        for line in String::from_utf8_lossy(bytes).lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            if let [rule, fingerprint, redacted, at] = fields[..] {
                hits.push(SecretHit {
                    path: path.to_string(),
                    layer_index,
                    rule: rule.to_string(),
                    fingerprint: fingerprint.to_string(),
                    redacted: redacted.to_string(),
                    line: at.parse().unwrap_or(0),
                    present,
                });
            }
        }
    }
    hits
}

/// The name private-key findings are filed under.
pub const PRIVATE_KEY_PROBE: &str = "private-key";

/// Finds private keys ([`crate::private_keys`]) in files of at most
/// [`crate::private_keys::MAX_FILE_BYTES`]: each file is searched for a PEM marker (or a PuTTY key
/// file's first line) as it streams past, and parsed when it ends if it had one. The finding is the
/// file's MD5 (hex; empty when the marker came after the first chunk) and the keys' descriptions,
/// one per line.
#[derive(Debug)]
pub struct PrivateKeyProbe;

impl Probe for PrivateKeyProbe {
    fn name(&self) -> &'static str {
        PRIVATE_KEY_PROBE
    }

    fn accepts(&self, _path: &str, size: u64, _head: &[u8]) -> bool {
        size <= crate::private_keys::MAX_FILE_BYTES as u64
    }

    fn start(&self, _path: &str) -> Box<dyn ProbeScan> {
        Box::new(PrivateKeyScan {
            seen: 0,
            carried: Vec::new(),
            kept: None,
            whole: false,
        })
    }
}

struct PrivateKeyScan {
    /// Bytes of the file fed so far.
    seen: usize,
    /// The last bytes of the previous chunk, so that a marker split across two is found.
    carried: Vec<u8>,
    /// The file from its first chunk, when that holds a marker (a key file, a certificate chain and
    /// its key), else from the first marker on; at most [`crate::private_keys::MAX_FILE_BYTES`].
    kept: Option<Vec<u8>>,
    /// `kept` is the whole file: its MD5 can be compared with what the package database recorded.
    whole: bool,
}

impl ProbeScan for PrivateKeyScan {
    fn feed(&mut self, chunk: &[u8]) -> bool {
        let first = self.seen == 0;
        self.seen += chunk.len();
        if let Some(kept) = &mut self.kept {
            let room = crate::private_keys::MAX_FILE_BYTES.saturating_sub(kept.len());
            kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            return kept.len() < crate::private_keys::MAX_FILE_BYTES;
        }
        // Nothing is copied until a marker shows (most files have none).
        if first && crate::private_keys::may_hold_key(chunk) {
            self.kept = Some(chunk.to_vec());
            self.whole = true;
            return true;
        }
        let mut window = std::mem::take(&mut self.carried);
        window.extend_from_slice(chunk);
        if let Some(at) = memchr::memmem::find(&window, crate::private_keys::BEGIN) {
            self.kept = Some(window[at..].to_vec());
            return true;
        }
        self.carried = window[window
            .len()
            .saturating_sub(crate::private_keys::BEGIN.len() - 1)..]
            .to_vec();
        true
    }

    fn finish(self: Box<Self>) -> Option<Vec<u8>> {
        let kept = self.kept?;
        let keys = crate::private_keys::describe(&kept);
        if keys.is_empty() {
            return None;
        }
        // A file kept from its first marker on has no MD5 to compare: it is never taken for a
        // package's own file.
        let mut finding = if self.whole {
            use md5::Digest;
            format!("{:x}", md5::Md5::digest(&kept)).into_bytes()
        } else {
            Vec::new()
        };
        for key in keys {
            finding.push(b'\n');
            finding.extend_from_slice(key.as_bytes());
        }
        Some(finding)
    }
}

/// What kind of filesystem object a fact is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    File,
    Dir,
    Other,
}

/// One noted file or directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileFact {
    /// Image-root-relative path, without a leading `/`.
    pub path: String,
    pub kind: FileKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    /// Position of the layer the entry came from.
    pub layer_index: usize,
    /// What private keys the file holds (`RSA 2048-bit (PKCS#1), unencrypted`; several joined by
    /// `; `).
    pub private_key: Option<String>,
    /// For a file holding a private key: the OS package that installed it, when the file is still
    /// byte for byte what the package database recorded (a package's demo or test key, public with
    /// the package).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_by: Option<String>,
}

impl FileFact {
    pub fn setuid(&self) -> bool {
        self.kind == FileKind::File && self.mode & MODE_SETUID != 0
    }

    pub fn setgid(&self) -> bool {
        self.kind == FileKind::File && self.mode & MODE_SETGID != 0
    }

    pub fn world_writable(&self) -> bool {
        self.mode & MODE_WORLD_WRITABLE != 0
    }
}

/// One line of `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PasswdEntry {
    pub name: String,
    /// The password field (`x` when the password is in `/etc/shadow`).
    pub password: String,
    pub uid: Option<u64>,
    pub line: usize,
}

/// One line of `/etc/shadow`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShadowEntry {
    pub name: String,
    /// The password hash field: empty means no password is needed; `*` or `!...` means locked.
    pub password: String,
    pub line: usize,
}

/// One line of `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupEntry {
    pub name: String,
    pub gid: Option<u64>,
    pub line: usize,
}

/// An account file and the layer it came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountFile<T> {
    pub layer_index: usize,
    pub entries: Vec<T>,
}

/// Everything the file rules look at.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileFacts {
    pub files: Vec<FileFact>,
    pub passwd: Option<AccountFile<PasswdEntry>>,
    pub shadow: Option<AccountFile<ShadowEntry>>,
    pub group: Option<AccountFile<GroupEntry>>,
    /// The files whose contents a policy's `file_content` rules read, by root-relative path.
    pub contents: BTreeMap<String, KeptContent>,
    /// The secrets found in the files of every layer (when a policy's rule searches for them).
    pub secrets: Vec<SecretHit>,
}

/// A file a `file_content` rule reads: the layer it came from and its bytes, shared with the
/// index (`None` when it was larger than [`MAX_CONTENT_BYTES`] and so not kept).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeptContent {
    pub layer_index: usize,
    #[serde(skip)]
    pub bytes: Option<Arc<Vec<u8>>>,
}

/// The largest file a `file_content` rule reads: configuration files are kilobytes.
pub const MAX_CONTENT_BYTES: usize = 1024 * 1024;

impl FileFacts {
    /// Keeps only what the layers from `from` up put there (`check --only-app-layers`).
    pub fn retain_layers_from(&mut self, from: usize) {
        self.files.retain(|f| f.layer_index >= from);
        self.contents.retain(|_, c| c.layer_index >= from);
        self.secrets.retain(|h| h.layer_index >= from);
        if self.passwd.as_ref().is_some_and(|p| p.layer_index < from) {
            self.passwd = None;
        }
        if self.shadow.as_ref().is_some_and(|s| s.layer_index < from) {
            self.shadow = None;
        }
        if self.group.as_ref().is_some_and(|g| g.layer_index < from) {
            self.group = None;
        }
    }
}

/// Collects the facts from the squashed index. `notable` is what the layer pass was asked to note;
/// `contents` the files whose bytes the policy's `file_content` rules read.
pub fn collect(index: &FileIndex, notable: &Notable, contents: &GlobSet) -> FileFacts {
    let mut facts = FileFacts {
        secrets: secret_hits(index),
        ..FileFacts::default()
    };
    // (position in facts.files, MD5) of each file holding a private key.
    let mut key_md5s: Vec<(usize, String)> = Vec::new();
    for indexed in index.entries() {
        let entry = &indexed.entry;
        if let EntryKind::File { contents: kept } = &entry.kind {
            if contents.is_match(&entry.path) {
                facts.contents.insert(
                    entry.path.clone(),
                    KeptContent {
                        layer_index: indexed.layer_index,
                        bytes: kept
                            .as_ref()
                            .filter(|b| b.len() <= MAX_CONTENT_BYTES)
                            .cloned(),
                    },
                );
            }
        }
        let (kind, private_key) = match &entry.kind {
            EntryKind::File { .. } => (FileKind::File, None),
            EntryKind::Noted { dir: false } => (FileKind::File, None),
            EntryKind::Dir | EntryKind::Noted { dir: true } => (FileKind::Dir, None),
            EntryKind::Scanned { findings } => (
                FileKind::File,
                findings
                    .iter()
                    .find(|f| f.probe == PRIVATE_KEY_PROBE)
                    .and_then(|f| parse_key_finding(&f.bytes)),
            ),
            EntryKind::Other => (FileKind::Other, None),
            EntryKind::Symlink { .. } => continue,
        };
        let noted = matches!(entry.kind, EntryKind::Noted { .. })
            || notable.notes(&entry.path, entry.mode, kind == FileKind::File);
        if noted || private_key.is_some() {
            let (md5, private_key) = private_key.unzip();
            if let Some(md5) = md5 {
                key_md5s.push((facts.files.len(), md5));
            }
            facts.files.push(FileFact {
                path: entry.path.clone(),
                kind,
                mode: entry.mode,
                uid: entry.uid,
                gid: entry.gid,
                size: entry.size,
                layer_index: indexed.layer_index,
                private_key,
                installed_by: None,
            });
        }
    }
    if !key_md5s.is_empty() {
        let recorded = dpkg_md5s(
            index,
            key_md5s.iter().map(|(i, _)| facts.files[*i].path.as_str()),
        );
        for (i, md5) in key_md5s {
            let fact = &mut facts.files[i];
            fact.installed_by = recorded
                .iter()
                .find(|(path, sum, _)| *path == fact.path && sum.eq_ignore_ascii_case(&md5))
                .map(|(_, _, package)| package.clone());
        }
    }
    let text = |path: &str| {
        let entry = index.resolve(path).ok().flatten()?;
        Some((
            entry.layer_index,
            String::from_utf8_lossy(entry.contents()?).into_owned(),
        ))
    };
    facts.passwd = text("etc/passwd").map(|(layer_index, body)| AccountFile {
        layer_index,
        entries: account_lines(&body)
            .map(|(line, fields)| PasswdEntry {
                name: fields[0].to_string(),
                password: fields.get(1).unwrap_or(&"").to_string(),
                uid: fields.get(2).and_then(|u| u.parse().ok()),
                line,
            })
            .collect(),
    });
    facts.shadow = text("etc/shadow").map(|(layer_index, body)| AccountFile {
        layer_index,
        entries: account_lines(&body)
            .map(|(line, fields)| ShadowEntry {
                name: fields[0].to_string(),
                password: fields.get(1).unwrap_or(&"").to_string(),
                line,
            })
            .collect(),
    });
    facts.group = text("etc/group").map(|(layer_index, body)| AccountFile {
        layer_index,
        entries: account_lines(&body)
            .map(|(line, fields)| GroupEntry {
                name: fields[0].to_string(),
                gid: fields.get(2).and_then(|g| g.parse().ok()),
                line,
            })
            .collect(),
    });
    facts
}

/// A private-key finding of [`PrivateKeyScan`]: (the file's MD5, the keys' descriptions).
fn parse_key_finding(bytes: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.lines();
    let md5 = lines.next()?.to_string();
    let keys: Vec<&str> = lines.collect();
    (!keys.is_empty()).then(|| (md5, keys.join("; ")))
}

/// What dpkg recorded of `paths`: (path, MD5, package) from every `*.md5sums` the image keeps.
fn dpkg_md5s<'a>(
    index: &FileIndex,
    paths: impl Iterator<Item = &'a str>,
) -> Vec<(String, String, String)> {
    let wanted: std::collections::HashSet<&str> = paths.collect();
    let mut recorded = Vec::new();
    for indexed in index.entries() {
        let Some(package) = dpkg_md5sums_package(&indexed.entry.path) else {
            continue;
        };
        let Some(contents) = indexed.contents() else {
            continue;
        };
        for (sum, path) in crate::catalog::dpkg::md5sums(&String::from_utf8_lossy(contents)) {
            if wanted.contains(path) {
                recorded.push((path.to_string(), sum.to_string(), package.to_string()));
            }
        }
    }
    recorded
}

/// The `:`-separated fields of each non-empty, non-comment line, with its line number.
fn account_lines(body: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    body.lines().enumerate().filter_map(|(n, line)| {
        let line = line.trim_end_matches('\r');
        (!line.trim().is_empty() && !line.starts_with('#'))
            .then(|| (n + 1, line.split(':').collect()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_keys_are_found_however_the_file_is_chunked() {
        use p256::pkcs8::EncodePrivateKey;
        let key = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
        let pem = key.to_pkcs8_pem(p256::pkcs8::LineEnding::LF).unwrap();
        let mut file = b"# a config file\n".repeat(300);
        file.extend_from_slice(pem.as_bytes());
        for chunk_size in [1, 5, 11, 64, 4096, file.len()] {
            let mut scan = PrivateKeyProbe.start("k");
            for chunk in file.chunks(chunk_size) {
                assert!(scan.feed(chunk));
            }
            // The MD5 is there only when the first chunk showed the marker (the whole file kept).
            use md5::Digest;
            let md5 = if chunk_size == file.len() {
                format!("{:x}", md5::Md5::digest(&file))
            } else {
                String::new()
            };
            assert_eq!(
                scan.finish().as_deref().and_then(parse_key_finding),
                Some((md5, "EC P-256 (PKCS#8), unencrypted".to_string())),
                "chunks of {chunk_size}"
            );
        }
        // A PEM marker in source code is not a key.
        let mut scan = PrivateKeyProbe.start("ssh.py");
        scan.feed(b"_SK_START = b\"-----BEGIN OPENSSH PRIVATE KEY-----\"\n_SK_END = b\"-----END OPENSSH PRIVATE KEY-----\"\n");
        assert_eq!(scan.finish(), None);
        assert!(!PrivateKeyProbe.accepts("k", 2 * crate::private_keys::MAX_FILE_BYTES as u64, b""));
    }

    #[test]
    fn dpkg_md5sums_name_their_package() {
        assert_eq!(
            dpkg_md5sums_package("var/lib/dpkg/info/libssl-dev:amd64.md5sums"),
            Some("libssl-dev")
        );
        assert_eq!(
            dpkg_md5sums_package("var/lib/dpkg/status.d/base.md5sums"),
            Some("base")
        );
        assert_eq!(dpkg_md5sums_package("var/lib/dpkg/info/x.list"), None);
        assert_eq!(dpkg_md5sums_package("var/lib/dpkg/info/a/b.md5sums"), None);
        assert!(keeps("etc/shadow") && keeps("var/lib/dpkg/info/openssl.md5sums"));
        assert!(!keeps("var/lib/dpkg/status"));
    }

    #[test]
    fn account_lines_skip_blanks_and_comments() {
        let lines: Vec<_> =
            account_lines("root:x:0:0::/root:/bin/sh\n\n# c\nbob::1000:1000::/:/bin/sh\n")
                .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].0, 4);
        assert_eq!(lines[1].1[1], "");
    }
}
