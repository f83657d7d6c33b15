//! `docker vouch build`'s first stage: building the image from a Dockerfile and learning its ID,
//! with `docker buildx build` when buildx is installed ([`buildx`]) and through the Engine API
//! otherwise ([`engine`], the context sent as a `.dockerignore`-aware tar stream: [`context`]).
//! The rest of the pipeline (SBOM, policy, signing, storing) runs on the ID this returns.

pub mod buildx;
pub mod context;
pub mod engine;

use std::ffi::OsString;
use std::path::PathBuf;

/// The docker build flags vouch understands.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub context: PathBuf,
    /// `-f`: the Dockerfile (default `CONTEXT/Dockerfile`).
    pub file: Option<PathBuf>,
    pub tags: Vec<String>,
    pub build_args: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    pub target: Option<String>,
    pub platform: Option<String>,
    pub no_cache: bool,
    pub pull: bool,
}

impl BuildOptions {
    /// The Dockerfile as a path inside the context (the Engine API takes it relative to it).
    pub fn dockerfile_in_context(&self) -> Result<String, BuildError> {
        let Some(file) = &self.file else {
            return Ok("Dockerfile".to_string());
        };
        let context = self
            .context
            .canonicalize()
            .map_err(|e| BuildError::Io(format!("{}: {e}", self.context.display())))?;
        let file = file
            .canonicalize()
            .map_err(|e| BuildError::Io(format!("{}: {e}", file.display())))?;
        file.strip_prefix(&context)
            .ok()
            .and_then(|p| p.to_str())
            .map(str::to_string)
            .ok_or_else(|| {
                BuildError::Usage(format!(
                    "{}: the Dockerfile must be inside the build context {} when building without buildx",
                    file.display(),
                    context.display()
                ))
            })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Usage(String),
    #[error("the build failed: {0}")]
    Failed(String),
    #[error(transparent)]
    Context(#[from] context::ContextError),
    #[error("{0}")]
    Io(String),
}

/// Which builder to use: `VOUCH_BUILDER=buildx|engine` forces one; by default buildx when the
/// docker CLI has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builder {
    Buildx,
    Engine,
}

pub fn choose_builder(
    requested: Option<&str>,
    docker_prefix: &[OsString],
) -> Result<Builder, BuildError> {
    match requested.unwrap_or("auto") {
        "buildx" => Ok(Builder::Buildx),
        "engine" => Ok(Builder::Engine),
        "auto" | "" => Ok(if buildx::available(docker_prefix) {
            Builder::Buildx
        } else {
            Builder::Engine
        }),
        other => Err(BuildError::Usage(format!(
            "VOUCH_BUILDER={other:?}: expected buildx, engine or auto"
        ))),
    }
}
