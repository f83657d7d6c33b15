//! Package-manager relationships shared by the OS catalogers (dpkg, apk): each package's dependency
//! groups (alternatives by name) resolved to installed packages by name or through what packages
//! provide, as the package managers themselves satisfy them.

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

    fn split(list: &str) -> Vec<String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn rel(name: &str, arch: &str, depends: &str, provides: &str) -> Relations {
        Relations {
            name: name.into(),
            arch: Some(arch.into()),
            depends: split(depends)
                .into_iter()
                .map(|group| group.split('|').map(|a| a.trim().to_string()).collect())
                .collect(),
            provides: split(provides),
        }
    }

    #[test]
    fn resolves_through_provides_and_prefers_same_arch() {
        let relations = vec![
            rel("adduser", "all", "passwd, debconf | debconf-2.0", ""),
            rel("passwd", "amd64", "libc6", ""),
            rel("cdebconf", "amd64", "", "debconf-2.0"),
            rel("libc6", "amd64", "", ""),
            rel("libc6", "i386", "", ""),
            rel("app", "amd64", "missing-package, libc6", ""),
        ];
        assert_eq!(resolve(&relations), vec![(0, 1), (0, 2), (1, 3), (5, 3)]);
    }
}
