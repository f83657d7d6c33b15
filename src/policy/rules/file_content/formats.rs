//! Configuration files read as their programs read them, into the settings in effect: each key's
//! value and the file and line that set it.
//!
//! - `sshd` (OpenSSH's sshd_config): keywords case-insensitive, `Keyword value` or `Keyword=value`;
//!   the first value of a keyword wins; `Include` reads its files (globs, relative to /etc/ssh,
//!   sorted) in place, at most 16 deep as sshd allows; a `Match` block lasts to the next `Match` (or
//!   the end of the file it is in) and its settings apply only to the connections it matches, so
//!   they are not the global settings judged here.
//! - `login.defs` (shadow's): `NAME VALUE`; a later definition replaces an earlier one.
//! - `sysctl` (procps' `sysctl --system`): `key = value`, `/` in a key read as `.`, a leading `-`
//!   (ignore errors) dropped; the `.conf` files of /etc/sysctl.d, /run/sysctl.d,
//!   /usr/local/lib/sysctl.d, /usr/lib/sysctl.d and /lib/sysctl.d (a name in an earlier directory
//!   hiding the same name in a later one) in name order, then the rule's file; later keys win.
//! - `ini`: `[section]` headers, `key = value` (or `key: value`) read as `section.key`; `#` and `;`
//!   comments; later keys win.
//! - `env`: `KEY=VALUE` lines, `export ` allowed, one level of quotes taken off; later keys win.
//! - `keyvalue`: `KEY=VALUE` or `KEY VALUE` lines, `#` comments; later keys win.
//! - `text`: no settings; only patterns are matched against it.

use std::collections::BTreeMap;

/// The formats a `file_content` rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Sshd,
    LoginDefs,
    Sysctl,
    Ini,
    Env,
    KeyValue,
    Text,
}

impl Format {
    pub const NAMES: &'static [&'static str] = &[
        "sshd",
        "login.defs",
        "sysctl",
        "ini",
        "env",
        "keyvalue",
        "text",
    ];

    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "sshd" => Format::Sshd,
            "login.defs" => Format::LoginDefs,
            "sysctl" => Format::Sysctl,
            "ini" => Format::Ini,
            "env" => Format::Env,
            "keyvalue" => Format::KeyValue,
            "text" => Format::Text,
            _ => return None,
        })
    }

    /// Whether keys are compared without regard to case (sshd's keywords are).
    pub fn keys_fold_case(self) -> bool {
        self == Format::Sshd
    }

    /// The files read with the rule's own (globs over image paths from the root, no leading `/`).
    pub fn companion_globs(self) -> &'static [&'static str] {
        match self {
            Format::Sshd => &["etc/ssh/sshd_config.d/**"],
            Format::Sysctl => &[
                "etc/sysctl.d/*.conf",
                "run/sysctl.d/*.conf",
                "usr/local/lib/sysctl.d/*.conf",
                "usr/lib/sysctl.d/*.conf",
                "lib/sysctl.d/*.conf",
            ],
            _ => &[],
        }
    }
}

/// A setting in effect: its value, and the file (from the root, with `/`) and line that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub file: String,
    pub line: usize,
}

/// What reading a configuration gave: the settings by key (case-folded for sshd), and the problems
/// that make it incomplete (an `Include` of what was not read, a file too large).
#[derive(Debug, Default)]
pub struct Settings {
    pub values: BTreeMap<String, Setting>,
    pub problems: Vec<String>,
}

/// The files a configuration is read from: path (from the root, no leading `/`) → text, or why it
/// has none.
pub trait Files {
    fn text(&self, path: &str) -> Option<Result<&str, String>>;
    /// The paths of kept files matching `glob` (root-relative), sorted.
    fn matching(&self, glob: &str) -> Vec<String>;
}

/// The most nested `Include`s sshd follows.
const MAX_INCLUDE_DEPTH: usize = 16;

/// The most files one sshd configuration reads, whatever its `Include`s: files that include each
/// other, each a few levels deep, would otherwise be read an exponential number of times.
const MAX_INCLUDED_FILES: usize = 256;

/// The settings the configuration starting at `path` puts in effect.
pub fn read(format: Format, path: &str, files: &dyn Files) -> Settings {
    let mut settings = Settings::default();
    match format {
        Format::Sshd => sshd(path, files, 0, &mut 0, &mut settings),
        Format::Sysctl => {
            for file in sysctl_files(files) {
                lines(&file, files, &mut settings, sysctl_line);
            }
            lines(path, files, &mut settings, sysctl_line);
        }
        Format::LoginDefs => lines(path, files, &mut settings, split_space),
        Format::KeyValue => lines(path, files, &mut settings, |l| match l.split_once('=') {
            Some((k, v)) if !k.trim().contains(char::is_whitespace) => {
                Some((k.trim().to_string(), v.trim().to_string()))
            }
            _ => split_space(l),
        }),
        Format::Env => lines(path, files, &mut settings, env_line),
        Format::Ini => ini(path, files, &mut settings),
        Format::Text => {}
    }
    settings
}

/// The text of `path`, or a problem noted and `None`.
fn text_of<'f>(path: &str, files: &'f dyn Files, settings: &mut Settings) -> Option<&'f str> {
    match files.text(path) {
        Some(Ok(text)) => Some(text),
        Some(Err(why)) => {
            settings.problems.push(format!("/{path}: {why}"));
            None
        }
        None => None,
    }
}

/// Reads `path` line by line (`#` comments and blank lines skipped); `parse` gives a line's key and
/// value; a later key replaces an earlier one.
fn lines(
    path: &str,
    files: &dyn Files,
    settings: &mut Settings,
    parse: impl Fn(&str) -> Option<(String, String)>,
) {
    let Some(text) = text_of(path, files, settings) else {
        return;
    };
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some((key, value)) = parse(line) {
            settings.values.insert(
                key,
                Setting {
                    value,
                    file: format!("/{path}"),
                    line: index + 1,
                },
            );
        }
    }
}

/// `NAME VALUE` (whitespace between).
fn split_space(line: &str) -> Option<(String, String)> {
    let mut parts = line.splitn(2, char::is_whitespace);
    let key = parts.next()?.trim();
    let value = parts.next().unwrap_or("").trim();
    (!key.is_empty()).then(|| (key.to_string(), value.to_string()))
}

/// One level of matching quotes taken off.
fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

fn env_line(line: &str) -> Option<(String, String)> {
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    let (key, value) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.contains(char::is_whitespace))
        .then(|| (key.to_string(), unquote(value.trim()).to_string()))
}

fn sysctl_line(line: &str) -> Option<(String, String)> {
    let (key, value) = line.split_once('=')?;
    let key = key.trim();
    let key = key
        .strip_prefix('-')
        .unwrap_or(key)
        .trim()
        .replace('/', ".");
    (!key.is_empty()).then(|| (key, value.trim().to_string()))
}

/// The sysctl.d files in the order `sysctl --system` reads them.
fn sysctl_files(files: &dyn Files) -> Vec<String> {
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    for glob in Format::Sysctl.companion_globs() {
        for path in files.matching(glob) {
            let name = path.rsplit('/').next().unwrap_or(&path).to_string();
            by_name.entry(name).or_insert(path);
        }
    }
    by_name.into_values().collect()
}

fn ini(path: &str, files: &dyn Files, settings: &mut Settings) {
    let Some(text) = text_of(path, files, settings) else {
        return;
    };
    let mut section = String::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else {
            continue;
        };
        let key = match section.as_str() {
            "" => key.trim().to_string(),
            s => format!("{s}.{}", key.trim()),
        };
        settings.values.insert(
            key,
            Setting {
                value: unquote(value.trim()).to_string(),
                file: format!("/{path}"),
                line: index + 1,
            },
        );
    }
}

/// sshd_config: the first value of each keyword outside `Match` blocks, `Include`s read in place.
fn sshd(path: &str, files: &dyn Files, depth: usize, read: &mut usize, settings: &mut Settings) {
    *read += 1;
    if *read > MAX_INCLUDED_FILES {
        if *read == MAX_INCLUDED_FILES + 1 {
            settings.problems.push(format!(
                "more than {MAX_INCLUDED_FILES} files included: the rest were not read"
            ));
        }
        return;
    }
    let Some(text) = text_of(path, files, settings) else {
        if depth == 0 {
            return;
        }
        settings
            .problems
            .push(format!("/{path}: included, but not read"));
        return;
    };
    let mut in_match = false;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (keyword, value) = match line.find(|c: char| c.is_whitespace() || c == '=') {
            Some(at) => (
                &line[..at],
                line[at..].trim_start().trim_start_matches('=').trim(),
            ),
            None => (line, ""),
        };
        let keyword = keyword.to_ascii_lowercase();
        if keyword == "match" {
            in_match = true;
            continue;
        }
        if keyword == "include" {
            if depth + 1 >= MAX_INCLUDE_DEPTH {
                settings
                    .problems
                    .push(format!("/{path}:{}: Include nested too deep", index + 1));
                continue;
            }
            for pattern in value.split_whitespace() {
                let pattern = unquote(pattern);
                let absolute = match pattern.strip_prefix('/') {
                    Some(rest) => rest.to_string(),
                    None => format!("etc/ssh/{pattern}"),
                };
                let readable = Format::Sshd
                    .companion_globs()
                    .iter()
                    .chain(std::iter::once(&"etc/ssh/*"))
                    .any(|g| glob_covers(g, &absolute));
                if !readable {
                    settings.problems.push(format!(
                        "/{path}:{}: Include {pattern} is outside /etc/ssh/sshd_config.d: not read",
                        index + 1
                    ));
                    continue;
                }
                for included in files.matching(&absolute) {
                    sshd(&included, files, depth + 1, read, settings);
                }
            }
            continue;
        }
        if in_match {
            continue;
        }
        settings.values.entry(keyword).or_insert(Setting {
            value: value.to_string(),
            file: format!("/{path}"),
            line: index + 1,
        });
    }
}

/// Whether every path `pattern` can match is one `kept` keeps (a plain prefix check: `kept` ends
/// with `**` or `*`, and `pattern` lies below its directory without climbing out).
fn glob_covers(kept: &str, pattern: &str) -> bool {
    if pattern.split('/').any(|c| c == "..") {
        return false;
    }
    match kept.strip_suffix("/**") {
        Some(dir) => pattern.starts_with(&format!("{dir}/")),
        None => match kept.strip_suffix("/*") {
            Some(dir) => pattern
                .strip_prefix(&format!("{dir}/"))
                .is_some_and(|rest| !rest.contains('/')),
            None => kept == pattern,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Map(BTreeMap<&'static str, &'static str>);

    impl Files for Map {
        fn text(&self, path: &str) -> Option<Result<&str, String>> {
            self.0.get(path).map(|t| Ok(*t))
        }
        fn matching(&self, glob: &str) -> Vec<String> {
            let matcher = globset::GlobBuilder::new(glob)
                .literal_separator(true)
                .build()
                .unwrap()
                .compile_matcher();
            self.0
                .keys()
                .filter(|p| matcher.is_match(p))
                .map(|p| p.to_string())
                .collect()
        }
    }

    fn value(settings: &Settings, key: &str) -> Option<(String, String, usize)> {
        settings
            .values
            .get(key)
            .map(|s| (s.value.clone(), s.file.clone(), s.line))
    }

    #[test]
    fn sshd_first_value_wins_includes_read_in_place_match_blocks_left_out() {
        let files = Map(BTreeMap::from([
            (
                "etc/ssh/sshd_config",
                "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\npasswordauthentication=no\nMatch User git\n  PermitRootLogin no\n",
            ),
            ("etc/ssh/sshd_config.d/10-root.conf", "# hardening\nPermitRootLogin no\n"),
            ("etc/ssh/sshd_config.d/20-x.conf", "Match Address 10.0.0.0/8\nX11Forwarding yes\n"),
        ]));
        let settings = read(Format::Sshd, "etc/ssh/sshd_config", &files);
        // The included file comes first, so its value wins.
        assert_eq!(
            value(&settings, "permitrootlogin"),
            Some(("no".into(), "/etc/ssh/sshd_config.d/10-root.conf".into(), 2))
        );
        assert_eq!(
            value(&settings, "passwordauthentication"),
            Some(("no".into(), "/etc/ssh/sshd_config".into(), 3))
        );
        assert_eq!(value(&settings, "x11forwarding"), None);
        assert!(settings.problems.is_empty(), "{:?}", settings.problems);
        let outside = Map(BTreeMap::from([(
            "etc/ssh/sshd_config",
            "Include /opt/ssh/*.conf\n",
        )]));
        let settings = read(Format::Sshd, "etc/ssh/sshd_config", &outside);
        assert_eq!(settings.problems.len(), 1, "{:?}", settings.problems);
    }

    #[test]
    fn files_that_include_each_other_are_read_a_bounded_number_of_times() {
        let mut map = BTreeMap::from([("etc/ssh/sshd_config", "Include sshd_config.d/*\n")]);
        let names: Vec<&'static str> = (0..10)
            .map(|i| &*Box::leak(format!("etc/ssh/sshd_config.d/{i}.conf").into_boxed_str()))
            .collect();
        for name in &names {
            map.insert(name, "Include sshd_config.d/*\nPermitRootLogin no\n");
        }
        let settings = read(Format::Sshd, "etc/ssh/sshd_config", &Map(map));
        assert_eq!(settings.values["permitrootlogin"].value, "no");
        assert!(settings
            .problems
            .iter()
            .any(|p| p.starts_with("more than 256 files included")));
    }

    #[test]
    fn sysctl_reads_the_d_directories_in_order_then_the_file() {
        let files = Map(BTreeMap::from([
            (
                "usr/lib/sysctl.d/50-default.conf",
                "net.ipv4.ip_forward = 1\nkernel.x = 1\n",
            ),
            ("etc/sysctl.d/50-default.conf", "kernel.y = 2\n"),
            ("lib/sysctl.d/10-a.conf", "-net/ipv4/conf/all/rp_filter=2\n"),
            ("etc/sysctl.conf", "; comment\nnet.ipv4.ip_forward=0\n"),
        ]));
        let settings = read(Format::Sysctl, "etc/sysctl.conf", &files);
        assert_eq!(
            value(&settings, "net.ipv4.ip_forward"),
            Some(("0".into(), "/etc/sysctl.conf".into(), 2))
        );
        // /etc/sysctl.d/50-default.conf hides /usr/lib's of the same name.
        assert_eq!(value(&settings, "kernel.x"), None);
        assert_eq!(value(&settings, "kernel.y").unwrap().0, "2");
        assert_eq!(
            value(&settings, "net.ipv4.conf.all.rp_filter").unwrap().0,
            "2"
        );
    }

    #[test]
    fn the_simple_formats_let_later_keys_win() {
        let files = Map(BTreeMap::from([
            (
                "etc/login.defs",
                "PASS_MAX_DAYS\t99999\n#PASS_MAX_DAYS 1\nPASS_MIN_DAYS 0\n",
            ),
            ("app/.env", "export A=\"1\"\nB='x y'\nA=2\n"),
            ("app/x.ini", "top=1\n[db]\nhost = a\n; c\n[db]\nhost: b\n"),
            ("app/k", "K1=v\nK2 v w\n"),
        ]));
        let login = read(Format::LoginDefs, "etc/login.defs", &files);
        assert_eq!(value(&login, "PASS_MAX_DAYS").unwrap().0, "99999");
        let env = read(Format::Env, "app/.env", &files);
        assert_eq!(value(&env, "A"), Some(("2".into(), "/app/.env".into(), 3)));
        assert_eq!(value(&env, "B").unwrap().0, "x y");
        let ini_settings = read(Format::Ini, "app/x.ini", &files);
        assert_eq!(value(&ini_settings, "db.host").unwrap().0, "b");
        assert_eq!(value(&ini_settings, "top").unwrap().0, "1");
        let kv = read(Format::KeyValue, "app/k", &files);
        assert_eq!(value(&kv, "K2").unwrap().0, "v w");
    }
}
