//! A blocking OCI distribution client for one repository, over `oci-client`: manifests and blobs
//! by digest or tag, with the credentials of [`super::auth`], plain HTTP only for loopback
//! registries (as the docker engine treats 127.0.0.0/8) and for `VOUCH_INSECURE_REGISTRIES`.
//! Every answer is size-limited and digest-checked before it is used.

use super::auth::Credentials;
use super::RegistryError;
use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{OciDescriptor, OciImageIndex};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use sha2::{Digest, Sha256};

/// Manifest media types accepted when fetching.
pub const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Largest manifest read (the distribution spec lets registries refuse more than 4 MiB).
const MANIFEST_LIMIT: usize = 4 * 1024 * 1024;

/// A manifest as fetched: its bytes, digest and media type.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub bytes: Vec<u8>,
    pub digest: String,
    pub media_type: String,
}

impl Manifest {
    /// A descriptor of this manifest (for a `subject` or an index entry).
    pub fn descriptor(&self) -> OciDescriptor {
        OciDescriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.bytes.len() as i64,
            ..Default::default()
        }
    }
}

/// A client bound to one repository (`registry/name`).
pub struct Repository {
    client: Client,
    auth: RegistryAuth,
    runtime: tokio::runtime::Runtime,
    registry: String,
    name: String,
    /// What it was made from, for [`Repository::fork`].
    reference: Reference,
    credentials: Credentials,
}

/// Whether `registry` may be spoken to over plain HTTP.
pub fn insecure(registry: &str, env: Option<&str>) -> bool {
    let host = registry
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map(|(host, _)| host)
        .unwrap_or(registry);
    let loopback = host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    loopback
        || env.is_some_and(|list| {
            list.split(',')
                .map(str::trim)
                .any(|entry| entry == registry || entry == host)
        })
}

/// An error with its causes (`error sending request: …: invalid peer certificate: UnknownIssuer`):
/// the top-level message of a request error alone rarely says what went wrong.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

fn is_not_found(error: &OciDistributionError) -> bool {
    match error {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown
                    | OciErrorCode::BlobUnknown
                    | OciErrorCode::NameUnknown
                    | OciErrorCode::NotFound
            )
        }),
        _ => false,
    }
}

impl Repository {
    /// A client for the repository of `reference` (e.g. `127.0.0.1:5000/team/app:1`).
    pub fn new(reference: &Reference, credentials: &Credentials) -> Result<Self, RegistryError> {
        // Bollard's TLS already brings rustls with ring; use it here too (no second provider).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let registry = reference.resolve_registry().to_string();
        let env = std::env::var("VOUCH_INSECURE_REGISTRIES").ok();
        let protocol = if insecure(reference.registry(), env.as_deref()) {
            ClientProtocol::HttpsExcept(vec![reference.registry().to_string(), registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let client = Client::new(ClientConfig {
            protocol,
            connect_timeout: Some(std::time::Duration::from_secs(10)),
            read_timeout: Some(std::time::Duration::from_secs(120)),
            ..Default::default()
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RegistryError::Io {
                what: "starting the async runtime".into(),
                detail: e.to_string(),
            })?;
        let auth = match credentials {
            Credentials::Anonymous => RegistryAuth::Anonymous,
            Credentials::Basic { username, password } => {
                RegistryAuth::Basic(username.clone(), password.clone())
            }
        };
        Ok(Repository {
            client,
            auth,
            runtime,
            registry,
            name: reference.repository().to_string(),
            reference: reference.clone(),
            credentials: credentials.clone(),
        })
    }

    /// Another client for the same repository, with its own connections and runtime, for another
    /// thread (connections belong to the runtime that opened them).
    pub fn fork(&self) -> Result<Repository, RegistryError> {
        Repository::new(&self.reference, &self.credentials)
    }

    /// `registry/name`, for messages.
    pub fn display(&self) -> String {
        format!("{}/{}", self.registry, self.name)
    }

    fn tagged(&self, tag: &str) -> Reference {
        Reference::with_tag(self.registry.clone(), self.name.clone(), tag.to_string())
    }

    fn by_digest(&self, digest: &str) -> Reference {
        Reference::with_digest(self.registry.clone(), self.name.clone(), digest.to_string())
    }

    fn failed(&self, what: String, error: OciDistributionError) -> RegistryError {
        let detail = match &error {
            OciDistributionError::UnauthorizedError { .. } => format!(
                "the registry refused the credentials (or asked for some): log in with `docker login {}`",
                self.registry
            ),
            OciDistributionError::AuthenticationFailure(reason) => {
                format!("authentication failed: {reason}")
            }
            OciDistributionError::RequestError(e) if e.is_connect() || e.is_timeout() => {
                let causes = error_chain(e);
                if causes.contains("certificate") {
                    format!(
                        "the registry's TLS certificate is not trusted ({causes}): add its CA to the system's certificates (or SSL_CERT_FILE)"
                    )
                } else {
                    format!("cannot reach the registry ({causes})")
                }
            }
            other => other.to_string(),
        };
        RegistryError::Request {
            what: format!("{what} ({})", self.display()),
            detail,
        }
    }

    fn authenticate(
        &self,
        reference: &Reference,
        operation: RegistryOperation,
    ) -> Result<(), RegistryError> {
        self.runtime
            .block_on(self.client.auth(reference, &self.auth, operation))
            .map(|_| ())
            .map_err(|e| self.failed("authenticating".into(), e))
    }

    /// The manifest a tag or digest names, or `None` when the registry has none.
    pub fn manifest(&self, tag_or_digest: &str) -> Result<Option<Manifest>, RegistryError> {
        let reference = if tag_or_digest.contains(':') {
            self.by_digest(tag_or_digest)
        } else {
            self.tagged(tag_or_digest)
        };
        self.authenticate(&reference, RegistryOperation::Pull)?;
        let fetched = self.runtime.block_on(self.client.pull_manifest_raw(
            &reference,
            &self.auth,
            MANIFEST_TYPES,
        ));
        let (bytes, digest) = match fetched {
            Ok(found) => found,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(self.failed(format!("fetching manifest {tag_or_digest}"), e)),
        };
        if bytes.len() > MANIFEST_LIMIT {
            return Err(RegistryError::Invalid {
                what: format!("manifest {tag_or_digest} of {}", self.display()),
                detail: format!("{} bytes, over the 4 MiB limit", bytes.len()),
            });
        }
        let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["mediaType"].as_str().map(str::to_string))
            .unwrap_or_else(|| MANIFEST_TYPES[0].to_string());
        Ok(Some(Manifest {
            bytes: bytes.to_vec(),
            digest,
            media_type,
        }))
    }

    /// Pushes `bytes` as a manifest of `media_type` under `tag_or_digest`; returns its digest.
    pub fn put_manifest(
        &self,
        tag_or_digest: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<String, RegistryError> {
        let digest = format!("sha256:{:x}", Sha256::digest(bytes));
        let reference = if tag_or_digest.contains(':') {
            self.by_digest(tag_or_digest)
        } else {
            self.tagged(tag_or_digest)
        };
        self.authenticate(&reference, RegistryOperation::Push)?;
        let content_type = media_type.parse().map_err(|_| RegistryError::Invalid {
            what: "manifest media type".into(),
            detail: media_type.to_string(),
        })?;
        self.runtime
            .block_on(
                self.client
                    .push_manifest_raw(&reference, bytes.to_vec(), content_type),
            )
            .map_err(|e| self.failed(format!("pushing manifest {tag_or_digest}"), e))?;
        Ok(digest)
    }

    /// Pushes a blob unless the registry has it; returns its descriptor.
    pub fn put_blob(&self, bytes: &[u8], media_type: &str) -> Result<OciDescriptor, RegistryError> {
        let digest = format!("sha256:{:x}", Sha256::digest(bytes));
        let reference = self.by_digest(&digest);
        self.authenticate(&reference, RegistryOperation::Push)?;
        let exists = self
            .runtime
            .block_on(self.client.blob_exists(&reference, &digest))
            .unwrap_or(false);
        if !exists {
            self.runtime
                .block_on(self.client.push_blob(&reference, bytes.to_vec(), &digest))
                .map_err(|e| self.failed(format!("pushing blob {digest}"), e))?;
        }
        Ok(OciDescriptor {
            media_type: media_type.to_string(),
            digest,
            size: bytes.len() as i64,
            ..Default::default()
        })
    }

    /// The blob a descriptor names, at most `limit` bytes, checked against its digest.
    pub fn blob(&self, descriptor: &OciDescriptor, limit: u64) -> Result<Vec<u8>, RegistryError> {
        let invalid = |detail: String| RegistryError::Invalid {
            what: format!("blob {} of {}", descriptor.digest, self.display()),
            detail,
        };
        if descriptor.size < 0 || descriptor.size as u64 > limit {
            return Err(invalid(format!(
                "declared size {} is over the {limit}-byte limit",
                descriptor.size
            )));
        }
        let Some(expected) = descriptor.digest.strip_prefix("sha256:") else {
            return Err(invalid("not a sha256 digest".into()));
        };
        let reference = self.by_digest(&descriptor.digest);
        self.authenticate(&reference, RegistryOperation::Pull)?;
        self.runtime.block_on(async {
            let mut stream = self
                .client
                .pull_blob_stream(&reference, descriptor)
                .await
                .map_err(|e| self.failed(format!("fetching blob {}", descriptor.digest), e))?;
            let mut bytes = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| RegistryError::Request {
                    what: format!("fetching blob {} of {}", descriptor.digest, self.display()),
                    detail: e.to_string(),
                })?;
                if (bytes.len() + chunk.len()) as u64 > descriptor.size as u64 {
                    return Err(invalid(format!(
                        "the registry sent more than the declared {} bytes",
                        descriptor.size
                    )));
                }
                bytes.extend_from_slice(&chunk);
            }
            let actual = format!("{:x}", Sha256::digest(&bytes));
            if actual != expected {
                return Err(invalid(format!(
                    "its content has digest sha256:{actual}: the registry's copy is corrupt or was tampered with"
                )));
            }
            Ok(bytes)
        })
    }

    /// A reader of the blob a descriptor names, streamed as the registry sends it (nothing is held
    /// whole or written to disk). It fails once the registry sends more than the declared size, or
    /// ends before it; the caller checks the digest of what it read.
    pub fn blob_reader(&self, descriptor: &OciDescriptor) -> Result<BlobReader<'_>, RegistryError> {
        let what = format!("blob {} of {}", descriptor.digest, self.display());
        if descriptor.size < 0 {
            return Err(RegistryError::Invalid {
                what,
                detail: format!("declared size {} is negative", descriptor.size),
            });
        }
        let reference = self.by_digest(&descriptor.digest);
        self.authenticate(&reference, RegistryOperation::Pull)?;
        let stream = self
            .runtime
            .block_on(self.client.pull_blob_stream(&reference, descriptor))
            .map_err(|e| self.failed(format!("fetching blob {}", descriptor.digest), e))?;
        Ok(BlobReader {
            runtime: &self.runtime,
            stream: stream.stream,
            chunk: bytes::Bytes::new(),
            remaining: descriptor.size as u64,
            declared: descriptor.size as u64,
            what,
            ended: false,
        })
    }

    /// The referrers of `digest` of `artifact_type`: from the referrers API, else the fallback tag.
    pub fn referrers(
        &self,
        digest: &str,
        artifact_type: &str,
    ) -> Result<OciImageIndex, RegistryError> {
        let reference = self.by_digest(digest);
        self.authenticate(&reference, RegistryOperation::Pull)?;
        self.runtime
            .block_on(self.client.pull_referrers(&reference, Some(artifact_type)))
            .map_err(|e| self.failed(format!("listing the referrers of {digest}"), e))
    }
}

/// A blob streamed from the registry, as [`std::io::Read`] (see [`Repository::blob_reader`]).
pub struct BlobReader<'a> {
    runtime: &'a tokio::runtime::Runtime,
    stream: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
    chunk: bytes::Bytes,
    remaining: u64,
    declared: u64,
    what: String,
    /// The stream has ended (it must not be polled again: its digest check would run twice).
    ended: bool,
}

impl std::io::Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.runtime.block_on(self.stream.next()) {
                Some(chunk) => {
                    let chunk = chunk.map_err(|e| {
                        std::io::Error::new(e.kind(), format!("{}: {e}", self.what))
                    })?;
                    if chunk.len() as u64 > self.remaining {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!(
                                "{}: the registry sent more than the declared {} bytes",
                                self.what, self.declared
                            ),
                        ));
                    }
                    self.remaining -= chunk.len() as u64;
                    self.chunk = chunk;
                }
                None if self.remaining > 0 => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!(
                            "{}: the registry sent {} of the declared {} bytes",
                            self.what,
                            self.declared - self.remaining,
                            self.declared
                        ),
                    ))
                }
                None => {
                    self.ended = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        bytes::Buf::advance(&mut self.chunk, n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback_and_listed_registries() {
        assert!(insecure("127.0.0.1:5000", None));
        assert!(insecure("localhost:5000", None));
        assert!(insecure("localhost", None));
        assert!(insecure("[::1]:5000", None));
        assert!(!insecure("registry.example:5000", None));
        assert!(!insecure("127.0.0.1.example.com", None));
        assert!(insecure(
            "registry.example:5000",
            Some("a.example, registry.example:5000")
        ));
        assert!(insecure("registry.example:5000", Some("registry.example")));
        assert!(!insecure("registry.example:5000", Some("other:5000")));
    }
}
