//! The webhook's TLS identity, reloaded when its files change: cert-manager (or anyone) renewing
//! the Secret mounted as `--tls-cert`/`--tls-key` is picked up at the next handshake, with no
//! restart. The files are looked at (modification time and size) at most once a second; a pair
//! that does not load (a rotation caught half-written, a key that does not match) keeps the
//! identity in use, with one warning per change seen.

use super::ServeError;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

const CHECK_EVERY: Duration = Duration::from_secs(1);

/// What the two files looked like when last loaded (or last refused).
type Stamp = [Option<(SystemTime, u64)>; 2];

fn stamp(cert: &Path, key: &Path) -> Stamp {
    let of = |path: &Path| {
        std::fs::metadata(path)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())))
    };
    [of(cert), of(key)]
}

/// Loads the certificate chain and private key, checking that they belong together.
pub fn load_identity(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, ServeError> {
    let tls_error = |path: &Path, detail: String| ServeError::Tls {
        path: path.display().to_string(),
        detail,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect())
        .map_err(|e| tls_error(cert, format!("not a PEM certificate chain ({e})")))?;
    if certs.is_empty() {
        return Err(tls_error(cert, "holds no PEM certificate".into()));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| tls_error(key, format!("not a PEM private key ({e})")))?;
    CertifiedKey::from_der(certs, private, provider).map_err(|e| {
        tls_error(
            key,
            format!("does not go with the certificate {} ({e})", cert.display()),
        )
    })
}

struct State {
    identity: Arc<CertifiedKey>,
    stamp: Stamp,
    checked: Instant,
}

/// A [`ResolvesServerCert`] that serves the files' current identity.
pub struct ReloadingIdentity {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    state: Mutex<State>,
}

impl std::fmt::Debug for ReloadingIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadingIdentity")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish()
    }
}

impl ReloadingIdentity {
    /// Loads the identity now (an error here stops the server from starting).
    pub fn new(cert: &Path, key: &Path, provider: Arc<CryptoProvider>) -> Result<Self, ServeError> {
        let stamp = stamp(cert, key);
        let identity = Arc::new(load_identity(cert, key, &provider)?);
        Ok(ReloadingIdentity {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            provider,
            state: Mutex::new(State {
                identity,
                stamp,
                checked: Instant::now(),
            }),
        })
    }

    fn current(&self) -> Option<Arc<CertifiedKey>> {
        let mut state = self.state.lock().ok()?;
        if state.checked.elapsed() >= CHECK_EVERY {
            state.checked = Instant::now();
            let now = stamp(&self.cert, &self.key);
            if now != state.stamp {
                state.stamp = now;
                match load_identity(&self.cert, &self.key, &self.provider) {
                    Ok(identity) => {
                        state.identity = Arc::new(identity);
                        eprintln!(
                            "vouch serve: reloaded the TLS certificate from {}",
                            self.cert.display()
                        );
                    }
                    Err(e) => eprintln!(
                        "vouch serve: warning: the TLS files changed but cannot be loaded ({e}); still serving the previous certificate"
                    ),
                }
            }
        }
        Some(state.identity.clone())
    }
}

impl ResolvesServerCert for ReloadingIdentity {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current()
    }
}
