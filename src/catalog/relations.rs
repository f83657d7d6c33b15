//! Package-manager relationships shared by the OS catalogers (dpkg, apk): each package's dependency
//! groups (alternatives by name) resolved to installed packages by name or through what packages
//! provide, as the package managers themselves satisfy them.

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

/// The installed packages by name and by the virtual names they provide: what dependencies are
/// resolved against. Borrows every name and keeps them in two sorted lists (no allocation per
/// package), so a database of 200,000 packages is indexed in a few MB.
#[derive(Debug, Default)]
pub struct Installed<'a> {
    arch: Vec<Option<&'a str>>,
    /// `(name, package index)`, sorted once [`Installed::index`] is called.
    by_name: Vec<(&'a str, usize)>,
    /// `(virtual name, package index)`, likewise.
    by_provides: Vec<(&'a str, usize)>,
}

impl<'a> Installed<'a> {
    /// Adds the next package (its index is the number added before it).
    pub fn add(&mut self, name: &'a str, arch: Option<&'a str>) {
        self.by_name.push((name, self.arch.len()));
        self.arch.push(arch);
    }

    /// Records that package `index` provides `virtual_name`.
    pub fn provides(&mut self, index: usize, virtual_name: &'a str) {
        self.by_provides.push((virtual_name, index));
    }

    /// Sorts the lists for lookups; call once every package has been added.
    pub fn index(&mut self) {
        self.by_name.sort_unstable();
        self.by_provides.sort_unstable();
    }

    /// The packages named `name` in a sorted list.
    fn named<'l>(list: &'l [(&'a str, usize)], name: &str) -> &'l [(&'a str, usize)] {
        let start = list.partition_point(|(n, _)| *n < name);
        let end = start + list[start..].partition_point(|(n, _)| *n == name);
        &list[start..end]
    }

    /// Adds to `edges` a `(from, dependency)` pair for each installed package that satisfies one of
    /// package `from`'s dependency groups: each alternative that is installed (by name, else
    /// through `Provides`), preferring `from`'s own architecture (or `all`) when several
    /// architectures are installed.
    pub fn resolve<S: AsRef<str>>(
        &self,
        from: usize,
        groups: &[Vec<S>],
        edges: &mut Vec<(usize, usize)>,
    ) {
        let own_arch = self.arch.get(from).copied().flatten();
        for alternative in groups.iter().flatten() {
            let alternative = alternative.as_ref();
            let mut candidates = Self::named(&self.by_name, alternative);
            if candidates.is_empty() {
                candidates = Self::named(&self.by_provides, alternative);
            }
            let same_arch = |&(_, c): &(&str, usize)| {
                let arch = self.arch.get(c).copied().flatten();
                arch == own_arch || arch == Some("all")
            };
            let any_same_arch = candidates.iter().any(same_arch);
            edges.extend(
                candidates
                    .iter()
                    .filter(|c| !any_same_arch || same_arch(c))
                    .map(|&(_, c)| c)
                    .filter(|&c| c != from)
                    .map(|c| (from, c)),
            );
        }
    }
}

/// Resolves every package's dependency groups to the installed packages that satisfy them (see
/// [`Installed::resolve`]). Returns unique `(dependent, dependency)` index pairs, sorted.
pub fn resolve(relations: &[Relations]) -> Vec<(usize, usize)> {
    let mut installed = Installed::default();
    for (i, r) in relations.iter().enumerate() {
        installed.add(&r.name, r.arch.as_deref());
        for p in &r.provides {
            installed.provides(i, p);
        }
    }
    installed.index();
    let mut edges = Vec::new();
    for (i, r) in relations.iter().enumerate() {
        installed.resolve(i, &r.depends, &mut edges);
    }
    edges.sort_unstable();
    edges.dedup();
    edges
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
