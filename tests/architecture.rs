//! The house's order, checked: every top-level module of `src/` (a "room") has a place in [`ROOMS`],
//! top to bottom as design.md's module map lists them, and a room only uses rooms below it, so no two
//! rooms use each other. A use is any `crate::ROOM` path in a room's files (tests included: a unit test
//! that reaches up is a circle in the test build).
//!
//! [`DEBTS`] lists uses that still go up while a reshaping is under way (none today). The list can only
//! shrink: a new upward use fails, and so does a listed one that is gone (take it off the list, so it
//! cannot come back unseen).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The rooms, top to bottom.
const ROOMS: &[&str] = &[
    "main",
    "cli",
    "pipeline",
    "build",
    "serve",
    "authz",
    "registry",
    "rejudge",
    "verify",
    "bundles",
    "attest",
    "diff",
    "ci",
    "policy",
    "vuln",
    "sbom",
    "facts",
    "catalog",
    "private_keys",
    "secrets",
    "image",
    "layers",
    "oci",
    "engine",
    "package",
    "purl",
    "license",
    "version",
    "fsio",
    "expiring",
    "shutdown",
    "zipfmt",
    "text",
    "clock",
];

/// Uses that go up, while a reshaping is under way: (room, the room above it that it uses). Empty:
/// the last two (image -> registry, package -> layers) went with issue 17's moves.
const DEBTS: &[(&str, &str)] = &[];

/// The rooms each `crate::ROOM` path (or `crate::{ROOM, ...}` group) in `text` names.
fn used_rooms(text: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // A group: its top-level names (nested groups belong to the names before them).
            let mut depth = 0;
            let mut name = String::new();
            let mut names = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(std::mem::take(&mut name));
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 && c != '}' {
                    name.push(c);
                }
            }
            names.push(name);
            for n in names {
                let first: String = n
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !first.is_empty() {
                    used.insert(first);
                }
            }
        } else {
            let first: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            used.insert(first);
        }
    }
    used
}

/// The room of a file under `src/`: its first path component, without `.rs`.
fn room_of(relative: &Path) -> String {
    let first = relative.components().next().unwrap();
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// room → the rooms its files use.
fn uses() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let room = room_of(file.strip_prefix(&src).unwrap());
        if room == "lib" {
            continue; // the crate root declares the rooms
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let used = uses.entry(room.clone()).or_default();
        used.extend(
            used_rooms(&text)
                .into_iter()
                .filter(|r| *r != room && r != "self" && r != "super"),
        );
    }
    uses
}

fn rank(room: &str) -> Option<usize> {
    ROOMS.iter().position(|r| *r == room)
}

#[test]
fn every_room_uses_only_rooms_below_it() {
    let uses = uses();
    let mut upward = BTreeSet::new();
    let mut unplaced = BTreeSet::new();
    for (room, used) in &uses {
        let Some(here) = rank(room) else {
            unplaced.insert(room.clone());
            continue;
        };
        for other in used {
            match rank(other) {
                None => {
                    // A `crate::NAME` that is no room (a re-export of lib.rs, like crate::UsageError).
                    if Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("src")
                        .join(other)
                        .exists()
                        || Path::new(env!("CARGO_MANIFEST_DIR"))
                            .join("src")
                            .join(format!("{other}.rs"))
                            .exists()
                    {
                        unplaced.insert(other.clone());
                    }
                }
                Some(there) if there < here => {
                    upward.insert((room.clone(), other.clone()));
                }
                Some(_) => {}
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "rooms with no place in ROOMS (put them in order here and in design.md's map): {unplaced:?}"
    );
    let debts: BTreeSet<(String, String)> = DEBTS
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let new: Vec<_> = upward.difference(&debts).collect();
    assert!(
        new.is_empty(),
        "rooms that use a room above them (move the shared piece down instead): {new:?}"
    );
    let paid: Vec<_> = debts.difference(&upward).collect();
    assert!(
        paid.is_empty(),
        "listed in DEBTS but no longer used: take them off the list: {paid:?}"
    );
}

#[test]
fn the_reader_sees_every_form_of_use() {
    let text = "use crate::catalog::x;\nuse crate::{layers::{a, b}, package::Package, text};\nlet v = crate::vuln::f();\nuse super::y;";
    let used = used_rooms(text);
    assert_eq!(
        used,
        ["catalog", "layers", "package", "text", "vuln"]
            .into_iter()
            .map(String::from)
            .collect()
    );
    // A use up the order is found: the check is not vacuous.
    assert!(rank("catalog") < rank("layers"));
    let uses = uses();
    assert!(uses["cli"].contains("pipeline"), "{:?}", uses["cli"]);
    assert!(
        uses["pipeline"].contains("catalog"),
        "{:?}",
        uses["pipeline"]
    );
}
