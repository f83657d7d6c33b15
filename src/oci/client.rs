//! A blocking OCI distribution client for one repository: manifests and blobs by digest or tag,
//! pushes, and referrers, with the credentials of [`super::auth`]. Plain HTTP only for loopback
//! registries (as the docker engine treats 127.0.0.0/8) and for `VOUCH_INSECURE_REGISTRIES`.
//!
//! The registry may be hostile, so every exchange is bounded and nothing it says is trusted blindly:
//! - every response body is read against a cap while it streams (manifests and indexes 4 MiB,
//!   referrers lists 1 MiB, token answers and error bodies 64 KiB; blobs their declared size, within
//!   the caller's limit), and checked against its digest;
//! - redirects are followed only for blob downloads (registries hand those to a storage service),
//!   at most 5, never from HTTPS to plain HTTP; every other answer is taken from the registry itself;
//! - a bearer token realm must be HTTPS (plain HTTP only when the registry itself may be spoken to
//!   over it), and may not point at a loopback, private or link-local address unless the registry
//!   is on one; the credentials go to it as the docker CLI sends them (basic, when there are some);
//! - error bodies are never echoed: at most the first code and message of a registry error
//!   document, cut short and with control characters escaped.
//!
//! Written over `reqwest` (already the HTTP stack here) instead of `oci-client`'s client, which
//! follows any realm, reads whole bodies before any check and copies error bodies into its errors;
//! `oci-client` is still used for references and manifest types.

use super::auth::Credentials;
use super::RegistryError;
use base64::Engine as _;
use bytes::Bytes;
use oci_client::manifest::{OciDescriptor, OciImageIndex};
use oci_client::Reference;
use reqwest::header::{
    HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode, Url};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub use super::media::MANIFEST_TYPES;

/// Largest manifest or index read (the distribution spec lets registries refuse more than 4 MiB).
pub const MANIFEST_LIMIT: u64 = 4 * 1024 * 1024;
/// Largest referrers list read.
pub const REFERRERS_LIMIT: u64 = 1024 * 1024;
/// Largest token answer, and the most of an error body looked at.
pub const SMALL_LIMIT: u64 = 64 * 1024;
/// Redirects followed for one blob download.
const BLOB_REDIRECTS: usize = 5;
/// How much of a registry's error message is quoted.
const QUOTED_CHARS: usize = 200;

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

/// What a request asks of the repository, for its token's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Access {
    Pull,
    Push,
}

impl Access {
    fn actions(self) -> &'static str {
        match self {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        }
    }
}

/// A client bound to one repository (`registry/name`).
pub struct Repository {
    /// For the registry's own answers: no redirects.
    api: reqwest::Client,
    /// For blob downloads: a few redirects, never down to plain HTTP.
    blobs: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    /// `https://host:port` (or `http://` for an insecure registry).
    base: String,
    plain_http: bool,
    registry: String,
    name: String,
    /// What it was made from, for [`Repository::fork`].
    reference: Reference,
    credentials: Credentials,
    /// The `Authorization` value that worked, per access.
    authorization: Mutex<HashMap<Access, HeaderValue>>,
}

/// Whether `registry` may be spoken to over plain HTTP.
pub fn insecure(registry: &str, env: Option<&str>) -> bool {
    let host = host_of(registry);
    is_loopback(host)
        || env.is_some_and(|list| {
            list.split(',')
                .map(str::trim)
                .any(|entry| entry == registry || entry == host)
        })
}

/// `host` of `host:port` (an IPv6 literal keeps its brackets).
fn host_of(registry: &str) -> &str {
    registry
        .rsplit_once(':')
        .filter(|(host, port)| {
            port.bytes().all(|b| b.is_ascii_digit())
                && (!host.starts_with('[') || host.ends_with(']'))
        })
        .map(|(host, _)| host)
        .unwrap_or(registry)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A host a token realm may not point to unless the registry is on such a host too: loopback,
/// private and link-local addresses (cloud metadata services live there), the unspecified address.
fn is_internal(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") || bare.ends_with(".localhost") {
        return true;
    }
    match bare.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified()
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_internal(&v4.to_string()))
        }
        Err(_) => false,
    }
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

/// A `WWW-Authenticate` challenge: its scheme and parameters.
#[derive(Debug, PartialEq, Eq)]
struct Challenge {
    scheme: String,
    params: HashMap<String, String>,
}

impl Challenge {
    fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        let mut params = HashMap::new();
        let mut chars = rest.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
                chars.next();
            }
            let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
            if key.is_empty() {
                break;
            }
            let mut value = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next()),
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                value = chars.by_ref().take_while(|c| *c != ',').collect();
            }
            params.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
        }
        Some(Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params,
        })
    }
}

/// `HTTP 404 (MANIFEST_UNKNOWN: manifest unknown)`: the status and, when the body is a registry
/// error document, its first error, escaped and cut short; nothing else of the body.
fn status_detail(status: StatusCode, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let first = serde_json::from_slice::<Errors>(body)
        .ok()
        .and_then(|e| e.errors.into_iter().next());
    match first {
        Some(error) => format!(
            "HTTP {} ({}: {})",
            status.as_u16(),
            crate::text::excerpt(&error.code, 40),
            crate::text::excerpt(&error.message, QUOTED_CHARS)
        ),
        None => format!("HTTP {}", status.as_u16()),
    }
}

impl Repository {
    /// A client for the repository of `reference` (e.g. `127.0.0.1:5000/team/app:1`).
    pub fn new(reference: &Reference, credentials: &Credentials) -> Result<Self, RegistryError> {
        // Bollard's TLS already brings rustls with ring; use it here too (no second provider).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let registry = reference.resolve_registry().to_string();
        let env = std::env::var("VOUCH_INSECURE_REGISTRIES").ok();
        let plain_http = insecure(reference.registry(), env.as_deref());
        let io_error = |e: reqwest::Error| RegistryError::Io {
            what: "starting the HTTP client".into(),
            detail: error_chain(&e),
        };
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(Duration::from_secs(120))
                .user_agent(concat!("docker-vouch/", env!("CARGO_PKG_VERSION")))
        };
        let api = builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(io_error)?;
        let blobs = builder()
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let downgrade = attempt.url().scheme() != "https"
                    && attempt.previous().iter().any(|u| u.scheme() == "https");
                if attempt.previous().len() > BLOB_REDIRECTS {
                    attempt.error(format!("more than {BLOB_REDIRECTS} redirects"))
                } else if downgrade {
                    attempt.error("a redirect from HTTPS to plain HTTP")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(io_error)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RegistryError::Io {
                what: "starting the async runtime".into(),
                detail: e.to_string(),
            })?;
        Ok(Repository {
            api,
            blobs,
            runtime,
            base: format!("{}://{registry}", if plain_http { "http" } else { "https" }),
            plain_http,
            registry,
            name: reference.repository().to_string(),
            reference: reference.clone(),
            credentials: credentials.clone(),
            authorization: Mutex::new(HashMap::new()),
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

    fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{path}", self.base, self.name)
    }

    /// The URL of the manifest `tag_or_digest` names, which must be a sha256 digest or a tag as
    /// the distribution spec writes one (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`). Digests come from
    /// indexes an attacker may write: anything else (`/`, `..`, `?`) would reach another path.
    fn manifest_url(&self, tag_or_digest: &str) -> Result<String, RegistryError> {
        let is_tag = |t: &str| {
            let mut bytes = t.bytes();
            t.len() <= 128
                && bytes
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        };
        if crate::oci::digest::sha256_hex(tag_or_digest).is_none() && !is_tag(tag_or_digest) {
            return Err(self.invalid(
                &format!("manifest {:?}", crate::text::excerpt(tag_or_digest, 80)),
                "neither a sha256 digest nor a tag: not requested".into(),
            ));
        }
        Ok(self.url(&format!("manifests/{tag_or_digest}")))
    }

    fn request_failed(&self, what: &str, error: reqwest::Error) -> RegistryError {
        let causes = error_chain(&error);
        let detail = if causes.contains("certificate") {
            format!(
                "the registry's TLS certificate is not trusted ({causes}): add its CA to the system's certificates (or SSL_CERT_FILE)"
            )
        } else if error.is_connect() || error.is_timeout() {
            format!("cannot reach the registry ({causes})")
        } else {
            causes
        };
        RegistryError::Request {
            what: format!("{what} ({})", self.display()),
            detail,
        }
    }

    fn invalid(&self, what: &str, detail: String) -> RegistryError {
        RegistryError::Invalid {
            what: format!("{what} of {}", self.display()),
            detail,
        }
    }

    /// Sends a request made by `build` (again, with credentials, when the registry asks for them).
    async fn send(
        &self,
        client: &reqwest::Client,
        what: &str,
        access: Access,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, RegistryError> {
        let known = self
            .authorization
            .lock()
            .ok()
            .and_then(|a| a.get(&access).cloned());
        let attempt = |authorization: Option<HeaderValue>| {
            let mut request = build(client);
            if let Some(value) = authorization {
                request = request.header(AUTHORIZATION, value);
            }
            request.send()
        };
        let response = attempt(known.clone())
            .await
            .map_err(|e| self.request_failed(what, e))?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|h| h.to_str().ok())
            .and_then(Challenge::parse);
        let authorization = match challenge {
            Some(challenge) if known.is_none() => self.authorize(&challenge, access).await?,
            _ => return Err(self.unauthorized(what)),
        };
        let response = attempt(Some(authorization.clone()))
            .await
            .map_err(|e| self.request_failed(what, e))?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(self.unauthorized(what));
        }
        if let Ok(mut known) = self.authorization.lock() {
            known.insert(access, authorization);
        }
        Ok(response)
    }

    fn unauthorized(&self, what: &str) -> RegistryError {
        RegistryError::Request {
            what: format!("{what} ({})", self.display()),
            detail: format!(
                "the registry refused the credentials (or asked for some): log in with `docker login {}`",
                self.registry
            ),
        }
    }

    fn basic(&self) -> Option<HeaderValue> {
        let Credentials::Basic { username, password } = &self.credentials else {
            return None;
        };
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        HeaderValue::from_str(&format!("Basic {encoded}")).ok()
    }

    /// The `Authorization` value a challenge asks for: the credentials themselves (basic), or a
    /// token from the realm (bearer), checked before anything is sent there.
    async fn authorize(
        &self,
        challenge: &Challenge,
        access: Access,
    ) -> Result<HeaderValue, RegistryError> {
        let what = "authenticating";
        match challenge.scheme.as_str() {
            "basic" => self.basic().ok_or_else(|| self.unauthorized(what)),
            "bearer" => {
                let realm = challenge
                    .params
                    .get("realm")
                    .map(String::as_str)
                    .unwrap_or("");
                let url = self.token_realm(realm)?;
                let scope = format!("repository:{}:{}", self.name, access.actions());
                let mut query = vec![("scope", scope)];
                if let Some(service) = challenge.params.get("service") {
                    query.push(("service", service.clone()));
                }
                let mut request = self.api.get(url.clone()).query(&query);
                if let Some(basic) = self.basic() {
                    request = request.header(AUTHORIZATION, basic);
                }
                let token_host = url.host_str().unwrap_or_default().to_string();
                let response = request.send().await.map_err(|e| {
                    self.request_failed(&format!("asking {token_host} for a token"), e)
                })?;
                let status = response.status();
                let body = self
                    .read_capped(
                        response,
                        SMALL_LIMIT,
                        &format!("the token from {token_host}"),
                    )
                    .await?;
                if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                    return Err(self.unauthorized(what));
                }
                if !status.is_success() {
                    return Err(RegistryError::Request {
                        what: format!("{what} ({})", self.display()),
                        detail: format!(
                            "the token service at {} answered {}",
                            crate::text::excerpt(&token_host, 100),
                            status_detail(status, &body)
                        ),
                    });
                }
                #[derive(serde::Deserialize)]
                struct TokenAnswer {
                    token: Option<String>,
                    access_token: Option<String>,
                }
                let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|_| {
                    self.invalid(
                        "the token answer",
                        format!("{token_host} did not answer with a token"),
                    )
                })?;
                let token = answer
                    .token
                    .or(answer.access_token)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| {
                        self.invalid("the token answer", format!("{token_host} gave no token"))
                    })?;
                HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                    self.invalid("the token answer", "the token is not a header value".into())
                })
            }
            _ => Err(self.unauthorized(what)),
        }
    }

    /// The token realm's URL, when it may be asked: HTTPS (plain HTTP only when the registry itself
    /// is spoken to over it), no credentials in it, and not an internal address unless the
    /// registry is on one.
    fn token_realm(&self, realm: &str) -> Result<Url, RegistryError> {
        let refused = |why: &str| {
            self.invalid(
                "the token realm",
                format!("{:?} {why}: not asked", crate::text::excerpt(realm, 120)),
            )
        };
        let url = Url::parse(realm).map_err(|_| refused("is not a URL"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.plain_http => {}
            _ => return Err(refused("is not HTTPS")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refused("carries credentials"));
        }
        let host = url.host_str().unwrap_or_default();
        if is_internal(host) && !is_internal(host_of(&self.registry)) {
            return Err(refused("points at an internal address"));
        }
        Ok(url)
    }

    /// The body of `response`, at most `limit` bytes (more is an error, found while it streams).
    async fn read_capped(
        &self,
        mut response: reqwest::Response,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(self.invalid(
                what,
                format!("the registry announces more than {limit} bytes"),
            ));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.request_failed(&format!("reading {what}"), e))?
        {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(
                    self.invalid(what, format!("the registry sent more than {limit} bytes"))
                );
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// GETs `url` (built further by `build`) and reads the answer, at most `limit` bytes, as
    /// (Content-Type without parameters, body); `None` when the registry answers 404.
    async fn get_capped(
        &self,
        what: &str,
        read_as: &str,
        limit: u64,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Option<(Option<String>, Vec<u8>)>, RegistryError> {
        let response = self.send(&self.api, what, Access::Pull, build).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.refused(what, response).await);
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
        let body = self.read_capped(response, limit, read_as).await?;
        Ok(Some((content_type, body)))
    }

    /// The error for an answer that is not a success: its status and a registry error's first
    /// line, nothing else of its body.
    async fn refused(&self, what: &str, response: reqwest::Response) -> RegistryError {
        let status = response.status();
        let body = self
            .read_capped(response, SMALL_LIMIT, what)
            .await
            .unwrap_or_default();
        RegistryError::Request {
            what: format!("{what} ({})", self.display()),
            detail: format!("the registry answered {}", status_detail(status, &body)),
        }
    }

    /// The manifest a tag or digest names, or `None` when the registry has none.
    pub fn manifest(&self, tag_or_digest: &str) -> Result<Option<Manifest>, RegistryError> {
        let url = self.manifest_url(tag_or_digest)?;
        let what = format!("fetching manifest {tag_or_digest}");
        self.runtime.block_on(async {
            let read_as = format!("manifest {tag_or_digest}");
            let Some((header_type, bytes)) = self
                .get_capped(&what, &read_as, MANIFEST_LIMIT, |client| {
                    client.get(&url).header(ACCEPT, MANIFEST_TYPES.join(", "))
                })
                .await?
            else {
                return Ok(None);
            };
            let what = read_as;
            let digest = crate::oci::digest::sha256_digest(&bytes);
            if tag_or_digest.contains(':') && digest != tag_or_digest {
                return Err(self.invalid(
                    &what,
                    format!("its content has digest {digest}: corrupt or tampered with"),
                ));
            }
            let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["mediaType"].as_str().map(str::to_string))
                .or(header_type.filter(|t| MANIFEST_TYPES.contains(&t.as_str())))
                .unwrap_or_else(|| MANIFEST_TYPES[0].to_string());
            Ok(Some(Manifest {
                bytes,
                digest,
                media_type,
            }))
        })
    }

    /// Pushes `bytes` as a manifest of `media_type` under `tag_or_digest`; returns its digest.
    pub fn put_manifest(
        &self,
        tag_or_digest: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<String, RegistryError> {
        let digest = crate::oci::digest::sha256_digest(bytes);
        let url = self.manifest_url(tag_or_digest)?;
        let what = format!("pushing manifest {tag_or_digest}");
        let body = Bytes::copy_from_slice(bytes);
        let content_type = HeaderValue::from_str(media_type)
            .map_err(|_| self.invalid("manifest media type", media_type.to_string()))?;
        self.runtime.block_on(async {
            let response = self
                .send(&self.api, &what, Access::Push, |client| {
                    client
                        .put(&url)
                        .header(CONTENT_TYPE, content_type.clone())
                        .body(body.clone())
                })
                .await?;
            if !response.status().is_success() {
                return Err(self.refused(&what, response).await);
            }
            Ok(digest)
        })
    }

    /// Pushes a blob unless the registry has it; returns its descriptor.
    pub fn put_blob(&self, bytes: &[u8], media_type: &str) -> Result<OciDescriptor, RegistryError> {
        let digest = crate::oci::digest::sha256_digest(bytes);
        let what = format!("pushing blob {digest}");
        let body = Bytes::copy_from_slice(bytes);
        self.runtime.block_on(async {
            let head = self.url(&format!("blobs/{digest}"));
            let exists = self
                .send(&self.api, &what, Access::Push, |client| client.head(&head))
                .await?;
            if !exists.status().is_success() {
                let start = self.url("blobs/uploads/");
                let started = self
                    .send(&self.api, &what, Access::Push, |client| client.post(&start))
                    .await?;
                if started.status() != StatusCode::ACCEPTED {
                    return Err(self.refused(&what, started).await);
                }
                let location = self.upload_location(&what, &started)?;
                let uploaded = self
                    .send(&self.api, &what, Access::Push, |client| {
                        client
                            .request(Method::PUT, location.clone())
                            .query(&[("digest", digest.as_str())])
                            .header(CONTENT_TYPE, "application/octet-stream")
                            .body(body.clone())
                    })
                    .await?;
                if !uploaded.status().is_success() {
                    return Err(self.refused(&what, uploaded).await);
                }
            }
            Ok(OciDescriptor {
                media_type: media_type.to_string(),
                digest: digest.clone(),
                size: bytes.len() as i64,
                ..Default::default()
            })
        })
    }

    /// Where an upload goes on: the `Location` of its start, which must be on the registry itself.
    fn upload_location(
        &self,
        what: &str,
        started: &reqwest::Response,
    ) -> Result<Url, RegistryError> {
        let base = Url::parse(&self.base)
            .map_err(|_| self.invalid(what, format!("{} is not a URL", self.base)))?;
        let location = started
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| base.join(v).ok())
            .ok_or_else(|| self.invalid(what, "the upload has no Location".into()))?;
        if location.origin() != base.origin() {
            return Err(self.invalid(
                what,
                format!(
                    "the upload Location {:?} is not on the registry: not followed",
                    crate::text::excerpt(location.as_str(), 120)
                ),
            ));
        }
        Ok(location)
    }

    /// Starts the download of the blob `descriptor` names (redirects followed, see the module
    /// doc); the answer must be a success.
    async fn blob_response(
        &self,
        descriptor: &OciDescriptor,
    ) -> Result<reqwest::Response, RegistryError> {
        let what = format!("fetching blob {}", descriptor.digest);
        if crate::oci::digest::sha256_hex(&descriptor.digest).is_none() {
            return Err(self.invalid(
                &format!("blob {:?}", crate::text::excerpt(&descriptor.digest, 80)),
                "not a sha256 digest".into(),
            ));
        }
        let url = self.url(&format!("blobs/{}", descriptor.digest));
        let response = self
            .send(&self.blobs, &what, Access::Pull, |client| client.get(&url))
            .await?;
        if !response.status().is_success() {
            return Err(self.refused(&what, response).await);
        }
        Ok(response)
    }

    /// The blob a descriptor names, at most `limit` bytes, checked against its digest.
    pub fn blob(&self, descriptor: &OciDescriptor, limit: u64) -> Result<Vec<u8>, RegistryError> {
        let what = format!("blob {}", descriptor.digest);
        if descriptor.size < 0 || descriptor.size as u64 > limit {
            return Err(self.invalid(
                &what,
                format!(
                    "declared size {} is over the {limit}-byte limit",
                    descriptor.size
                ),
            ));
        }
        self.runtime.block_on(async {
            let response = self.blob_response(descriptor).await?;
            let bytes = self
                .read_capped(response, descriptor.size as u64, &what)
                .await?;
            let actual = crate::oci::digest::sha256_digest(&bytes);
            if actual != descriptor.digest {
                return Err(self.invalid(
                    &what,
                    format!(
                        "its content has digest {actual}: the registry's copy is corrupt or was tampered with"
                    ),
                ));
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
        let response = self.runtime.block_on(self.blob_response(descriptor))?;
        Ok(BlobReader {
            runtime: &self.runtime,
            response,
            chunk: Bytes::new(),
            remaining: descriptor.size as u64,
            declared: descriptor.size as u64,
            what,
            ended: false,
        })
    }

    /// The referrers of `digest` of `artifact_type`: from the referrers API, else (a registry
    /// without it answers 404) the fallback tag `sha256-<hex>`, filtered here.
    pub fn referrers(
        &self,
        digest: &str,
        artifact_type: &str,
    ) -> Result<OciImageIndex, RegistryError> {
        let Some(hex) = crate::oci::digest::sha256_hex(digest) else {
            return Err(self.invalid(
                &format!("referrers of {:?}", crate::text::excerpt(digest, 80)),
                "not a sha256 digest: not requested".into(),
            ));
        };
        let what = format!("listing the referrers of {digest}");
        let url = self.url(&format!("referrers/{digest}"));
        let listed = self.runtime.block_on(self.get_capped(
            &what,
            &format!("the referrers of {digest}"),
            REFERRERS_LIMIT,
            |client| {
                client
                    .get(&url)
                    .query(&[("artifactType", artifact_type)])
                    .header(ACCEPT, super::media::OCI_INDEX)
            },
        ))?;
        let (bytes, filter) = match listed {
            Some((_, body)) => (body, false),
            None => match self.manifest(&format!("sha256-{hex}"))? {
                Some(index) => (index.bytes, true),
                None => return Ok(empty_index()),
            },
        };
        let mut index: OciImageIndex = serde_json::from_slice(&bytes).map_err(|e| {
            self.invalid(
                &format!("the referrers of {digest}"),
                format!("not an image index ({e})"),
            )
        })?;
        if filter {
            index
                .manifests
                .retain(|m| m.artifact_type.as_deref() == Some(artifact_type));
        }
        Ok(index)
    }
}

fn empty_index() -> OciImageIndex {
    OciImageIndex {
        schema_version: 2,
        media_type: Some(super::media::OCI_INDEX.into()),
        manifests: Vec::new(),
        artifact_type: None,
        annotations: None,
    }
}

/// A blob streamed from the registry, as [`std::io::Read`] (see [`Repository::blob_reader`]).
pub struct BlobReader<'a> {
    runtime: &'a tokio::runtime::Runtime,
    response: reqwest::Response,
    chunk: Bytes,
    remaining: u64,
    declared: u64,
    what: String,
    /// The stream has ended (it must not be polled again).
    ended: bool,
}

impl std::io::Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.runtime.block_on(self.response.chunk()) {
                Ok(Some(chunk)) => {
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
                Ok(None) if self.remaining > 0 => {
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
                Ok(None) => {
                    self.ended = true;
                    return Ok(0);
                }
                Err(e) => {
                    return Err(std::io::Error::other(format!(
                        "{}: {}",
                        self.what,
                        error_chain(&e)
                    )))
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

    /// Digests and tags that would make another URL path are refused before any request: the
    /// registry (a closed port) is never asked, so the error is the refusal, not "cannot reach".
    #[test]
    fn manifest_and_referrer_names_must_be_digests_or_tags() {
        let reference: Reference = "127.0.0.1:1/team/app:1".parse().unwrap();
        let repository = Repository::new(&reference, &Credentials::Anonymous).unwrap();
        for name in [
            "sha256:../../other/manifests/latest",
            "../other",
            "a/b",
            "tag?x=1",
            "tag#f",
            ".hidden",
            "",
            &"t".repeat(129),
            "sha512:00",
        ] {
            let error = repository.manifest(name).unwrap_err().to_string();
            assert!(
                error.contains("neither a sha256 digest nor a tag: not requested"),
                "{name}: {error}"
            );
            let error = repository
                .put_manifest(name, b"{}", "application/json")
                .unwrap_err()
                .to_string();
            assert!(error.contains("not requested"), "{name}: {error}");
            let error = repository.referrers(name, "x").unwrap_err().to_string();
            assert!(
                error.contains("not a sha256 digest: not requested"),
                "{name}: {error}"
            );
        }
        // A good tag and a good digest do go to the registry (which is not there).
        for name in ["v1.2_3-rc", &format!("sha256:{}", "a".repeat(64))] {
            let error = repository.manifest(name).unwrap_err().to_string();
            assert!(
                error.contains("cannot reach the registry"),
                "{name}: {error}"
            );
        }
    }

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

    #[test]
    fn challenges_parse_as_registries_write_them() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a,b:pull""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.example/token");
        assert_eq!(c.params["scope"], "repository:a,b:pull");
        let c = Challenge::parse(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.params["realm"], "Registry Realm");
        let c = Challenge::parse(r#"Bearer realm=https://x/t, service = s"#).unwrap();
        assert_eq!(c.params["realm"], "https://x/t");
        assert_eq!(c.params["service"], "s");
    }

    #[test]
    fn internal_addresses_are_told_apart() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "[::1]",
            "[fe80::1]",
            "[fd00::1]",
            "[::ffff:169.254.169.254]",
            "localhost",
            "metadata.localhost",
        ] {
            assert!(is_internal(internal), "{internal}");
        }
        for public in ["auth.docker.io", "8.8.8.8", "[2001:db8::1]"] {
            assert!(!is_internal(public), "{public}");
        }
    }

    #[test]
    fn token_realms_are_checked_before_they_are_asked() {
        let public: Reference = "registry.example.com/team/app:1".parse().unwrap();
        let repository = Repository::new(&public, &Credentials::Anonymous).unwrap();
        assert!(repository
            .token_realm("https://auth.example.com/token")
            .is_ok());
        for (realm, why) in [
            ("http://auth.example.com/token", "is not HTTPS"),
            ("file:///etc/passwd", "is not HTTPS"),
            (
                "https://169.254.169.254/latest/meta-data",
                "internal address",
            ),
            ("https://127.0.0.1:8080/admin", "internal address"),
            ("https://[::ffff:10.0.0.1]/", "internal address"),
            ("https://user:pw@auth.example.com/", "carries credentials"),
            ("not a url", "is not a URL"),
        ] {
            let err = repository.token_realm(realm).unwrap_err().to_string();
            assert!(err.contains(why), "{realm}: {err}");
        }
        // A registry on loopback (the test registries) may use a loopback realm over plain HTTP.
        let local: Reference = "127.0.0.1:5000/team/app:1".parse().unwrap();
        let repository = Repository::new(&local, &Credentials::Anonymous).unwrap();
        assert!(repository
            .token_realm("http://127.0.0.1:5002/token")
            .is_ok());
    }

    #[test]
    fn error_bodies_are_never_echoed() {
        let html = b"<html>internal admin page: secret=hunter2</html>";
        assert_eq!(status_detail(StatusCode::BAD_GATEWAY, html), "HTTP 502");
        let json = br#"{"errors":[{"code":"DENIED","message":"no\nINFO forged line"}]}"#;
        assert_eq!(
            status_detail(StatusCode::FORBIDDEN, json),
            "HTTP 403 (DENIED: no\\nINFO forged line)"
        );
    }
}
