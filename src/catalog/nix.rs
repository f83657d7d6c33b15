//! The Nix cataloger: store paths in `/nix/store` (images built by Nix's `dockerTools`, nixery, the
//! nixos/nix image). Each top-level store entry `HASH-NAME-VERSION[-OUTPUT]` with a version is a
//! package, split as Nix's `builtins.parseDrvName` splits it (the name ends at the first `-`
//! followed by a digit), with a trailing output name (`-bin`, `-lib`, `-dev`: a last part without
//! a digit) taken off. Derivations (`.drv`) and the store's own `.links` are not packages.
//!
//! Edges come from the Nix database (`/nix/var/nix/db/db.sqlite`, when the image keeps it): its
//! `Refs` table is the runtime references Nix found in each path's files. The files vouch kept under
//! a store path are its package's (a binary there is not found again by its bytes).
//!
//! Purls as Syft writes them (the purl spec has no Nix type yet):
//! `pkg:nix/NAME@VERSION?output=OUTPUT&outputhash=HASH`.

use super::{sqlite, CatalogOutput, Cataloger, Kind};
use crate::layers::{EntryKind, FileIndex};
use crate::package::{Evidence, Package};
use crate::purl::build_purl;
use std::collections::HashMap;

pub const NAME: &str = "nix";
const STORE: &str = "nix/store/";
const DATABASE: &str = "nix/var/nix/db/db.sqlite";
/// Store entries are kept as directories only (a single-file store path keeps no bytes).
pub const GLOBS: &[&str] = &["nix/store/*/", DATABASE];

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Os,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files),
};

/// A store path's name, as Nix splits it.
#[derive(Debug, PartialEq, Eq)]
struct StorePath<'a> {
    hash: &'a str,
    name: &'a str,
    version: &'a str,
    output: Option<&'a str>,
}

/// `HASH-NAME-VERSION[-OUTPUT]`, when it has a version.
fn parse_store_path(base: &str) -> Option<StorePath<'_>> {
    if base.ends_with(".drv") {
        return None;
    }
    let (hash, rest) = base.split_once('-')?;
    // Nix's store hashes: 32 characters of its base-32 alphabet.
    if hash.len() != 32
        || !hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b.is_ascii_lowercase() && !b"eotu".contains(&b)))
    {
        return None;
    }
    // builtins.parseDrvName: the name ends at the first dash followed by a digit.
    let split = rest
        .char_indices()
        .find(|&(i, c)| c == '-' && rest[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        .map(|(i, _)| i)?;
    let (name, mut version) = (&rest[..split], &rest[split + 1..]);
    let mut output = None;
    if let Some((head, last)) = version.rsplit_once('-') {
        if !last.is_empty() && !last.bytes().any(|b| b.is_ascii_digit()) {
            version = head;
            output = Some(last);
        }
    }
    (!name.is_empty() && !version.is_empty()).then_some(StorePath {
        hash,
        name,
        version,
        output,
    })
}

/// Finds every versioned store path of the image.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    // Store path (`nix/store/HASH-NAME-VERSION`) → package index.
    let mut by_path: HashMap<&str, usize> = HashMap::new();
    for entry in files.entries() {
        let path = entry.entry.path.as_str();
        let Some(base) = path.strip_prefix(STORE).filter(|b| !b.contains('/')) else {
            continue;
        };
        if entry.entry.kind != EntryKind::Dir {
            continue;
        }
        let Some(store) = parse_store_path(base) else {
            continue;
        };
        let mut qualifiers = Vec::new();
        if let Some(o) = store.output {
            qualifiers.push(("output", o));
        }
        qualifiers.push(("outputhash", store.hash));
        let Ok(purl) = build_purl("nix", None, store.name, store.version, &qualifiers) else {
            output.warnings.push(format!(
                "/{path}: no purl can be made of this name; skipped"
            ));
            continue;
        };
        by_path.insert(path, output.packages.len());
        output.packages.push(Package {
            name: store.name.to_string(),
            version: store.version.to_string(),
            purl_type: "nix",
            purl,
            cpe: None,
            licenses: Vec::new(),
            evidence: Evidence {
                path: path.into(),
                layer_index: entry.layer_index,
            },
            cataloger: NAME,
            properties: store
                .output
                .map(|o| ("vouch:nix:output".into(), o.to_string()))
                .into_iter()
                .collect(),
        });
    }
    if by_path.is_empty() {
        return output;
    }
    for entry in files.entries() {
        let path = entry.entry.path.as_str();
        let Some(inside) = path.strip_prefix(STORE) else {
            continue;
        };
        let Some((base, _)) = inside.split_once('/') else {
            continue;
        };
        if matches!(
            entry.entry.kind,
            EntryKind::Dir | EntryKind::Noted { dir: true }
        ) {
            continue;
        }
        if let Some(&index) = by_path.get(&path[..STORE.len() + base.len()]) {
            output.owned_files.push((path.to_string(), index));
        }
    }
    if let Some(db) = files.get(DATABASE) {
        match db.contents().map(references) {
            Some(Ok(refs)) => {
                for (from, to) in refs {
                    let (Some(&a), Some(&b)) = (
                        by_path.get(from.trim_start_matches('/')),
                        by_path.get(to.trim_start_matches('/')),
                    ) else {
                        continue;
                    };
                    if a != b {
                        output.dependencies.push((a, b));
                    }
                }
            }
            Some(Err(e)) => output.warnings.push(format!(
                "/{DATABASE}: cannot read the Nix database ({e}); the store paths' references are missing"
            )),
            None => {}
        }
    }
    output
}

/// The most references read from one database.
const MAX_REFERENCES: usize = 10_000_000;

/// Every (referrer, reference) pair of store paths the database records.
fn references(bytes: &[u8]) -> Result<Vec<(String, String)>, String> {
    let connection = sqlite::open_untrusted(bytes)?;
    sqlite::require_table(&connection, "ValidPaths")?;
    sqlite::require_table(&connection, "Refs")?;
    let mut statement = connection
        .prepare(
            "SELECT a.path, b.path FROM Refs r \
             JOIN ValidPaths a ON a.id = r.referrer JOIN ValidPaths b ON b.id = r.reference",
        )
        .map_err(|e| e.to_string())?;
    let mut rows = statement.query([]).map_err(|e| e.to_string())?;
    let mut pairs = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite::read_error)? {
        if pairs.len() == MAX_REFERENCES {
            return Err(format!("it records over {MAX_REFERENCES} references"));
        }
        let from: String = row.get(0).map_err(|e| e.to_string())?;
        let to: String = row.get(1).map_err(|e| e.to_string())?;
        pairs.push((from, to));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "5wh3x9v9w96vbhdrj20in6cdfica2iwz";

    fn parsed(name: &str) -> Option<(String, String, Option<String>)> {
        parse_store_path(&format!("{HASH}-{name}")).map(|p| {
            (
                p.name.to_string(),
                p.version.to_string(),
                p.output.map(str::to_string),
            )
        })
    }

    #[test]
    fn splits_names_as_parse_drv_name_does() {
        let s = |x: &str| x.to_string();
        assert_eq!(
            parsed("hello-2.12.1"),
            Some((s("hello"), s("2.12.1"), None))
        );
        assert_eq!(
            parsed("glibc-2.37-8"),
            Some((s("glibc"), s("2.37-8"), None))
        );
        assert_eq!(
            parsed("openssl-3.0.13-bin"),
            Some((s("openssl"), s("3.0.13"), Some(s("bin"))))
        );
        assert_eq!(
            parsed("python3.11-requests-2.31.0"),
            Some((s("python3.11-requests"), s("2.31.0"), None))
        );
        assert_eq!(
            parsed("gcc-12.3.0-lib"),
            Some((s("gcc"), s("12.3.0"), Some(s("lib"))))
        );
        assert_eq!(parsed("source"), None);
        assert_eq!(parsed("hello-2.12.1.drv"), None);
        assert_eq!(parse_store_path("short-hello-1.0"), None);
        assert_eq!(parse_store_path(".links"), None);
    }
}
