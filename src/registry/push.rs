//! Pushing an engine image to its registry through the engine (`POST /images/NAME/push`), with
//! the credentials the docker CLI would send, the engine's progress shown as one line per layer
//! status change. The registry's manifest digest is learnt afterwards from the registry itself
//! (see [`crate::oci::resolve`]): the engine's push stream does not carry it in bollard's types.

use crate::engine::{engine_message, Connection};
use crate::oci::auth::{server_key, Credentials};
use crate::oci::RegistryError;
use futures_util::StreamExt;

/// Pushes `name` (`registry/repository:tag`) from the engine.
pub fn push_image(
    engine: &Connection,
    name: &str,
    registry: &str,
    credentials: &Credentials,
    progress: &mut dyn FnMut(&str),
) -> Result<(), RegistryError> {
    let failed = |detail: String| RegistryError::Request {
        what: format!("pushing {name} through the engine"),
        detail,
    };
    let (repository, tag) = match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
        _ => (name, None),
    };
    let credentials = match credentials {
        Credentials::Anonymous => None,
        Credentials::Basic { username, password } => Some(bollard::auth::DockerCredentials {
            username: Some(username.clone()),
            password: Some(password.clone()),
            serveraddress: Some(server_key(registry)),
            ..Default::default()
        }),
    };
    engine.block_on(async {
        let options = bollard::query_parameters::PushImageOptionsBuilder::default()
            .tag(tag.unwrap_or("latest"))
            .build();
        let mut stream = engine
            .docker()
            .push_image(repository, Some(options), credentials);
        let mut last = String::new();
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| failed(with_login_hint(engine_message(e), registry)))?;
            if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                return Err(failed(with_login_hint(detail, registry)));
            }
            if let Some(status) = info.status {
                if status != last {
                    progress(&status);
                    last = status;
                }
            }
        }
        Ok(())
    })
}

/// Adds what to do to an authentication refusal.
fn with_login_hint(message: String, registry: &str) -> String {
    let lower = message.to_ascii_lowercase();
    if [
        "credentials",
        "unauthorized",
        "authentication required",
        "denied",
    ]
    .iter()
    .any(|word| lower.contains(word))
    {
        format!("{message} (log in with `docker login {registry}`, or check the credentials in the docker config.json)")
    } else {
        message
    }
}
