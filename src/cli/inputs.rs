//! What `check` and `scan` both take in: the SBOM (made now from the image just read, or a saved
//! one refused when it describes another image) and the vulnerability findings of every source
//! given on the command line, with their warnings printed.

use super::{DockerFlags, VulnSourceArgs};
use crate::catalog;
use crate::engine::{config_dir, resolve_endpoint};
use crate::image::{read_image, Image, ImageSource, ReadImage};
use crate::layers::{Limits, Wanted};
use crate::sbom::read::Sbom;
use crate::vuln::sources::{collect, Collected, Sources};
use crate::vuln::ImageSubject;
use crate::UsageError;
use anyhow::Context;
use std::collections::HashMap;
use std::path::Path;

/// Reads the image an `IMAGE` argument names (from the engine the docker flags select, or an
/// archive or layout), keeping the `wanted` files; of `platform` when it names an index.
pub fn read_image_arg(
    docker: &DockerFlags,
    reference: &str,
    wanted: &Wanted,
    platform: Option<&crate::image::Platform>,
) -> anyhow::Result<ReadImage> {
    let source = ImageSource::parse(reference)?;
    let env: HashMap<String, String> = std::env::vars().collect();
    let engine_flags = docker.engine_flags();
    Ok(read_image(
        reference,
        &source,
        || resolve_endpoint(&engine_flags, &env),
        &config_dir(&engine_flags, &env),
        wanted,
        &Limits::default(),
        platform,
    )?)
}

/// The image's SBOM: read from `saved` (which must describe this image), else cataloged from the
/// files just read.
pub fn sbom_of(
    read: &ReadImage,
    saved: Option<&Path>,
    reference: &str,
    quiet: bool,
) -> anyhow::Result<Sbom> {
    match saved {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("reading the SBOM {}", path.display()))?;
            let sbom: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| UsageError(format!("{}: not a JSON SBOM ({e})", path.display())))?;
            check_sbom_subject(&sbom, &read.image, &path.display().to_string())?;
            Ok(Sbom::Saved(sbom))
        }
        None => {
            let inventory =
                catalog::catalog(&read.files).with_context(|| format!("cataloging {reference}"))?;
            if !quiet {
                for warning in &inventory.warnings {
                    eprintln!(
                        "{}",
                        crate::text::escape_controls(&format!("warning: {reference}: {warning}"))
                    );
                }
            }
            Ok(Sbom::Built {
                image: Box::new(read.image.clone()),
                inventory,
            })
        }
    }
}

/// Refuses an SBOM that describes another image.
fn check_sbom_subject(sbom: &serde_json::Value, image: &Image, name: &str) -> anyhow::Result<()> {
    let properties = sbom
        .pointer("/metadata/component/properties")
        .and_then(|p| p.as_array())
        .cloned()
        .unwrap_or_default();
    let id = properties
        .iter()
        .find(|p| p["name"] == "vouch:image:id")
        .and_then(|p| p["value"].as_str());
    match id {
        Some(id) if id == image.id => Ok(()),
        Some(id) => Err(UsageError(format!(
            "{name} describes image {id}, not {} ({})",
            image.id, image.reference
        ))
        .into()),
        None => Err(UsageError(format!(
            "{name} does not say which image it describes (no vouch:image:id property); generate it with `docker vouch sbom`"
        ))
        .into()),
    }
}

impl VulnSourceArgs {
    pub fn sources(&self) -> Sources {
        Sources {
            db: self.vuln_db.clone(),
            reports: self.vuln_report.clone(),
            vex: self.vex.clone(),
        }
    }
}

/// The findings of every source given; `None` when none was (the policy's vulnerability rules are
/// then not applicable). VEX without a source of findings is a usage error: it would suppress
/// nothing.
pub fn vulnerability_findings(
    args: &VulnSourceArgs,
    components: &[crate::sbom::read::Component],
    image: &Image,
    quiet: bool,
) -> anyhow::Result<Option<Collected>> {
    let sources = args.sources();
    if !sources.any() {
        if !sources.vex.is_empty() {
            return Err(UsageError(
                "--vex needs a source of findings: --vuln-db or --vuln-report".into(),
            )
            .into());
        }
        return Ok(None);
    }
    let collected = collect(components, &ImageSubject::of(image), &sources).map_err(|e| {
        if e.is_usage() {
            anyhow::Error::new(UsageError(e.to_string()))
        } else {
            anyhow::Error::new(e)
        }
    })?;
    if !quiet {
        for warning in &collected.warnings {
            eprintln!(
                "{}",
                crate::text::escape_controls(&format!("warning: {warning}"))
            );
        }
    }
    Ok(Some(collected))
}

/// What the registry reference `text` names now: the reference, a client for its repository (with
/// the docker config's credentials for its registry) and the walk of what it names.
pub fn reach_registry(
    docker: &DockerFlags,
    text: &str,
) -> anyhow::Result<(
    oci_client::Reference,
    crate::oci::client::Repository,
    crate::oci::resolve::Reached,
)> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let reference = crate::oci::parse_reference(text).map_err(|e| UsageError(e.to_string()))?;
    let repository = crate::oci::resolve::open_repository(
        &config_dir(&docker.engine_flags(), &env),
        &reference,
    )?;
    let reached = crate::oci::resolve::reach(&repository, &reference)?;
    Ok((reference, repository, reached))
}
