//! The binary classifiers: runtimes and tools installed without a package database (copied from a
//! build stage, unpacked from a tarball) recognised by the version strings their binaries carry, as
//! Syft's binary classifiers do. A content probe ([`VersionProbe`]) looks only at ELF files whose names
//! fit a classifier and keeps just the version it finds. A binary that an OS package owns is not
//! reported again: the dpkg, apk or rpm package already stands for it.

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{path, FileIndex, Probe, ProbeScan};
use crate::package::Package;
use crate::purl::build_purl;
use regex::bytes::Regex;
use std::collections::HashMap;
use std::sync::OnceLock;

pub const NAME: &str = "binary-classifier";
pub const PROBE: &str = "binary-version";

/// One kind of binary: which file names to look at, and the version pattern (group 1).
struct Classifier {
    package: &'static str,
    /// NVD vendor and product, for the CPE.
    cpe: (&'static str, &'static str),
    file_names: &'static [&'static str],
    pattern: &'static str,
}

/// File-name patterns are globs over the file name alone.
const CLASSIFIERS: &[Classifier] = &[
    Classifier {
        package: "python",
        cpe: ("python", "python"),
        file_names: &["python[0-9]*", "libpython[0-9]*.so*"],
        // PY_VERSION, NUL-terminated in the binary: 3.11.2, 3.12.0rc1
        pattern: r"(?-u)\x00([23]\.[0-9]+\.[0-9]+(?:(?:a|b|rc)[0-9]+)?)\x00",
    },
    Classifier {
        package: "node",
        cpe: ("nodejs", "node.js"),
        file_names: &["node", "nodejs"],
        pattern: r"(?-u)node\.js/v([0-9]+\.[0-9]+\.[0-9]+)",
    },
    Classifier {
        package: "openssl",
        cpe: ("openssl", "openssl"),
        file_names: &["openssl", "libcrypto.so*", "libssl.so*"],
        pattern: r"(?-u)\x00OpenSSL ([0-9]+\.[0-9]+\.[0-9]+[a-z]?) ",
    },
    Classifier {
        package: "curl",
        cpe: ("haxx", "curl"),
        file_names: &["curl", "libcurl.so*", "libcurl-gnutls.so*"],
        pattern: r"(?-u)libcurl/([0-9]+\.[0-9]+\.[0-9]+)",
    },
    Classifier {
        package: "busybox",
        cpe: ("busybox", "busybox"),
        file_names: &["busybox"],
        pattern: r"(?-u)BusyBox v([0-9]+\.[0-9]+\.[0-9]+)",
    },
    Classifier {
        package: "nginx",
        cpe: ("f5", "nginx"),
        file_names: &["nginx"],
        pattern: r"(?-u)nginx/([0-9]+\.[0-9]+\.[0-9]+)",
    },
    Classifier {
        package: "postgresql",
        cpe: ("postgresql", "postgresql"),
        file_names: &["postgres", "postmaster"],
        pattern: r"(?-u)\(PostgreSQL\) ([0-9]+\.[0-9]+(?:\.[0-9]+)?)",
    },
    Classifier {
        package: "redis",
        cpe: ("redis", "redis"),
        file_names: &["redis-server"],
        pattern: r"(?-u)redis_version:([0-9]+\.[0-9]+\.[0-9]+)|\x00([0-9]+\.[0-9]+\.[0-9]+)\x00[0-9a-f]{8,16}\x00",
    },
];

struct Compiled {
    names: Vec<globset::GlobMatcher>,
    pattern: Regex,
}

fn compiled() -> &'static [Compiled] {
    static COMPILED: OnceLock<Vec<Compiled>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        CLASSIFIERS
            .iter()
            .map(|c| Compiled {
                names: c
                    .file_names
                    .iter()
                    .filter_map(|g| globset::Glob::new(g).ok().map(|g| g.compile_matcher()))
                    .collect(),
                pattern: Regex::new(c.pattern).expect("classifier patterns are valid"),
            })
            .collect()
    })
}

fn classifier_for(file: &str) -> Option<usize> {
    compiled()
        .iter()
        .position(|c| c.names.iter().any(|g| g.is_match(file)))
}

/// Looks for a classifier's version string in ELF files with a matching name.
pub struct VersionProbe;

impl Probe for VersionProbe {
    fn name(&self) -> &'static str {
        PROBE
    }

    fn accepts(&self, path: &str, _size: u64, head: &[u8]) -> bool {
        head.starts_with(b"\x7fELF") && classifier_for(path::file_name(path)).is_some()
    }

    fn start(&self, path: &str) -> Box<dyn ProbeScan> {
        Box::new(VersionScan {
            file: path::file_name(path).to_string(),
            ..Default::default()
        })
    }
}

/// Bytes kept from the end of each chunk so a version string split across chunks is still found.
const OVERLAP: usize = 256;

#[derive(Default)]
struct VersionScan {
    file: String,
    carry: Vec<u8>,
    found: Option<String>,
}

impl ProbeScan for VersionScan {
    fn feed(&mut self, chunk: &[u8]) -> bool {
        let Some(index) = classifier_for(&self.file) else {
            return false;
        };
        let pattern = &compiled()[index].pattern;
        let mut window = std::mem::take(&mut self.carry);
        window.extend_from_slice(chunk);
        // Python binaries name their minor version: python3.11 must carry 3.11.x.
        let wanted_prefix = version_prefix(&self.file);
        for captures in pattern.captures_iter(&window) {
            let Some(m) = captures.iter().skip(1).flatten().next() else {
                continue;
            };
            let version = String::from_utf8_lossy(m.as_bytes()).into_owned();
            if wanted_prefix
                .as_ref()
                .is_none_or(|p| version.starts_with(p.as_str()))
            {
                self.found = Some(format!("{index}\t{version}"));
                return false;
            }
        }
        let keep_from = window.len().saturating_sub(OVERLAP);
        self.carry = window[keep_from..].to_vec();
        true
    }

    fn finish(self: Box<Self>) -> Option<Vec<u8>> {
        self.found.map(String::into_bytes)
    }
}

/// `python3.11` → `3.11.`; `libpython3.12.so.1.0` → `3.12.`.
fn version_prefix(file: &str) -> Option<String> {
    let rest = file
        .strip_prefix("lib")
        .unwrap_or(file)
        .strip_prefix("python")?;
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let parts: Vec<&str> = digits.split('.').filter(|p| !p.is_empty()).collect();
    (parts.len() >= 2).then(|| format!("{}.{}.", parts[0], parts[1]))
}

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: &[],
    probes: &[|| std::sync::Arc::new(VersionProbe)],
    catalog: |input| catalog(input.files, input.owners),
};

/// Lists the classified binaries that no OS package owns.
pub fn catalog(files: &FileIndex, owned: &HashMap<String, String>) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for (entry, snippet) in files.findings(PROBE) {
        if owned.contains_key(&entry.entry.path) {
            continue;
        }
        let text = String::from_utf8_lossy(snippet);
        let Some((index, version)) = text.split_once('\t') else {
            continue;
        };
        let Some(classifier) = index.parse::<usize>().ok().and_then(|i| CLASSIFIERS.get(i)) else {
            continue;
        };
        let Ok(purl) = build_purl("generic", None, classifier.package, version, &[]) else {
            continue;
        };
        output.packages.push(Package {
            name: classifier.package.to_string(),
            version: version.to_string(),
            purl_type: "generic",
            purl,
            licenses: Vec::new(),
            cpe: Some(crate::package::cpe(
                classifier.cpe.0,
                classifier.cpe.1,
                version,
            )),
            evidence: entry.evidence(),
            cataloger: NAME,
            properties: Vec::new(),
        });
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn scan(file: &str, bytes: &[u8]) -> Option<String> {
        let probes = crate::layers::Probes(vec![Arc::new(VersionProbe)]);
        let mut reader = bytes;
        let findings = probes.scan(file, bytes.len() as u64, &mut reader).unwrap();
        findings
            .first()
            .map(|f| String::from_utf8(f.bytes.clone()).unwrap())
    }

    #[test]
    fn finds_versions_in_named_elf_files_only() {
        let mut python = b"\x7fELF".to_vec();
        python.resize(100_000, 1);
        python.extend_from_slice(b"\x002.0.0\x00 other \x003.11.2\x00");
        python.resize(200_000, 1);
        assert_eq!(
            scan("usr/local/bin/python3.11", &python).as_deref(),
            Some("0\t3.11.2"),
            "the minor version must match the name"
        );
        assert_eq!(
            scan("usr/local/bin/unrelated", &python),
            None,
            "the name decides which files are read"
        );
        let mut node = b"\x7fELF".to_vec();
        node.resize(65_530, 0);
        node.extend_from_slice(b"node.js/v20.11.1 ");
        assert_eq!(
            scan("usr/local/bin/node", &node).as_deref(),
            Some("1\t20.11.1"),
            "across a chunk boundary"
        );
        assert_eq!(
            version_prefix("libpython3.12.so.1.0").as_deref(),
            Some("3.12.")
        );
    }
}
