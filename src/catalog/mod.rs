//! Catalogers: pure functions from the squashed file index to packages, one module per ecosystem.
//!
//! Each ecosystem's file declares its [`Cataloger`] (name, the paths it wants, the content probes
//! it runs in the layer pass, its parser, OS or language) next to the parser; [`CATALOGERS`] is the
//! one list of them, and everything else derives from it: [`wanted`] (what the layer pass keeps) and
//! [`catalog`] (the OS catalogers first, whose files then tell which OS package installed each
//! language package). Adding an ecosystem is its file plus one line in [`CATALOGERS`].

pub mod all_layers;
pub mod apk;
pub mod binary;
pub mod bitnami;
pub mod composer;
pub mod conda;
pub mod deb822;
pub mod dotnet;
pub mod dotnet_pe;
pub mod dpkg;
pub mod elf;
pub mod elf_package;
pub mod erlang;
pub mod golang;
pub mod java;
pub mod jvm;
pub mod kernel;
pub mod kernel_module;
pub mod luarocks;
pub mod nix;
pub mod npm;
pub mod opkg;
pub mod os_release;
pub mod pacman;
pub mod pear;
pub mod portage;
pub mod python;
pub mod r;
pub mod relations;
pub mod rpm;
pub mod ruby;
pub mod rust;
pub mod sqlite;
pub mod wordpress;
pub mod zipstream;

use crate::layers::{FileIndex, Probe, Probes, ResolveError, Wanted};
use crate::package::{Distro, Package};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Why cataloging failed as a whole (individual bad records are warnings instead).
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Symlink(#[from] ResolveError),
}

/// What one cataloger found.
#[derive(Debug, Default)]
pub struct CatalogOutput {
    pub packages: Vec<Package>,
    /// `(dependent, dependency)` pairs of indices into `packages`.
    pub dependencies: Vec<(usize, usize)>,
    /// Files the packages own, as their package manager lists them, with the index of the package
    /// in `packages` that owns each (OS catalogers only).
    pub owned_files: Vec<(String, usize)>,
    pub warnings: Vec<String>,
}

impl CatalogOutput {
    /// Records that package `from` depends on package `to` (indices into `packages`), once.
    pub fn depends(&mut self, from: usize, to: usize) {
        if from != to && !self.dependencies.contains(&(from, to)) {
            self.dependencies.push((from, to));
        }
    }
}

/// The kept files whose path ends with `suffix`, parsed as JSON; a file that does not parse is a
/// warning naming it, and is left out.
pub fn json_files<'a>(
    files: &'a FileIndex,
    suffix: &str,
    warnings: &mut Vec<String>,
) -> Vec<(&'a crate::layers::IndexedEntry, serde_json::Value)> {
    let mut out = Vec::new();
    for entry in files.entries() {
        if !entry.entry.path.ends_with(suffix) {
            continue;
        }
        let Some(bytes) = entry.contents() else {
            continue;
        };
        match serde_json::from_slice(bytes) {
            Ok(json) => out.push((entry, json)),
            Err(e) => warnings.push(format!(
                "/{}: not valid JSON ({e}); skipped",
                entry.entry.path
            )),
        }
    }
    out
}

/// Everything found in an image.
#[derive(Debug, Default)]
pub struct Inventory {
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
    /// `(dependent, dependency)` pairs of indices into `packages`, sorted and unique.
    pub dependencies: Vec<(usize, usize)>,
    pub warnings: Vec<String>,
    /// The paths left out of the read (`--exclude`), recorded in the SBOM.
    pub excluded: Vec<String>,
}

/// Image path (symlinks resolved) → the purl of the OS package that installed the file. Tens of
/// thousands of entries per image: a fast hash, and each package's purl shared by its files.
pub type Owners = HashMap<String, Arc<str>, foldhash::fast::RandomState>;

/// Whether a cataloger reads an OS package database or language packages and binaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An OS package manager's database: runs first, and the files its packages own are handed to
    /// the others.
    Os,
    /// Language packages and binaries.
    Language,
}

/// What a cataloger is given.
pub struct CatalogInput<'a> {
    pub files: &'a FileIndex,
    /// The distribution `os-release` names, for OS package purls.
    pub distro: Option<&'a Distro>,
    /// Files OS packages own (the path resolved through the image's symlinks) and the purl of the
    /// owner; empty while the OS catalogers run.
    pub owners: &'a Owners,
}

/// One cataloger, as its ecosystem's file declares it.
pub struct Cataloger {
    /// The name its packages are filed under (`vouch:cataloger`).
    pub name: &'static str,
    pub kind: Kind,
    /// The paths whose files the layer pass keeps for it (globs from the image root).
    pub globs: &'static [&'static str],
    /// The content probes it runs over every file of the layer pass (binaries, archives).
    pub probes: &'static [fn() -> Arc<dyn Probe>],
    /// Its parser, over what the layer pass kept.
    pub catalog: fn(&CatalogInput) -> CatalogOutput,
}

/// Every cataloger, in the order their packages are listed: the OS ones first.
pub const CATALOGERS: &[Cataloger] = &[
    dpkg::CATALOGER,
    apk::CATALOGER,
    rpm::CATALOGER,
    rpm::manifest::CATALOGER,
    pacman::CATALOGER,
    conda::CATALOGER,
    bitnami::CATALOGER,
    nix::CATALOGER,
    portage::CATALOGER,
    opkg::CATALOGER,
    python::CATALOGER,
    npm::CATALOGER,
    golang::CATALOGER,
    java::CATALOGER,
    jvm::CATALOGER,
    erlang::CATALOGER,
    composer::CATALOGER,
    pear::CATALOGER,
    r::CATALOGER,
    luarocks::CATALOGER,
    wordpress::CATALOGER,
    dotnet::CATALOGER,
    ruby::CATALOGER,
    rust::CATALOGER,
    binary::CATALOGER,
    elf_package::CATALOGER,
    dotnet_pe::CATALOGER,
    kernel::CATALOGER,
    kernel_module::CATALOGER,
];

/// What the layer pass keeps for the catalogers: `os-release` and every cataloger's globs, and
/// every cataloger's probes.
pub fn wanted() -> Wanted {
    let globs = os_release::GLOBS
        .iter()
        .chain(CATALOGERS.iter().flat_map(|c| c.globs))
        .copied();
    Wanted::from_globs(globs)
        .expect("the catalogers' globs are valid")
        .with_probes(Probes(
            CATALOGERS
                .iter()
                .flat_map(|c| c.probes)
                .map(|probe| probe())
                .collect(),
        ))
}

/// Runs every cataloger over the squashed index.
pub fn catalog(files: &FileIndex) -> Result<Inventory, CatalogError> {
    let distro = os_release::find_distro(files)?;
    let mut inventory = Inventory {
        distro,
        ..Default::default()
    };
    let mut owners = Owners::default();
    let run = |kind: Kind, owners: &Owners| -> Vec<CatalogOutput> {
        let input = CatalogInput {
            files,
            distro: inventory.distro.as_ref(),
            owners,
        };
        CATALOGERS
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| (c.catalog)(&input))
            .collect()
    };
    let os_outputs = run(Kind::Os, &owners);
    // Files owned by OS packages, resolved through the image's symlinks (`/bin` → `usr/bin`), and
    // the purl of the package that owns each.
    for output in &os_outputs {
        let purls: Vec<Arc<str>> = output
            .packages
            .iter()
            .map(|p| p.purl.as_str().into())
            .collect();
        for (path, index) in &output.owned_files {
            if let (Ok(resolved), Some(owner)) = (
                files.resolve_path(path.trim_start_matches('/')),
                purls.get(*index),
            ) {
                owners.entry(resolved).or_insert_with(|| Arc::clone(owner));
            }
        }
    }
    let language_outputs = run(Kind::Language, &owners);
    let os_packages: usize = os_outputs.iter().map(|o| o.packages.len()).sum();
    for output in os_outputs.into_iter().chain(language_outputs) {
        let offset = inventory.packages.len();
        if offset == 0 && inventory.dependencies.is_empty() {
            inventory.dependencies = output.dependencies;
        } else {
            inventory.dependencies.extend(
                output
                    .dependencies
                    .iter()
                    .map(|&(from, to)| (from + offset, to + offset)),
            );
        }
        if inventory.packages.is_empty() {
            // Taken, not copied: 200,000 packages are not held twice while the list is joined.
            inventory.packages = output.packages;
        } else {
            inventory.packages.extend(output.packages);
        }
        inventory.warnings.extend(output.warnings);
    }
    inventory.dependencies.sort_unstable();
    inventory.dependencies.dedup();
    // A language package whose metadata file an OS package installed (Debian's python3-*, node-*,
    // ruby-* and lib*-java packages) says so: the OS package is how it got there, and how it is
    // updated.
    if !owners.is_empty() {
        for package in &mut inventory.packages[os_packages..] {
            let path = package.evidence.path.trim_start_matches('/');
            let resolved = files
                .resolve_path(path)
                .unwrap_or_else(|_| path.to_string());
            if let Some(owner) = owners.get(&resolved) {
                package
                    .properties
                    .push(("vouch:ownedBy".into(), owner.to_string()));
            }
        }
    }
    list_other_paths(files, &mut inventory.packages[os_packages..]);
    Ok(inventory)
}

/// The most other paths listed for one component (an image could link one file a million times).
const MAX_OTHER_PATHS: usize = 16;

/// A file reached by several paths (Debian's `/usr/share/maven-repo/...` and versioned
/// `/usr/share/java/NAME-V.jar` links to `/usr/share/java/NAME.jar`) is one component: the symbolic
/// links that lead to its file are listed as `vouch:alsoAt`, sorted, at most [`MAX_OTHER_PATHS`].
fn list_other_paths(files: &FileIndex, packages: &mut [Package]) {
    let evidence: HashSet<&str> = packages
        .iter()
        .map(|p| p.evidence.path.trim_start_matches('/'))
        .collect();
    let mut others: HashMap<String, Vec<String>> = HashMap::new();
    for indexed in files.entries() {
        if !matches!(indexed.entry.kind, crate::layers::EntryKind::Symlink { .. }) {
            continue;
        }
        if let Ok(target) = files.resolve_path(&indexed.entry.path) {
            if evidence.contains(target.as_str()) {
                others
                    .entry(target)
                    .or_default()
                    .push(format!("/{}", indexed.entry.path));
            }
        }
    }
    if others.is_empty() {
        return;
    }
    for package in packages {
        if let Some(paths) = others.get_mut(package.evidence.path.trim_start_matches('/')) {
            paths.sort();
            paths.dedup();
            for path in paths.iter().take(MAX_OTHER_PATHS) {
                package
                    .properties
                    .push(("vouch:alsoAt".into(), path.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogers_are_listed_os_first_under_unique_names() {
        let first_language = CATALOGERS
            .iter()
            .position(|c| c.kind == Kind::Language)
            .expect("language catalogers");
        assert!(CATALOGERS[first_language..]
            .iter()
            .all(|c| c.kind == Kind::Language));
        let names: HashSet<&str> = CATALOGERS.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), CATALOGERS.len());
    }

    /// A path `glob` names: each `*` and `**` stood in for by `x`, each `[..]` class by its first
    /// character.
    fn example_path(glob: &str) -> String {
        let mut path = String::new();
        let mut chars = glob
            .replace("**", "x")
            .replace('*', "x")
            .chars()
            .collect::<Vec<_>>();
        chars.reverse();
        while let Some(c) = chars.pop() {
            if c == '[' {
                let first = chars.pop().unwrap_or_default();
                while chars.pop().is_some_and(|c| c != ']') {}
                path.push(first);
            } else {
                path.push(c);
            }
        }
        path
    }

    /// docs/formats.md is where users look up what a cataloger reads: each is named there.
    #[test]
    fn every_cataloger_is_documented() {
        let formats = include_str!("../../docs/formats.md");
        for cataloger in CATALOGERS {
            assert!(
                formats.contains(&format!("`{}`", cataloger.name)),
                "docs/formats.md does not name the {} cataloger",
                cataloger.name
            );
        }
    }

    #[test]
    fn the_layer_pass_wants_what_every_cataloger_declares() {
        let wanted = wanted();
        for cataloger in CATALOGERS {
            for glob in cataloger.globs {
                // A glob ending in `/` names directories, kept as entries without bytes.
                match glob.strip_suffix('/') {
                    Some(dirs) => {
                        let path = example_path(dirs);
                        assert!(wanted.wants_dir(&path), "{}: {path}/", cataloger.name);
                        assert!(!wanted.wants(&path), "{}: {path}", cataloger.name);
                    }
                    None => {
                        let path = example_path(glob);
                        assert!(wanted.wants(&path), "{}: {path}", cataloger.name);
                    }
                }
            }
        }
        let declared: Vec<&str> = CATALOGERS
            .iter()
            .flat_map(|c| c.probes)
            .map(|probe| probe().name())
            .collect();
        let running: Vec<&str> = wanted.probes.0.iter().map(|p| p.name()).collect();
        assert_eq!(running, declared);
        assert!(!declared.is_empty());
        assert!(wanted.wants("etc/os-release"));
    }
}
