//! The Java cataloger: jar, war and ear archives anywhere in the image, and the archives nested in
//! them (`WEB-INF/lib/*.jar`, `BOOT-INF/lib/*.jar`), to a bounded depth.
//!
//! Archives are read by a pull-mode content probe ([`ArchiveProbe`]) as they stream past in the layer
//! pass ([`super::zipstream`]): only `META-INF/MANIFEST.MF`, `META-INF/maven/*/*/pom.properties` and (where
//! no `pom.properties` stands beside it) the coordinates of a `pom.xml` ([`pom`]) are kept, as a small
//! JSON snippet. Each `pom.properties` is a package `pkg:maven/GROUP/ARTIFACT@VERSION`; an archive
//! that none names is named from its manifest (Jenkins' `Short-Name`, `Implementation-*`, `Bundle-*`)
//! and file name, unless it is a New Relic instrumentation module (`Weave-Classes`).
//! Inflation across an archive and everything nested in it is bounded (zip bombs), as is nesting.

pub mod pom;

use super::zipstream::{walk, Visit};
use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{path, pull_only, FileIndex, IndexedEntry, Probe, ProbeScan};
use crate::license::normalize;
use crate::package::Package;
use crate::purl::build_purl;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::io::{self, BufReader, Read};

pub const NAME: &str = "java-archive";
pub const PROBE: &str = "java-archive";

const ARCHIVE_EXTENSIONS: &[&str] = &[
    ".jar", ".war", ".ear", ".jpi", ".hpi", ".par", ".sar", ".nar",
];
/// Archives nested deeper than this are not opened.
const MAX_DEPTH: usize = 4;
/// Bytes that may be inflated for one archive file and everything nested in it.
const INFLATE_BUDGET: u64 = 2 * 1024 * 1024 * 1024;
/// Largest manifest, pom.properties or pom.xml read.
const MAX_METADATA: u64 = 256 * 1024;
/// Metadata text kept for one archive file and everything nested in it (a shaded jar of a few
/// hundred libraries keeps a few hundred kilobytes).
const KEPT_BUDGET: u64 = 16 * 1024 * 1024;

fn is_archive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ARCHIVE_EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

/// What the probe keeps from one archive file.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArchiveFindings {
    /// Metadata files found, by the nested archive they are in (`""` for the file itself).
    pub files: Vec<MetadataFile>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MetadataFile {
    /// `""`, or `WEB-INF/lib/a.jar`, or `lib/a.jar!/lib/b.jar` for deeper nesting.
    pub archive: String,
    /// `META-INF/MANIFEST.MF` or a pom.properties path.
    pub name: String,
    pub text: String,
}

/// Streams archives in the layer pass.
pub struct ArchiveProbe;

impl Probe for ArchiveProbe {
    fn name(&self) -> &'static str {
        PROBE
    }

    fn accepts(&self, path: &str, _size: u64, head: &[u8]) -> bool {
        head.starts_with(b"PK\x03\x04") && is_archive_name(path)
    }

    fn start(&self, _path: &str) -> Box<dyn ProbeScan> {
        pull_only()
    }

    fn scan_stream(
        &self,
        _path: &str,
        stream: &mut dyn Read,
    ) -> Option<io::Result<Option<Vec<u8>>>> {
        let findings = RefCell::new(ArchiveFindings::default());
        let budgets = Budgets {
            inflate: Cell::new(INFLATE_BUDGET),
            kept: Cell::new(KEPT_BUDGET),
            kept_names: Cell::new(KEPT_BUDGET),
            kept_ran_out: Cell::new(false),
        };
        scan_archive(&mut BufReader::new(stream), "", 0, &budgets, &findings);
        let findings = findings.into_inner();
        if findings.files.is_empty() && findings.warnings.is_empty() {
            return Some(Ok(None));
        }
        Some(
            serde_json::to_vec(&findings)
                .map(Some)
                .map_err(io::Error::other),
        )
    }
}

fn is_metadata(name: &str) -> bool {
    name.eq_ignore_ascii_case("META-INF/MANIFEST.MF")
        || (name.starts_with("META-INF/maven/")
            && (name.ends_with("/pom.properties") || name.ends_with("/pom.xml")))
}

/// What one archive file (and everything nested in it) may cost while it is read.
struct Budgets {
    /// Bytes that may still be inflated.
    inflate: Cell<u64>,
    /// Bytes of metadata text that may still be kept.
    kept: Cell<u64>,
    /// Bytes of the kept files' names (and their archives') that may still be kept.
    kept_names: Cell<u64>,
    /// Whether metadata has been left unread for want of `kept`, and a warning said so.
    kept_ran_out: Cell<bool>,
}

/// Walks one archive level, keeping metadata and descending into nested archives.
///
/// A `pom.xml` is held until the level has been read and only its coordinates are kept, and only
/// when no `pom.properties` in the same directory already says them: Maven's archiver writes both,
/// and most POMs never need parsing.
fn scan_archive<R: io::BufRead>(
    reader: &mut R,
    archive: &str,
    depth: usize,
    budgets: &Budgets,
    findings: &RefCell<ArchiveFindings>,
) {
    let pom_xmls: RefCell<Vec<(String, String)>> = RefCell::new(Vec::new());
    // The directories of this level that have a pom.properties (its pom.xml is then not needed).
    let with_properties: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
    let result = walk(
        reader,
        &budgets.inflate,
        |entry| {
            if is_metadata(&entry.name)
                || (is_archive_name(&entry.name) && !entry.name.ends_with('/'))
            {
                Visit::Read
            } else {
                Visit::Skip
            }
        },
        |entry, body| {
            if is_metadata(&entry.name) {
                let mut text = String::new();
                body.take(MAX_METADATA).read_to_string(&mut text).ok();
                // Names are kept too: an archive of empty metadata files costs their names.
                let left = budgets.kept.get();
                let names_left = budgets.kept_names.get();
                let name_cost = (archive.len() + entry.name.len()) as u64;
                if text.len() as u64 > left || name_cost > names_left {
                    if !budgets.kept_ran_out.replace(true) {
                        findings.borrow_mut().warnings.push(format!(
                            "{}: more than {KEPT_BUDGET} bytes of metadata; the rest is not read",
                            nested_name(archive, &entry.name)
                        ));
                    }
                    return Ok(());
                }
                budgets.kept.set(left - text.len() as u64);
                budgets.kept_names.set(names_left - name_cost);
                if entry.name.ends_with("/pom.xml") {
                    pom_xmls.borrow_mut().push((entry.name.clone(), text));
                } else {
                    if entry.name.ends_with("/pom.properties") {
                        with_properties
                            .borrow_mut()
                            .insert(maven_directory(&entry.name).to_string());
                    }
                    findings.borrow_mut().files.push(MetadataFile {
                        archive: archive.to_string(),
                        name: entry.name.clone(),
                        text,
                    });
                }
            } else if depth + 1 >= MAX_DEPTH {
                findings.borrow_mut().warnings.push(format!(
                    "{}: nested more than {MAX_DEPTH} archives deep; not opened",
                    nested_name(archive, &entry.name)
                ));
            } else {
                let mut nested = BufReader::new(body);
                let head = io::BufRead::fill_buf(&mut nested)?;
                if head.starts_with(b"PK\x03\x04") {
                    scan_archive(
                        &mut nested,
                        &nested_name(archive, &entry.name),
                        depth + 1,
                        budgets,
                        findings,
                    );
                }
            }
            Ok(())
        },
    );
    let mut findings = findings.borrow_mut();
    let with_properties = with_properties.into_inner();
    for (name, text) in pom_xmls.into_inner() {
        if with_properties.contains(maven_directory(&name)) {
            continue;
        }
        if let Some(coordinates) = pom::coordinates(&text) {
            findings.files.push(MetadataFile {
                archive: archive.to_string(),
                name,
                text: coordinates.to_properties(),
            });
        }
    }
    if let Err(e) = result {
        let what = if archive.is_empty() {
            "archive".to_string()
        } else {
            archive.to_string()
        };
        let cut_off = if budgets.inflate.get() == 0 {
            format!("more than {INFLATE_BUDGET} bytes inflated (a zip bomb?); reading stopped")
        } else {
            e.to_string()
        };
        findings.warnings.push(format!("{what}: {cut_off}"));
    }
}

/// `META-INF/maven/GROUP/ARTIFACT` of a file in it.
fn maven_directory(name: &str) -> &str {
    name.rsplit_once('/').map_or("", |(d, _)| d)
}

fn nested_name(archive: &str, entry: &str) -> String {
    if archive.is_empty() {
        entry.to_string()
    } else {
        format!("{archive}!/{entry}")
    }
}

/// `key=value` lines of a Java properties file.
fn properties(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .filter_map(|l| l.split_once(['=', ':']))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The main section of a manifest, continuation lines (leading space) joined.
fn manifest(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break; // per-entry sections follow
        }
        if let Some(rest) = line.strip_prefix(' ') {
            if let Some((_, v)) = out.last_mut() {
                v.push_str(rest);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

fn get<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `commons-lang3-3.12.0.jar` → (`commons-lang3`, Some(`3.12.0`)).
fn name_and_version_from_file(file: &str) -> (String, Option<String>) {
    let stem = match file.rfind('.') {
        Some(i) => &file[..i],
        None => file,
    };
    let split = stem
        .char_indices()
        .find(|&(i, c)| c == '-' && stem[i + 1..].starts_with(|d: char| d.is_ascii_digit()));
    match split {
        Some((i, _)) => (stem[..i].to_string(), Some(stem[i + 1..].to_string())),
        None => (stem.to_string(), None),
    }
}

/// Whether a pom.properties artifactId names the archive whose file name (without version) is
/// `file_name`: equal, or a prefix followed by a classifier or qualifier (`myapp` of `myapp-all.jar`,
/// `netty-transport-native-epoll` of `…-linux-x86_64.jar`), or the same after the group as sbt and
/// Play name the jars they stage (`com.typesafe.play.play_2.13-2.8.8.jar`). Such an archive is that
/// artifact: no second package is made up from its file name.
fn names_file(group: &str, artifact: &str, file_name: &str) -> bool {
    let file_name = file_name
        .strip_prefix(group)
        .and_then(|rest| rest.strip_prefix('.'))
        .unwrap_or(file_name);
    file_name
        .strip_prefix(artifact)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '_', '.']))
}

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: &[],
    probes: &[|| std::sync::Arc::new(ArchiveProbe)],
    catalog: |input| catalog(input.files),
};

/// Lists the packages of every archive the probe read.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for (entry, snippet) in files.findings(PROBE) {
        let findings: ArchiveFindings = match serde_json::from_slice(snippet) {
            Ok(f) => f,
            Err(e) => {
                output.warnings.push(format!("/{}: {e}", entry.entry.path));
                continue;
            }
        };
        for w in &findings.warnings {
            output.warnings.push(format!("/{}: {w}", entry.entry.path));
        }
        // Each archive once, in the order first met, with its files: the walk may come back to an
        // archive after one nested in it (its manifest, then a nested jar, then its own
        // pom.properties). Grouped in one pass: a war may nest thousands of jars.
        let mut archives: Vec<(&str, Vec<&MetadataFile>)> = Vec::new();
        let mut position: HashMap<&str, usize> = HashMap::new();
        for file in &findings.files {
            let at = *position.entry(&file.archive).or_insert_with(|| {
                archives.push((&file.archive, Vec::new()));
                archives.len() - 1
            });
            archives[at].1.push(file);
        }
        for (archive, in_archive) in archives {
            add_archive(entry, archive, &in_archive, &mut output);
        }
    }
    output
}

fn add_archive(
    entry: &IndexedEntry,
    archive: &str,
    in_archive: &[&MetadataFile],
    output: &mut CatalogOutput,
) {
    let manifest_fields = in_archive
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case("META-INF/MANIFEST.MF"))
        .map(|f| manifest(&f.text))
        .unwrap_or_default();
    let license = get(&manifest_fields, "Bundle-License")
        .filter(|l| !l.contains("://"))
        .and_then(normalize);
    let location = if archive.is_empty() {
        format!("/{}", entry.entry.path)
    } else {
        format!("/{}!/{archive}", entry.entry.path)
    };
    let mut push = |group: Option<&str>, artifact: &str, version: &str, kind: Option<&str>| {
        let Ok(purl) = build_purl("maven", group, artifact, version, &[]) else {
            return;
        };
        let mut properties = vec![("vouch:java:archive".into(), location.clone())];
        if let Some(g) = group {
            properties.push(("vouch:java:groupId".into(), g.to_string()));
        }
        if let Some(kind) = kind {
            properties.push(("vouch:java:kind".into(), kind.to_string()));
        }
        output.packages.push(Package {
            name: artifact.to_string(),
            version: version.to_string(),
            purl_type: "maven",
            purl,
            licenses: license.clone().into_iter().collect(),
            cpe: None,
            evidence: entry.evidence(),
            cataloger: NAME,
            properties,
        });
    };
    let poms = declared_coordinates(in_archive);
    let file = path::file_name(if archive.is_empty() {
        &entry.entry.path
    } else {
        archive.rsplit("!/").next().unwrap_or(archive)
    });
    let (file_name, file_version) = name_and_version_from_file(file);
    let mut describes_itself = false;
    for pom in &poms {
        if let (Some(g), Some(a), Some(v)) = (
            get(pom, "groupId"),
            get(pom, "artifactId"),
            get(pom, "version"),
        ) {
            push(Some(g), a, v, None);
            describes_itself |= names_file(g, a, &file_name);
        }
    }
    if describes_itself || get(&manifest_fields, "Weave-Classes").is_some() {
        // A New Relic instrumentation module (`Weave-Classes`) names the library it instruments,
        // not itself: it is part of the agent, and no package is made up from its name.
        return;
    }
    if let Some(short_name) = get(&manifest_fields, "Short-Name") {
        // A Jenkins plugin: its manifest names it (`Group-Id`, `Short-Name`, `Plugin-Version`) where
        // its installed file name (`git.jpi`) carries no version.
        let version = get(&manifest_fields, "Plugin-Version")
            .or_else(|| get(&manifest_fields, "Implementation-Version"))
            .map(|v| v.split_whitespace().next().unwrap_or(v))
            .unwrap_or_default();
        let group = get(&manifest_fields, "Group-Id").unwrap_or(JENKINS_GROUP);
        push(Some(group), short_name, version, Some("jenkins-plugin"));
        return;
    }
    // No pom.properties names this archive (none at all, or only those of libraries shaded into it):
    // the archive itself is a package too, named from its manifest and file name, as Syft does.
    let version = get(&manifest_fields, "Implementation-Version")
        .or_else(|| get(&manifest_fields, "Bundle-Version"))
        .map(str::to_string)
        .or(file_version)
        .unwrap_or_default();
    // As Syft does: the vendor id, else the OSGi or JPMS name, else the artifact name itself.
    let group = get(&manifest_fields, "Implementation-Vendor-Id")
        .or_else(|| {
            get(&manifest_fields, "Bundle-SymbolicName")
                .map(|s| s.split(';').next().unwrap_or(s).trim())
        })
        .or_else(|| get(&manifest_fields, "Automatic-Module-Name"))
        .unwrap_or(&file_name)
        .to_string();
    push(Some(&group), &file_name, &version, None);
}

/// The group Jenkins gives a plugin whose manifest has no `Group-Id`.
const JENKINS_GROUP: &str = "org.jenkins-ci.plugins";

/// The coordinates each `META-INF/maven/GROUP/ARTIFACT/` directory of one archive declares: its
/// `pom.properties`, else (sbt and Gradle builds write no properties) its `pom.xml`, whose
/// coordinates the probe kept in the same form.
fn declared_coordinates(in_archive: &[&MetadataFile]) -> Vec<Vec<(String, String)>> {
    in_archive
        .iter()
        .filter(|f| f.name.ends_with("/pom.properties") || f.name.ends_with("/pom.xml"))
        .map(|f| properties(&f.text))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::zipstream::tests::zip_with_descriptors;

    fn scan(bytes: &[u8], path: &str) -> ArchiveFindings {
        let mut reader = bytes;
        let out = ArchiveProbe
            .scan_stream(path, &mut reader)
            .unwrap()
            .unwrap();
        out.map(|b| serde_json::from_slice(&b).unwrap())
            .unwrap_or_default()
    }

    #[test]
    fn keeps_metadata_of_nested_archives() {
        let inner = zip_with_descriptors(&[
            (
                "META-INF/MANIFEST.MF",
                b"Manifest-Version: 1.0\r\nImplementation-Version: 2.0\r\n",
            ),
            (
                "META-INF/maven/org.example/inner/pom.properties",
                b"groupId=org.example\nartifactId=inner\nversion=2.0\n",
            ),
        ]);
        let outer = zip_with_descriptors(&[
            ("WEB-INF/classes/App.class", b"\xca\xfe\xba\xbe"),
            ("WEB-INF/lib/inner-2.0.jar", &inner),
            (
                "META-INF/MANIFEST.MF",
                b"Manifest-Version: 1.0\r\nImplementation-Title: shop\r\n",
            ),
        ]);
        let f = scan(&outer, "srv/shop.war");
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        let names: Vec<(&str, &str)> = f
            .files
            .iter()
            .map(|m| (m.archive.as_str(), m.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("WEB-INF/lib/inner-2.0.jar", "META-INF/MANIFEST.MF"),
                (
                    "WEB-INF/lib/inner-2.0.jar",
                    "META-INF/maven/org.example/inner/pom.properties"
                ),
                ("", "META-INF/MANIFEST.MF"),
            ]
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let mut archive =
            zip_with_descriptors(&[("META-INF/MANIFEST.MF", b"Implementation-Version: 1\r\n")]);
        for level in 0..6 {
            archive = zip_with_descriptors(&[(&format!("lib/level{level}.jar"), &archive)]);
        }
        let f = scan(&archive, "deep.jar");
        assert!(
            f.warnings
                .iter()
                .any(|w| w.contains("nested more than 4 archives deep")),
            "{:?}",
            f.warnings
        );
    }

    #[test]
    fn kept_metadata_is_bounded_and_a_pom_xml_beside_properties_is_not_kept() {
        let big = vec![b'#'; MAX_METADATA as usize];
        let names: Vec<String> = (0..(KEPT_BUDGET / MAX_METADATA + 2))
            .map(|i| format!("META-INF/maven/g/a{i}/pom.properties"))
            .collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &big[..])).collect();
        let f = scan(&zip_with_descriptors(&entries), "many.jar");
        assert_eq!(f.files.len() as u64, KEPT_BUDGET / MAX_METADATA);
        assert!(
            f.warnings[0].contains("bytes of metadata; the rest is not read"),
            "{:?}",
            f.warnings
        );
        let pom = b"<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version></project>";
        let both = zip_with_descriptors(&[
            ("META-INF/maven/g/a/pom.xml", pom),
            (
                "META-INF/maven/g/a/pom.properties",
                b"groupId=g\nartifactId=a\nversion=1\n",
            ),
            ("META-INF/maven/g/b/pom.xml", pom),
        ]);
        let f = scan(&both, "both.jar");
        let kept: Vec<(&str, &str)> = f
            .files
            .iter()
            .map(|m| (m.name.as_str(), m.text.as_str()))
            .collect();
        assert_eq!(
            kept,
            [
                (
                    "META-INF/maven/g/a/pom.properties",
                    "groupId=g\nartifactId=a\nversion=1\n"
                ),
                (
                    "META-INF/maven/g/b/pom.xml",
                    "groupId=g\nartifactId=a\nversion=1\n"
                ),
            ]
        );
    }

    #[test]
    fn empty_metadata_files_are_bounded_by_their_names() {
        // Empty pom.properties cost no text, but each name is kept: a long name 4 KiB at a time.
        let long = "x".repeat(4000);
        let names: Vec<String> = (0..(KEPT_BUDGET / 4000 + 10))
            .map(|i| format!("META-INF/maven/{long}/a{i}/pom.properties"))
            .collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let f = scan(&zip_with_descriptors(&entries), "empty.jar");
        assert!(
            (f.files.len() as u64) < KEPT_BUDGET / 4000,
            "{} files kept",
            f.files.len()
        );
        assert!(
            f.warnings[0].contains("bytes of metadata; the rest is not read"),
            "{:?}",
            f.warnings
        );
    }

    #[test]
    fn an_artifact_id_names_its_archive_with_a_classifier() {
        assert!(names_file("g", "myapp", "myapp"));
        assert!(names_file("g", "myapp", "myapp-all"));
        assert!(names_file(
            "io.netty",
            "netty-transport-native-epoll",
            "netty-transport-native-epoll-linux"
        ));
        assert!(names_file(
            "com.typesafe.play",
            "play_2.13",
            "com.typesafe.play.play_2.13"
        ));
        assert!(!names_file("g", "myapp", "myapplication"));
        assert!(!names_file("org.apache", "commons-lang3", "commons"));
        assert!(!names_file(
            "com.typesafe",
            "play_2.13",
            "com.typesafe.play.play_2.13"
        ));
    }

    #[test]
    fn manifests_properties_and_file_names() {
        let m = manifest("Manifest-Version: 1.0\r\nBundle-SymbolicName: org.apache.commons.lan\r\n g3\r\n\r\nName: x\r\nFoo: y\r\n");
        assert_eq!(
            get(&m, "Bundle-SymbolicName"),
            Some("org.apache.commons.lang3")
        );
        assert_eq!(
            get(&m, "Foo"),
            None,
            "per-entry sections are not the main section"
        );
        let p =
            properties("#Generated\ngroupId=org.slf4j\nartifactId = slf4j-api\nversion=2.0.9\n");
        assert_eq!(get(&p, "artifactId"), Some("slf4j-api"));
        assert_eq!(
            name_and_version_from_file("commons-lang3-3.12.0.jar"),
            ("commons-lang3".into(), Some("3.12.0".into()))
        );
        assert_eq!(name_and_version_from_file("app.jar"), ("app".into(), None));
    }
}
