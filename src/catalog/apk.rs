//! The apk cataloger: Alpine-family packages (Alpine, Wolfi, Chainguard) from `lib/apk/db/installed`,
//! a line-per-field database (`P:` name, `V:` version, `A:` arch, `L:` license, `o:` origin, `D:`
//! dependencies, `p:` provides) with a blank line between packages. `D:` entries resolve to installed
//! packages by name or through `p:` (`so:libc.musl-x86_64.so.1`, `cmd:sh`).

use super::relations::{self, Relations};
use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::FileIndex;
use crate::license::normalize;
use crate::package::{Distro, Evidence, Package};
use crate::purl::os_package_purl;

pub const NAME: &str = "apk";
pub const GLOBS: &[&str] = &["lib/apk/db/installed"];
const DATABASE: &str = "lib/apk/db/installed";

/// One package record: its fields in order and the line it starts on.
#[derive(Debug, Default)]
struct Record {
    line: usize,
    fields: Vec<(char, String)>,
}

impl Record {
    fn get(&self, key: char) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits the database into records; a line that is not `K:value` spoils its record.
fn records(text: &str) -> Vec<Result<Record, String>> {
    let mut out = Vec::new();
    let mut current: Option<Result<Record, String>> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            out.extend(current.take());
            continue;
        }
        let record = current.get_or_insert_with(|| {
            Ok(Record {
                line: i + 1,
                fields: Vec::new(),
            })
        });
        let Ok(r) = record else { continue };
        let mut chars = line.chars();
        match (chars.next(), chars.next()) {
            (Some(key), Some(':')) => r.fields.push((key, chars.as_str().to_string())),
            _ => *record = Err(format!("line {}: not a 'K:value' line: {:?}", i + 1, line)),
        }
    }
    out.extend(current);
    out
}

/// `so:libc.musl-x86_64.so.1=1` → `so:libc.musl-x86_64.so.1`; `busybox>=1.36` → `busybox`.
fn relation_name(token: &str) -> &str {
    let end = token.find(['<', '>', '=', '~']).unwrap_or(token.len());
    &token[..end]
}

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Os,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files, input.distro),
};

/// Finds every installed apk package.
pub fn catalog(files: &FileIndex, distro: Option<&Distro>) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    let Some(entry) = files.get(DATABASE) else {
        return output;
    };
    let Some(bytes) = entry.contents() else {
        return output;
    };
    let namespace = distro.map(|d| d.id.as_str()).unwrap_or("alpine");
    let distro_qualifier = distro.map(Distro::purl_qualifier);
    let mut relations_list = Vec::new();
    for record in records(&String::from_utf8_lossy(bytes)) {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                output
                    .warnings
                    .push(format!("/{DATABASE}: {e}; package skipped"));
                continue;
            }
        };
        let (Some(name), Some(version)) = (record.get('P'), record.get('V')) else {
            output.warnings.push(format!(
                "/{DATABASE}: record at line {} has no P: or V: line; skipped",
                record.line
            ));
            continue;
        };
        let arch = record.get('A').filter(|a| !a.is_empty());
        let purl = match os_package_purl(
            "apk",
            namespace,
            name,
            version,
            arch,
            distro_qualifier.as_deref(),
        ) {
            Ok(p) => p,
            Err(e) => {
                output.warnings.push(format!("/{DATABASE}: {e}; skipped"));
                continue;
            }
        };
        let mut properties = Vec::new();
        if let Some(o) = record.get('o') {
            properties.push(("vouch:apk:origin".into(), o.to_string()));
        }
        if let Some(a) = arch {
            properties.push(("vouch:apk:architecture".into(), a.to_string()));
        }
        if let Some(m) = record.get('m') {
            properties.push(("vouch:apk:maintainer".into(), m.to_string()));
        }
        output.packages.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            purl_type: "apk",
            purl,
            licenses: record.get('L').and_then(normalize).into_iter().collect(),
            cpe: None,
            evidence: Evidence {
                path: DATABASE.into(),
                layer_index: entry.layer_index,
            },
            cataloger: NAME,
            properties,
        });
        let mut dir = String::new();
        for (key, value) in &record.fields {
            match key {
                'F' => dir = value.clone(),
                'R' => output.owned_files.push((
                    crate::layers::path::join(&dir, value),
                    output.packages.len() - 1,
                )),
                _ => {}
            }
        }
        let tokens = |key: char| -> Vec<String> {
            record
                .get(key)
                .unwrap_or_default()
                .split_whitespace()
                .filter(|t| !t.starts_with('!'))
                .map(|t| relation_name(t).to_string())
                .collect()
        };
        relations_list.push(Relations {
            name: name.to_string(),
            arch: arch.map(str::to_string),
            depends: tokens('D').into_iter().map(|t| vec![t]).collect(),
            provides: tokens('p'),
        });
    }
    output.dependencies = relations::resolve(&relations_list);
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_broken_lines() {
        let db = "P:musl\nV:1.2.4-r2\n\nP:broken\nthis is wrong\n\nP:zlib\nV:1.3-r0\n";
        let r = records(db);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].as_ref().unwrap().get('P'), Some("musl"));
        assert!(r[1].as_ref().unwrap_err().contains("line 5"));
        assert_eq!(r[2].as_ref().unwrap().get('V'), Some("1.3-r0"));
        assert_eq!(
            relation_name("so:libc.musl-x86_64.so.1=1"),
            "so:libc.musl-x86_64.so.1"
        );
        assert_eq!(relation_name("busybox>=1.36"), "busybox");
    }
}
