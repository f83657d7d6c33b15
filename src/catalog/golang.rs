//! The Go cataloger: the build information the Go linker embeds in every binary (`.go.buildinfo`):
//! the toolchain version, the main module, and every dependency module with its version (replacements
//! applied), as `go version -m` prints them.
//!
//! Binaries can live anywhere, so this cataloger uses a content probe ([`BuildInfoProbe`]): every ELF
//! file is streamed past a search for the buildinfo magic, and only the block after it is kept.
//! The inline format of Go 1.18 and later is read; older binaries (pointer-based format) are reported
//! with a warning.

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{FileIndex, IndexedEntry, Probe, ProbeScan, SeamSearch};
use crate::package::{Package, PropertyName};
use crate::purl::build_purl;
use memchr::memmem;

pub const NAME: &str = "go-module-binary";
pub const PROBE: &str = "go-buildinfo";

/// `\xff Go buildinf:`, the start of the buildinfo header.
const MAGIC: &[u8] = b"\xff Go buildinf:";
/// Bytes kept after the magic: the header and both strings (module lists of large programs run to
/// tens of kilobytes).
const MAX_SNIPPET: usize = 512 * 1024;
const ELF_MAGIC: &[u8] = b"\x7fELF";

/// Finds the buildinfo header in ELF files.
pub struct BuildInfoProbe;

impl Probe for BuildInfoProbe {
    fn name(&self) -> &'static str {
        PROBE
    }

    fn accepts(&self, _path: &str, size: u64, head: &[u8]) -> bool {
        size > 64 && head.starts_with(ELF_MAGIC)
    }

    fn start(&self, _path: &str) -> Box<dyn ProbeScan> {
        Box::new(BuildInfoScan::default())
    }
}

/// Searches a stream for a valid header, then keeps what follows.
#[derive(Default)]
struct BuildInfoScan {
    search: SeamSearch,
    captured: Option<Vec<u8>>,
}

/// A header is the magic, a pointer size of 4 or 8, and flags with the inline-strings bit (Go 1.18+),
/// or without it (older Go, kept so the cataloger can say so).
fn plausible_header(bytes: &[u8]) -> bool {
    bytes.len() >= 16
        && bytes.starts_with(MAGIC)
        && matches!(bytes[14], 4 | 8)
        && bytes[15] & !3 == 0
}

/// The next possible header at or after `from`.
fn next_magic(bytes: &[u8], from: usize) -> Option<usize> {
    memmem::find(&bytes[from..], MAGIC).map(|i| i + from)
}

impl ProbeScan for BuildInfoScan {
    fn feed(&mut self, chunk: &[u8]) -> bool {
        if let Some(captured) = &mut self.captured {
            let room = MAX_SNIPPET - captured.len();
            captured.extend_from_slice(&chunk[..chunk.len().min(room)]);
            return captured.len() < MAX_SNIPPET;
        }
        match self.search.feed(chunk, 32, next_magic, plausible_header) {
            Some(mut found) => {
                found.truncate(MAX_SNIPPET);
                let more = found.len() < MAX_SNIPPET;
                self.captured = Some(found);
                more
            }
            None => true,
        }
    }

    fn finish(self: Box<Self>) -> Option<Vec<u8>> {
        let BuildInfoScan { search, captured } = *self;
        captured.or_else(|| search.finish(next_magic, plausible_header))
    }
}

/// What a binary's buildinfo says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildInfo {
    /// `go1.22.1`
    pub go_version: String,
    /// The main package's import path (`path` line).
    pub path: Option<String>,
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    /// `build` settings (`GOOS=linux`, `vcs.revision=...`).
    pub settings: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    pub version: String,
}

/// Why a buildinfo block could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildInfoError {
    #[error("built by a Go release older than 1.18 (pointer-based build info), not read")]
    OldFormat,
    #[error("truncated or damaged Go build info")]
    Damaged,
}

/// Parses a snippet that starts at the buildinfo magic.
pub fn parse_buildinfo(snippet: &[u8]) -> Result<BuildInfo, BuildInfoError> {
    if !plausible_header(snippet) || snippet.len() < 32 {
        return Err(BuildInfoError::Damaged);
    }
    if snippet[15] & 2 == 0 {
        return Err(BuildInfoError::OldFormat);
    }
    let mut rest = &snippet[32..];
    let go_version = read_bytes(&mut rest).ok_or(BuildInfoError::Damaged)?;
    let go_version = String::from_utf8_lossy(go_version).into_owned();
    let mod_info = read_bytes(&mut rest).ok_or(BuildInfoError::Damaged)?;
    // The module text is framed by 16-byte sentinels (not UTF-8: strip them before decoding).
    let mod_info = if mod_info.len() >= 33 && mod_info[mod_info.len() - 17] == b'\n' {
        &mod_info[16..mod_info.len() - 16]
    } else {
        &[][..]
    };
    let mod_info = String::from_utf8_lossy(mod_info);
    let mut info = BuildInfo {
        go_version,
        ..Default::default()
    };
    for line in mod_info.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["path", p, ..] => info.path = Some(p.to_string()),
            ["mod", p, v, ..] => info.main = Some(module(p, v)),
            ["dep", p, v, ..] => info.deps.push(module(p, v)),
            ["=>", p, v, ..] => {
                // A replacement applies to the line before it. A local directory keeps the module's
                // own path (the code is that module's, at no published version).
                let target = if info.deps.is_empty() {
                    info.main.as_ref()
                } else {
                    info.deps.last()
                };
                let local = p.starts_with('.') || p.starts_with('/');
                let path = match (local, target) {
                    (true, Some(m)) => m.path.clone(),
                    _ => p.to_string(),
                };
                let version = if v.is_empty() { "(devel)" } else { v };
                let replaced = module(&path, version);
                if let Some(last) = info.deps.last_mut() {
                    *last = replaced;
                } else if let Some(main) = &mut info.main {
                    *main = replaced;
                }
            }
            ["build", setting] => {
                if let Some((k, v)) = setting.split_once('=') {
                    info.settings.push((k.to_string(), v.to_string()));
                }
            }
            _ => {}
        }
    }
    if info.main.is_none() {
        info.main = inferred_main(&info);
    } else if let (Some(main), Some(v)) = (&mut info.main, ldflags_version(&info.settings)) {
        if main.version == "(devel)" {
            main.version = v;
        }
    }
    Ok(info)
}

/// A version injected at link time (`-ldflags "-X github.com/docker/cli/cli/version.Version=28.2.2"`),
/// as release builds of GOPATH-mode programs record it; `v`-prefixed like a module version.
fn ldflags_version(settings: &[(String, String)]) -> Option<String> {
    let ldflags = settings
        .iter()
        .find(|(k, _)| k == "-ldflags")
        .map(|(_, v)| v.as_str())?;
    let cleaned = ldflags.replace("\\\"", " ").replace(['"', '\''], " ");
    let mut words = cleaned.split_whitespace();
    while let Some(word) = words.next() {
        let assignment = if word == "-X" {
            words.next()?
        } else {
            word.strip_prefix("-X=").unwrap_or("")
        };
        let Some((symbol, value)) = assignment.split_once('=') else {
            continue;
        };
        let variable = symbol
            .rsplit('.')
            .next()
            .unwrap_or(symbol)
            .to_ascii_lowercase();
        let looks_like_version = value
            .trim_start_matches('v')
            .starts_with(|c: char| c.is_ascii_digit());
        if (variable == "version" || variable == "gitversion" || variable == "buildversion")
            && looks_like_version
        {
            return Some(if value.starts_with('v') {
                value.to_string()
            } else {
                format!("v{value}")
            });
        }
    }
    None
}

/// The main module when the binary was built outside module mode (no `mod` line): its import path
/// without the `/cmd/NAME` of the command, at the ldflags version or `(devel)`.
fn inferred_main(info: &BuildInfo) -> Option<Module> {
    let path = info.path.as_deref()?;
    if !path.contains('.') {
        return None; // `cmd/go` and other standard-library commands
    }
    let module_path = match path.find("/cmd/") {
        Some(i) => &path[..i],
        None => path,
    };
    let version = ldflags_version(&info.settings).unwrap_or_else(|| "(devel)".into());
    Some(module(module_path, &version))
}

fn module(path: &str, version: &str) -> Module {
    Module {
        path: path.to_string(),
        version: version.to_string(),
    }
}

/// A uvarint-length-prefixed byte string, advancing `rest`.
fn read_bytes<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let mut len: u64 = 0;
    let mut shift = 0;
    loop {
        let (&byte, tail) = rest.split_first()?;
        *rest = tail;
        len |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    let len = usize::try_from(len).ok()?;
    if len > rest.len() {
        return None;
    }
    let (text, tail) = rest.split_at(len);
    *rest = tail;
    Some(text)
}

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: &[],
    probes: &[|| std::sync::Arc::new(BuildInfoProbe)],
    catalog: |input| catalog(input.files),
};

/// Lists the modules of every Go binary the probe found.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for (entry, snippet) in files.findings(PROBE) {
        match parse_buildinfo(snippet) {
            Ok(info) => add_binary(&info, entry, &mut output),
            Err(e) => output.warnings.push(format!("/{}: {e}", entry.entry.path)),
        }
    }
    output
}

fn add_binary(info: &BuildInfo, entry: &IndexedEntry, output: &mut CatalogOutput) {
    let evidence = entry.evidence();
    let mut push =
        |name: &str, version: &str, purl_version: &str, extra: Vec<(PropertyName, String)>| {
            let cpe = (name == "stdlib").then(|| crate::package::cpe("golang", "go", purl_version));
            let (namespace, short) = match name.rsplit_once('/') {
                Some((ns, n)) => (Some(ns), n),
                None => (None, name),
            };
            let purl = build_purl("golang", namespace, short, purl_version, &[]).ok()?;
            let mut properties = vec![("vouch:go:toolchain".into(), info.go_version.clone())];
            properties.extend(extra);
            output.packages.push(Package {
                name: name.to_string(),
                version: version.to_string(),
                purl_type: "golang",
                purl,
                licenses: Vec::new(),
                cpe,
                evidence: evidence.clone(),
                cataloger: NAME,
                properties,
            });
            Some(output.packages.len() - 1)
        };
    let main_index = info.main.as_ref().and_then(|m| {
        let mut extra = Vec::new();
        if let Some(p) = &info.path {
            extra.push(("vouch:go:mainPackage".into(), p.clone()));
        }
        for (k, v) in &info.settings {
            if matches!(
                k.as_str(),
                "GOOS" | "GOARCH" | "vcs.revision" | "CGO_ENABLED"
            ) {
                extra.push((format!("vouch:go:build:{k}").into(), v.clone()));
            }
        }
        push(&m.path, &m.version, &m.version, extra)
    });
    let stdlib_version = info.go_version.trim_start_matches("go");
    let stdlib = push("stdlib", &info.go_version, stdlib_version, Vec::new());
    let deps: Vec<usize> = info
        .deps
        .iter()
        .filter_map(|d| push(&d.path, &d.version, &d.version, Vec::new()))
        .collect();
    if let Some(main) = main_index {
        for to in stdlib.into_iter().chain(deps) {
            output.dependencies.push((main, to));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snippet(go: &str, mod_text: &str) -> Vec<u8> {
        let mut s = MAGIC.to_vec();
        s.push(8);
        s.push(2);
        s.resize(32, 0);
        for text in [go.as_bytes().to_vec(), {
            // Go's own sentinels (cmd/go/internal/modload), which are not valid UTF-8.
            let start = b"\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6";
            let end = b"\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2";
            let mut framed = start.to_vec();
            framed.extend_from_slice(mod_text.as_bytes());
            framed.extend_from_slice(end);
            framed
        }] {
            let mut len = text.len();
            loop {
                let byte = (len & 0x7f) as u8;
                len >>= 7;
                if len == 0 {
                    s.push(byte);
                    break;
                }
                s.push(byte | 0x80);
            }
            s.extend_from_slice(&text);
        }
        s
    }

    const MOD: &str = "path\texample.com/app/cmd/app\nmod\texample.com/app\t(devel)\t\n\
                       dep\tgithub.com/pkg/errors\tv0.9.1\th1:abc\n\
                       dep\tgolang.org/x/sys\tv0.1.0\th1:def\n=>\tgolang.org/x/sys\tv0.2.0\th1:ghi\n\
                       dep\texample.com/lib\tv0.3.0\n=>\t./lib\t(devel)\t\n\
                       build\tGOOS=linux\nbuild\tGOARCH=amd64\n";

    #[test]
    fn parses_inline_buildinfo_with_replacements() {
        let info = parse_buildinfo(&snippet("go1.22.1", MOD)).unwrap();
        assert_eq!(info.go_version, "go1.22.1");
        assert_eq!(
            info.path.as_deref(),
            Some("example.com/app/cmd/app"),
            "the first line survives the sentinel"
        );
        assert_eq!(info.main, Some(module("example.com/app", "(devel)")));
        assert_eq!(
            info.deps,
            [
                module("github.com/pkg/errors", "v0.9.1"),
                module("golang.org/x/sys", "v0.2.0"),
                module("example.com/lib", "(devel)"),
            ]
        );
        assert!(info.settings.contains(&("GOARCH".into(), "amd64".into())));
    }

    #[test]
    fn probe_finds_the_header_across_chunks_and_skips_lookalikes() {
        let mut file = b"\x7fELF".to_vec();
        file.resize(70_000, 7);
        // A string literal of the magic followed by junk, as in binaries that embed debug/buildinfo.
        file.extend_from_slice(MAGIC);
        file.extend_from_slice(&[0x55, 0x99]);
        file.resize(130_000, 7);
        file.extend_from_slice(&snippet("go1.21.0", MOD));
        file.resize(200_000, 9);
        let probes = crate::layers::Probes(vec![std::sync::Arc::new(BuildInfoProbe)]);
        for chunk_split in [1000usize, 130_005, 130_010] {
            // Feed in two reads split at different places to cross chunk boundaries.
            let (a, b) = file.split_at(chunk_split);
            let mut reader = std::io::Read::chain(a, b);
            let findings = probes
                .scan("bin/app", file.len() as u64, &mut reader)
                .unwrap();
            assert_eq!(findings.len(), 1);
            let info = parse_buildinfo(&findings[0].bytes).unwrap();
            assert_eq!(info.go_version, "go1.21.0");
        }
    }

    #[test]
    fn main_module_of_gopath_builds_from_path_and_ldflags() {
        let text = "path\tgithub.com/docker/cli/cmd/docker\nbuild\t-buildmode=pie\nbuild\t-ldflags=\" -X \\\"github.com/docker/cli/cli/version.GitCommit=e6534b4\\\" -X \\\"github.com/docker/cli/cli/version.Version=28.2.2\\\" -extldflags -static\"\n";
        let info = parse_buildinfo(&snippet("go1.24.3", text)).unwrap();
        assert_eq!(info.main, Some(module("github.com/docker/cli", "v28.2.2")));
        let info = parse_buildinfo(&snippet(
            "go1.19.8",
            "path\tgithub.com/containers/skopeo/cmd/skopeo\n",
        ))
        .unwrap();
        assert_eq!(
            info.main,
            Some(module("github.com/containers/skopeo", "(devel)"))
        );
        let info = parse_buildinfo(&snippet("go1.19.8", "path\tcmd/go\n")).unwrap();
        assert_eq!(info.main, None, "standard-library commands have no module");
    }

    #[test]
    fn damaged_and_old_formats_are_errors() {
        let good = snippet("go1.22.1", MOD);
        assert_eq!(parse_buildinfo(&good[..40]), Err(BuildInfoError::Damaged));
        let mut old = good.clone();
        old[15] = 0;
        assert_eq!(parse_buildinfo(&old), Err(BuildInfoError::OldFormat));
    }
}
