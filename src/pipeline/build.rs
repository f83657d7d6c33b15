//! An image built, then attested: the builder chosen (`VOUCH_BUILDER`, else buildx when the docker
//! CLI has it, else the engine's own), the build run with its output shown, the new image's ID
//! asked of the engine (buildx may report a manifest digest), and the attest pipeline run on it
//! (see [`super::attest`]).

use super::attest::{attest_image, AttestOptions, Attestation};
use super::evaluate::Judging;
use super::Context;
use crate::attest::StatementSigner;
use crate::build::{self, choose_builder, BuildError, BuildOptions, Builder};
use crate::image::{inspect_only, ImageArg, ImageSource};
use crate::UsageError;
use std::ffi::OsString;

/// Builds the image `options` describe and attests it. `docker_args` are the docker CLI's global
/// flags, passed on to `docker buildx`.
pub fn build_and_attest(
    context: &Context,
    docker_args: &[OsString],
    options: &BuildOptions,
    signer: &dyn StatementSigner,
    judging: &Judging,
    attest: &AttestOptions,
) -> anyhow::Result<Attestation> {
    let builder = choose_builder(
        context.env().get("VOUCH_BUILDER").map(String::as_str),
        docker_args,
    )
    .map_err(usage_or_runtime)?;
    let engine = context.engine()?;
    let started = std::time::Instant::now();
    let built = match builder {
        Builder::Buildx => {
            context.stage(&format!(
                "building {} with docker buildx",
                options.context.display()
            ));
            build::buildx::build(docker_args, options)
        }
        Builder::Engine => {
            context.stage(&format!(
                "building {} through the engine (legacy builder: no buildx installed)",
                options.context.display()
            ));
            build::engine::build(engine, options, &mut |line| context.progress(line))
        }
    }
    .map_err(usage_or_runtime)?;
    let id = inspect_only(engine, &built)?.id;
    context.stage(&format!(
        "built {id} in {:.1} s",
        started.elapsed().as_secs_f64()
    ));

    // The image just built, in the engine: by its first tag, else its ID.
    let name = options.tags.first().cloned().unwrap_or_else(|| id.clone());
    let image = ImageArg {
        text: name.clone(),
        source: ImageSource::Engine(name),
    };
    let pipeline = std::time::Instant::now();
    let attestation = attest_image(context, &image, signer, judging, attest)?;
    context.stage(&format!(
        "SBOM, policy, signing and storing{} took {:.2} s",
        if attest.push { " (with the push)" } else { "" },
        pipeline.elapsed().as_secs_f64()
    ));
    Ok(attestation)
}

fn usage_or_runtime(error: BuildError) -> anyhow::Error {
    match error {
        BuildError::Usage(message) => UsageError(message).into(),
        other => other.into(),
    }
}
