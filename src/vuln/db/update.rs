//! `docker vouch db update`: each ecosystem's osv.dev `all.zip` fetched from the source (osv.dev's
//! public bucket, or a mirror with its layout, `<ecosystem>/all.zip`, over HTTP(S) or as a
//! directory) into the local [`Store`]. Every fetch is conditional (the ETag and Last-Modified the
//! manifest kept; a directory's file by its digest), capped in size before and while it is read,
//! written beside the old zip, and checked whole before it replaces it: a readable zip whose every
//! entry inflates (CRC checked), within the record cap, and is an OSV record of that ecosystem not
//! modified in the future. A failed ecosystem leaves its previous zip and manifest entry as they were.
//!
//! Redirects are followed only within the source's own host (never from HTTPS to HTTP): a lookup
//! never reaches a host the user did not name.

use super::store::{Fetched, Store, StoreError};
use super::Shallow;
use crate::oci::digest::finished;
use crate::vuln::feeds::Feed;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// osv.dev's public bucket.
pub const DEFAULT_SOURCE: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// The ecosystems fetched when none are named: the OS distributions and language ecosystems vouch
/// catalogs, as osv.dev names them.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "Debian",
    "Ubuntu",
    "Alpine",
    "Red Hat",
    "PyPI",
    "npm",
    "Go",
    "Maven",
    "crates.io",
    "RubyGems",
    "Packagist",
    "NuGet",
];

/// Largest zip fetched, unless told (osv.dev's largest, Debian's, is a few hundred MB).
pub const DEFAULT_MAX_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// How far in the future a record's `modified` time may be (clock skew), in seconds.
const FUTURE_SLACK_SECONDS: i64 = 86_400;

/// Where the zips come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Http(reqwest::Url),
    Dir(PathBuf),
}

impl Source {
    /// `http(s)://…` is a URL; anything else a directory that must exist.
    pub fn parse(text: &str) -> Result<Source, String> {
        if text.starts_with("http://") || text.starts_with("https://") {
            let mut url = reqwest::Url::parse(text).map_err(|e| format!("{text}: {e}"))?;
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            return Ok(Source::Http(url));
        }
        let path = PathBuf::from(text);
        if !path.is_dir() {
            return Err(format!(
                "{text}: not a directory (a mirror is http(s)://… or a directory of <ecosystem>/all.zip)"
            ));
        }
        Ok(Source::Dir(path))
    }

    /// Where a feed is at the source (a mirror keeps it beside the ecosystems).
    pub fn feed_location(&self, feed: Feed) -> Result<String, String> {
        match self {
            Source::Http(base) => base
                .join(feed.mirror_path())
                .map(|u| u.to_string())
                .map_err(|e| format!("{}: {e}", feed.name())),
            Source::Dir(dir) => Ok(dir.join(feed.mirror_path()).display().to_string()),
        }
    }

    /// Where an ecosystem's zip is at the source.
    pub fn location(&self, ecosystem: &str) -> Result<String, String> {
        match self {
            Source::Http(base) => base
                .join(&format!("{}/all.zip", encode_segment(ecosystem)))
                .map(|u| u.to_string())
                .map_err(|e| format!("{ecosystem}: {e}")),
            Source::Dir(dir) => Ok(dir.join(ecosystem).join("all.zip").display().to_string()),
        }
    }
}

/// Largest list of ecosystems read (osv.dev's lists a few hundred names).
const MAX_LIST_BYTES: u64 = 1024 * 1024;

/// The ecosystems `source` lists in `ecosystems.txt` at its root, as osv.dev publishes it (one
/// name per line); `None` when it has no such list (a mirror need not carry it).
pub fn listed_ecosystems(source: &Source) -> Result<Option<Vec<String>>, String> {
    let text = match source {
        Source::Http(base) => {
            let url = base
                .join("ecosystems.txt")
                .map_err(|e| format!("ecosystems.txt: {e}"))?;
            match http_client(base)?.text(url.as_str(), MAX_LIST_BYTES)? {
                Some(text) => text,
                None => return Ok(None),
            }
        }
        Source::Dir(dir) => {
            let path = dir.join("ecosystems.txt");
            if !path.is_file() {
                return Ok(None);
            }
            let bytes = crate::fsio::read_limited(&path, MAX_LIST_BYTES)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            String::from_utf8(bytes)
                .map_err(|_| format!("{}: not text: not a list of ecosystems", path.display()))?
        }
    };
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if names
        .iter()
        .any(|n| !valid_ecosystem(n) || n.starts_with('<'))
    {
        return Err("ecosystems.txt is not a list of ecosystem names, one per line".into());
    }
    Ok(Some(names))
}

/// Why `name` is not an ecosystem of `listed`, with the listed name it may mean (`pypi` → `PyPI`).
pub fn unlisted(name: &str, listed: &[String]) -> Option<String> {
    if listed.iter().any(|l| l == name) {
        return None;
    }
    let hint = listed
        .iter()
        .find(|l| l.eq_ignore_ascii_case(name))
        .map(|l| format!(" (did you mean {l}?)"))
        .unwrap_or_default();
    Some(format!(
        "{name:?} is not among the ecosystems the source lists in ecosystems.txt{hint}"
    ))
}

/// Percent-encodes a path segment (`Red Hat` → `Red%20Hat`).
fn encode_segment(segment: &str) -> String {
    let mut out = String::new();
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// An ecosystem name as a directory name: no separators, no `..`.
fn valid_ecosystem(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && !name.chars().any(char::is_control)
}

/// What an update fetches: an ecosystem's OSV zip, or an exploitation feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Ecosystem(String),
    Feed(Feed),
}

impl Item {
    /// Its name in the manifest and in messages (`PyPI`, `kev`).
    pub fn name(&self) -> &str {
        match self {
            Item::Ecosystem(name) => name,
            Item::Feed(feed) => feed.name(),
        }
    }
}

/// How one item's update went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// New bytes, checked and in place.
    Fetched { bytes: u64, records: u64 },
    /// The source said (or showed) that the file kept is current.
    Unchanged,
}

/// One item's result.
#[derive(Debug)]
pub struct Updated {
    pub name: String,
    pub location: String,
    pub outcome: Result<Outcome, String>,
}

/// What an update may fetch.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: u64,
}

/// Where each item comes from: ecosystems (and feeds, when `feeds_upstream` is false) from
/// `source`; feeds from their publishers when `feeds_upstream` is true (osv.dev does not carry them).
#[derive(Debug, Clone)]
pub struct Origin {
    pub source: Source,
    pub feeds_upstream: bool,
}

impl Origin {
    fn locate(&self, item: &Item) -> Result<(Source, String), String> {
        match item {
            Item::Ecosystem(name) => Ok((self.source.clone(), self.source.location(name)?)),
            Item::Feed(feed) if self.feeds_upstream => {
                let source = Source::parse(feed.upstream())?;
                Ok((source, feed.upstream().to_string()))
            }
            Item::Feed(feed) => Ok((self.source.clone(), self.source.feed_location(*feed)?)),
        }
    }
}

/// Updates `items` from `origin` into `store`; the manifest is rewritten after each item that
/// changed. An item that fails keeps what it had; the others go on.
pub fn update(
    store: &Store,
    origin: &Origin,
    items: &[Item],
    limits: Limits,
    progress: &mut dyn FnMut(&Updated),
) -> Result<Vec<Updated>, StoreError> {
    let mut manifest = store.manifest()?;
    let mut results = Vec::new();
    for item in items {
        let name = item.name().to_string();
        let target = match item {
            Item::Ecosystem(name) => store.zip_path(name),
            Item::Feed(feed) => store.feed_path(*feed),
        };
        let entries = match item {
            Item::Ecosystem(_) => &mut manifest.ecosystems,
            Item::Feed(_) => &mut manifest.feeds,
        };
        let kept = entries.get(&name).filter(|_| target.is_file()).cloned();
        let (location, outcome) = match origin.locate(item) {
            Ok(_) if matches!(item, Item::Ecosystem(name) if !valid_ecosystem(name)) => (
                String::new(),
                Err(format!("{name:?} is not an ecosystem name")),
            ),
            Ok((source, location)) => {
                let now = time::OffsetDateTime::now_utc();
                let check = |path: &Path| match item {
                    Item::Ecosystem(name) => check_zip(path, name, now),
                    Item::Feed(feed) => feed.check(path, now),
                };
                let outcome = refresh(&source, &location, &target, kept.as_ref(), limits, &check);
                (location, outcome)
            }
            Err(e) => (String::new(), Err(e)),
        };
        match &outcome {
            Ok((Outcome::Unchanged, _)) => {
                if let Some(entry) = entries.get_mut(&name) {
                    entry.checked = crate::clock::stamp();
                    store.write_manifest(&manifest)?;
                }
            }
            Ok((Outcome::Fetched { .. }, Some(fetched))) => {
                entries.insert(name.clone(), fetched.clone());
                store.write_manifest(&manifest)?;
            }
            _ => {}
        }
        let updated = Updated {
            name,
            location,
            outcome: outcome.map(|(o, _)| o),
        };
        progress(&updated);
        results.push(updated);
    }
    Ok(results)
}

/// One file: fetched into a partial file beside the kept one, checked whole by `check` (which
/// counts its records), renamed over it.
fn refresh(
    source: &Source,
    location: &str,
    target: &Path,
    kept: Option<&Fetched>,
    limits: Limits,
    check: &dyn Fn(&Path) -> Result<u64, String>,
) -> Result<(Outcome, Option<Fetched>), String> {
    let dir = target
        .parent()
        .ok_or_else(|| format!("{}: no parent directory", target.display()))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = dir.join(format!(".{file_name}.partial"));
    let result = (|| {
        let written = match source {
            Source::Http(base) => {
                match http_client(base)?.fetch(location, kept, &partial, limits)? {
                    Some(written) => written,
                    None => return Ok((Outcome::Unchanged, None)),
                }
            }
            Source::Dir(_) => copy_file(Path::new(location), &partial, limits)?,
        };
        if kept.is_some_and(|k| k.digest == written.digest) {
            return Ok((Outcome::Unchanged, None));
        }
        let records = check(&partial)
            .map_err(|e| format!("{location}: {e}; the database kept what it had"))?;
        std::fs::rename(&partial, target).map_err(|e| format!("{}: {e}", target.display()))?;
        let now = crate::clock::stamp();
        Ok((
            Outcome::Fetched {
                bytes: written.bytes,
                records,
            },
            Some(Fetched {
                from: location.to_string(),
                fetched: now.clone(),
                checked: now,
                etag: written.etag,
                last_modified: written.last_modified,
                digest: written.digest,
                bytes: written.bytes,
                records,
            }),
        ))
    })();
    let _ = std::fs::remove_file(&partial);
    result
}

/// What was written to the partial file.
struct Written {
    digest: String,
    bytes: u64,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// Copies `from` into `to` (a mirror directory's zip), capped, hashing as it goes.
fn copy_file(from: &Path, to: &Path, limits: Limits) -> Result<Written, String> {
    let shown = from.display().to_string();
    let file = std::fs::File::open(from).map_err(|e| format!("{shown}: {e}"))?;
    let size = file.metadata().map_err(|e| format!("{shown}: {e}"))?.len();
    if size > limits.max_bytes {
        return Err(format!(
            "{shown}: {size} bytes, over the {}-byte limit (--max-size)",
            limits.max_bytes
        ));
    }
    let mut out = Capped::create(to, limits.max_bytes)?;
    std::io::copy(&mut file.take(limits.max_bytes + 1), &mut out)
        .map_err(|e| format!("{shown}: {e}"))?;
    out.finish(&shown, None, None)
}

/// A file written with a size cap and a running SHA-256.
struct Capped {
    file: std::fs::File,
    path: PathBuf,
    hasher: Sha256,
    written: u64,
    max: u64,
}

impl Capped {
    fn create(path: &Path, max: u64) -> Result<Capped, String> {
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Capped {
            file,
            path: path.to_path_buf(),
            hasher: Sha256::new(),
            written: 0,
            max,
        })
    }

    fn finish(
        mut self,
        what: &str,
        etag: Option<String>,
        last_modified: Option<String>,
    ) -> Result<Written, String> {
        self.file
            .flush()
            .and_then(|_| self.file.sync_all())
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        if self.written == 0 {
            return Err(format!("{what}: empty"));
        }
        Ok(Written {
            digest: finished(self.hasher),
            bytes: self.written,
            etag,
            last_modified,
        })
    }
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written + buf.len() as u64 > self.max {
            return Err(std::io::Error::other(format!(
                "over the {}-byte limit (--max-size)",
                self.max
            )));
        }
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// The HTTP side: a client and runtime for each file fetched, its redirects kept on its source's
/// host.
struct Http {
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

fn http_client(base: &reqwest::Url) -> Result<Http, String> {
    // The same TLS provider as the registry client (bollard already brings rustls with ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let host = base.host_str().unwrap_or_default().to_string();
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(120))
        .user_agent(concat!("docker-vouch/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            let same_host = attempt.url().host_str() == Some(host.as_str());
            let downgrade = attempt.url().scheme() == "http"
                && attempt.previous().iter().any(|u| u.scheme() == "https");
            if attempt.previous().len() > 5 {
                attempt.error("more than 5 redirects")
            } else if !same_host {
                let other = attempt.url().host_str().unwrap_or("?").to_string();
                attempt.error(format!(
                    "a redirect to another host ({other}), which was not named"
                ))
            } else if downgrade {
                attempt.error("a redirect from HTTPS to plain HTTP")
            } else {
                attempt.follow()
            }
        }))
        .build()
        .map_err(|e| error_chain(&e))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the async runtime: {e}"))?;
    Ok(Http { client, runtime })
}

/// A reqwest error with its causes (the useful part is often in the source).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

impl Http {
    /// GETs the text at `url`, at most `max` bytes; `None` on 404.
    fn text(&self, url: &str, max: u64) -> Result<Option<String>, String> {
        self.runtime.block_on(async {
            let mut response = self
                .client
                .get(url)
                .send()
                .await
                .map_err(|e| format!("{url}: {}", error_chain(&e)))?;
            let status = response.status();
            if status == reqwest::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(format!("{url}: HTTP {}", status.as_u16()));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| format!("{url}: {}", error_chain(&e)))?
            {
                body.extend_from_slice(&chunk);
                if body.len() as u64 > max {
                    return Err(format!("{url}: more than {max} bytes"));
                }
            }
            String::from_utf8(body)
                .map(Some)
                .map_err(|_| format!("{url}: not text"))
        })
    }

    /// GETs `url` into `to`, conditionally on what was `kept`; `None` on 304 Not Modified.
    fn fetch(
        &self,
        url: &str,
        kept: Option<&Fetched>,
        to: &Path,
        limits: Limits,
    ) -> Result<Option<Written>, String> {
        self.runtime.block_on(async {
            let mut request = self.client.get(url);
            if let Some(kept) = kept {
                if let Some(etag) = &kept.etag {
                    request = request.header(reqwest::header::IF_NONE_MATCH, etag);
                }
                if let Some(modified) = &kept.last_modified {
                    request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
                }
            }
            let mut response = request
                .send()
                .await
                .map_err(|e| format!("{url}: {}", error_chain(&e)))?;
            let status = response.status();
            if status == reqwest::StatusCode::NOT_MODIFIED && kept.is_some() {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(format!("{url}: HTTP {}", status.as_u16()));
            }
            let header = |name: reqwest::header::HeaderName| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| crate::text::excerpt(v, 200))
            };
            let etag = header(reqwest::header::ETAG);
            let last_modified = header(reqwest::header::LAST_MODIFIED);
            let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
            if content_type.starts_with("text/html") {
                return Err(format!(
                    "{url}: the server sent an HTML page ({content_type}), not a zip"
                ));
            }
            let length = response.content_length();
            if let Some(length) = length.filter(|l| *l > limits.max_bytes) {
                return Err(format!(
                    "{url}: {length} bytes, over the {}-byte limit (--max-size)",
                    limits.max_bytes
                ));
            }
            let mut out = Capped::create(to, limits.max_bytes)?;
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => out.write_all(&chunk).map_err(|e| format!("{url}: {e}"))?,
                    Ok(None) => break,
                    Err(e) => {
                        return Err(format!(
                            "{url}: truncated: the download stopped after {} bytes ({})",
                            out.written,
                            error_chain(&e)
                        ))
                    }
                }
            }
            if let Some(length) = length.filter(|l| *l != out.written) {
                return Err(format!(
                    "{url}: truncated: {} of {length} bytes",
                    out.written
                ));
            }
            out.finish(url, etag, last_modified).map(Some)
        })
    }
}

/// Checks a fetched zip whole: every entry inflates (CRC checked) within the record cap and is an
/// OSV record that names `ecosystem` (`Debian` covers `Debian:12`) and was not modified after
/// `now` (a day of clock skew allowed). Returns the number of records.
pub fn check_zip(path: &Path, ecosystem: &str, now: time::OffsetDateTime) -> Result<u64, String> {
    let records = super::entries::each(path, |name, bytes| {
        let name = crate::text::excerpt(name, 120);
        check_record(&name, bytes, ecosystem, now)
    })?;
    if records == 0 {
        return Err("no OSV records in it".to_string());
    }
    Ok(records)
}

/// One entry of a fetched zip: an OSV record of `ecosystem`, not modified after `now`.
fn check_record(
    name: &str,
    bytes: &[u8],
    ecosystem: &str,
    now: time::OffsetDateTime,
) -> Result<(), String> {
    let record: Shallow =
        serde_json::from_slice(bytes).map_err(|e| format!("{name}: not an OSV record ({e})"))?;
    let id = record
        .id
        .ok_or_else(|| format!("{name}: not an OSV record (no id)"))?;
    let id = crate::text::excerpt(&id, 80);
    let names_it = record.affected.iter().any(|a| {
        a.package.as_ref().is_some_and(|p| {
            p.ecosystem
                .split(':')
                .next()
                .is_some_and(|base| base == ecosystem)
        })
    });
    if !names_it {
        return Err(format!(
            "{id} ({name}) is not a record of {ecosystem}: the zip is of another ecosystem"
        ));
    }
    if let Some(modified) = &record.modified {
        let at =
            time::OffsetDateTime::parse(modified, &time::format_description::well_known::Rfc3339)
                .map_err(|e| format!("{id}: modified {modified:?} is not a time ({e})"))?;
        if (at - now).whole_seconds() > FUTURE_SLACK_SECONDS {
            return Err(format!(
                "{id}: modified {modified}, in the future: the source's clock or data is wrong"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_of(entries: &[(&str, &str)]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut writer = zip::ZipWriter::new(file.reopen().unwrap());
        for (name, body) in entries {
            writer
                .start_file(
                    *name,
                    zip::write::SimpleFileOptions::default()
                        .compression_method(zip::CompressionMethod::Deflated),
                )
                .unwrap();
            writer.write_all(body.as_bytes()).unwrap();
        }
        writer.finish().unwrap();
        file
    }

    fn now() -> time::OffsetDateTime {
        time::OffsetDateTime::parse(
            "2026-12-01T00:00:00Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    }

    const PYPI: &str = r#"{"id":"PYSEC-1","modified":"2026-11-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"x"}}]}"#;

    #[test]
    fn a_zip_is_checked_whole() {
        let good = zip_of(&[("PYSEC-1.json", PYPI)]);
        assert_eq!(check_zip(good.path(), "PyPI", now()), Ok(1));
        let err = check_zip(good.path(), "npm", now()).unwrap_err();
        assert!(err.contains("another ecosystem"), "{err}");

        let future = PYPI.replace("2026-11-01", "2027-01-01");
        let err = check_zip(zip_of(&[("a.json", &future)]).path(), "PyPI", now()).unwrap_err();
        assert!(err.contains("in the future"), "{err}");

        let err = check_zip(zip_of(&[("a.json", "<html>")]).path(), "PyPI", now()).unwrap_err();
        assert!(err.contains("not an OSV record"), "{err}");

        let html = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(html.path(), "<html><body>Not found</body></html>").unwrap();
        let err = check_zip(html.path(), "PyPI", now()).unwrap_err();
        assert!(err.contains("not a readable zip"), "{err}");

        let err = check_zip(zip_of(&[]).path(), "PyPI", now()).unwrap_err();
        assert!(err.contains("no OSV records"), "{err}");
    }

    #[test]
    fn a_damaged_entry_is_caught_by_its_crc() {
        let file = zip_of(&[("PYSEC-1.json", PYPI)]);
        let mut bytes = std::fs::read(file.path()).unwrap();
        // Flip a byte of the deflated data (after the 30-byte local header and the name).
        let at = 30 + "PYSEC-1.json".len() + 3;
        bytes[at] ^= 0xff;
        std::fs::write(file.path(), &bytes).unwrap();
        let err = check_zip(file.path(), "PyPI", now()).unwrap_err();
        assert!(
            err.contains("does not inflate") || err.contains("not an OSV record"),
            "{err}"
        );
    }

    #[test]
    fn sources_and_names() {
        let source = Source::parse("http://127.0.0.1:8080/osv").unwrap();
        assert_eq!(
            source.location("Red Hat").unwrap(),
            "http://127.0.0.1:8080/osv/Red%20Hat/all.zip"
        );
        assert!(Source::parse("/no/such/mirror").is_err());
        assert!(!valid_ecosystem("../etc"));
        let listed = vec!["PyPI".to_string(), "Debian".to_string()];
        assert_eq!(unlisted("PyPI", &listed), None);
        assert!(unlisted("pypi", &listed)
            .unwrap()
            .contains("did you mean PyPI?"));
        assert!(!unlisted("Hackage", &listed)
            .unwrap()
            .contains("did you mean"));
        assert!(!valid_ecosystem(".."));
        assert!(valid_ecosystem("crates.io"));
        assert!(valid_ecosystem("Red Hat"));
    }
}
