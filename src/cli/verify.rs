//! `docker vouch verify IMAGE --key cosign.pub`: resolve the image's digests now (engine inspect,
//! the archive's own, or the registry's manifest for `registry:REF`), find its attestation set
//! (a local directory, or beside the image in the registry), and run every check of
//! `crate::verify`. In a registry each layout found (OCI 1.1 referrers, cosign's `.att` tag) is a
//! set of its own; the image is verified when one of them passes every check, and the others'
//! failures are reported. For an index, every image a client asking for the platform could take
//! must verify (see [`crate::oci::platform`]), and a subject must name the manifest (or an index
//! holding no other image), never the image ID alone. Exit 0 when verified, 1 when not, 3 when the image or a set cannot be read.

use super::inputs::read_image_arg;
use super::{DockerFlags, VerifyArgs, VerifyFormat};
use crate::attest::set::{load_set, LoadedSet, SetError};
use crate::engine::resolve_endpoint;
use crate::fsio::write_result;
use crate::image::{inspect_only, ImageSource, Platform};
use crate::layers::Wanted;
use crate::registry::fetch::{image_attestation_sets, Layout};
use crate::verify::{verify, Report};
use crate::UsageError;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code of a failed verification.
pub const EXIT_UNVERIFIED: u8 = 1;

/// One image to verify: what the reference names, or one of the images of an index that a client
/// asking for the platform could take.
struct Candidate {
    digests: Vec<String>,
    sets: Result<Vec<LoadedSet>, SetError>,
}

pub fn run(docker: &DockerFlags, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let keys = args.trust.keys()?;
    let layouts = args.trust.layouts();
    let source = ImageSource::parse(&args.image)?;
    let platform = args.platform.platform.as_ref();
    let candidates = match &source {
        ImageSource::Registry(reference) => registry_candidates(
            docker,
            reference,
            &layouts,
            platform,
            args.attestations.as_deref(),
        )?,
        _ => {
            let digests = image_digests(docker, &args.image, platform)?;
            let directory = args
                .attestations
                .clone()
                .unwrap_or_else(|| PathBuf::from(super::OUTPUT_DIR));
            let sets = load_set(&directory, &digests).map(|set| vec![set]);
            vec![Candidate { digests, sets }]
        }
    };
    let requirements = args.trust.requirements();
    let now = time::OffsetDateTime::now_utc();
    let mut reports: Vec<Report> = Vec::new();
    // The range of `reports` each candidate image's sets gave.
    let mut of_image: Vec<std::ops::Range<usize>> = Vec::new();
    let mut all_verified = true;
    let several_images = candidates.len() > 1;
    let mut several_sets = several_images;
    for candidate in candidates {
        let sets = match candidate.sets {
            Ok(sets) if !sets.is_empty() => sets,
            // No attestations is a verification failure, not a runtime error: the image is not
            // vouched for.
            Ok(_) => {
                eprintln!(
                    "{} ({}): NOT VERIFIED: no vouch attestations beside it in the registry (looked in: {})",
                    args.image,
                    candidate.digests.join(", "),
                    layouts
                        .iter()
                        .map(|l| l.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                all_verified = false;
                continue;
            }
            Err(missing @ SetError::Missing { .. }) => {
                eprintln!("{}: NOT VERIFIED: {missing}", args.image);
                all_verified = false;
                continue;
            }
            Err(other) => return Err(other.into()),
        };
        several_sets |= sets.len() > 1;
        let of_candidate: Vec<Report> = sets
            .iter()
            .map(|set| {
                verify(
                    &args.image,
                    &candidate.digests,
                    set,
                    &keys,
                    &requirements,
                    now,
                )
            })
            .collect();
        all_verified &= of_candidate.iter().any(|r| r.verified);
        of_image.push(reports.len()..reports.len() + of_candidate.len());
        reports.extend(of_candidate);
    }
    if reports.is_empty() {
        return Ok(ExitCode::from(EXIT_UNVERIFIED));
    }
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
            for (i, range) in of_image.iter().enumerate() {
                if i > 0 {
                    rendered.push(b'\n');
                }
                write_image_tables(&mut rendered, &reports[range.clone()])?;
            }
            if several_sets {
                use std::io::Write;
                writeln!(rendered)?;
                writeln!(
                    rendered,
                    "{}: {}",
                    args.image,
                    match (all_verified, several_images) {
                        (true, true) => "VERIFIED (every image a client could take, each by at least one attestation set)",
                        (true, false) => "VERIFIED (by at least one attestation set)",
                        (false, _) => "NOT VERIFIED",
                    }
                )?;
            }
        }
    }
    write_result(None, &rendered)?;
    Ok(if all_verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNVERIFIED)
    })
}

/// One image's sets: with one set, its table; with several (a registry's layouts), a line for each
/// set, then the table of the set that decides (the first that verifies, else the first).
fn write_image_tables(out: &mut Vec<u8>, sets: &[Report]) -> std::io::Result<()> {
    use std::io::Write;
    let Some(deciding) = sets.iter().find(|r| r.verified).or(sets.first()) else {
        return Ok(());
    };
    if sets.len() > 1 {
        writeln!(out, "Attestation sets of {}:", deciding.image)?;
        for report in sets {
            let outcome = match report.checks.iter().find(|c| !c.passed) {
                None if report.verified => "VERIFIED".to_string(),
                None => "NOT VERIFIED".to_string(),
                Some(failed) => format!("NOT VERIFIED ({}: {})", failed.name, failed.detail),
            };
            writeln!(out, "  {}: {outcome}", report.attestations)?;
        }
        writeln!(out)?;
    }
    write_table(out, deciding)
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

/// The images of a registry reference to verify, each with the digests a subject must name and
/// its attestation sets (beside it in the registry, or in `local`): the image a client asking for
/// the platform takes, and every other one some client of that platform could take (an index with
/// `linux/amd64` and `linux/amd64/v3` images: which one a client pulls depends on the client).
fn registry_candidates(
    docker: &DockerFlags,
    text: &str,
    layouts: &[Layout],
    platform: Option<&Platform>,
    local: Option<&std::path::Path>,
) -> anyhow::Result<Vec<Candidate>> {
    let (_, repository, reached) = super::inputs::reach_registry(docker, text)?;
    let choice = reached.choose(platform)?;
    if choice.could_take.len() > 1 {
        let asked = platform.cloned().unwrap_or_else(Platform::host);
        let images: Vec<String> = choice
            .could_take
            .iter()
            .map(|leaf| format!("{} {}", leaf.describe_platform(), leaf.digest))
            .collect();
        eprintln!(
            "registry:{text}: a client asking for {asked} could take any of {} images ({}); each must verify",
            images.len(),
            images.join(", ")
        );
    }
    let mut candidates = Vec::new();
    for leaf in &choice.could_take {
        let image = reached.image(&repository, leaf)?;
        let digests = image.digests();
        let sets = match local {
            Some(directory) => load_set(directory, &digests).map(|set| vec![set]),
            None => {
                let (sets, unreadable) = image_attestation_sets(&repository, &image, layouts)?;
                for message in unreadable {
                    eprintln!(
                        "{}",
                        crate::text::escape_controls(&format!(
                            "warning: registry:{text}: {message}"
                        ))
                    );
                }
                Ok(sets)
            }
        };
        candidates.push(Candidate { digests, sets });
    }
    Ok(candidates)
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
