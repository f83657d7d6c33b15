//! The binary classifiers: runtimes and tools installed without a package database (copied from a
//! build stage, unpacked from a tarball) recognised by the version strings their binaries carry, as
//! Syft's binary classifiers do. A content probe ([`VersionProbe`]) looks only at ELF files whose names
//! fit a classifier and keeps just the version it finds. A binary that an OS package owns is not
//! reported again: the dpkg, apk or rpm package already stands for it; nor is one whose ELF package
//! note names its package.

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{path, FileIndex, Probe, ProbeScan};
use crate::package::Package;
use crate::purl::build_purl;
use regex::bytes::Regex;
use std::sync::OnceLock;

pub const NAME: &str = "binary-classifier";
pub const PROBE: &str = "binary-version";

/// One kind of binary: which file names to look at, and the version pattern (the first group that
/// takes part in the match is the version).
struct Classifier {
    package: &'static str,
    /// NVD vendor and product, for the CPE.
    cpe: (&'static str, &'static str),
    file_names: &'static [&'static str],
    pattern: &'static str,
}

/// Each classifier's pattern was written against the real binary of a Debian 12 package (and, where
/// the official image builds differently, the form its build leaves), and is tested on that binary
/// alone in an image (tests/binaries.rs). File-name patterns are globs over the file name alone.
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
        // Debian's redis-server is a link to redis-check-rdb, the one binary.
        file_names: &["redis-server", "redis-check-rdb"],
        // INFO's redis_version; the version and git SHA1 side by side; the version joined to the
        // build id (`[host-]` and a 19-digit time), as official and Debian builds leave it.
        pattern: r"(?-u)redis_version:([0-9]+\.[0-9]+\.[0-9]+)|\x00([0-9]+\.[0-9]+\.[0-9]+)\x00[0-9a-f]{8,16}\x00|[^0-9.]([0-9]+\.[0-9]+\.[0-9]+)(?:[a-z0-9.]*-)?[0-9]{19}\x00",
    },
    Classifier {
        package: "httpd",
        cpe: ("apache", "http_server"),
        file_names: &["httpd", "apache2"],
        pattern: r"(?-u)Apache/([0-9]+\.[0-9]+\.[0-9]+)",
    },
    Classifier {
        package: "php",
        cpe: ("php", "php"),
        file_names: &["php", "php[0-9]*", "php-fpm*", "php-cgi*", "libphp*.so"],
        pattern: r"(?-u)X-Powered-By: PHP/([0-9]+\.[0-9]+\.[0-9]+(?:(?:alpha|beta|RC)[0-9]+)?)",
    },
    Classifier {
        package: "perl",
        cpe: ("perl", "perl"),
        file_names: &["perl", "perl5*", "libperl.so*"],
        // $^V as the interpreter carries it.
        pattern: r"(?-u)\x00v(5\.[0-9]+\.[0-9]+)\x00",
    },
    Classifier {
        package: "ruby",
        cpe: ("ruby-lang", "ruby"),
        file_names: &["ruby", "ruby[0-9]*", "libruby*.so*"],
        // `ruby 3.1.2p20 (2022-04-12 revision 4491bb740a) [x86_64-linux]`: the patch level is not
        // part of the version since 2.1.
        pattern: r"(?-u)ruby ([0-9]+\.[0-9]+\.[0-9]+(?:preview[0-9]+|rc[0-9]+)?)(?:p[0-9]+)? \([0-9]{4}-",
    },
    Classifier {
        package: "go",
        cpe: ("golang", "go"),
        file_names: &["go"],
        pattern: r"(?-u)\x00go([0-9]+\.[0-9]+(?:\.[0-9]+|beta[0-9]+|rc[0-9]+)?)\x00",
    },
    Classifier {
        package: "rust",
        cpe: ("rust-lang", "rust"),
        file_names: &["libstd-*.so"],
        // The compiler that built the standard library, or the source tree it was built from.
        pattern: r"(?-u)rustc version ([0-9]+\.[0-9]+\.[0-9]+)|/rustc-([0-9]+\.[0-9]+\.[0-9]+)/library/",
    },
    Classifier {
        package: "memcached",
        cpe: ("memcached", "memcached"),
        file_names: &["memcached"],
        pattern: r"(?-u)\x00memcached ([0-9]+\.[0-9]+\.[0-9]+)",
    },
    Classifier {
        package: "haproxy",
        cpe: ("haproxy", "haproxy"),
        file_names: &["haproxy"],
        pattern: r"(?-u)version ([0-9]+\.[0-9]+(?:\.[0-9]+|-dev[0-9]+|-rc[0-9]+))[-+~.a-z0-9]*, released 20|HA-Proxy version ([0-9]+\.[0-9]+\.[0-9]+)",
    },
    Classifier {
        package: "mariadb",
        cpe: ("mariadb", "mariadb"),
        file_names: &["mariadbd", "mysqld", "mariadb", "mysql"],
        pattern: r"(?-u)\x00([0-9]+\.[0-9]+\.[0-9]+)-MariaDB",
    },
    Classifier {
        package: "bash",
        cpe: ("gnu", "bash"),
        file_names: &["bash"],
        pattern: r"(?-u)@\(#\)Bash version ([0-9]+\.[0-9]+\.[0-9]+)",
    },
    Classifier {
        package: "sqlite",
        cpe: ("sqlite", "sqlite"),
        file_names: &["libsqlite3.so*", "sqlite3"],
        // sqlite3_version, NUL-terminated; SQLite 3 is the only major version.
        pattern: r"(?-u)\x00(3\.[0-9]{1,2}\.[0-9]{1,2})\x00",
    },
    Classifier {
        package: "git",
        cpe: ("git-scm", "git"),
        file_names: &["git"],
        // The user agent it sends.
        pattern: r"(?-u)[^A-Za-z0-9_./-]git/([0-9]+\.[0-9]+\.[0-9]+)\x00",
    },
    Classifier {
        package: "lighttpd",
        cpe: ("lighttpd", "lighttpd"),
        file_names: &["lighttpd"],
        pattern: r"(?-u)\x00lighttpd/([0-9]+\.[0-9]+\.[0-9]+)\x00",
    },
    Classifier {
        package: "proftpd",
        cpe: ("proftpd", "proftpd"),
        file_names: &["proftpd"],
        pattern: r"(?-u)  Version: ([0-9]+\.[0-9]+\.[0-9]+[a-z]?) \(",
    },
    Classifier {
        package: "zstd",
        cpe: ("facebook", "zstandard"),
        file_names: &["zstd"],
        pattern: r"(?-u)\x00v([0-9]+\.[0-9]+\.[0-9]+)\x00Zstandard CLI",
    },
    Classifier {
        package: "xz",
        cpe: ("tukaani", "xz"),
        file_names: &["xz"],
        pattern: r"(?-u)xz \(XZ Utils\) ([0-9]+\.[0-9]+\.[0-9]+)",
    },
    Classifier {
        package: "jq",
        cpe: ("jqlang", "jq"),
        file_names: &["jq"],
        pattern: r"(?-u)\x00(?:jq-)?([0-9]+\.[0-9]+(?:\.[0-9]+)?)\x00DEBUG:",
    },
    Classifier {
        package: "openssh",
        cpe: ("openbsd", "openssh"),
        file_names: &["sshd", "ssh", "sshd-session"],
        // The release with its portable patch level (`OpenSSH_9.2p1 Debian-2`), not the bare
        // protocol banner version beside it (`OpenSSH_9.2`).
        pattern: r"(?-u)\x00OpenSSH_([0-9]+\.[0-9]+p[0-9]+)[ \x00]",
    },
    Classifier {
        package: "sudo",
        cpe: ("sudo_project", "sudo"),
        file_names: &["sudo"],
        pattern: r"(?-u)Sudo version %s\n\x00([0-9]+\.[0-9]+\.[0-9]+(?:p[0-9]+)?)\x00",
    },
    Classifier {
        package: "glibc",
        cpe: ("gnu", "glibc"),
        file_names: &["libc.so.6", "libc-*.so"],
        pattern: r"(?-u)GNU C Library \([^)\x00]{0,80}\) [a-z ]{0,40}version ([0-9]+\.[0-9]+(?:\.[0-9]+)?)",
    },
    Classifier {
        package: "zlib",
        cpe: ("zlib", "zlib"),
        file_names: &["libz.so*"],
        pattern: r"(?-u) deflate ([0-9]+\.[0-9]+\.[0-9]+(?:\.[0-9]+)?) Copyright",
    },
    Classifier {
        package: "dnsmasq",
        cpe: ("thekelleys", "dnsmasq"),
        file_names: &["dnsmasq"],
        pattern: r"(?-u)\x00dnsmasq-([0-9]+\.[0-9]+(?:\.[0-9]+)?)\x00",
    },
    Classifier {
        package: "unbound",
        cpe: ("nlnetlabs", "unbound"),
        file_names: &["unbound"],
        pattern: r"(?-u)\x00unbound ([0-9]+\.[0-9]+\.[0-9]+)\x00",
    },
    Classifier {
        package: "lua",
        cpe: ("lua", "lua"),
        file_names: &["lua", "lua5*", "liblua5*.so*"],
        pattern: r"(?-u)Lua ([0-9]+\.[0-9]+\.[0-9]+)  Copyright",
    },
    Classifier {
        package: "tcl",
        cpe: ("tcl", "tcl"),
        file_names: &["libtcl*.so*", "tclsh*"],
        pattern: r"(?-u)\x00([0-9]+\.[0-9]+\.[0-9]+)\x00tcl_patchLevel\x00",
    },
    Classifier {
        package: "pypy",
        cpe: ("pypy", "pypy"),
        file_names: &["libpypy*.so*", "pypy*"],
        pattern: r"(?-u)\[PyPy ([0-9]+\.[0-9]+\.[0-9]+)",
    },
    Classifier {
        package: "varnish",
        cpe: ("varnish-software", "varnish_cache"),
        file_names: &["varnishd"],
        pattern: r"(?-u)Varnish ([0-9]+\.[0-9]+\.[0-9]+) [0-9a-f]{40}",
    },
    Classifier {
        package: "gawk",
        cpe: ("gnu", "gawk"),
        file_names: &["gawk", "awk"],
        pattern: r"(?-u)\x00GNU Awk ([0-9]+\.[0-9]+\.[0-9]+)\x00",
    },
    Classifier {
        package: "ffmpeg",
        cpe: ("ffmpeg", "ffmpeg"),
        file_names: &["ffmpeg", "ffprobe", "libavcodec.so*", "libavformat.so*"],
        pattern: r"(?-u)FFmpeg version n?([0-9]+\.[0-9]+(?:\.[0-9]+)?)",
    },
    Classifier {
        package: "pcre2",
        cpe: ("pcre", "pcre2"),
        file_names: &["libpcre2-*.so*"],
        pattern: r"(?-u)\x00([0-9]+\.[0-9]+) [0-9]{4}-[0-9]{2}-[0-9]{2}\x00",
    },
    Classifier {
        package: "expat",
        cpe: ("libexpat_project", "libexpat"),
        file_names: &["libexpat.so*"],
        pattern: r"(?-u)\x00expat_([0-9]+\.[0-9]+\.[0-9]+)\x00",
    },
    Classifier {
        package: "squid",
        cpe: ("squid-cache", "squid"),
        file_names: &["squid"],
        pattern: r"(?-u)\x00squid/([0-9]+\.[0-9]+(?:\.[0-9]+)?)\x00",
    },
];

/// The classifiers' file-name globs in one set, and each classifier's pattern.
struct Compiled {
    names: globset::GlobSet,
    /// For each glob of `names`, the classifier it belongs to.
    owner_of_glob: Vec<usize>,
    patterns: Vec<Regex>,
}

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let mut names = globset::GlobSetBuilder::new();
        let mut owner_of_glob = Vec::new();
        for (index, classifier) in CLASSIFIERS.iter().enumerate() {
            for glob in classifier.file_names {
                names.add(globset::Glob::new(glob).expect("classifier file names are valid globs"));
                owner_of_glob.push(index);
            }
        }
        Compiled {
            names: names
                .build()
                .expect("classifier file names are valid globs"),
            owner_of_glob,
            patterns: CLASSIFIERS
                .iter()
                .map(|c| Regex::new(c.pattern).expect("classifier patterns are valid"))
                .collect(),
        }
    })
}

/// The classifiers whose file names fit `file` (a file name alone), in table order.
fn classifiers_for(file: &str) -> Vec<usize> {
    let compiled = compiled();
    let mut found: Vec<usize> = compiled
        .names
        .matches(file)
        .into_iter()
        .map(|glob| compiled.owner_of_glob[glob])
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

/// Looks for a classifier's version string in ELF files with a matching name.
pub struct VersionProbe;

impl Probe for VersionProbe {
    fn name(&self) -> &'static str {
        PROBE
    }

    fn accepts(&self, path: &str, _size: u64, head: &[u8]) -> bool {
        head.starts_with(b"\x7fELF") && compiled().names.is_match(path::file_name(path))
    }

    fn start(&self, path: &str) -> Box<dyn ProbeScan> {
        let file = path::file_name(path);
        Box::new(VersionScan {
            candidates: classifiers_for(file),
            // Python binaries name their minor version: python3.11 must carry 3.11.x.
            wanted_prefix: version_prefix(file),
            ..Default::default()
        })
    }
}

/// Bytes kept from the end of each chunk so a version string split across chunks is still found.
const OVERLAP: usize = 256;

#[derive(Default)]
struct VersionScan {
    candidates: Vec<usize>,
    wanted_prefix: Option<String>,
    carry: Vec<u8>,
    found: Option<String>,
}

impl ProbeScan for VersionScan {
    fn feed(&mut self, chunk: &[u8]) -> bool {
        if self.candidates.is_empty() {
            return false;
        }
        let mut window = std::mem::take(&mut self.carry);
        window.extend_from_slice(chunk);
        for &index in &self.candidates {
            for captures in compiled().patterns[index].captures_iter(&window) {
                let Some(m) = captures.iter().skip(1).flatten().next() else {
                    continue;
                };
                let version = String::from_utf8_lossy(m.as_bytes()).into_owned();
                if self
                    .wanted_prefix
                    .as_ref()
                    .is_none_or(|p| index != PYTHON || version.starts_with(p.as_str()))
                {
                    self.found = Some(format!("{index}\t{version}"));
                    return false;
                }
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

/// The python classifier's place in [`CLASSIFIERS`]: the one whose file names carry a version.
const PYTHON: usize = 0;

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

/// Lists the classified binaries that no OS package owns and that name no package of their own
/// (an ELF package note, [`super::elf_package`], says what the binary is).
pub fn catalog(files: &FileIndex, owned: &super::Owners) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    let noted: std::collections::HashSet<&str> = files
        .findings(super::elf_package::PROBE)
        .map(|(entry, _)| entry.entry.path.as_str())
        .collect();
    for (entry, snippet) in files.findings(PROBE) {
        if owned.contains_key(&entry.entry.path) || noted.contains(entry.entry.path.as_str()) {
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
            cpe: Some(cpe_of(classifier.cpe, version)),
            evidence: entry.evidence(),
            cataloger: NAME,
            properties: Vec::new(),
        });
    }
    output
}

/// The CPE of a classified version. OpenSSH's and sudo's portable patch releases (`9.2p1`,
/// `1.9.13p3`) are the version and its update in the NVD's CPEs (`openssh:9.2:p1`).
fn cpe_of((vendor, product): (&str, &str), version: &str) -> String {
    let split = version.rfind('p').filter(|&at| {
        at > 0
            && version[..at]
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.')
            && version[at + 1..].bytes().all(|b| b.is_ascii_digit())
            && at + 1 < version.len()
    });
    let whole = crate::package::cpe(vendor, product, version);
    match split {
        Some(at) => {
            let (release, update) = (&version[..at], &version[at..]);
            let plain = crate::package::cpe(vendor, product, release);
            let prefix = format!("cpe:2.3:a:{vendor}:{product}:{release}:");
            match plain.strip_prefix(&prefix) {
                Some(rest) => format!("{prefix}{update}{}", &rest[1..]),
                None => whole,
            }
        }
        None => whole,
    }
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
    fn patch_releases_are_the_cpes_update() {
        assert_eq!(
            cpe_of(("openbsd", "openssh"), "9.2p1"),
            "cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*"
        );
        assert_eq!(
            cpe_of(("sudo_project", "sudo"), "1.9.13p3"),
            "cpe:2.3:a:sudo_project:sudo:1.9.13:p3:*:*:*:*:*:*"
        );
        assert_eq!(
            cpe_of(("golang", "go"), "1.22rc1"),
            "cpe:2.3:a:golang:go:1.22rc1:*:*:*:*:*:*:*"
        );
        assert_eq!(CLASSIFIERS[PYTHON].package, "python");
    }

    /// File names reach their classifiers through one glob set (MariaDB keeps `mysql` for its client).
    #[test]
    fn every_classifier_whose_names_fit_is_tried() {
        let mut bytes = b"\x7fELF".to_vec();
        bytes.extend_from_slice(b"\x0010.11.6-MariaDB\x00");
        assert_eq!(
            scan("usr/bin/mysql", &bytes).as_deref(),
            Some(format!("{}\t10.11.6", index_of("mariadb")).as_str())
        );
        assert!(classifiers_for("php8.2").contains(&index_of("php")));
        assert!(classifiers_for("libstd-a5a48102fbd58791.so").contains(&index_of("rust")));
        assert!(classifiers_for("libz.so.1").contains(&index_of("zlib")));
        assert!(classifiers_for("bash.bak").is_empty());
    }

    fn index_of(package: &str) -> usize {
        CLASSIFIERS
            .iter()
            .position(|c| c.package == package)
            .unwrap()
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
