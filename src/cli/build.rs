//! `docker vouch build [docker build flags] CONTEXT`: the signing key is loaded first (a wrong
//! password costs no build), the image is built (`crate::build`: buildx when installed, else the
//! engine), and the attest pipeline runs on the new image (`attest::attest_image`: SBOM, policy,
//! sign, store, and with `--push` push and attach). A progress line per stage on standard error;
//! the summary on standard output. Exit 1 when the verdict failed (unless `--warn-only`), 3 when
//! the build failed (nothing attested).

use super::attest::{attest_image, load_key};
use super::{BuildArgs, DockerFlags};
use crate::build::{self, choose_builder, BuildError, BuildOptions, Builder};
use crate::engine::resolve_endpoint;
use crate::image::inspect_only;
use crate::oci::parse_reference;
use crate::policy::verdict::Outcome;
use crate::UsageError;
use std::collections::HashMap;
use std::process::ExitCode;

/// Exit code of a failed verdict.
pub const EXIT_FAILED: u8 = 1;

pub fn run(docker: &DockerFlags, args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let options = build_options(args)?;
    if args.push {
        let Some(first) = options.tags.first() else {
            return Err(UsageError("--push needs a tag (-t REGISTRY/NAME:TAG)".into()).into());
        };
        parse_reference(first).map_err(|e| UsageError(format!("--push: {e}")))?;
    }
    let key = load_key(&args.key)?;
    let stage = |text: &str| {
        if !args.quiet {
            eprintln!("vouch: {text}");
        }
    };
    let env: HashMap<String, String> = std::env::vars().collect();
    let prefix = docker.as_docker_args();
    let builder = choose_builder(env.get("VOUCH_BUILDER").map(String::as_str), &prefix)
        .map_err(usage_or_runtime)?;
    let endpoint = resolve_endpoint(&docker.engine_flags(), &env)?;
    let started = std::time::Instant::now();
    let built = match builder {
        Builder::Buildx => {
            stage(&format!(
                "building {} with docker buildx",
                args.build_context.display()
            ));
            build::buildx::build(&prefix, &options)
        }
        Builder::Engine => {
            stage(&format!(
                "building {} through the engine (legacy builder: no buildx installed)",
                args.build_context.display()
            ));
            build::engine::build(&endpoint, &options, &mut |line| {
                if !args.quiet {
                    eprintln!("{line}");
                }
            })
        }
    }
    .map_err(usage_or_runtime)?;
    // The engine's ID for what was built (buildx may report a manifest digest).
    let id = inspect_only(&endpoint, &built)?.id;
    stage(&format!(
        "built {id} in {:.1} s",
        started.elapsed().as_secs_f64()
    ));

    let image = options.tags.first().cloned().unwrap_or_else(|| id.clone());
    let pipeline = std::time::Instant::now();
    let attestation = attest_image(
        docker,
        &image,
        &key,
        &args.evaluation,
        &super::attest::AttestOptions {
            output_dir: &args.output_dir,
            push: args.push,
            quiet: args.quiet,
            // The image just built, in the engine: one platform.
            platform: None,
        },
    )?;
    stage(&format!(
        "SBOM, policy, signing and storing{} took {:.2} s",
        if args.push { " (with the push)" } else { "" },
        pipeline.elapsed().as_secs_f64()
    ));
    println!("{}", attestation.summary());
    Ok(match attestation.outcome {
        Outcome::Failed if !args.warn_only => ExitCode::from(EXIT_FAILED),
        _ => ExitCode::SUCCESS,
    })
}

fn usage_or_runtime(error: BuildError) -> anyhow::Error {
    match error {
        BuildError::Usage(message) => UsageError(message).into(),
        other => other.into(),
    }
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
