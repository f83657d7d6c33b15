//! `docker vouch authz`: the run-time end of the pipeline on Docker hosts, as a Docker engine
//! authorization plugin. With `dockerd --authorization-plugin=vouch`, the engine asks the plugin
//! (HTTP over a unix socket in `/run/docker/plugins/`) before it acts on every API request:
//! `POST /Plugin.Activate` answers `{"Implements": ["authz"]}`, `POST /AuthZPlugin.AuthZReq` the
//! decision on a request, `POST /AuthZPlugin.AuthZRes` on its response (always allowed).
//!
//! Only the requests that run an image or ask for a privilege are judged ([`request`]): creating a
//! container from an image that does not verify is refused (early, with vouch's message in `docker
//! run`), and so is starting a container whose image (its ID, as the engine holds it now) does not
//! verify. With a policy, its `runtime` rules weigh the privileges a create, an exec or a volume
//! that binds a host path asks for. The
//! start check is the authoritative one: whatever happened between create and start (a tag moved,
//! a container created before the plugin was installed), what starts is what verified. Every
//! other request is allowed at once, without its body being decoded. A decision not made within
//! its deadline is a refusal.

pub mod judge;
pub mod request;

pub use crate::policy::rules::runtime::Privileges;
use crate::text::escape_controls;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use request::{Action, AuthzRequest};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The largest request read: the engine passes bodies under 1 MiB, base64-encoded in JSON.
const BODY_LIMIT: usize = 4 * 1024 * 1024;
/// How long the engine has to send a request's headers and body.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The plugin protocol's media type.
const PLUGIN_JSON: &str = "application/vnd.docker.plugins.v1+json";

#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    #[error("{path}: cannot listen: {detail}")]
    Listen { path: String, detail: String },
    #[error("{path}: exists and is not a socket; not replaced")]
    NotASocket { path: String },
    #[error("starting the plugin's runtime: {0}")]
    Runtime(String),
}

/// Whether an image may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed, and what for the log (`app:1 sha256:... verified`).
    Allow(String),
    /// Refused, and why (shown by `docker run`).
    Refuse(String),
}

/// What decides: resolves images and containers through the engine, verifies them, and weighs the
/// privileges asked for against the policy's `runtime` rules.
pub trait Judge: Send + Sync + 'static {
    /// Whether a container may be created from the image `reference` (as the client wrote it)
    /// with the privileges `asked`.
    fn image(&self, reference: &str, asked: &Privileges) -> Decision;
    /// Whether the container `name` (an ID, a prefix of one, or a name) may start.
    fn container(&self, name: &str) -> Decision;
    /// Whether a process may be executed in the container `name` with the privileges `asked`.
    fn exec(&self, name: &str, asked: &Privileges) -> Decision;
    /// Whether a volume that binds a host path may be created.
    fn volume(&self, asked: &Privileges) -> Decision;
}

/// How the plugin bounds its work.
#[derive(Debug, Clone)]
pub struct AuthzOptions {
    /// A decision not made within this is a refusal (the engine waits on the plugin).
    pub decision_timeout: Duration,
    /// Decisions made at once; more wait for a slot within their deadline.
    pub max_decisions: usize,
}

/// Serves the plugin protocol on `socket` until the process is asked to stop; then removes the
/// socket. A stale socket left by a plugin that was killed is replaced; any other file is not.
pub fn serve(
    socket: &Path,
    judge: Arc<dyn Judge>,
    options: AuthzOptions,
    on_listening: impl FnOnce(&Path),
) -> Result<(), AuthzError> {
    let shown = socket.display().to_string();
    let listen_error = |e: std::io::Error| AuthzError::Listen {
        path: shown.clone(),
        detail: e.to_string(),
    };
    match std::fs::symlink_metadata(socket) {
        Ok(meta) if std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()) => {
            std::fs::remove_file(socket).map_err(listen_error)?
        }
        Ok(_) => return Err(AuthzError::NotASocket { path: shown }),
        Err(_) => {}
    }
    if let Some(parent) = socket.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(listen_error)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AuthzError::Runtime(e.to_string()))?;
    let decisions = Arc::new(Semaphore::new(options.max_decisions));
    let options = Arc::new(options);
    let result = runtime.block_on(async {
        let listener = tokio::net::UnixListener::bind(socket).map_err(listen_error)?;
        // Only the engine (root) may ask.
        std::fs::set_permissions(socket, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(listen_error)?;
        let stop = crate::shutdown::stop_signal();
        tokio::pin!(stop);
        on_listening(socket);
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        eprintln!("vouch authz: accepting a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                _ = &mut stop => break,
            };
            let judge = judge.clone();
            let decisions = decisions.clone();
            let options = options.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let judge = judge.clone();
                    let decisions = decisions.clone();
                    let options = options.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            handle(request, judge, decisions, options).await,
                        )
                    }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(READ_TIMEOUT)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                if let Err(e) = connection.await {
                    eprintln!("vouch authz: connection: {e}");
                }
            });
        }
        Ok(())
    });
    let _ = std::fs::remove_file(socket);
    eprintln!("vouch authz: stopped; {shown} removed");
    result
}

/// The plugin's answer to an authorization request.
fn answer(allow: bool, message: &str) -> serde_json::Value {
    serde_json::json!({"Allow": allow, "Msg": message, "Err": ""})
}

fn respond(status: StatusCode, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(PLUGIN_JSON),
    );
    response
}

async fn handle(
    request: Request<Incoming>,
    judge: Arc<dyn Judge>,
    decisions: Arc<Semaphore>,
    options: Arc<AuthzOptions>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_string();
    if request.method() != Method::POST {
        return respond(
            StatusCode::METHOD_NOT_ALLOWED,
            &serde_json::json!({"Err": "the plugin protocol POSTs"}),
        );
    }
    match path.as_str() {
        "/Plugin.Activate" => respond(
            StatusCode::OK,
            &serde_json::json!({"Implements": ["authz"]}),
        ),
        "/AuthZPlugin.AuthZRes" => respond(StatusCode::OK, &answer(true, "")),
        "/AuthZPlugin.AuthZReq" => {
            let body = tokio::time::timeout(
                READ_TIMEOUT,
                Limited::new(request.into_body(), BODY_LIMIT).collect(),
            )
            .await;
            let body = match body {
                Ok(Ok(body)) => body.to_bytes(),
                _ => {
                    return respond(
                        StatusCode::OK,
                        &answer(false, "vouch: the authorization request could not be read in time or is over 4 MiB"),
                    )
                }
            };
            respond(
                StatusCode::OK,
                &decide(&body, judge, decisions, &options).await,
            )
        }
        other => respond(
            StatusCode::NOT_FOUND,
            &serde_json::json!({"Err": format!("{other}: not a plugin endpoint")}),
        ),
    }
}

/// The answer to one `AuthZReq`: other requests at once, creates and starts by `judge` within the
/// deadline, anything unreadable refused.
async fn decide(
    body: &[u8],
    judge: Arc<dyn Judge>,
    decisions: Arc<Semaphore>,
    options: &AuthzOptions,
) -> serde_json::Value {
    let request = match AuthzRequest::parse(body) {
        Ok(request) => request,
        Err(e) => return answer(false, &format!("vouch: {e}")),
    };
    let subject = format!("{} {}", request.method, request.uri);
    let action = match request.action() {
        Ok(Action::Other) => return answer(true, ""),
        Ok(action) => action,
        Err(why) => return refused(&subject, &format!("vouch: {why}: refused")),
    };
    let deadline = options.decision_timeout;
    let decided = tokio::time::timeout(deadline, async move {
        let _slot = decisions.acquire_owned().await;
        tokio::task::spawn_blocking(move || match &action {
            Action::Create { image, asked } => judge.image(image, asked),
            Action::Start { container } => judge.container(container),
            Action::Exec { container, asked } => judge.exec(container, asked),
            Action::Volume { asked } => judge.volume(asked),
            Action::Other => Decision::Allow(String::new()),
        })
        .await
    })
    .await;
    match decided {
        Ok(Ok(Decision::Allow(why))) => {
            eprintln!(
                "vouch authz: {}: allowed: {}",
                escape_controls(&subject),
                escape_controls(&why)
            );
            answer(true, "")
        }
        Ok(Ok(Decision::Refuse(why))) => refused(&subject, &format!("vouch: {why}")),
        Ok(Err(_)) => refused(&subject, "vouch: the decision failed unexpectedly: refused"),
        Err(_) => refused(
            &subject,
            &format!(
                "vouch: not decided within {} s (engine or registry slow): refused",
                deadline.as_secs_f64()
            ),
        ),
    }
}

fn refused(subject: &str, message: &str) -> serde_json::Value {
    eprintln!(
        "vouch authz: {}: refused: {}",
        escape_controls(subject),
        escape_controls(message)
    );
    answer(false, message)
}
