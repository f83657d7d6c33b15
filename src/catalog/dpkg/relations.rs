//! dpkg package relationships: `Depends` and `Pre-Depends` parsed into alternatives and resolved to
//! installed packages by name or through `Provides`, as dpkg itself satisfies them.

use crate::catalog::deb822::Paragraph;
use std::collections::{BTreeSet, HashMap};

/// What one installed package asks for and offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relations {
    pub name: String,
    pub arch: Option<String>,
    /// Each group is a list of alternatives (`a | b`), by package name.
    pub depends: Vec<Vec<String>>,
    /// Virtual package names this package provides.
    pub provides: Vec<String>,
}

impl Relations {
    pub fn from_paragraph(p: &Paragraph) -> Relations {
        let mut depends = Vec::new();
        for field in ["Pre-Depends", "Depends"] {
            if let Some(value) = p.get(field) {
                depends.extend(parse_dependency_field(value));
            }
        }
        Relations {
            name: p.get("Package").unwrap_or_default().to_string(),
            arch: p.get("Architecture").map(str::to_string),
            depends,
            provides: p
                .get("Provides")
                .map(|v| parse_dependency_field(v).into_iter().flatten().collect())
                .unwrap_or_default(),
        }
    }
}

/// `libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, perl:any` → `[[libc6], [debconf, debconf-2.0], [perl]]`.
pub fn parse_dependency_field(value: &str) -> Vec<Vec<String>> {
    value
        .split(',')
        .map(|group| {
            group
                .split('|')
                .filter_map(|alternative| {
                    let name: String = alternative
                        .trim()
                        .chars()
                        .take_while(|c| !c.is_whitespace() && !matches!(c, '(' | ':' | '[' | '<'))
                        .collect();
                    (!name.is_empty()).then_some(name)
                })
                .collect::<Vec<_>>()
        })
        .filter(|g| !g.is_empty())
        .collect()
}

/// Resolves every package's dependency groups to the installed packages that satisfy them: each
/// alternative that is installed (by name, else through `Provides`), preferring the dependent's own
/// architecture (or `all`) when several architectures are installed. Returns unique
/// `(dependent, dependency)` index pairs.
pub fn resolve(relations: &[Relations]) -> Vec<(usize, usize)> {
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_provides: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in relations.iter().enumerate() {
        by_name.entry(r.name.as_str()).or_default().push(i);
        for p in &r.provides {
            by_provides.entry(p.as_str()).or_default().push(i);
        }
    }
    let mut edges = BTreeSet::new();
    for (i, r) in relations.iter().enumerate() {
        for group in &r.depends {
            for alternative in group {
                let Some(candidates) = by_name
                    .get(alternative.as_str())
                    .or_else(|| by_provides.get(alternative.as_str()))
                else {
                    continue;
                };
                let same_arch: Vec<usize> = candidates
                    .iter()
                    .copied()
                    .filter(|&c| {
                        let arch = relations[c].arch.as_deref();
                        arch == r.arch.as_deref() || arch == Some("all")
                    })
                    .collect();
                let chosen = if same_arch.is_empty() {
                    candidates.clone()
                } else {
                    same_arch
                };
                edges.extend(chosen.into_iter().filter(|&c| c != i).map(|c| (i, c)));
            }
        }
    }
    edges.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(name: &str, arch: &str, depends: &str, provides: &str) -> Relations {
        Relations {
            name: name.into(),
            arch: Some(arch.into()),
            depends: parse_dependency_field(depends),
            provides: parse_dependency_field(provides)
                .into_iter()
                .flatten()
                .collect(),
        }
    }

    #[test]
    fn parses_groups_alternatives_versions_and_arch_qualifiers() {
        assert_eq!(
            parse_dependency_field(
                "libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, perl:any, foo [amd64] <!nocheck>"
            ),
            vec![
                vec!["libc6".to_string()],
                vec!["debconf".to_string(), "debconf-2.0".to_string()],
                vec!["perl".to_string()],
                vec!["foo".to_string()],
            ]
        );
    }

    #[test]
    fn resolves_through_provides_and_prefers_same_arch() {
        let relations = vec![
            rel("adduser", "all", "passwd, debconf | debconf-2.0", ""),
            rel("passwd", "amd64", "libc6 (>= 2.34)", ""),
            rel("cdebconf", "amd64", "", "debconf-2.0"),
            rel("libc6", "amd64", "", ""),
            rel("libc6", "i386", "", ""),
            rel("app", "amd64", "missing-package, libc6", ""),
        ];
        assert_eq!(resolve(&relations), vec![(0, 1), (0, 2), (1, 3), (5, 3)]);
    }
}
