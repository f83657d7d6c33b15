//! The stages wired together, once. A command of `cli` (and `serve`, and later `authz`) makes a
//! [`Context`] for the process (the docker CLI's flags and environment: the engine, connected to at
//! most once and only when a stage needs it, and the docker config directory) and calls a stage
//! here: [`read`] an image argument, [`evaluate`] it (catalog → facts → SBOM → vulnerability
//! findings → verdict), [`attest`] it (evaluate → sign → store → attach), [`build`] then attest,
//! or find what [`verify`] needs; [`diff`] judges two images and compares them. Nothing else orchestrates: the rooms below each do one stage,
//! and `cli` only parses and renders.
//!
//! Progress and warnings go to standard error through the context ([`Context::stage`],
//! [`Context::warn`]), silenced by `--quiet`.

pub mod attest;
pub mod build;
pub mod diff;
pub mod evaluate;
pub mod read;
pub mod verify;

use crate::engine::{config_dir, resolve_endpoint, Connection, Endpoint, EngineError, EngineFlags};
use crate::UsageError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What every stage of one process shares, resolved once: the docker CLI's engine flags and
/// environment, the docker config directory (registry credentials), and the engine connection
/// (made on first use; its failure, too, is kept and said again to each stage that asks).
pub struct Context {
    engine_flags: EngineFlags,
    env: HashMap<String, String>,
    docker_config: PathBuf,
    engine: OnceLock<Result<Connection, EngineError>>,
    quiet: bool,
    /// Paths of the image not cataloged (`--exclude`).
    exclusions: Vec<String>,
}

impl Context {
    /// A context from the docker CLI's flags and the environment `env`.
    pub fn new(engine_flags: EngineFlags, env: HashMap<String, String>, quiet: bool) -> Context {
        let docker_config = config_dir(&engine_flags, &env);
        Context {
            engine_flags,
            env,
            docker_config,
            engine: OnceLock::new(),
            quiet,
            exclusions: Vec::new(),
        }
    }

    /// The same context, leaving `globs` out of every image it reads (`--exclude`).
    pub fn with_exclusions(mut self, globs: &[String]) -> Context {
        self.exclusions = globs.to_vec();
        self
    }

    /// The paths left out of every image read (`--exclude`).
    pub fn exclusions(&self) -> &[String] {
        &self.exclusions
    }

    /// A context from the docker CLI's flags and this process's environment.
    pub fn from_process(engine_flags: EngineFlags, quiet: bool) -> Context {
        Context::new(engine_flags, std::env::vars().collect(), quiet)
    }

    /// Where the engine is, as the docker CLI finds it, without connecting to it.
    pub fn endpoint(&self) -> Result<Endpoint, EngineError> {
        resolve_endpoint(&self.engine_flags, &self.env)
    }

    /// The engine: found as the docker CLI finds it and connected to on the first call; the same
    /// connection (or the same failure) after.
    pub fn engine(&self) -> Result<&Connection, EngineError> {
        self.engine
            .get_or_init(|| self.endpoint().and_then(Connection::open))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The docker CLI's config directory (credentials, contexts, hooks).
    pub fn docker_config(&self) -> &Path {
        &self.docker_config
    }

    /// The environment the context was made from.
    pub fn env(&self) -> &HashMap<String, String> {
        &self.env
    }

    /// A progress line (`vouch: TEXT`), unless quiet.
    pub fn stage(&self, text: &str) {
        if !self.quiet {
            eprintln!("vouch: {text}");
        }
    }

    /// A line of progress output as it is (a build's or a push's), unless quiet.
    pub fn progress(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// A warning (`warning: TEXT`, control characters escaped: TEXT may come from the image or a
    /// registry), unless quiet.
    pub fn warn(&self, text: &str) {
        if !self.quiet {
            eprintln!(
                "{}",
                crate::text::escape_controls(&format!("warning: {text}"))
            );
        }
    }
}

/// `error` as the commands report it: a [`UsageError`] (exit 2) when `is_usage` says the user named
/// something unusable, else the error itself (exit 3).
pub(crate) fn usage_or_failure<E>(error: E, is_usage: fn(&E) -> bool) -> anyhow::Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    if is_usage(&error) {
        anyhow::Error::new(UsageError(error.to_string()))
    } else {
        anyhow::Error::new(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_engine_is_tried_once_and_said_each_time() {
        let env = HashMap::from([(
            "DOCKER_HOST".to_string(),
            "unix:///nonexistent/vouch-test.sock".to_string(),
        )]);
        let context = Context::new(EngineFlags::default(), env, true);
        let first = context.engine().expect_err("no engine there").to_string();
        let again = context.engine().expect_err("still none").to_string();
        assert_eq!(first, again);
        assert!(first.contains("/nonexistent/vouch-test.sock"), "{first}");
    }

    #[test]
    fn the_docker_config_comes_from_the_environment() {
        let env = HashMap::from([("DOCKER_CONFIG".to_string(), "/tmp/vouch-cfg".to_string())]);
        let context = Context::new(EngineFlags::default(), env, false);
        assert_eq!(context.docker_config(), Path::new("/tmp/vouch-cfg"));
    }
}
