//! An image attested: judged (see [`super::evaluate`]), its SBOM and verdict each signed as an
//! in-toto statement into a DSSE envelope and a Sigstore bundle, the set written under
//! `DIR/sha256-<hex>/` (see `attest::set`), and with `push` attached beside the image in its
//! registry (`registry::attach`). The verdict is attested whether it passed or not; `verify
//! --require-pass` is where a FAILED verdict stops a deployment.
//!
//! [`renew_attestation`] (`attest --from-attestation`) renews a verified set instead: its signed SBOM
//! judged again with today's data, a fresh verdict signed over the same SBOM statement.
//!
//! With `push` an engine image is pushed first, so the statements can name the registry's manifest
//! digest. An image read from the registry (`registry:REF`) is not pushed: the set is attached to
//! the manifest that was read, and to the index the tag names when that index holds no other
//! platform (where cosign-based verifiers look). Attaching is the last step: a failure there leaves
//! the local set and says what was written.

use super::evaluate::{evaluate, evaluate_attested, Judging};
use super::read::reach_registry;
use super::verify::{verify_image, CheckedSets, SetsFrom, Trust};
use super::Context;
use crate::attest::bundle::bundle;
use crate::attest::keys::{password, PrivateKey, PublicKey};
use crate::attest::set::{self, write_set, SetFile};
use crate::attest::statement::{AttestedImage, SBOM_PREDICATE, VSA_PREDICATE};
use crate::attest::{signed_set, signed_verdict, SetInput, StatementSigner};
use crate::image::{ImageArg, ImageSource, Platform};
use crate::oci::auth::credentials_for;
use crate::oci::client::Repository;
use crate::oci::parse_reference;
use crate::oci::resolve::resolve;
use crate::policy::verdict::{Outcome, Verdict};
use crate::registry::attach::{attach, Attached, Statement};
use crate::registry::fetch::Layout;
use crate::registry::push::push_image;
use crate::sbom::read::Sbom;
use crate::verify::Requirements;
use crate::UsageError;
use oci_client::Reference;
use std::path::{Path, PathBuf};

/// What `attest IMAGE` attests: the image itself, or, for a registry index of several runnable
/// images and no `--platform`, each of them by its digest (through nested indexes; attestation
/// manifests left out), so that whichever a client pulls is vouched for.
pub fn images_to_attest(
    context: &Context,
    image_arg: &ImageArg,
    platform: Option<&Platform>,
) -> anyhow::Result<Vec<ImageArg>> {
    let (ImageSource::Registry(text), None) = (&image_arg.source, platform) else {
        return Ok(vec![image_arg.clone()]);
    };
    let (reference, _, reached) = reach_registry(context, text)?;
    let runnable = reached.tree.runnable();
    if runnable.len() <= 1 {
        return Ok(vec![image_arg.clone()]);
    }
    context.progress(&format!(
        "{}: an index of {} runnable images ({}): attesting each by its digest",
        reference.whole(),
        runnable.len(),
        reached.tree.describe_platforms()
    ));
    Ok(runnable
        .iter()
        .map(|leaf| {
            let text = format!(
                "{}/{}@{}",
                reference.registry(),
                reference.repository(),
                leaf.digest
            );
            ImageArg {
                text: format!("registry:{text}"),
                source: ImageSource::Registry(text),
            }
        })
        .collect())
}

/// The image index `resolved` was reached through, when the statements belong on it too: it holds
/// no other runnable image (buildx's single-platform push: the image and its `unknown/unknown`
/// attestation manifest), so what is true of the image is true of whatever the tag names. An index
/// of several images gets nothing (the statements describe one of them), with a warning saying
/// where verifiers that start from the index will not find them.
fn published_index(
    context: &Context,
    reference: &Reference,
    resolved: &crate::oci::resolve::RegistryImage,
) -> Option<crate::oci::client::Manifest> {
    let index = resolved.index.as_ref()?;
    if let Some(index) = resolved.index_as_subject() {
        return Some(index.clone());
    }
    context.warn(&format!(
        "{} is an index of {} runnable images: the attestations describe, and are attached to, the manifest {} only; verifiers that look at the index {} itself (cosign verify-attestation on the tag) will not find them; attest the index without --platform to attest each image",
        reference.whole(),
        resolved.index_runnable,
        resolved.manifest.digest,
        index.digest
    ));
    None
}

/// Loads the signing key (asking for its password when no environment variable gives it). A key
/// file that is not there is said first, before any password is asked for.
pub fn load_key(path: &Path) -> anyhow::Result<PrivateKey> {
    if !path.exists() {
        anyhow::bail!(
            "no key at {}: run `docker vouch keygen` to make cosign.key and cosign.pub here, or pass --key PATH",
            path.display()
        );
    }
    let password = password(&format!("Enter password for {}: ", path.display()), false)?;
    Ok(PrivateKey::load(path, password.as_bytes())?)
}

/// The verification summary's result for a verdict.
fn result_of(verdict: &Verdict) -> &'static str {
    match verdict.outcome {
        Outcome::Passed => "PASSED",
        Outcome::Failed => "FAILED",
    }
}

/// What the verdict statement of `subject` says: the verdict (`verdict_json` is its document) and
/// its outcome, time and policy.
fn set_input<'a>(
    subject: &'a AttestedImage,
    verdict_json: &'a serde_json::Value,
    verdict: &'a Verdict,
) -> SetInput<'a> {
    SetInput {
        subject,
        verdict: verdict_json,
        result: result_of(verdict),
        time_verified: &verdict.evaluated_at,
        policy_source: &verdict.policy.source,
        policy_digest: &verdict.policy.digest,
    }
}

/// The bytes of the set's file `name`, as written.
fn set_file_bytes(files: &[SetFile], name: &str) -> anyhow::Result<Vec<u8>> {
    let file = files
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| anyhow::anyhow!("{name}: not in the set"))?;
    Ok(file.to_bytes()?)
}

/// Where `--push` attaches: the registry reference of an engine image named for its registry (with
/// its name, as it is pushed first) or of `registry:REF`, and the credentials for that registry.
fn registry_target<'a>(
    context: &Context,
    image_arg: &'a ImageArg,
) -> anyhow::Result<(Reference, crate::oci::auth::Credentials, Option<&'a str>)> {
    let (name, from_engine) = match &image_arg.source {
        ImageSource::Engine(name) => (name.as_str(), true),
        ImageSource::Registry(text) => (text.as_str(), false),
        _ => {
            return Err(UsageError(format!(
                "{image_arg}: --push needs an engine image named for its registry (REGISTRY/NAME:TAG), or registry:REF"
            ))
            .into())
        }
    };
    let reference = parse_reference(name).map_err(|e| UsageError(format!("--push: {e}")))?;
    let credentials = credentials_for(context.docker_config(), reference.registry())?;
    Ok((reference, credentials, from_engine.then_some(name)))
}

/// Attaches `statements` to each of `subjects` (the image manifest, then the index it is published
/// under); a failure names everything already written, and where the signed set is.
fn attach_statements(
    repository: &Repository,
    reference: &Reference,
    subjects: &[&crate::oci::client::Manifest],
    statements: &[Statement],
    created: &str,
    directory: &Path,
) -> anyhow::Result<Vec<(String, Attached)>> {
    let mut attached: Vec<(String, Attached)> = Vec::new();
    for subject in subjects {
        let at = format!(
            "{}/{}@{}",
            reference.registry(),
            reference.repository(),
            subject.digest
        );
        let written = attach(repository, subject, statements, created).map_err(|failure| {
            // Where something was already attached, each place is named.
            let mut written: Vec<String> = attached
                .iter()
                .map(|(at, written)| format!("at {at}: {}", written.describe()))
                .collect();
            written.push(if attached.is_empty() {
                failure.written.describe()
            } else {
                format!("at {at}: {}", failure.written.describe())
            });
            anyhow::anyhow!(
                "attaching the attestations to {at}: {}. Written to the registry before the failure: {}; the signed set is in {}",
                failure.error,
                written.join("; "),
                directory.display()
            )
        })?;
        attached.push((at, written));
    }
    Ok(attached)
}

/// What attesting an image produced.
pub struct Attestation {
    pub image: String,
    pub digest: String,
    pub result: &'static str,
    pub outcome: Outcome,
    pub directory: PathBuf,
    /// Where the statements were attached (`REGISTRY/REPO@DIGEST`): the image manifest, then the
    /// image index it is published under when that index holds no other platform.
    pub attached: Vec<(String, Attached)>,
}

/// Where `attest_image` writes and what it reads.
pub struct AttestOptions<'a> {
    /// The set goes under `output_dir/sha256-<hex>/`.
    pub output_dir: &'a Path,
    /// Push (an engine image) and attach the statements in the registry.
    pub push: bool,
}

/// The whole attest pipeline on one image: (push,) evaluate, sign, write the set, (attach).
pub fn attest_image(
    context: &Context,
    image_arg: &ImageArg,
    signer: &dyn StatementSigner,
    judging: &Judging,
    options: &AttestOptions,
) -> anyhow::Result<Attestation> {
    let AttestOptions { output_dir, push } = *options;
    let platform = judging.platform;
    let stage = |text: &str| context.stage(text);

    // With --push: the repository the attestations go to (an engine image is pushed there once it
    // is judged attestable).
    let source = &image_arg.source;
    let target = if push {
        Some(registry_target(context, image_arg)?)
    } else {
        None
    };

    stage("cataloging and evaluating the policy");
    let mut evaluated = evaluate(context, image_arg, judging)?;
    // Refused before anything is pushed or signed: an envelope over the limit could never be read
    // back by `verify` (local or registry), and would take gigabytes to make.
    let sbom_bytes = evaluated.sbom.json_size()?;
    let envelope = crate::attest::envelope_size(sbom_bytes);
    if envelope > crate::attest::ENVELOPE_LIMIT {
        anyhow::bail!(
            "{image_arg}: its SBOM is {sbom_bytes} bytes, so its signed envelope would be about {envelope} bytes, over the {} MiB that verification reads; nothing was pushed or written",
            crate::attest::ENVELOPE_LIMIT / (1024 * 1024)
        );
    }
    // With --push, an engine image goes to its registry now, and the statements after it.
    let target = match target {
        None => None,
        Some((reference, credentials, engine_image)) => {
            if let Some(name) = engine_image {
                stage(&format!("pushing {name}"));
                push_image(
                    context.engine()?,
                    name,
                    reference.registry(),
                    &credentials,
                    &mut |status| context.progress(&format!("  {status}")),
                )?;
            }
            let repository = Repository::new(&reference, &credentials)?;
            Some((reference, repository))
        }
    };
    let pushed = match target {
        None => None,
        Some((reference, repository)) => {
            // Attach to the manifest the registry has under the tag now (an engine image just
            // pushed), or to the very manifest that was read (registry:REF); either way it must be
            // of this image: nobody pushed over the tag meanwhile.
            let resolved = resolve(&repository, &reference, platform)?;
            let read = match source {
                ImageSource::Registry(_) => evaluated.image.manifest_digest.as_deref(),
                _ => None,
            };
            if resolved.config_digest.as_deref() != Some(evaluated.image.id.as_str())
                || read.is_some_and(|digest| digest != resolved.manifest.digest)
            {
                anyhow::bail!(
                    "{}: the registry's manifest {} is of image {}, not {}: the tag was pushed over meanwhile; nothing attached",
                    reference.whole(),
                    resolved.manifest.digest,
                    resolved.config_digest.as_deref().unwrap_or("(none)"),
                    evaluated.image.id
                );
            }
            evaluated.image.manifest_digest = Some(resolved.manifest.digest.clone());
            let index = published_index(context, &reference, &resolved);
            Some((reference, repository, resolved, index))
        }
    };
    let image = &evaluated.image;
    let subject = AttestedImage {
        name: image
            .name
            .as_deref()
            .map(crate::image::repository)
            .unwrap_or(&image.reference)
            .to_string(),
        manifest_digest: image.manifest_digest.clone(),
        config_digest: image.id.clone(),
        index_digest: pushed
            .as_ref()
            .and_then(|(_, _, _, index)| index.as_ref())
            .map(|index| index.digest.clone()),
    };
    if subject.subjects().is_empty() {
        return Err(UsageError(format!(
            "{}: the image has no sha256 digest",
            image.reference
        ))
        .into());
    }

    stage("signing the SBOM and verdict statements");
    let verdict_json = serde_json::to_value(&evaluated.verdict)?;
    let sbom = evaluated.sbom.serializable()?;
    let result = result_of(&evaluated.verdict);
    let signed = signed_set(
        &set_input(&subject, &verdict_json, &evaluated.verdict),
        &sbom,
        signer,
    )?;
    let [sbom_annotations, verdict_annotations] = signed.cosign_annotations();
    let files = signed.files();
    let directory = write_set(output_dir, image.digest(), &files)?;

    let attached = match &pushed {
        None => Vec::new(),
        Some((reference, repository, pushed, index)) => {
            stage(&format!(
                "attaching the attestations to {}",
                reference.whole()
            ));
            // The bundles as the registry gets them: made again from the signed statements (the
            // same bytes as the files just written); the `.att` layers are the envelopes as
            // compact JSON (a keyless signature's log entry hashes those bytes).
            let file = |name: &str| set_file_bytes(&files, name);
            let [sbom_layer, verdict_layer] = signed.att_layers();
            let (sbom_bundle, verdict_bundle) =
                (file(set::SBOM_BUNDLE)?, file(set::VERDICT_BUNDLE)?);
            let statements = [
                Statement {
                    predicate_type: SBOM_PREDICATE,
                    envelope: &sbom_layer,
                    bundle: &sbom_bundle,
                    att_annotations: &sbom_annotations,
                },
                Statement {
                    predicate_type: VSA_PREDICATE,
                    envelope: &verdict_layer,
                    bundle: &verdict_bundle,
                    att_annotations: &verdict_annotations,
                },
            ];
            let subjects: Vec<&crate::oci::client::Manifest> = std::iter::once(&pushed.manifest)
                .chain(index.iter())
                .collect();
            attach_statements(
                repository,
                reference,
                &subjects,
                &statements,
                &evaluated.verdict.evaluated_at,
                &directory,
            )?
        }
    };
    Ok(Attestation {
        image: image.display_name().to_string(),
        digest: image.digest().to_string(),
        result,
        outcome: evaluated.verdict.outcome,
        directory,
        attached,
    })
}

/// Why `attest --from-attestation` found nothing to renew.
#[derive(Debug, thiserror::Error)]
#[error("{image}: no attestation to renew: {detail}")]
pub struct NothingToRenew {
    pub image: String,
    pub detail: String,
}

/// `attest IMAGE --from-attestation`: the image's attestations verified with `verify_keys` (as
/// `verify` finds them: `sets_from`, or beside a registry image), its signed SBOM judged again with
/// today's data and the attested policy (which `judging.policy` must be; see
/// [`super::evaluate::evaluate_attested`]), and a fresh verdict statement signed with `key` that names
/// the same, unchanged SBOM statement. The set is written again with the SBOM's envelope as it was
/// signed; with `push`, only the verdict is attached beside the image (the newest verdict is the one
/// verifiers take). The image's layers are never read.
pub fn renew_attestation(
    context: &Context,
    image_arg: &ImageArg,
    key: &PrivateKey,
    verify_keys: &[PublicKey],
    judging: &Judging,
    options: &AttestOptions,
    sets_from: &SetsFrom,
) -> anyhow::Result<Attestation> {
    if judging.sbom.is_some() {
        return Err(UsageError(
            "--from-attestation judges the signed SBOM: --sbom is not for it".into(),
        )
        .into());
    }
    let target = if options.push {
        Some(registry_target(context, image_arg)?)
    } else {
        None
    };
    context.stage("verifying the attestations to renew");
    let requirements = Requirements::default();
    // Key-signed statements only: the renewed set's SBOM bundle names the key that signed it.
    let signers = crate::verify::Signers::keys(verify_keys.to_vec());
    let checked = verify_image(
        context,
        image_arg,
        &Trust {
            signers: &signers,
            requirements: &requirements,
            layouts: &[Layout::Referrers, Layout::Att],
            rejudge: None,
        },
        judging.platform,
        sets_from,
    )?;
    let nothing = |detail: String| NothingToRenew {
        image: image_arg.text.clone(),
        detail,
    };
    if checked.len() > 1 {
        return Err(UsageError(format!(
            "{image_arg}: an index of {} images a client could take: renew each by its digest (registry:REPO@sha256:...) or name --platform",
            checked.len()
        ))
        .into());
    }
    let reports = match checked.into_iter().next().map(|c| c.sets) {
        Some(CheckedSets::Reports(reports)) => reports,
        Some(CheckedSets::Missing(missing)) => return Err(nothing(missing.to_string()).into()),
        Some(CheckedSets::NoneInRegistry { looked_in }) => {
            return Err(nothing(format!(
                "none beside it in the registry (looked in: {})",
                looked_in.join(", ")
            ))
            .into())
        }
        None => return Err(nothing("the image names none".into()).into()),
    };
    let failures: Vec<String> = reports
        .iter()
        .flat_map(|r| r.checks.iter().filter(|c| !c.passed))
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    let Some(trusted) = reports.into_iter().find_map(|r| r.trusted) else {
        return Err(nothing(format!(
            "none verifies with the key(s) given: {}",
            failures.join("; ")
        ))
        .into());
    };
    let policy = judging.policy;
    if !trusted.policy_digest.eq_ignore_ascii_case(&policy.digest) {
        return Err(UsageError(format!(
            "the attested verdict was judged with policy {}, and the policy given ({}) is {}: pass the attested policy with --policy",
            trusted.policy_digest, policy.source, policy.digest
        ))
        .into());
    }

    // The signed SBOM, and the image as it recorded it: it must be the image its statement names.
    let statement: crate::attest::statement::Statement =
        serde_json::from_slice(&trusted.sbom_statement)?;
    let image = crate::sbom::read::recorded_image(&statement.predicate, &image_arg.text)
        .map_err(|e| nothing(format!("the signed SBOM: {e}")))?;
    let subject = AttestedImage::from_subjects(&statement.subject, &image.id).ok_or_else(|| {
        nothing(format!(
            "the signed SBOM records image {}, which its statement's subjects do not name",
            image.id
        ))
    })?;
    context.stage("judging the signed SBOM with today's data");
    let evaluated = evaluate_attested(
        context,
        image,
        Sbom::Saved(statement.predicate),
        &trusted.verdict,
        judging,
    )?;

    context.stage("signing the renewed verdict");
    let verdict_json = serde_json::to_value(&evaluated.verdict)?;
    let result = result_of(&evaluated.verdict);
    let verdict_statement = signed_verdict(
        &set_input(&subject, &verdict_json, &evaluated.verdict),
        &trusted.sbom_statement,
        key,
    )?;
    // The SBOM's bundle carries the key that signed it (one of `verify_keys`).
    let (_, sbom_key) = trusted
        .sbom_envelope
        .verify(verify_keys)
        .map_err(|e| nothing(format!("the SBOM envelope: {e}")))?;
    let sbom_document = evaluated.sbom.document()?;
    let files = vec![
        SetFile::json(set::SBOM_FILE, &*sbom_document),
        SetFile::json(set::VERDICT_FILE, &verdict_json),
        SetFile::json(set::SBOM_ENVELOPE, &trusted.sbom_envelope),
        SetFile::json(set::VERDICT_ENVELOPE, verdict_statement.envelope()),
        SetFile::json(set::SBOM_BUNDLE, bundle(&trusted.sbom_envelope, sbom_key)),
        SetFile::json(
            set::VERDICT_BUNDLE,
            bundle(verdict_statement.envelope(), key.public()),
        ),
    ];
    let digest = subject
        .manifest_digest
        .clone()
        .unwrap_or_else(|| subject.config_digest.clone());
    let directory = write_set(options.output_dir, &digest, &files)?;

    let attached = match target {
        None => Vec::new(),
        Some((reference, credentials, _)) => {
            context.stage(&format!(
                "attaching the renewed verdict to {}",
                reference.whole()
            ));
            let repository = Repository::new(&reference, &credentials)?;
            let resolved = resolve(&repository, &reference, judging.platform)?;
            if resolved.config_digest.as_deref() != Some(subject.config_digest.as_str()) {
                anyhow::bail!(
                    "{}: the registry's manifest {} is of image {}, not {}: nothing attached",
                    reference.whole(),
                    resolved.manifest.digest,
                    resolved.config_digest.as_deref().unwrap_or("(none)"),
                    subject.config_digest
                );
            }
            let index = published_index(context, &reference, &resolved);
            let envelope = set_file_bytes(&files, set::VERDICT_ENVELOPE)?;
            let bundle = set_file_bytes(&files, set::VERDICT_BUNDLE)?;
            let statements = [Statement {
                predicate_type: VSA_PREDICATE,
                envelope: &envelope,
                bundle: &bundle,
                att_annotations: &Default::default(),
            }];
            let subjects: Vec<&crate::oci::client::Manifest> = std::iter::once(&resolved.manifest)
                .chain(index.iter())
                .collect();
            attach_statements(
                &repository,
                &reference,
                &subjects,
                &statements,
                &evaluated.verdict.evaluated_at,
                &directory,
            )?
        }
    };
    Ok(Attestation {
        image: evaluated.image.display_name().to_string(),
        digest,
        result,
        outcome: evaluated.verdict.outcome,
        directory,
        attached,
    })
}
