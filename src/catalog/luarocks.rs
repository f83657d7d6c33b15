//! Lua rocks that LuaRocks installed into a tree: each rock is a directory
//! `lib/luarocks/rocks[-LUAVERSION]/NAME/VERSION/` holding the `rock_manifest` LuaRocks writes at
//! install (how `luarocks list` finds the rocks it installed) and the rock's rockspec, whose
//! `license` is read. The name and version are the directories', as LuaRocks itself reads them.
//! Purls: `pkg:luarocks/NAME@VERSION` (VERSION with its rockspec revision, `1.2.3-1`).

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::FileIndex;
use crate::license::normalize;
use crate::package::{Evidence, Package};
use crate::purl::build_purl;
use regex::Regex;
use std::sync::OnceLock;

pub const NAME: &str = "lua-rocks";
/// By file name and extension alone (globset's cheapest matchers, tried on every path of every
/// layer); [`rock_of`] keeps those inside a LuaRocks tree.
pub const GLOBS: &[&str] = &["**/rock_manifest", "**/*.rockspec"];

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files),
};

/// Every rock with a `rock_manifest`.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for entry in files.entries() {
        let path = entry.entry.path.as_str();
        let Some(rock_dir) = path.strip_suffix("/rock_manifest") else {
            continue;
        };
        let Some((name, version)) = rock_of(rock_dir) else {
            continue;
        };
        let Ok(purl) = build_purl("luarocks", None, name, version, &[]) else {
            output.warnings.push(format!(
                "/{path}: rock {name:?} {version:?} has no purl; skipped"
            ));
            continue;
        };
        let rockspec = files
            .get(&format!("{rock_dir}/{name}-{version}.rockspec"))
            .and_then(|e| e.contents())
            .map(String::from_utf8_lossy);
        let licenses = rockspec
            .as_deref()
            .and_then(declared_license)
            .and_then(|l| normalize(&l))
            .into_iter()
            .collect();
        output.packages.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            purl_type: "luarocks",
            purl,
            licenses,
            cpe: None,
            evidence: Evidence {
                path: path.into(),
                layer_index: entry.layer_index,
            },
            cataloger: NAME,
            properties: Vec::new(),
        });
    }
    output
}

/// `.../lib/luarocks/rocks-5.4/NAME/VERSION` → (NAME, VERSION).
fn rock_of(rock_dir: &str) -> Option<(&str, &str)> {
    let (rest, version) = rock_dir.rsplit_once('/')?;
    let (tree, name) = rest.rsplit_once('/')?;
    let rocks = tree.rsplit('/').next()?;
    let under_luarocks = tree
        .strip_suffix(rocks)
        .is_some_and(|t| t.ends_with("lib/luarocks/"));
    (under_luarocks && rocks.starts_with("rocks") && !name.is_empty() && !version.is_empty())
        .then_some((name, version))
}

/// The `license = "..."` a rockspec's description declares (a rockspec is Lua code: only this
/// one assignment of a string literal is read, never evaluated).
fn declared_license(rockspec: &str) -> Option<String> {
    static LICENSE: OnceLock<Regex> = OnceLock::new();
    LICENSE
        .get_or_init(|| {
            Regex::new(r#"(?m)\blicense\s*=\s*(?:"([^"\n]{1,200})"|'([^'\n]{1,200})')"#)
                .expect("a valid pattern")
        })
        .captures(rockspec)
        .and_then(|c| c.get(1).or(c.get(2)))
        .map(|m| m.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rocks_by_their_directories() {
        assert_eq!(
            rock_of("usr/local/lib/luarocks/rocks-5.4/lpeg/1.1.0-1"),
            Some(("lpeg", "1.1.0-1"))
        );
        assert_eq!(
            rock_of("lib/luarocks/rocks/luasocket/3.1.0-1"),
            Some(("luasocket", "3.1.0-1"))
        );
        assert_eq!(rock_of("opt/x/rocks-5.4/lpeg/1.1.0-1"), None);
        assert_eq!(
            declared_license("description = {\n  summary = 'x',\n  license = 'MIT/X11'\n}\n")
                .as_deref(),
            Some("MIT/X11")
        );
    }
}
