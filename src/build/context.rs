//! The build context sent to the engine: the context directory as a tar stream, honouring its
//! `.dockerignore` as the docker CLI does (moby's patternmatcher rules: one pattern per line, `#`
//! comments, `!` re-includes, the last matching pattern wins, a pattern also excludes everything
//! under a directory it matches, `*` and `?` stop at `/`, `**` spans directories, patterns are
//! relative to the context root with a leading `/` ignored). The Dockerfile and `.dockerignore` are
//! always sent, as the CLI sends them. Symbolic links are sent as links, never followed, so nothing
//! outside the context is read.
//!
//! No crate implements these rules (the `ignore` crate's gitignore rules differ: unanchored
//! patterns match at any depth there), so the matcher is written here over `globset`.

use globset::{Glob, GlobBuilder, GlobMatcher};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("{path}: line {line}: invalid pattern {pattern:?} ({detail})")]
    BadPattern {
        path: String,
        line: usize,
        pattern: String,
        detail: String,
    },
    #[error("build context {path}: {detail}")]
    Io { path: String, detail: String },
}

struct Pattern {
    matcher: GlobMatcher,
    /// `!pattern`: re-include.
    include: bool,
}

/// The compiled `.dockerignore` of a context.
pub struct Ignore {
    patterns: Vec<Pattern>,
}

/// moby's `filepath.Clean` of a pattern, relative to the root.
fn clean(pattern: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

impl Ignore {
    /// Parses `.dockerignore` text (`source` names the file in messages).
    pub fn parse(text: &str, source: &str) -> Result<Ignore, ContextError> {
        let mut patterns = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (include, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let cleaned = clean(pattern);
            if cleaned.is_empty() {
                continue;
            }
            let glob: Glob = GlobBuilder::new(&cleaned)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| ContextError::BadPattern {
                    path: source.to_string(),
                    line: index + 1,
                    pattern: line.to_string(),
                    detail: e.kind().to_string(),
                })?;
            patterns.push(Pattern {
                matcher: glob.compile_matcher(),
                include,
            });
        }
        Ok(Ignore { patterns })
    }

    /// Reads `CONTEXT/.dockerignore` (none: nothing is ignored).
    pub fn load(context: &Path) -> Result<Ignore, ContextError> {
        let path = context.join(".dockerignore");
        match std::fs::read_to_string(&path) {
            Ok(text) => Ignore::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ignore {
                patterns: Vec::new(),
            }),
            Err(e) => Err(ContextError::Io {
                path: path.display().to_string(),
                detail: e.to_string(),
            }),
        }
    }

    /// Whether `relative` (a `/`-separated path under the context root) is left out.
    pub fn excluded(&self, relative: &str) -> bool {
        let mut excluded = false;
        for pattern in &self.patterns {
            // A pattern matches the path or any of its parent directories.
            let mut matched = pattern.matcher.is_match(relative);
            let mut prefix = relative;
            while !matched {
                let Some((parent, _)) = prefix.rsplit_once('/') else {
                    break;
                };
                matched = pattern.matcher.is_match(parent);
                prefix = parent;
            }
            if matched {
                excluded = !pattern.include;
            }
        }
        excluded
    }

    /// Whether some `!` pattern exists (then an excluded directory must still be walked).
    fn has_includes(&self) -> bool {
        self.patterns.iter().any(|p| p.include)
    }
}

/// Writes the context `root` as a tar to `out`, leaving out what `.dockerignore` excludes but
/// always keeping `dockerfile` (a path relative to the context) and `.dockerignore`. Returns the
/// number of entries written.
pub fn write_context(root: &Path, dockerfile: &str, out: impl Write) -> Result<u64, ContextError> {
    let ignore = Ignore::load(root)?;
    let io = |path: &Path, e: std::io::Error| ContextError::Io {
        path: path.display().to_string(),
        detail: e.to_string(),
    };
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    builder.mode(tar::HeaderMode::Complete);
    let always = [clean(dockerfile), ".dockerignore".to_string()];
    let mut count = 0u64;
    let mut pending: Vec<PathBuf> = vec![PathBuf::new()];
    while let Some(relative_dir) = pending.pop() {
        let dir = root.join(&relative_dir);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| io(&dir, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| io(&dir, e))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let relative = relative_dir.join(entry.file_name());
            let Some(name) = relative.to_str().map(str::to_string) else {
                return Err(io(
                    &relative,
                    std::io::Error::other("a file name that is not UTF-8"),
                ));
            };
            let file_type = entry.file_type().map_err(|e| io(&entry.path(), e))?;
            let excluded = ignore.excluded(&name) && !always.contains(&name);
            if file_type.is_dir() {
                if !excluded {
                    builder
                        .append_dir(&relative, entry.path())
                        .map_err(|e| io(&entry.path(), e))?;
                    count += 1;
                }
                if !excluded || ignore.has_includes() {
                    pending.push(relative);
                }
                continue;
            }
            if excluded {
                continue;
            }
            builder
                .append_path_with_name(entry.path(), &relative)
                .map_err(|e| io(&entry.path(), e))?;
            count += 1;
        }
    }
    builder.finish().map_err(|e| io(root, e))?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> Ignore {
        Ignore::parse(text, ".dockerignore").unwrap()
    }

    #[test]
    fn patterns_follow_the_docker_cli() {
        let i = ignore("# comment\n\n*.log\n/secrets\nbuild/**/tmp\n!keep.log\n  node_modules  \n");
        assert!(i.excluded("a.log"));
        assert!(
            !i.excluded("dir/a.log"),
            "* does not cross /, and patterns are anchored"
        );
        assert!(
            !i.excluded("keep.log"),
            "! re-includes; the last match wins"
        );
        assert!(i.excluded("secrets"));
        assert!(
            i.excluded("secrets/key.pem"),
            "a matched directory excludes its contents"
        );
        assert!(i.excluded("build/tmp"), "** spans zero directories");
        assert!(i.excluded("build/a/b/tmp/x"));
        assert!(
            i.excluded("node_modules/left-pad/index.js"),
            "surrounding spaces trimmed"
        );
        assert!(!i.excluded("src/main.rs"));

        let i = ignore("**/*.md\n!docs/README.md\n");
        assert!(i.excluded("README.md"));
        assert!(i.excluded("a/b/c.md"));
        assert!(!i.excluded("docs/README.md"));

        let i = ignore("*\n!src\n");
        assert!(i.excluded("Makefile"));
        assert!(
            !i.excluded("src/lib.rs"),
            "a re-included directory brings its contents"
        );

        let i = ignore("./a/../b\nc?\n[xy]z\n");
        assert!(i.excluded("b"));
        assert!(i.excluded("c1") && !i.excluded("c12"));
        assert!(i.excluded("xz") && !i.excluded("zz"));
    }

    #[test]
    fn a_bad_pattern_names_its_line() {
        let err = Ignore::parse("ok\n[unclosed\n", "ctx/.dockerignore")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("ctx/.dockerignore: line 2: invalid pattern \"[unclosed\""),
            "{err}"
        );
    }

    #[test]
    fn the_tar_leaves_out_ignored_files_but_keeps_the_dockerfile() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("secrets")).unwrap();
        std::fs::write(root.join("src/app.py"), "print(1)").unwrap();
        std::fs::write(root.join("secrets/id_rsa"), "KEY").unwrap();
        std::fs::write(root.join("debug.log"), "x").unwrap();
        std::fs::write(root.join("build.Dockerfile"), "FROM scratch").unwrap();
        std::fs::write(
            root.join(".dockerignore"),
            "secrets\n*.log\n*Dockerfile\n.dockerignore\n",
        )
        .unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("src/link")).unwrap();
        let mut tar_bytes = Vec::new();
        write_context(root, "./build.Dockerfile", &mut tar_bytes).unwrap();
        let mut archive = tar::Archive::new(tar_bytes.as_slice());
        let mut names: Vec<(String, tar::EntryType)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().entry_type(),
                )
            })
            .collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            names,
            [
                (".dockerignore".to_string(), tar::EntryType::Regular),
                ("build.Dockerfile".to_string(), tar::EntryType::Regular),
                ("src".to_string(), tar::EntryType::Directory),
                ("src/app.py".to_string(), tar::EntryType::Regular),
                ("src/link".to_string(), tar::EntryType::Symlink),
            ]
        );
    }
}
