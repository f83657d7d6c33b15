//! The Ruby cataloger: installed gems from their specifications (`**/specifications/*.gemspec`,
//! including `specifications/default/` for the gems Ruby ships). An installed gemspec is Ruby code
//! that RubyGems generates in a fixed style (`s.name = "rake".freeze`, `s.version = "13.0.6"`,
//! `s.licenses = ["MIT".freeze]`, `s.add_runtime_dependency(%q<x>.freeze, ...)`); it is read as text,
//! never evaluated. Purls are `pkg:gem/NAME@VERSION`; runtime dependencies link gems of the same
//! gem directory.

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{path, FileIndex};
use crate::license::normalize;
use crate::package::{Evidence, Package};
use crate::purl::build_purl;
use std::collections::HashMap;

pub const NAME: &str = "ruby-gemspec";
pub const GLOBS: &[&str] = &[
    "**/specifications/*.gemspec",
    "**/specifications/default/*.gemspec",
];

/// What a gemspec declares.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GemSpec {
    pub name: String,
    pub version: String,
    pub licenses: Vec<String>,
    pub runtime_dependencies: Vec<String>,
}

/// The first string literal in `text` (`"x"`, `'x'`, `%q<x>` / `%q{x}` / `%q(x)`).
fn first_literal(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'"' | b'\'') => {
                let end = text[i + 1..].find(q as char)?;
                return Some(text[i + 1..i + 1 + end].to_string());
            }
            b'%' if text[i..].starts_with("%q") || text[i..].starts_with("%Q") => {
                // The delimiter may be any character, several bytes long in UTF-8.
                let rest = &text[i + 2..];
                let open = rest.chars().next()?;
                let close = match open {
                    '<' => '>',
                    '{' => '}',
                    '(' => ')',
                    '[' => ']',
                    other => other,
                };
                let body = &rest[open.len_utf8()..];
                let end = body.find(close)?;
                return Some(body[..end].to_string());
            }
            _ => i += 1,
        }
    }
    None
}

/// Every string literal in `text`.
fn literals(mut text: &str) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(lit) = first_literal(text) {
        let Some(at) = text.find(&lit) else { break };
        out.push(lit.clone());
        let mut next = (at + lit.len() + 1).min(text.len());
        while !text.is_char_boundary(next) {
            next += 1;
        }
        text = &text[next..];
    }
    out
}

/// Reads the fields of a generated gemspec.
pub fn parse_gemspec(text: &str) -> Result<GemSpec, String> {
    let mut spec = GemSpec::default();
    for line in text.lines() {
        let line = line.trim();
        let Some((target, rest)) = line.split_once('.') else {
            continue;
        };
        if target.len() > 12
            || !target
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            continue;
        }
        let assign = |field: &str| {
            rest.strip_prefix(field)
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix('='))
                .filter(|r| !r.starts_with('='))
        };
        if let Some(value) = assign("name") {
            spec.name = first_literal(value).unwrap_or_default();
        } else if let Some(value) = assign("version") {
            spec.version = first_literal(value).unwrap_or_default();
        } else if let Some(value) = assign("licenses").or_else(|| assign("license")) {
            spec.licenses = literals(value);
        } else if rest.starts_with("add_runtime_dependency") || rest.starts_with("add_dependency") {
            if let Some(name) = first_literal(rest) {
                spec.runtime_dependencies.push(name);
            }
        }
    }
    if spec.name.is_empty() {
        return Err("no `name` in the gemspec".into());
    }
    if spec.version.is_empty() {
        return Err(format!("{}: no `version` in the gemspec", spec.name));
    }
    Ok(spec)
}

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files),
};

/// Finds every installed gem.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    let mut by_dir_name: HashMap<(String, String), usize> = HashMap::new();
    let mut wanted: Vec<(usize, String, Vec<String>)> = Vec::new();
    for entry in files.entries() {
        let p = &entry.entry.path;
        if !p.ends_with(".gemspec") {
            continue;
        }
        let mut dir = path::parent(p);
        if path::file_name(dir) == "default" {
            dir = path::parent(dir);
        }
        if path::file_name(dir) != "specifications" {
            continue;
        }
        let gem_dir = path::parent(dir).to_string();
        let Some(bytes) = entry.contents() else {
            continue;
        };
        let spec = match parse_gemspec(&String::from_utf8_lossy(bytes)) {
            Ok(s) => s,
            Err(e) => {
                output.warnings.push(format!("/{p}: {e}; skipped"));
                continue;
            }
        };
        let purl = match build_purl("gem", None, &spec.name, &spec.version, &[]) {
            Ok(purl) => purl,
            Err(e) => {
                output.warnings.push(format!("/{p}: {e}; skipped"));
                continue;
            }
        };
        let index = output.packages.len();
        by_dir_name.insert((gem_dir.clone(), spec.name.clone()), index);
        wanted.push((index, gem_dir, spec.runtime_dependencies));
        output.packages.push(Package {
            name: spec.name,
            version: spec.version,
            purl_type: "gem",
            purl,
            licenses: spec.licenses.iter().filter_map(|l| normalize(l)).collect(),
            cpe: None,
            evidence: Evidence {
                path: p.as_str().into(),
                layer_index: entry.layer_index,
            },
            cataloger: NAME,
            properties: Vec::new(),
        });
    }
    for (from, dir, deps) in wanted {
        for name in deps {
            if let Some(&to) = by_dir_name.get(&(dir.clone(), name)) {
                output.depends(from, to);
            }
        }
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_with_multibyte_delimiters_do_not_split_characters() {
        // Found by the fuzz smoke run: `%q` followed by a character of several bytes.
        assert_eq!(first_literal("%q\u{e9}abc\u{e9} x"), Some("abc".into()));
        assert_eq!(first_literal("%q\u{e9}abc"), None);
        assert_eq!(literals("%q\u{2603}a\u{2603} 'b'"), ["a", "b"]);
    }

    #[test]
    fn reads_a_generated_gemspec() {
        let text = r#"# -*- encoding: utf-8 -*-
# stub: rack 2.2.8 ruby lib

Gem::Specification.new do |s|
  s.name = "rack".freeze
  s.version = "2.2.8"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.authors = ["Leah Neukirchen".freeze]
  s.licenses = ["MIT".freeze, "Ruby".freeze]
  s.add_runtime_dependency(%q<webrick>.freeze, [">= 1.6"])
  s.add_development_dependency(%q<minitest>.freeze, ["~> 5.0"])
  s.add_dependency "rack-session", ">= 0"
end
"#;
        let spec = parse_gemspec(text).unwrap();
        assert_eq!(spec.name, "rack");
        assert_eq!(spec.version, "2.2.8");
        assert_eq!(spec.licenses, ["MIT", "Ruby"]);
        assert_eq!(spec.runtime_dependencies, ["webrick", "rack-session"]);
        assert!(parse_gemspec("s.version = \"1\"")
            .unwrap_err()
            .contains("no `name`"));
    }
}
