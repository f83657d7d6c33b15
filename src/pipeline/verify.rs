//! What `verify` checks, found now: the digests the image has (the engine's inspect, an archive's
//! or layout's own, or the registry's manifest for `registry:REF`), its attestation sets (a local
//! directory, or beside the image in the registry, one set per layout found), and every check of
//! [`crate::verify`] run over each set. For a registry index, every image a client asking for the
//! platform could take is a candidate of its own (see [`crate::oci::platform`]).

use super::read::{reach_registry, read};
use super::{usage_or_failure, Context};
use crate::attest::set::{load_set, LoadedSet, SetError};
use crate::image::{
    inspect_only, running_containers, ImageArg, ImageSource, Platform, RunningContainer,
};
use crate::layers::Wanted;
use crate::registry::fetch::{image_attestation_sets, Layout};
use crate::rejudge::Rejudge;
use crate::verify::{verify, Report, Requirements, Signers};
use crate::UsageError;
use std::path::Path;

/// What an image must verify against.
#[derive(Debug, Clone, Copy)]
pub struct Trust<'a> {
    pub signers: &'a Signers,
    pub requirements: &'a Requirements,
    /// The registry layouts to look in.
    pub layouts: &'a [Layout],
    /// Judge the attested SBOM again with today's vulnerability data (`--rejudge`).
    pub rejudge: Option<Rejudge<'a>>,
}

/// Where the attestation sets are: `local`, a directory (the default for an image that is not in a
/// registry), else beside the image in its registry.
#[derive(Debug, Clone, Copy)]
pub struct SetsFrom<'a> {
    pub local: Option<&'a Path>,
    pub default_dir: &'a Path,
}

/// One image verified: its digests and how its sets went.
pub struct Checked {
    pub digests: Vec<String>,
    pub sets: CheckedSets,
}

/// How an image's sets went.
pub enum CheckedSets {
    /// A report per set found (the image verifies when one of them does).
    Reports(Vec<Report>),
    /// The registry holds no vouch attestations beside the image in these layouts.
    NoneInRegistry { looked_in: Vec<&'static str> },
    /// The local directory holds no set for the image's digests.
    Missing(SetError),
}

impl Checked {
    pub fn verified(&self) -> bool {
        matches!(&self.sets, CheckedSets::Reports(reports) if reports.iter().any(|r| r.verified))
    }
}

/// Verifies `image`: each image it names (one, or every one of an index a client could take), each
/// by every attestation set found for it. An unreadable set is an error; a missing one is a
/// verification failure ([`CheckedSets::Missing`], [`CheckedSets::NoneInRegistry`]).
pub fn verify_image(
    context: &Context,
    image: &ImageArg,
    trust: &Trust,
    platform: Option<&Platform>,
    sets_from: &SetsFrom,
) -> anyhow::Result<Vec<Checked>> {
    let candidates = match &image.source {
        ImageSource::Registry(reference) => {
            registry_candidates(context, reference, trust, platform, sets_from.local)?
        }
        _ => {
            let digests = image_digests(context, image, platform)?;
            let directory = sets_from.local.unwrap_or(sets_from.default_dir);
            let sets =
                load_set(directory, &digests, trust.signers.keyless.is_some()).map(|set| vec![set]);
            vec![Candidate { digests, sets }]
        }
    };
    let now = time::OffsetDateTime::now_utc();
    let mut checked = Vec::new();
    for candidate in candidates {
        let sets = match candidate.sets {
            Ok(sets) if !sets.is_empty() => {
                let mut reports = Vec::new();
                for set in &sets {
                    let mut report = verify(
                        &image.text,
                        &candidate.digests,
                        set,
                        trust.signers,
                        trust.requirements,
                        now,
                    );
                    if let Some(rejudge) = &trust.rejudge {
                        rejudge_report(context, &mut report, rejudge)?;
                    }
                    reports.push(report);
                }
                CheckedSets::Reports(reports)
            }
            // No attestations is a verification failure, not a runtime error: the image is not
            // vouched for.
            Ok(_) => CheckedSets::NoneInRegistry {
                looked_in: trust.layouts.iter().map(|l| l.name()).collect(),
            },
            Err(missing @ SetError::Missing { .. }) => CheckedSets::Missing(missing),
            Err(other) => return Err(other.into()),
        };
        checked.push(Checked {
            digests: candidate.digests,
            sets,
        });
    }
    Ok(checked)
}

/// Every container running on the engine now, each with how its image (by the ID it runs) verifies.
pub fn verify_running(
    context: &Context,
    trust: &Trust,
    sets_from: &SetsFrom,
) -> anyhow::Result<Vec<(RunningContainer, Checked)>> {
    let mut verified = Vec::new();
    for container in running_containers(context.engine()?)? {
        let image = ImageArg::parse(&format!("docker:{}", container.image_id))?;
        let checked = verify_image(context, &image, trust, None, sets_from)?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("{}: no image to verify", container.image_id))?;
        verified.push((container, checked));
    }
    Ok(verified)
}

/// Judges a verified set's SBOM again (see [`crate::rejudge`]), its warnings said; a source that
/// is not one is a usage error.
fn rejudge_report(context: &Context, report: &mut Report, rejudge: &Rejudge) -> anyhow::Result<()> {
    let warnings = crate::rejudge::rejudge(report, rejudge)
        .map_err(|e| usage_or_failure(e, crate::rejudge::RejudgeError::is_usage))?;
    for warning in warnings {
        context.warn(&warning);
    }
    Ok(())
}

/// One image to verify: what the reference names, or one of the images of an index that a client
/// asking for the platform could take.
struct Candidate {
    digests: Vec<String>,
    sets: Result<Vec<LoadedSet>, SetError>,
}

/// The images of a registry reference to verify, each with the digests a subject must name and
/// its attestation sets (beside it in the registry, or in `local`): the image a client asking for
/// the platform takes, and every other one some client of that platform could take (an index with
/// `linux/amd64` and `linux/amd64/v3` images: which one a client pulls depends on the client).
fn registry_candidates(
    context: &Context,
    text: &str,
    trust: &Trust,
    platform: Option<&Platform>,
    local: Option<&Path>,
) -> anyhow::Result<Vec<Candidate>> {
    let (_, repository, reached) = reach_registry(context, text)?;
    let choice = reached.choose(platform)?;
    if choice.could_take.len() > 1 {
        let asked = platform.cloned().unwrap_or_else(Platform::host);
        let images: Vec<String> = choice
            .could_take
            .iter()
            .map(|leaf| format!("{} {}", leaf.describe_platform(), leaf.digest))
            .collect();
        context.progress(&format!(
            "registry:{text}: a client asking for {asked} could take any of {} images ({}); each must verify",
            images.len(),
            images.join(", ")
        ));
    }
    let mut candidates = Vec::new();
    for leaf in &choice.could_take {
        let image = reached.image(&repository, leaf)?;
        let digests = image.digests();
        let sets = match local {
            Some(directory) => {
                load_set(directory, &digests, trust.signers.keyless.is_some()).map(|set| vec![set])
            }
            None => {
                let (sets, unreadable) =
                    image_attestation_sets(&repository, &image, trust.layouts)?;
                for message in unreadable {
                    context.warn(&format!("registry:{text}: {message}"));
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
    context: &Context,
    image: &ImageArg,
    platform: Option<&Platform>,
) -> anyhow::Result<Vec<String>> {
    let ImageSource::Engine(name) = &image.source else {
        let read = read(
            context,
            image,
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
            "{image}: --platform {platform} picks an image of an index (registry:REF, an OCI layout); the engine holds one image per name"
        ))
        .into());
    }
    Ok(inspect_only(context.engine()?, name)?.subject_digests())
}
