//! An image judged: read once (the catalogers' files, the account files, the files the policy's
//! file rules note, the private-key probe), its SBOM built or loaded, its base image found, its
//! file facts and vulnerability findings gathered, and the policy evaluated into a verdict.

use super::read::{read, recorded, refuse_image_flags, sbom_of, vulnerability_findings};
use super::Context;
use crate::catalog;
use crate::clock::now;
use crate::facts::{self, FileFacts};
use crate::image::base::{base_image, BaseImage};
use crate::image::{Image, ImageArg, Platform};
use crate::layers::Notable;
use crate::policy::input::{HistoryEntry, ImageFacts, Input};
use crate::policy::verdict::{JudgedLayers, Verdict, VulnerabilitySources};
use crate::policy::{evaluate as evaluate_policy, Policy};
use crate::sbom::read::Sbom;
use crate::vuln::sources::Sources;
use crate::vuln::VulnerabilityFinding;
use crate::UsageError;
use anyhow::Context as _;
use std::path::Path;

/// What an image is judged with.
#[derive(Debug, Clone, Copy)]
pub struct Judging<'a> {
    pub policy: &'a Policy,
    /// A saved SBOM of the image to judge instead of cataloging it now.
    pub sbom: Option<&'a Path>,
    /// The base image the user names (`--base-image`).
    pub base_image: Option<&'a str>,
    /// The sources of vulnerability findings (and VEX).
    pub sources: &'a Sources,
    /// The image of a multi-platform index to read.
    pub platform: Option<&'a Platform>,
    /// Judge only the layers above the base image (`check --only-app-layers`).
    pub only_app_layers: bool,
}

/// An image read, cataloged and judged.
pub struct Evaluated {
    pub verdict: Verdict,
    pub sbom: Sbom,
    pub image: Image,
    /// The vulnerability findings the verdict was judged with (VEX applied), when a source was
    /// given.
    pub findings: Option<Vec<VulnerabilityFinding>>,
    /// The base image, as far as it is known.
    pub base: BaseImage,
}

/// Reads the image once, builds or loads the SBOM, gathers vulnerability findings, and evaluates
/// the policy.
pub fn evaluate(
    context: &Context,
    image_arg: &ImageArg,
    judging: &Judging,
) -> anyhow::Result<Evaluated> {
    let reference = image_arg.text.as_str();
    let policy = judging.policy;
    let notable = Notable::new(&policy.noted_paths(), policy.needs_special_modes())
        .context("the policy's path patterns")?;
    let content_globs = policy.content_globs();
    let content =
        crate::layers::glob_set_of(&content_globs).context("the policy's file_content paths")?;
    let detector = policy
        .secrets_detector()
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("the policy's secrets rules")?;
    let wanted = facts::add_wanted(catalog::wanted(), notable.clone(), detector)
        .with_globs(content_globs.iter().map(String::as_str))
        .context("the policy's file_content paths")?;
    let mut read = read(context, image_arg, &wanted, judging.platform)?;

    let sbom = sbom_of(context, &read, judging.sbom, reference)?;
    // Past cataloging, only the bytes the facts read are kept.
    read.files
        .release_contents(|path| facts::keeps(path) || content.is_match(path));
    for warning in &read.warnings {
        context.warn(&format!("{reference}: {warning}"));
    }
    let file_facts = facts::collect(&read.files, &notable, &content);
    judge(context, read.image, sbom, Some(&file_facts), None, judging)
}

/// Judges the SBOM vouch wrote of an image (`sbom:FILE`), without the image: the image's identity
/// and runtime configuration as the SBOM recorded them stand in for its config, and the rules that
/// need its files (`files`) are not applicable.
pub fn evaluate_recorded(
    context: &Context,
    path: &Path,
    text: &str,
    judging: &Judging,
) -> anyhow::Result<Evaluated> {
    refuse_image_flags(text, judging.sbom, judging.platform)?;
    let (image, sbom) = recorded(path, text)?;
    judge(context, image, sbom, None, None, judging)
}

/// Judges an image again from its verified, signed SBOM (`image` as that SBOM recorded it), renewing
/// the verified verdict `prior` of the same policy: every rule is evaluated with today's data except
/// the `files` rules, whose results are carried from `prior` (see [`crate::policy::carried`]).
pub fn evaluate_attested(
    context: &Context,
    image: Image,
    sbom: Sbom,
    prior: &serde_json::Value,
    judging: &Judging,
) -> anyhow::Result<Evaluated> {
    judge(context, image, sbom, None, Some(prior), judging)
}

/// The policy applied to an image's SBOM, its configuration, and (when they were read) its files.
fn judge(
    context: &Context,
    image: Image,
    sbom: Sbom,
    file_facts: Option<&FileFacts>,
    prior: Option<&serde_json::Value>,
    judging: &Judging,
) -> anyhow::Result<Evaluated> {
    let policy = judging.policy;
    let reference = image.reference.as_str();
    let base = base_image(&image, judging.base_image, || context.engine().ok());
    if let (Some(name), Some(false)) = (&base.name, base.layers_match) {
        context.warn(&format!(
            "{reference}: its layers do not start with those of {name}"
        ));
    }
    let app_layers_from = match (judging.only_app_layers, base.layer_count) {
        (false, _) => None,
        (true, Some(count)) => Some(count),
        (true, None) => {
            return Err(UsageError(format!(
                "{reference}: --only-app-layers needs the base image's layers: name the base with \
                 --base-image, or build with the OCI base-image labels (its layers were not found \
                 at the bottom of this image's)"
            ))
            .into())
        }
    };
    let base_name = base.name.clone();
    let facts = image_facts(&image, base.clone());
    let mut components = sbom.components();
    // Every component is matched, so that a report's finding ties to the component of the layer
    // the report names (not to a same-named one of an app layer); the base's are dropped after.
    let mut vulnerabilities =
        vulnerability_findings(context, judging.sources, &components, &image)?;
    let app_files = app_layers_from.zip(file_facts).map(|(from, all)| {
        let mut app = all.clone();
        app.retain_layers_from(from);
        app
    });
    let file_facts = match app_layers_from {
        Some(from) => {
            // What no layer is known for stays judged: leaving it out could pass a base's finding.
            let judged = |layer: Option<usize>| layer.is_none_or(|i| i >= from);
            components.retain(|c| judged(c.layer_index));
            if let Some(collected) = vulnerabilities.as_mut() {
                collected.findings.retain(|f| judged(f.layer_index));
            }
            app_files.as_ref()
        }
        None => file_facts,
    };
    let (today, stamp) = now();
    let input = Input {
        image: &facts,
        components: &components,
        files: file_facts,
        prior,
        vulnerabilities: vulnerabilities.as_ref().map(|v| v.findings.as_slice()),
        sbom: &sbom,
        judged_from_layer: app_layers_from,
        today: &today,
    };
    let mut verdict = evaluate_policy(policy, &input, &stamp);
    verdict.excluded = context.exclusions().to_vec();
    verdict.judged_layers = app_layers_from.map(|from| JudgedLayers {
        from_layer: from,
        base_image: base_name,
    });
    let findings = vulnerabilities.map(|collected| {
        verdict.vulnerability_sources = Some(VulnerabilitySources {
            sources: collected.inputs,
            vex: collected.vex,
        });
        collected.findings
    });
    Ok(Evaluated {
        verdict,
        sbom,
        image,
        findings,
        base,
    })
}

/// What the policy reads of the image: its identity, runtime configuration and base.
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
        env: runtime.env.clone().unwrap_or_default(),
        history: image
            .config
            .history
            .iter()
            .flatten()
            .zip(image.config.history_layers())
            .map(|(h, layer)| HistoryEntry {
                created_by: h.created_by.clone().unwrap_or_default(),
                layer,
            })
            .collect(),
    }
}
