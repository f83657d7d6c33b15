//! The trusted root keyless verification (`verify-blob`, and the keyless signers of `verify`,
//! `serve`, `authz`) uses when none is named: what `docker vouch trust update` last fetched through
//! TUF (the Sigstore public-good repository with the TUF root embedded in vouch, or
//! a private instance's repository bootstrapped from its `root.json`), else the public-good root
//! embedded in vouch. The TUF client is the sigstore project's (`sigstore-tuf`): root rotation
//! (each new root signed by the keys of the one before), expiry, rollback and hash pinning of every
//! role and target. Its metadata cache is kept beside the root, so a rotated root carries over to
//! the next update.
//!
//! Directory: `$VOUCH_TRUST_DIR`, else `$XDG_CACHE_HOME/vouch/trust`, else `~/.cache/vouch/trust`:
//! `trusted_root.json`, `source.json` (the repository and when), `tuf-root.json` (a private
//! repository's bootstrap root, as given the first time) and `tuf/` (the TUF metadata cache).

use super::BundleError;
use sigstore_verify::trust_root::{TrustedRoot, TufBootstrap, TufConfig};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The public-good TUF repository.
pub const PUBLIC_GOOD_TUF_URL: &str = "https://tuf-repo-cdn.sigstore.dev";

/// The largest bootstrap root read.
const MAX_ROOT_BYTES: u64 = 1024 * 1024;

/// Where the trust material lives, from the environment.
pub fn default_dir(env: &HashMap<String, String>) -> PathBuf {
    crate::fsio::cache_dir(env, "VOUCH_TRUST_DIR", "trust")
}

/// The root `dir` holds from the last update, if any.
pub fn updated_root(dir: &Path) -> Option<PathBuf> {
    let path = dir.join("trusted_root.json");
    path.is_file().then_some(path)
}

/// What an update fetched.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Source {
    pub url: String,
    /// RFC 3339.
    pub updated: String,
    pub certificate_authorities: usize,
    pub transparency_logs: usize,
    pub ct_logs: usize,
    pub timestamp_authorities: usize,
}

/// Fetches the trusted root from the TUF repository at `url` (the public-good one when `None`),
/// trusting `bootstrap` (a `root.json`) the first time a private repository is updated from,
/// and stores it in `dir`. The stored roots change only when every check passed.
pub fn update(
    dir: &Path,
    url: Option<&str>,
    bootstrap: Option<&Path>,
) -> Result<Source, BundleError> {
    let cache = dir.join("tuf");
    // A new bootstrap starts a new chain of roots: its metadata goes to a cache of its own, which
    // replaces the old one only once the update has passed.
    let staging = dir.join("tuf.new");
    let (config, new_root) = match url {
        None => (TufConfig::production(), None),
        Some(url) => {
            let saved = dir.join("tuf-root.json");
            let root = match bootstrap {
                Some(path) => read_root(path)?,
                None if same_source(dir, url) && saved.is_file() => read_root(&saved)?,
                None => {
                    return Err(BundleError::Unreadable(format!(
                        "{url}: the first update from a repository needs its root (--tuf-root root.json)"
                    )))
                }
            };
            let config = TufConfig::custom(url, TufBootstrap::trusted(&root));
            (config, bootstrap.is_some().then_some(root))
        }
    };
    let url = url.unwrap_or(PUBLIC_GOOD_TUF_URL).to_string();
    let used = if new_root.is_some() { &staging } else { &cache };
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(used).map_err(|e| unwritable(used, e))?;
    let config = config
        .with_cache_dir(used.clone())
        .with_http_client(http_client()?);
    let fetched = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| BundleError::Unreadable(format!("a runtime: {e}")))
        .and_then(|runtime| {
            runtime
                .block_on(TrustedRoot::from_tuf(config))
                .map_err(|e| BundleError::failed("TUF", format!("{url}: {e}")))
        });
    let root = match fetched {
        Ok(root) => root,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let json = serde_json::to_vec_pretty(&root)
        .map_err(|e| BundleError::Unreadable(format!("the trusted root: {e}")))?;
    let source = Source {
        url,
        updated: crate::clock::stamp(),
        certificate_authorities: root.certificate_authorities.len(),
        transparency_logs: root.tlogs.len(),
        ct_logs: root.ctlogs.len(),
        timestamp_authorities: root.timestamp_authorities.len(),
    };
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        crate::fsio::write_atomically(&path, bytes)
            .map_err(|e| BundleError::Unreadable(format!("{}: {e}", path.display())))
    };
    if let Some(root) = new_root {
        let _ = std::fs::remove_dir_all(&cache);
        std::fs::rename(&staging, &cache).map_err(|e| unwritable(&cache, e))?;
        write("tuf-root.json", &root)?;
    }
    write("trusted_root.json", &json)?;
    write(
        "source.json",
        &serde_json::to_vec_pretty(&source).unwrap_or_default(),
    )?;
    Ok(source)
}

fn unwritable(path: &Path, error: std::io::Error) -> BundleError {
    BundleError::Unreadable(format!("{}: {error}", path.display()))
}

fn read_root(path: &Path) -> Result<Vec<u8>, BundleError> {
    crate::fsio::read_limited(path, MAX_ROOT_BYTES)
        .map_err(|e| BundleError::Unreadable(format!("{} (TUF root): {e}", path.display())))
}

/// Whether `dir`'s last update came from `url`.
fn same_source(dir: &Path, url: &str) -> bool {
    std::fs::read(dir.join("source.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Source>(&b).ok())
        .is_some_and(|s| s.url.trim_end_matches('/') == url.trim_end_matches('/'))
}

/// A client with timeouts (a mirror that stalls cannot hang the update) that follows redirects on
/// the same host only.
pub(crate) fn http_client() -> Result<reqwest::Client, BundleError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .timeout(Duration::from_secs(300))
        .user_agent(concat!("docker-vouch/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let host = attempt
                .previous()
                .first()
                .and_then(|u| u.host_str().map(str::to_string));
            if attempt.previous().len() > 5 {
                attempt.error("more than 5 redirects")
            } else if attempt.url().host_str().map(str::to_string) != host {
                attempt.error("a redirect to another host, which was not named")
            } else {
                attempt.follow()
            }
        }))
        .build()
        .map_err(|e| BundleError::Unreadable(format!("an HTTP client: {e}")))
}
