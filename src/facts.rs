//! File facts for the policy's file rules, taken from the squashed index the layer pass built (beside
//! the catalogers, and like them knowing nothing of policies): the files and directories noted for
//! their mode or path ([`crate::layers::Notable`]), files that hold a PEM private key (found by a
//! content probe on the first bytes every file shows the probes anyway), and the accounts in
//! `/etc/passwd` and `/etc/shadow`.

use crate::layers::{
    EntryKind, FileIndex, Notable, Probe, ProbeScan, MODE_SETGID, MODE_SETUID, MODE_WORLD_WRITABLE,
};

/// Files whose contents the account checks need.
pub const GLOBS: &[&str] = &["etc/passwd", "etc/shadow"];

/// The name private-key findings are filed under.
pub const PRIVATE_KEY_PROBE: &str = "private-key";
/// Private keys are small; larger files are not looked at.
const PRIVATE_KEY_MAX_BYTES: u64 = 1024 * 1024;

/// Finds PEM private keys (`-----BEGIN ... PRIVATE KEY-----`, OpenSSH's included) in the first
/// bytes of a file, keeping only the PEM label.
#[derive(Debug)]
pub struct PrivateKeyProbe;

fn private_key_label(bytes: &[u8]) -> Option<&[u8]> {
    let start = memchr::memmem::find(bytes, b"-----BEGIN ")?;
    let rest = &bytes[start + 11..];
    let end = memchr::memmem::find(rest, b"-----")?;
    let label = &rest[..end];
    (label.ends_with(b"PRIVATE KEY") && label.len() <= 64 && !label.contains(&b'\n'))
        .then_some(label)
}

impl Probe for PrivateKeyProbe {
    fn name(&self) -> &'static str {
        PRIVATE_KEY_PROBE
    }

    fn accepts(&self, _path: &str, size: u64, head: &[u8]) -> bool {
        size <= PRIVATE_KEY_MAX_BYTES && private_key_label(head).is_some()
    }

    fn start(&self, _path: &str) -> Box<dyn ProbeScan> {
        Box::new(PrivateKeyScan(None))
    }
}

struct PrivateKeyScan(Option<Vec<u8>>);

impl ProbeScan for PrivateKeyScan {
    fn feed(&mut self, chunk: &[u8]) -> bool {
        self.0 = private_key_label(chunk).map(<[u8]>::to_vec);
        false // the head that was accepted is the first chunk: nothing more is needed
    }

    fn finish(self: Box<Self>) -> Option<Vec<u8>> {
        self.0
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
    /// The PEM label when the file holds a private key (`RSA PRIVATE KEY`).
    pub private_key: Option<String>,
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
}

/// Collects the facts from the squashed index. `notable` is what the layer pass was asked to note.
pub fn collect(index: &FileIndex, notable: &Notable) -> FileFacts {
    let mut facts = FileFacts::default();
    for indexed in index.entries() {
        let entry = &indexed.entry;
        let (kind, private_key) = match &entry.kind {
            EntryKind::File { .. } => (FileKind::File, None),
            EntryKind::Noted { dir: false } => (FileKind::File, None),
            EntryKind::Dir | EntryKind::Noted { dir: true } => (FileKind::Dir, None),
            EntryKind::Scanned { findings } => (
                FileKind::File,
                findings
                    .iter()
                    .find(|f| f.probe == PRIVATE_KEY_PROBE)
                    .map(|f| String::from_utf8_lossy(&f.bytes).into_owned()),
            ),
            EntryKind::Other => (FileKind::Other, None),
            EntryKind::Symlink { .. } => continue,
        };
        let noted = matches!(entry.kind, EntryKind::Noted { .. })
            || notable.notes(&entry.path, entry.mode, kind == FileKind::File);
        if noted || private_key.is_some() {
            facts.files.push(FileFact {
                path: entry.path.clone(),
                kind,
                mode: entry.mode,
                uid: entry.uid,
                gid: entry.gid,
                size: entry.size,
                layer_index: indexed.layer_index,
                private_key,
            });
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
    facts
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
    fn finds_pem_private_key_labels() {
        let key = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n";
        assert_eq!(private_key_label(key), Some(&b"OPENSSH PRIVATE KEY"[..]));
        assert_eq!(
            private_key_label(b"junk\n-----BEGIN EC PRIVATE KEY-----\n"),
            Some(&b"EC PRIVATE KEY"[..])
        );
        assert_eq!(private_key_label(b"-----BEGIN CERTIFICATE-----\n"), None);
        assert_eq!(private_key_label(b"-----BEGIN PUBLIC KEY-----\n"), None);
        assert!(!PrivateKeyProbe.accepts("k", 2 * PRIVATE_KEY_MAX_BYTES, key));
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
