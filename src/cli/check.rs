//! `docker vouch check IMAGE`: load the policy (rejecting an invalid one before anything runs), read
//! the image once (catalog files, account files, the files the policy's file rules note), build or
//! load the SBOM, evaluate, and print the verdict. Exit 0 when it passed, 1 when it failed.

use super::inputs::{read_image_arg, sbom_of, vulnerability_findings};
use super::{CheckArgs, CheckFormat, DockerFlags, EvaluationArgs};
use crate::catalog;
use crate::engine::resolve_endpoint;
use crate::facts::{self, PrivateKeyProbe};
use crate::fsio::write_result;
use crate::image::{inspect_only, tagged_images, Image};
use crate::layers::{Notable, Probes};
use crate::policy::config::DEFAULT_POLICY;
use crate::policy::input::{BaseImage, BaseSource, ImageFacts, Input};
use crate::policy::verdict::{write_table, Outcome, Verdict, VulnerabilitySources};
use crate::policy::{evaluate, now, Policy};
use crate::UsageError;
use anyhow::Context;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit code of a failed verdict.
pub const EXIT_FAILED: u8 = 1;

pub fn run(docker: &DockerFlags, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    if args.print_default_policy {
        print!("{DEFAULT_POLICY}");
        return Ok(ExitCode::SUCCESS);
    }
    let Some(reference) = args.image.as_deref() else {
        return Err(UsageError("check needs an IMAGE".into()).into());
    };
    let policy = load_policy(&args.evaluation)?;
    let evaluated = evaluate_image(
        docker,
        reference,
        &policy,
        &args.evaluation,
        args.quiet,
        args.platform.platform.as_ref(),
    )?;
    let verdict = evaluated.verdict;

    let mut rendered = Vec::new();
    match args.format {
        CheckFormat::Table => write_table(&verdict, &mut rendered)?,
        CheckFormat::Json => {
            serde_json::to_writer_pretty(&mut rendered, &verdict)?;
            rendered.push(b'\n');
        }
    }
    write_result(args.output.as_deref(), &rendered)?;
    Ok(match verdict.outcome {
        Outcome::Passed => ExitCode::SUCCESS,
        Outcome::Failed => ExitCode::from(EXIT_FAILED),
    })
}

/// The policy `--policy` names, else the built-in default; an invalid one is a usage error.
pub fn load_policy(args: &EvaluationArgs) -> anyhow::Result<Policy> {
    Ok(match &args.policy {
        Some(path) => Policy::load(path).map_err(|e| UsageError(format!("invalid policy: {e}")))?,
        None => Policy::default_policy(),
    })
}

/// An image read, cataloged and judged.
pub struct Evaluated {
    pub verdict: Verdict,
    pub sbom: crate::sbom::read::Sbom,
    pub image: Image,
}

/// Reads the image once (catalog files, account files, the files the policy's file rules note),
/// builds or loads the SBOM, gathers vulnerability findings, and evaluates the policy.
pub fn evaluate_image(
    docker: &DockerFlags,
    reference: &str,
    policy: &Policy,
    args: &EvaluationArgs,
    quiet: bool,
    platform: Option<&crate::image::Platform>,
) -> anyhow::Result<Evaluated> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let engine_flags = docker.engine_flags();
    let notable = Notable::new(&policy.noted_paths(), policy.needs_special_modes())
        .context("the policy's path patterns")?;
    let wanted = catalog::wanted()
        .with_globs(facts::GLOBS.iter().copied())
        .context("the account files' globs")?
        .with_probes(Probes(vec![Arc::new(PrivateKeyProbe)]))
        .with_notable(notable.clone());
    let mut read = read_image_arg(docker, reference, &wanted, platform)?;

    let sbom = sbom_of(&read, args.sbom.as_deref(), reference, quiet)?;
    // Past cataloging, only the bytes the facts read are kept.
    read.files.release_contents(facts::keeps);
    if !quiet {
        for warning in &read.warnings {
            eprintln!(
                "{}",
                crate::text::escape_controls(&format!("warning: {reference}: {warning}"))
            );
        }
    }

    let base = base_image(&read.image, args.base_image.as_deref(), &engine_flags, &env);
    if let (Some(name), Some(false)) = (&base.name, base.layers_match) {
        if !quiet {
            eprintln!("warning: {reference}: its layers do not start with those of {name}");
        }
    }
    let image = image_facts(&read.image, base);
    let components = sbom.components();
    let vulnerabilities =
        vulnerability_findings(&args.vulnerabilities, &components, &read.image, quiet)?;
    let file_facts = facts::collect(&read.files, &notable);
    let (today, stamp) = now();
    let input = Input {
        image: &image,
        components: &components,
        files: &file_facts,
        vulnerabilities: vulnerabilities.as_ref().map(|v| v.findings.as_slice()),
        sbom: &sbom,
        today: &today,
    };
    let mut verdict = evaluate(policy, &input, &stamp);
    if let Some(collected) = vulnerabilities {
        verdict.vulnerability_sources = Some(VulnerabilitySources {
            sources: collected.inputs,
            vex: collected.vex,
        });
    }
    Ok(Evaluated {
        verdict,
        sbom,
        image: read.image,
    })
}

/// The base image: from `--base-image` (its layers looked up on the engine and compared with the
/// bottom of this image's), else from the OCI base-image labels.
fn base_image(
    image: &Image,
    flag: Option<&str>,
    engine_flags: &crate::engine::EngineFlags,
    env: &HashMap<String, String>,
) -> BaseImage {
    let diff_ids = image.config.diff_ids();
    if let Some(name) = flag {
        let mut base = BaseImage {
            name: Some(name.to_string()),
            source: Some(BaseSource::Flag),
            ..Default::default()
        };
        let inspected = resolve_endpoint(engine_flags, env)
            .ok()
            .and_then(|endpoint| inspect_only(&endpoint, name).ok());
        if let Some(found) = inspected {
            let matches = found.diff_ids.len() <= diff_ids.len()
                && found.diff_ids.iter().zip(diff_ids).all(|(a, b)| a == b);
            base.layers_match = Some(matches);
            if matches {
                base.layer_count = Some(found.diff_ids.len());
            }
            base.digests.push(found.id);
            base.digests.extend(
                found
                    .repo_digests
                    .iter()
                    .filter_map(|d| d.split_once('@').map(|(_, d)| d.to_string())),
            );
        }
        return base;
    }
    let labels = image.config.runtime().labels.unwrap_or_default();
    let name = labels.get("org.opencontainers.image.base.name").cloned();
    let digest = labels.get("org.opencontainers.image.base.digest").cloned();
    if name.is_none() && digest.is_none() {
        return match image.source {
            "docker" => base_among_engine_images(diff_ids, engine_flags, env),
            _ => BaseImage::default(),
        };
    }
    BaseImage {
        name,
        digests: digest.into_iter().collect(),
        source: Some(BaseSource::Labels),
        ..Default::default()
    }
}

/// The engine's tagged image whose layers are the longest proper prefix of `diff_ids`: what the
/// image was built from, as the engine's own history knows it.
fn base_among_engine_images(
    diff_ids: &[String],
    engine_flags: &crate::engine::EngineFlags,
    env: &HashMap<String, String>,
) -> BaseImage {
    let Some(images) = resolve_endpoint(engine_flags, env)
        .ok()
        .and_then(|endpoint| tagged_images(&endpoint).ok())
    else {
        return BaseImage::default();
    };
    let best = images
        .into_iter()
        .filter(|candidate| {
            !candidate.diff_ids.is_empty()
                && candidate.diff_ids.len() < diff_ids.len()
                && candidate.diff_ids.iter().zip(diff_ids).all(|(a, b)| a == b)
        })
        .max_by(|a, b| {
            a.diff_ids
                .len()
                .cmp(&b.diff_ids.len())
                .then_with(|| b.repo_tags.first().cmp(&a.repo_tags.first()))
        });
    match best {
        Some(found) => BaseImage {
            name: found.repo_tags.first().cloned(),
            layer_count: Some(found.diff_ids.len()),
            layers_match: Some(true),
            source: Some(BaseSource::EngineLayers),
            digests: std::iter::once(found.id)
                .chain(
                    found
                        .repo_digests
                        .iter()
                        .filter_map(|d| d.split_once('@').map(|(_, d)| d.to_string())),
                )
                .collect(),
        },
        None => BaseImage::default(),
    }
}

fn image_facts(image: &Image, base: BaseImage) -> ImageFacts {
    let runtime = image.config.runtime();
    ImageFacts {
        reference: image.reference.clone(),
        name: image.name.clone(),
        id: image.id.clone(),
        digest: image.digest().to_string(),
        user: runtime.user.clone(),
        entrypoint: runtime.entrypoint.clone().unwrap_or_default(),
        cmd: runtime.cmd.clone().unwrap_or_default(),
        labels: runtime.labels.clone().unwrap_or_default(),
        exposed_ports: runtime
            .exposed_ports
            .as_ref()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default(),
        healthcheck: runtime.healthcheck.as_ref().and_then(|h| h.test.clone()),
        diff_ids: image.layers.iter().map(|l| l.diff_id.clone()).collect(),
        base,
    }
}
