//! Normalising paths found in tar entries and symlink targets to the image-root-relative form the
//! file index uses (`etc/os-release`: no leading slash, no `.` or empty components).
//!
//! Hostile input is normal input: a path that would climb above the image root (`../x`) is refused, so
//! that nothing an image says can name a place outside itself.

/// Why a tar entry's path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("entry path {0:?} is absolute; layer entries must be relative to the image root")]
    Absolute(String),
    #[error("entry path {0:?} climbs out of the image root with '..'")]
    Escapes(String),
    #[error("entry path {0:?} is not valid UTF-8")]
    NotUtf8(String),
}

/// Normalises a tar entry path: strips a leading `./`, folds `.` and `..` lexically, and refuses
/// absolute paths and paths that leave the root. The root itself normalises to `""`.
pub fn normalize_entry_path(raw: &str) -> Result<String, PathError> {
    if raw.starts_with('/') {
        return Err(PathError::Absolute(raw.to_string()));
    }
    let mut parts: Vec<&str> = Vec::new();
    for component in raw.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(PathError::Escapes(raw.to_string()));
                }
            }
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

/// The parent directory of a normalised path (`""` for a top-level entry).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// The last component of a normalised path.
pub fn file_name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Joins a directory and a relative path, both normalised (either may be empty).
pub fn join(dir: &str, name: &str) -> String {
    match (dir.is_empty(), name.is_empty()) {
        (true, _) => name.to_string(),
        (_, true) => dir.to_string(),
        _ => format!("{dir}/{name}"),
    }
}

/// Every proper ancestor of a normalised path, nearest first (`a/b/c` gives `a/b`, `a`).
pub fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut rest = path;
    std::iter::from_fn(move || {
        let i = rest.rfind('/')?;
        rest = &rest[..i];
        Some(rest)
    })
}

/// True when `path` is `dir` itself or lies below it.
pub fn is_within(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path == dir
        || (path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_common_forms() {
        assert_eq!(
            normalize_entry_path("./etc/os-release").unwrap(),
            "etc/os-release"
        );
        assert_eq!(normalize_entry_path("etc//x/./y/").unwrap(), "etc/x/y");
        assert_eq!(normalize_entry_path("a/b/../c").unwrap(), "a/c");
        assert_eq!(normalize_entry_path("./").unwrap(), "");
    }

    #[test]
    fn refuses_escapes_and_absolute_paths() {
        assert_eq!(
            normalize_entry_path("../etc/passwd"),
            Err(PathError::Escapes("../etc/passwd".into()))
        );
        assert_eq!(
            normalize_entry_path("a/../../b"),
            Err(PathError::Escapes("a/../../b".into()))
        );
        assert_eq!(
            normalize_entry_path("/etc/passwd"),
            Err(PathError::Absolute("/etc/passwd".into()))
        );
    }

    #[test]
    fn path_helpers() {
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("a"), "");
        assert_eq!(file_name("a/b/c"), "c");
        assert_eq!(join("", "x"), "x");
        assert_eq!(join("a", "x"), "a/x");
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), vec!["a/b", "a"]);
        assert!(is_within("a/b", "a"));
        assert!(is_within("a", "a"));
        assert!(!is_within("ab", "a"));
        assert!(is_within("anything", ""));
    }
}
