//! WordPress: the core (`wp-includes/version.php`'s `$wp_version`), its plugins (the PHP files at
//! the top of `wp-content/plugins/SLUG/`, and single-file plugins in `wp-content/plugins/`, whose
//! header comment names the plugin) and themes (`wp-content/themes/SLUG/style.css`). Headers are
//! read as WordPress's own `get_file_data()` reads them: the first 8 KiB of the file, a line
//! `Plugin Name: ...` (any case, after optional `<?php` and comment characters), the value cut at
//! `*/` or `?>`. Official WordPress images install it from a tarball, with no package database.
//!
//! Purls: `pkg:generic/wordpress@V` (CPE `wordpress:wordpress`), `pkg:generic/wordpress-plugins/SLUG@V`
//! and `pkg:generic/wordpress-themes/SLUG@V`, by the slug wordpress.org and WPScan know them by.

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{path, FileIndex, Probe, ProbeScan};
use crate::license::normalize;
use crate::package::Package;
use crate::purl::build_purl;
use regex::Regex;
use std::collections::HashSet;
use std::sync::OnceLock;

pub const NAME: &str = "wordpress";
pub const PROBE: &str = "wordpress-header";

/// How much of a file WordPress reads for its header (`get_file_data`'s 8 KiB).
const HEADER_BYTES: usize = 8 * 1024;

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: &[],
    probes: &[|| std::sync::Arc::new(HeaderProbe)],
    catalog: |input| catalog(input.files),
};

/// What a file is to WordPress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Core,
    Plugin,
    Theme,
}

/// The role of the file at `path` and the slug of its plugin or theme (`""` for the core).
fn role_of(path: &str) -> Option<(Role, &str)> {
    if path == "wp-includes/version.php" || path.ends_with("/wp-includes/version.php") {
        return Some((Role::Core, ""));
    }
    let (_, rest) = path
        .rsplit_once("wp-content/")
        .filter(|(before, _)| before.is_empty() || before.ends_with('/'))?;
    if let Some(plugin) = rest.strip_prefix("plugins/") {
        return match plugin.split_once('/') {
            Some((slug, file)) if !file.contains('/') && file.ends_with(".php") => {
                Some((Role::Plugin, slug))
            }
            None if plugin.ends_with(".php") => {
                Some((Role::Plugin, plugin.trim_end_matches(".php")))
            }
            _ => None,
        };
    }
    let theme = rest.strip_prefix("themes/")?;
    match theme.split_once('/') {
        Some((slug, "style.css")) => Some((Role::Theme, slug)),
        _ => None,
    }
}

/// Keeps the first 8 KiB of the files WordPress reads headers from.
pub struct HeaderProbe;

impl Probe for HeaderProbe {
    fn name(&self) -> &'static str {
        PROBE
    }

    fn accepts(&self, path: &str, _size: u64, _head: &[u8]) -> bool {
        role_of(path).is_some()
    }

    fn start(&self, _path: &str) -> Box<dyn ProbeScan> {
        Box::new(HeaderScan(Vec::new()))
    }
}

struct HeaderScan(Vec<u8>);

impl ProbeScan for HeaderScan {
    fn feed(&mut self, chunk: &[u8]) -> bool {
        let take = chunk.len().min(HEADER_BYTES - self.0.len());
        self.0.extend_from_slice(&chunk[..take]);
        self.0.len() < HEADER_BYTES
    }

    fn finish(self: Box<Self>) -> Option<Vec<u8>> {
        Some(self.0)
    }
}

/// The header fields read.
const FIELDS: [&str; 4] = ["Plugin Name", "Theme Name", "Version", "License"];

/// A header field as `get_file_data()` finds it (`field` one of [`FIELDS`]).
fn header(text: &str, field: &str) -> Option<String> {
    static PATTERNS: OnceLock<Vec<Regex>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        FIELDS
            .iter()
            .map(|f| {
                Regex::new(&format!(
                    r"(?mi)^(?:[ \t]*<\?php)?[ \t/*#@]*{}:(.*)$",
                    regex::escape(f)
                ))
                .expect("a valid pattern")
            })
            .collect()
    });
    let pattern = &patterns[FIELDS.iter().position(|f| *f == field)?];
    let value = pattern.captures(text)?.get(1)?.as_str();
    static CLEANUP: OnceLock<Regex> = OnceLock::new();
    let cleanup = CLEANUP.get_or_init(|| Regex::new(r"\s*(?:\*/|\?>).*").expect("a valid pattern"));
    let value = cleanup.replace(value, "").trim().to_string();
    (!value.is_empty()).then_some(value)
}

/// `$wp_version = '6.1.9';`
fn core_version(text: &str) -> Option<String> {
    static VERSION: OnceLock<Regex> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            Regex::new(r#"(?m)^\s*\$wp_version\s*=\s*['"]([^'"\n]{1,64})['"]\s*;"#)
                .expect("a valid pattern")
        })
        .captures(text)
        .map(|c| c[1].to_string())
}

/// The core, plugins and themes the probe kept headers of.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    let mut seen: HashSet<String> = HashSet::new();
    for (entry, bytes) in files.findings(PROBE) {
        let path = entry.entry.path.as_str();
        let Some((role, slug)) = role_of(path) else {
            continue;
        };
        let text = String::from_utf8_lossy(bytes).replace('\r', "\n");
        let (namespace, name, version, title, license) = match role {
            Role::Core => match core_version(&text) {
                Some(v) => (None, "wordpress", v, None, None),
                None => continue,
            },
            Role::Plugin | Role::Theme => {
                let (title_field, namespace) = match role {
                    Role::Plugin => ("Plugin Name", "wordpress-plugins"),
                    _ => ("Theme Name", "wordpress-themes"),
                };
                let Some(title) = header(&text, title_field) else {
                    continue;
                };
                let version = header(&text, "Version").unwrap_or_default();
                (
                    Some(namespace),
                    slug,
                    version,
                    Some(title),
                    header(&text, "License"),
                )
            }
        };
        let root = path::parent(path);
        if !seen.insert(format!("{root}\0{name}\0{version}")) {
            continue;
        }
        let Ok(purl) = build_purl("generic", namespace, name, &version, &[]) else {
            output.warnings.push(format!(
                "/{path}: {name:?} {version:?} has no purl; skipped"
            ));
            continue;
        };
        let mut properties = Vec::new();
        if let Some(title) = title {
            properties.push(("vouch:wordpress:title".into(), title));
        }
        output.packages.push(Package {
            name: name.to_string(),
            cpe: (role == Role::Core)
                .then(|| crate::package::cpe("wordpress", "wordpress", &version)),
            version,
            purl_type: "generic",
            purl,
            licenses: license.as_deref().and_then(normalize).into_iter().collect(),
            evidence: entry.evidence(),
            cataloger: NAME,
            properties,
        });
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_headers() {
        assert_eq!(
            role_of("var/www/html/wp-content/plugins/akismet/akismet.php"),
            Some((Role::Plugin, "akismet"))
        );
        assert_eq!(
            role_of("var/www/html/wp-content/plugins/hello.php"),
            Some((Role::Plugin, "hello"))
        );
        assert_eq!(
            role_of("var/www/html/wp-content/plugins/akismet/views/config.php"),
            None
        );
        assert_eq!(
            role_of("var/www/html/wp-content/themes/twentytwentythree/style.css"),
            Some((Role::Theme, "twentytwentythree"))
        );
        assert_eq!(
            role_of("srv/wp-includes/version.php"),
            Some((Role::Core, ""))
        );
        assert_eq!(role_of("srv/my-wp-content/plugins/x/x.php"), None);
        let text = "<?php\n/*\n * Plugin Name: Hello Dolly */\n * version: 1.7.2\n */";
        assert_eq!(header(text, "Plugin Name").as_deref(), Some("Hello Dolly"));
        assert_eq!(header(text, "Version").as_deref(), Some("1.7.2"));
        assert_eq!(
            core_version("<?php\n$wp_version = '6.1.9';\n").as_deref(),
            Some("6.1.9")
        );
    }
}
