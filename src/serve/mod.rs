//! `docker vouch serve`: the deploy-time end of the pipeline as a Kubernetes validating admission
//! webhook. An HTTPS server (hyper over rustls) answers `POST /validate` with the AdmissionReview
//! response for the pod or workload under review: allowed when every container image is verified
//! in its registry ([`checker`]), refused with a message naming each image and the check it
//! failed otherwise. `GET /healthz` answers `ok`. Each review is logged as one line on stderr. The
//! certificate is reloaded when its files change ([`tls`]).

pub mod admission;
pub mod tls;

use crate::policy::rules::runtime::{RuntimeRules, NOT_READ};
use crate::registry::checker::Checker;
use crate::text::escape_controls;
use admission::{answer, parse_review, response, Review};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The largest review body read (the API server sends objects up to about 3 MiB).
const BODY_LIMIT: usize = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{path}: {detail}")]
    Tls { path: String, detail: String },
    #[error("cannot listen on {address}: {detail}")]
    Listen { address: String, detail: String },
    #[error("starting the server runtime: {0}")]
    Runtime(String),
}

/// The server's TLS configuration from a PEM certificate chain and private key, reloaded when the
/// files change ([`tls::ReloadingIdentity`]).
pub fn tls_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, ServeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let identity = tls::ReloadingIdentity::new(cert, key, provider.clone())?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls {
            path: cert.display().to_string(),
            detail: e.to_string(),
        })?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(identity));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// How long a stopping server waits for the reviews in progress.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(10);
/// How long a client has to complete the TLS handshake, to send the request headers, and to send
/// the body: a peer that dribbles bytes holds a connection this long at most.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
const BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// How the server protects itself (and the cluster's API server) from slow and abusive peers.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// A review not decided within this is refused (fail closed), well inside the API server's
    /// webhook timeout (10 s by default).
    pub review_timeout: Duration,
    /// Connections open at once; more are closed at once.
    pub max_connections: usize,
    /// Reviews decided at once (each may wait on registries); more wait for a slot, within their
    /// deadline.
    pub max_reviews: usize,
    /// Re-verify images an UPDATE leaves unchanged (default: they are allowed, so that scaling
    /// down or removing a finalizer is never blocked by an expired verdict).
    pub reverify_updates: bool,
    /// The policy's `runtime` rules, weighing what each container asks for.
    pub runtime: Arc<RuntimeRules>,
    /// What `POST /validate` does with a refusal (`/validate/audit` and `/validate/enforce` choose
    /// per webhook, so that namespaces can be selected into either).
    pub mode: Mode,
}

/// Whether refusals refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Refuse what does not verify or asks for more than the runtime rules allow.
    Enforce,
    /// Admit everything; say what enforce would refuse (warnings and an audit annotation).
    Audit,
}

impl Mode {
    /// What the log says of a review that does not pass.
    fn refused(self) -> &'static str {
        match self {
            Mode::Enforce => "refused",
            Mode::Audit => "would refuse (audit: allowed)",
        }
    }
}

/// Serves until the process is asked to stop; then accepts no new connection, lets the reviews in
/// progress finish (at most [`DRAIN`]) and returns. `on_listening` is called with the bound address
/// (the port may have been chosen by the system when `address` asks for port 0).
pub fn serve(
    address: &str,
    tls: rustls::ServerConfig,
    checker: Checker,
    options: ServeOptions,
    on_listening: impl FnOnce(std::net::SocketAddr),
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServeError::Runtime(e.to_string()))?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let checker = Arc::new(checker);
    let connections = Arc::new(Semaphore::new(options.max_connections));
    let reviews = Arc::new(Semaphore::new(options.max_reviews));
    let options = Arc::new(options);
    runtime.block_on(async move {
        let listen_error = |e: std::io::Error| ServeError::Listen {
            address: address.to_string(),
            detail: e.to_string(),
        };
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(listen_error)?;
        let stop = crate::shutdown::stop_signal();
        tokio::pin!(stop);
        on_listening(listener.local_addr().map_err(listen_error)?);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors, typically: wait rather than spin.
                        eprintln!("vouch serve: accepting a connection: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                },
                _ = &mut stop => break,
            };
            // Over the limit, the connection is closed at once: the API server retries, and an
            // abuser holding connections open gets no more.
            let Ok(slot) = connections.clone().try_acquire_owned() else {
                eprintln!(
                    "vouch serve: connection from {peer} closed: {} connections are open (the limit)",
                    options.max_connections
                );
                drop(stream);
                continue;
            };
            let acceptor = acceptor.clone();
            let checker = checker.clone();
            let reviews = reviews.clone();
            let options = options.clone();
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                let _slot = slot;
                let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        eprintln!("vouch serve: TLS handshake with {peer} failed: {e}");
                        return;
                    }
                    Err(_) => {
                        eprintln!(
                            "vouch serve: TLS handshake with {peer} not done within {} s; closed",
                            HANDSHAKE_TIMEOUT.as_secs()
                        );
                        return;
                    }
                };
                let service = hyper::service::service_fn(move |request| {
                    let checker = checker.clone();
                    let reviews = reviews.clone();
                    let options = options.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            handle(request, checker, reviews, options).await,
                        )
                    }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                if let Err(e) = watcher.watch(connection).await {
                    eprintln!("vouch serve: connection from {peer}: {e}");
                }
            });
        }
        eprintln!(
            "vouch serve: stopping: no new connections; waiting up to {} s for the reviews in progress",
            DRAIN.as_secs()
        );
        drop(listener);
        tokio::select! {
            _ = graceful.shutdown() => eprintln!("vouch serve: stopped"),
            _ = tokio::time::sleep(DRAIN) => eprintln!("vouch serve: stopped with reviews still in progress"),
        }
        Ok(())
    })
}

fn plain(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text + "\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn json_response(answer: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(answer.to_string())));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

async fn handle(
    request: Request<Incoming>,
    checker: Arc<Checker>,
    reviews: Arc<Semaphore>,
    options: Arc<ServeOptions>,
) -> Response<Full<Bytes>> {
    let mode = match request.uri().path() {
        "/validate/audit" => Some(Mode::Audit),
        "/validate/enforce" => Some(Mode::Enforce),
        "/validate" => Some(options.mode),
        _ => None,
    };
    match (request.method(), mode) {
        (&Method::GET, _) if request.uri().path() == "/healthz" => plain(StatusCode::OK, "ok".into()),
        (&Method::POST, Some(mode)) => {
            let collected = tokio::time::timeout(
                BODY_TIMEOUT,
                Limited::new(request.into_body(), BODY_LIMIT).collect(),
            )
            .await;
            let body = match collected {
                Ok(Ok(body)) => body.to_bytes(),
                Ok(Err(e)) => {
                    return plain(
                        StatusCode::BAD_REQUEST,
                        format!("reading the request body (at most {BODY_LIMIT} bytes): {e}"),
                    )
                }
                Err(_) => {
                    return plain(
                        StatusCode::REQUEST_TIMEOUT,
                        format!(
                            "the request body did not arrive within {} s",
                            BODY_TIMEOUT.as_secs()
                        ),
                    )
                }
            };
            let review = match parse_review(&body) {
                Ok(review) => review,
                Err(e) => return plain(StatusCode::BAD_REQUEST, e.to_string()),
            };
            let uid = review.uid.clone();
            let subject = format!("{} {} {}", review.operation, review.kind, review.object);
            let deadline = options.review_timeout;
            // Waiting for a slot counts toward the deadline; the decision runs on a blocking
            // thread (registry calls), and is abandoned (refused) when the deadline passes.
            let decided = tokio::time::timeout(deadline, async move {
                let _slot = reviews.acquire_owned().await;
                tokio::task::spawn_blocking(move || decide(&checker, &review, &options, mode)).await
            })
            .await;
            match decided {
                Ok(Ok(answer)) => json_response(&answer),
                Ok(Err(e)) => plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("the review could not be decided: {e}"),
                ),
                Err(_) => {
                    let message = format!(
                        "vouch: the review was not decided within {} s (registries slow or unreachable): refused",
                        deadline.as_secs_f64()
                    );
                    eprintln!(
                        "vouch serve: {}: {}: {}",
                        escape_controls(&subject),
                        mode.refused(),
                        escape_controls(&message)
                    );
                    json_response(&answer(&uid, Some(&message), &[], mode == Mode::Audit))
                }
            }
        }
        (_, Some(_)) => plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST an AdmissionReview to /validate (or /validate/audit, /validate/enforce); GET /healthz".into(),
        ),
        (_, None) if request.uri().path() == "/healthz" => plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST an AdmissionReview to /validate; GET /healthz".into(),
        ),
        (_, None) => plain(
            StatusCode::NOT_FOUND,
            format!(
                "{}: no such endpoint (POST /validate, /validate/audit, /validate/enforce; GET /healthz)",
                request.uri().path()
            ),
        ),
    }
}

/// The AdmissionReview response for `review` in `mode`, logged as one line.
fn decide(
    checker: &Checker,
    review: &Review,
    options: &ServeOptions,
    mode: Mode,
) -> serde_json::Value {
    let subject = format!("{} {} {}", review.operation, review.kind, review.object);
    // Deleting or attaching to an object runs no new image.
    if !matches!(review.operation.as_str(), "CREATE" | "UPDATE") || review.images.is_empty() {
        eprintln!(
            "vouch serve: {}: allowed (no image to run)",
            escape_controls(&subject)
        );
        return response(&review.uid, None);
    }
    let mut refusals = Vec::new();
    let mut verified = Vec::new();
    for container in &review.images {
        if !options.reverify_updates && review.unchanged(container) {
            verified.push(format!("{} (unchanged by this update)", container.image));
            continue;
        }
        let judged = checker.judge(&container.image);
        let digest = judged.digest.as_deref().unwrap_or("unresolved");
        match judged.refusal {
            None => verified.push(format!(
                "{} ({digest}{})",
                container.image,
                if judged.cached { ", cached" } else { "" }
            )),
            Some(why) => refusals.push(format!(
                "{} image {} ({digest}): {why}",
                container.field, container.image
            )),
        }
    }
    // What each container asks for, unless an UPDATE leaves it as it was (scaling a workload
    // admitted before the rule is never blocked).
    let mut warnings = Vec::new();
    for (field, asked) in &review.privileges {
        if review.privileges_unchanged(field, asked) {
            continue;
        }
        let weighed = options.runtime.weigh(asked, Some(NOT_READ));
        refusals.extend(
            weighed
                .refused
                .iter()
                .map(|line| format!("{field}: {line}")),
        );
        warnings.extend(weighed.warned.iter().map(|line| format!("{field}: {line}")));
    }
    let audit = mode == Mode::Audit;
    if refusals.is_empty() {
        eprintln!(
            "vouch serve: {}: allowed: {}{}",
            escape_controls(&subject),
            escape_controls(&verified.join(", ")),
            if warnings.is_empty() {
                String::new()
            } else {
                format!("; warned: {}", escape_controls(&warnings.join("; ")))
            }
        );
        answer(&review.uid, None, &warnings, audit)
    } else {
        let message = format!("vouch: {}", refusals.join(" | "));
        eprintln!(
            "vouch serve: {}: {}: {}",
            escape_controls(&subject),
            mode.refused(),
            escape_controls(&message)
        );
        answer(&review.uid, Some(&message), &warnings, audit)
    }
}
