//! The os-release cataloger: which distribution the image is (`/etc/os-release`, falling back to
//! `/usr/lib/os-release`, following symlinks inside the image). Other catalogers use the result for
//! purl namespaces and `distro` qualifiers.

use super::CatalogError;
use crate::layers::FileIndex;
use crate::package::Distro;

pub const GLOBS: &[&str] = &["etc/os-release", "usr/lib/os-release"];

/// Finds and parses the image's os-release; `Ok(None)` when the image has none (e.g. `FROM scratch`).
pub fn find_distro(files: &FileIndex) -> Result<Option<Distro>, CatalogError> {
    for path in GLOBS {
        let Some(entry) = files.resolve(path)? else {
            continue;
        };
        let Some(bytes) = entry.contents() else {
            continue;
        };
        let fields = parse_os_release(&String::from_utf8_lossy(bytes));
        let get = |k: &str| {
            fields
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let Some(id) = get("ID") else { continue };
        return Ok(Some(Distro {
            id: id.to_ascii_lowercase(),
            version_id: get("VERSION_ID"),
            version_codename: get("VERSION_CODENAME"),
            pretty_name: get("PRETTY_NAME"),
            id_like: get("ID_LIKE")
                .map(|v| v.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            evidence: entry.evidence(),
        }));
    }
    Ok(None)
}

/// Parses os-release's `KEY=value` lines (values may be single- or double-quoted, with backslash
/// escapes in double quotes), ignoring comments and malformed lines.
pub fn parse_os_release(text: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        fields.push((key.to_string(), unquote(raw.trim())));
    }
    fields
}

fn unquote(raw: &str) -> String {
    let bytes = raw.as_bytes();
    if bytes.len() >= 2 && bytes[0] == b'\'' && bytes[bytes.len() - 1] == b'\'' {
        return raw[1..raw.len() - 1].to_string();
    }
    if bytes.len() >= 2 && bytes[0] == b'"' && bytes[bytes.len() - 1] == b'"' {
        let mut out = String::new();
        let mut chars = raw[1..raw.len() - 1].chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    raw.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_debian_os_release() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n# comment\nbroken line\nQ='single \"q\"'\nE=\"a \\\"b\\\"\"\n";
        let f = parse_os_release(text);
        let get = |k: &str| f.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
        assert_eq!(get("PRETTY_NAME"), Some("Debian GNU/Linux 12 (bookworm)"));
        assert_eq!(get("VERSION_ID"), Some("12"));
        assert_eq!(get("ID"), Some("debian"));
        assert_eq!(get("Q"), Some("single \"q\""));
        assert_eq!(get("E"), Some("a \"b\""));
        assert_eq!(f.len(), 7);
    }
}
