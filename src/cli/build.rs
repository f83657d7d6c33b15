//! `docker vouch build [docker build flags] CONTEXT`: the flags checked, the signing key loaded
//! (a wrong password costs no build) and the policy read, then `pipeline::build` builds the image
//! (buildx when installed, else the engine) and attests it (SBOM, policy, sign, store, and with
//! `--push` push and attach). A progress line per stage on standard error;
//! the summary on standard output. Exit 1 when the verdict failed (unless `--warn-only`), 3 when
//! the build failed (nothing attested).

use super::render::attestation_summary;
use super::{BuildArgs, DockerFlags};
use crate::build::BuildOptions;
use crate::oci::parse_reference;
use crate::pipeline::attest::AttestOptions;
use crate::pipeline::build::build_and_attest;
use crate::pipeline::Context;
use crate::policy::verdict::Outcome;
use crate::UsageError;
use std::process::ExitCode;

/// Exit code of a failed verdict.
pub const EXIT_FAILED: u8 = 1;

pub fn run(context: &Context, docker: &DockerFlags, args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let options = build_options(args)?;
    if args.push {
        let Some(first) = options.tags.first() else {
            return Err(UsageError("--push needs a tag (-t REGISTRY/NAME:TAG)".into()).into());
        };
        parse_reference(first).map_err(|e| UsageError(format!("--push: {e}")))?;
    }
    let signer = args.keyless.signer(&args.key)?;
    // The policy is read before the build: an invalid one costs no build.
    let policy = args.evaluation.load_policy()?;
    let sources = args.evaluation.vulnerabilities.sources(context)?;
    // The image just built, in the engine: one platform.
    let judging = args.evaluation.judging(&policy, &sources, None);
    let attestation = build_and_attest(
        context,
        &docker.as_docker_args(),
        &options,
        signer.as_ref(),
        &judging,
        &AttestOptions {
            output_dir: &args.output_dir,
            push: args.push,
        },
    )?;
    println!("{}", attestation_summary(&attestation));
    Ok(match attestation.outcome {
        Outcome::Failed if !args.warn_only => ExitCode::from(EXIT_FAILED),
        _ => ExitCode::SUCCESS,
    })
}

/// The build flags as [`BuildOptions`]; `--build-arg KEY` takes KEY's value from the environment
/// (and is left out when unset), as docker does.
fn build_options(args: &BuildArgs) -> anyhow::Result<BuildOptions> {
    if !args.build_context.is_dir() {
        return Err(UsageError(format!(
            "{}: the build context must be a directory",
            args.build_context.display()
        ))
        .into());
    }
    let mut build_args = Vec::new();
    for arg in &args.build_args {
        match arg.split_once('=') {
            Some((key, value)) => build_args.push((key.to_string(), value.to_string())),
            None => {
                if let Ok(value) = std::env::var(arg) {
                    build_args.push((arg.clone(), value));
                }
            }
        }
    }
    let labels = args
        .labels
        .iter()
        .map(|label| {
            label
                .split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| UsageError(format!("--label {label:?}: expected KEY=VALUE")))
        })
        .collect::<Result<_, _>>()?;
    for tag in &args.tags {
        parse_reference(tag).map_err(|e| UsageError(format!("-t: {e}")))?;
    }
    Ok(BuildOptions {
        context: args.build_context.clone(),
        file: args.file.clone(),
        tags: args.tags.clone(),
        build_args,
        labels,
        target: args.target.clone(),
        platform: args.platform.clone(),
        no_cache: args.no_cache,
        pull: args.pull,
    })
}
