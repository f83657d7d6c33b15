//! `docker vouch verify IMAGE --key cosign.pub`: resolve the image's digests now (engine inspect,
//! the archive's own, or the registry's manifest for `registry:REF`), find its attestation set
//! (a local directory, or beside the image in the registry), and run every check of
//! `crate::verify`. In a registry each layout found (OCI 1.1 referrers, cosign's `.att` tag) is a
//! set of its own; the image is verified when one of them passes every check, and the others'
//! failures are reported. Exit 0 when verified, 1 when not, 3 when the image or a set cannot be read.

use super::inputs::read_image_arg;
use super::{DockerFlags, VerifyArgs, VerifyFormat};
use crate::attest::set::{load_set, LoadedSet, SetError};
use crate::engine::{config_dir, resolve_endpoint};
use crate::image::{inspect_only, ImageSource, Platform};
use crate::layers::Wanted;
use crate::output::write_result;
use crate::registry::fetch::{image_attestation_sets, open_image, Layout};
use crate::registry::parse_reference;
use crate::verify::{verify, Report};
use crate::UsageError;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code of a failed verification.
pub const EXIT_UNVERIFIED: u8 = 1;

pub fn run(docker: &DockerFlags, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let keys = args.trust.keys()?;
    let layouts = args.trust.layouts();
    let source = ImageSource::parse(&args.image)?;
    let platform = args.platform.platform.as_ref();
    let (digests, sets) = match (&source, &args.attestations) {
        (ImageSource::Registry(reference), None) => {
            let found = registry_sets(docker, reference, &layouts, platform)?;
            (found.0, Ok(found.1))
        }
        (_, directory) => {
            let digests = image_digests(docker, &args.image, platform)?;
            let directory = directory
                .clone()
                .unwrap_or_else(|| PathBuf::from(super::OUTPUT_DIR));
            let set = load_set(&directory, &digests).map(|set| vec![set]);
            (digests, set)
        }
    };
    let sets = match sets {
        Ok(sets) if !sets.is_empty() => sets,
        Ok(_) => {
            eprintln!(
                "{}: NOT VERIFIED: no vouch attestations beside it in the registry (looked in: {})",
                args.image,
                layouts
                    .iter()
                    .map(|l| l.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Ok(ExitCode::from(EXIT_UNVERIFIED));
        }
        // No attestations is a verification failure, not a runtime error: the image is not
        // vouched for.
        Err(missing @ SetError::Missing { .. }) => {
            eprintln!("{}: NOT VERIFIED: {missing}", args.image);
            return Ok(ExitCode::from(EXIT_UNVERIFIED));
        }
        Err(other) => return Err(other.into()),
    };
    let requirements = args.trust.requirements();
    let now = time::OffsetDateTime::now_utc();
    let reports: Vec<Report> = sets
        .iter()
        .map(|set| verify(&args.image, &digests, set, &keys, &requirements, now))
        .collect();
    let verified = reports.iter().any(|r| r.verified);
    let mut rendered = Vec::new();
    match args.format {
        VerifyFormat::Json if matches!(source, ImageSource::Registry(_)) => {
            serde_json::to_writer_pretty(&mut rendered, &reports)?;
            rendered.push(b'\n');
        }
        VerifyFormat::Json => {
            serde_json::to_writer_pretty(&mut rendered, &reports[0])?;
            rendered.push(b'\n');
        }
        VerifyFormat::Table => {
            for (i, report) in reports.iter().enumerate() {
                if i > 0 {
                    rendered.push(b'\n');
                }
                write_table(&mut rendered, report)?;
            }
            if reports.len() > 1 {
                use std::io::Write;
                writeln!(rendered)?;
                writeln!(
                    rendered,
                    "{}: {}",
                    args.image,
                    if verified {
                        "VERIFIED (by at least one attestation set)"
                    } else {
                        "NOT VERIFIED"
                    }
                )?;
            }
        }
    }
    write_result(None, &rendered)?;
    Ok(if verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNVERIFIED)
    })
}

fn write_table(out: &mut Vec<u8>, report: &Report) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(
        out,
        "Image:        {} ({})",
        report.image,
        report.digests.join(", ")
    )?;
    writeln!(out, "Attestations: {}", report.attestations)?;
    writeln!(out)?;
    for check in &report.checks {
        let mark = if check.passed { "ok  " } else { "FAIL" };
        writeln!(out, "{mark}  {:<22} {}", check.name, check.detail)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        if report.verified {
            "VERIFIED"
        } else {
            "NOT VERIFIED"
        }
    )
}

/// The image's digests as the registry has them now, and the attestation sets beside it.
fn registry_sets(
    docker: &DockerFlags,
    text: &str,
    layouts: &[Layout],
    platform: Option<&Platform>,
) -> anyhow::Result<(Vec<String>, Vec<LoadedSet>)> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let reference = parse_reference(text).map_err(|e| UsageError(e.to_string()))?;
    let (repository, image) = open_image(
        &config_dir(&docker.engine_flags(), &env),
        &reference,
        platform,
    )?;
    let (sets, unreadable) = image_attestation_sets(&repository, &image, layouts)?;
    for message in unreadable {
        eprintln!("warning: registry:{text}: {message}");
    }
    Ok((image.digests(), sets))
}

/// The image ID and manifest digests the image has now: an engine image is only inspected (its
/// repo digests and ID); an archive or layout is read for its own digests.
fn image_digests(
    docker: &DockerFlags,
    reference: &str,
    platform: Option<&Platform>,
) -> anyhow::Result<Vec<String>> {
    let ImageSource::Engine(name) = ImageSource::parse(reference)? else {
        let read = read_image_arg(
            docker,
            reference,
            &Wanted::from_globs(std::iter::empty())?,
            platform,
        )?;
        return Ok(read
            .image
            .manifest_digest
            .iter()
            .chain(std::iter::once(&read.image.id))
            .cloned()
            .collect());
    };
    if let Some(platform) = platform {
        return Err(UsageError(format!(
            "{reference}: --platform {platform} picks an image of an index (registry:REF, an OCI layout); the engine holds one image per name"
        ))
        .into());
    }
    let env: HashMap<String, String> = std::env::vars().collect();
    let found = inspect_only(&resolve_endpoint(&docker.engine_flags(), &env)?, &name)?;
    Ok(found
        .repo_digests
        .iter()
        .filter_map(|d| d.rsplit_once('@').map(|(_, d)| d.to_string()))
        .chain(std::iter::once(found.id))
        .collect())
}
