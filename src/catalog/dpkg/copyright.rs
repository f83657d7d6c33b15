//! Licenses of Debian packages from `/usr/share/doc/PACKAGE/copyright`: the `License:` fields of
//! machine-readable (DEP-5) files, and references to `/usr/share/common-licenses/NAME` in free-form
//! ones. Names are normalised to SPDX by [`crate::license`].

use crate::layers::FileIndex;
use crate::license::{normalize, License};

pub const GLOB: &str = "usr/share/doc/*/copyright";

/// The licenses declared in the package's copyright file (sorted, unique); `Err` names a problem
/// worth a warning (a symlink loop).
pub fn licenses_for(files: &FileIndex, package: &str) -> Result<Vec<License>, String> {
    let path = format!("usr/share/doc/{package}/copyright");
    let entry = files.resolve(&path).map_err(|e| e.to_string())?;
    Ok(entry
        .and_then(|e| e.contents())
        .map(|bytes| parse_copyright(&String::from_utf8_lossy(bytes)))
        .unwrap_or_default())
}

/// Extracts the licenses a copyright file declares.
pub fn parse_copyright(text: &str) -> Vec<License> {
    let mut found: Vec<License> = Vec::new();
    for line in text.lines() {
        if let Some(value) = line.strip_prefix("License:") {
            found.extend(normalize(value));
        }
    }
    for (i, _) in text.match_indices("/usr/share/common-licenses/") {
        let rest = &text[i + "/usr/share/common-licenses/".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+' | '_'))
            .collect();
        let name = name.trim_end_matches('.');
        if let Some(license @ License::Id(_)) = normalize(name) {
            found.push(license);
        }
    }
    found.sort();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep5_license_fields() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
                    Upstream-Name: bash\n\nFiles: *\nCopyright: 1987-2022 FSF\nLicense: GPL-3+\n\n\
                    Files: lib/x/*\nLicense: GPL-2+ or Artistic\n\nLicense: GPL-3+\n The full text...\n";
        let ids: Vec<String> = parse_copyright(text)
            .iter()
            .map(|l| l.as_str().to_string())
            .collect();
        assert_eq!(
            ids,
            ["GPL-3.0-or-later", "GPL-2.0-or-later OR Artistic-1.0-Perl"]
        );
    }

    #[test]
    fn free_form_common_license_references() {
        let text = "This package is free software; see /usr/share/common-licenses/GPL-2.\n\
                    On Debian systems, the LGPL is in `/usr/share/common-licenses/LGPL-2.1'.\n";
        let ids: Vec<String> = parse_copyright(text)
            .iter()
            .map(|l| l.as_str().to_string())
            .collect();
        assert_eq!(ids, ["GPL-2.0-only", "LGPL-2.1-only"]);
    }
}
