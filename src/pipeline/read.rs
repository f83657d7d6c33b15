//! The first stages: an `IMAGE` argument read in one pass (from the engine the context connects
//! to, an archive, a layout, or a registry with the context's credentials), its SBOM (cataloged
//! now, or a saved one that must describe this image), and the vulnerability findings of every
//! source given.

use super::{usage_or_failure, Context};
use crate::catalog::{self, Inventory};
use crate::image::{read_image, Image, ImageArg, Platform, ReadImage};
use crate::layers::{Limits, Wanted};
use crate::sbom::read::{Component, Sbom};
use crate::vuln::db::store::{age_seconds, default_dir, describe_age, Store};
use crate::vuln::db::DbError;
use crate::vuln::sources::{collect, Collected, SourceError, Sources};
use crate::vuln::ImageSubject;
use crate::UsageError;
use anyhow::Context as _;
use std::path::Path;

/// Reads the image `image` names, keeping the `wanted` files; of `platform` when it names an
/// index. The engine is connected to only for an engine image.
pub fn read(
    context: &Context,
    image: &ImageArg,
    wanted: &Wanted,
    platform: Option<&Platform>,
) -> anyhow::Result<ReadImage> {
    let excluding;
    let wanted = if context.exclusions().is_empty() {
        wanted
    } else {
        excluding = wanted
            .clone()
            .excluding(context.exclusions())
            .map_err(|e| UsageError(format!("--exclude: {e}")))?;
        &excluding
    };
    Ok(read_image(
        &image.text,
        &image.source,
        || context.engine(),
        context.docker_config(),
        wanted,
        &Limits::default(),
        platform,
    )?)
}

/// Which packages an SBOM lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// The image as it runs: the squashed view of its layers.
    #[default]
    Squashed,
    /// Also the packages a later layer deleted or replaced (their bytes are still in the image).
    AllLayers,
}

/// An image read and cataloged, for its SBOM: its identity and packages (the warnings of the read
/// and of the catalogers said through the context). The files read are let go once cataloged (a
/// large dpkg status is tens of MB).
pub fn catalog_image(
    context: &Context,
    image: &ImageArg,
    platform: Option<&Platform>,
    scope: Scope,
) -> anyhow::Result<(Image, Inventory)> {
    let wanted = match scope {
        Scope::Squashed => catalog::wanted(),
        Scope::AllLayers => catalog::wanted().with_layer_views(),
    };
    let read = read(context, image, &wanted, platform)?;
    let ReadImage {
        image: identity,
        files,
        earlier_views,
        warnings,
    } = read;
    let mut inventory = catalog::all_layers::catalog_all_layers(&files, &earlier_views)
        .with_context(|| format!("cataloging {image}"))?;
    inventory.excluded = context.exclusions().to_vec();
    drop(files);
    drop(earlier_views);
    for warning in warnings.iter().chain(&inventory.warnings) {
        context.warn(&format!("{image}: {warning}"));
    }
    Ok((identity, inventory))
}

/// The image's SBOM: read from `saved` (which must describe this image), else cataloged from the
/// files just read (the catalogers' warnings said through the context).
pub fn sbom_of(
    context: &Context,
    read: &ReadImage,
    saved: Option<&Path>,
    reference: &str,
) -> anyhow::Result<Sbom> {
    match saved {
        Some(path) => {
            let sbom = load_sbom(path)?;
            check_sbom_subject(&sbom, &read.image, &path.display().to_string())?;
            Ok(Sbom::Saved(sbom))
        }
        None => {
            let mut inventory =
                catalog::catalog(&read.files).with_context(|| format!("cataloging {reference}"))?;
            inventory.excluded = context.exclusions().to_vec();
            for warning in &inventory.warnings {
                context.warn(&format!("{reference}: {warning}"));
            }
            Ok(Sbom::Built {
                image: Box::new(read.image.clone()),
                inventory: Box::new(inventory),
            })
        }
    }
}

/// Largest saved SBOM read (a CycloneDX JSON SBOM of 200,000 packages is about 150 MB).
const MAX_SBOM_BYTES: u64 = 1024 * 1024 * 1024;

/// A saved CycloneDX JSON SBOM, read within [`MAX_SBOM_BYTES`].
fn load_sbom(path: &Path) -> anyhow::Result<serde_json::Value> {
    let shown = path.display();
    let bytes = crate::fsio::read_limited(path, MAX_SBOM_BYTES)
        .map_err(|e| anyhow::anyhow!("reading the SBOM {shown}: {e}"))?;
    let sbom: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| UsageError(format!("{shown}: not a JSON SBOM ({e})")))?;
    if sbom.get("bomFormat").and_then(|f| f.as_str()) != Some("CycloneDX") {
        return Err(UsageError(format!(
            "{shown}: not a CycloneDX JSON SBOM (no \"bomFormat\": \"CycloneDX\")"
        ))
        .into());
    }
    Ok(sbom)
}

/// The SBOM vouch wrote of an image (`sbom:FILE`, given as `text`) and the image as it recorded it,
/// to judge without reading the image.
pub fn recorded(path: &Path, text: &str) -> anyhow::Result<(Image, Sbom)> {
    let sbom = load_sbom(path)?;
    let image = crate::sbom::read::recorded_image(&sbom, text)
        .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
    Ok((image, Sbom::Saved(sbom)))
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

/// The sources of findings given, or, when neither `--vuln-db` nor `--vuln-report` was, the local
/// database `docker vouch db update` keeps (said in one line with its age, and a warning when it was
/// last checked more than a day ago). VEX documents given stand either way; the exploitation feeds
/// the local database holds (KEV, EPSS) are added to whichever source of findings is used.
pub fn vulnerability_sources(context: &Context, given: Sources) -> anyhow::Result<Sources> {
    let store = Store::new(default_dir(context.env()));
    if given.any() {
        // The feeds are an addition: a local database that cannot be read costs them, with a word.
        let feeds = match store.manifest() {
            Ok(manifest) => store.feed_files(&manifest),
            Err(e) => {
                context.warn(&format!("{e}: no KEV or EPSS data"));
                Vec::new()
            }
        };
        return Ok(Sources { feeds, ..given });
    }
    let manifest = store.manifest()?;
    let feeds = store.feed_files(&manifest);
    if manifest.ecosystems.is_empty() {
        return Ok(given);
    }
    let now = time::OffsetDateTime::now_utc();
    let oldest = manifest
        .ecosystems
        .values()
        .chain(manifest.feeds.values())
        .map(|fetched| age_seconds(&fetched.checked, now).unwrap_or(i64::MAX))
        .max()
        .unwrap_or_default();
    let age = match oldest {
        i64::MAX => "at an unknown time".to_string(),
        seconds => format!("{} ago", describe_age(seconds)),
    };
    let with_feeds: String = feeds
        .iter()
        .map(|file| format!(", {}", file.feed.name()))
        .collect();
    context.stage(&format!(
        "vulnerability data: the local database in {} ({} ecosystem(s){with_feeds}, checked {age})",
        store.dir.display(),
        manifest.ecosystems.len()
    ));
    if oldest > STALE_AFTER_SECONDS {
        context.warn(&format!(
            "the local vulnerability database was last checked {age}: run `docker vouch db update`"
        ));
    }
    Ok(Sources {
        db: Some(store.osv_dir()),
        feeds,
        ..given
    })
}

/// `sources` with their database indexed once (its warnings said), for many judgments in a row.
pub fn indexed(context: &Context, sources: Sources) -> anyhow::Result<Sources> {
    let shown = sources.db.as_ref().map(|p| p.display().to_string());
    let sources = sources
        .indexed()
        .map_err(|e| usage_or_failure(e, DbError::is_usage))?;
    if let (Some(shown), Some(index)) = (shown, &sources.index) {
        for warning in &index.warnings {
            context.warn(&format!("{shown}: {warning}"));
        }
    }
    Ok(sources)
}

/// When the local database is old enough to warn about: a day.
const STALE_AFTER_SECONDS: i64 = 24 * 3600;

/// The findings of every source given; `None` when none was (the policy's vulnerability rules are
/// then not applicable). VEX without a source of findings is a usage error: it would suppress
/// nothing.
pub fn vulnerability_findings(
    context: &Context,
    sources: &Sources,
    components: &[Component],
    image: &Image,
) -> anyhow::Result<Option<Collected>> {
    if !sources.any() {
        if !sources.vex.is_empty() {
            return Err(UsageError(
                "--vex needs a source of findings: --vuln-db, --vuln-report, or a local database (`docker vouch db update`)".into(),
            )
            .into());
        }
        return Ok(None);
    }
    collect_findings(context, components, &ImageSubject::of(image), sources).map(Some)
}

/// The findings of `sources` for `components` of the image `subject` names, their warnings said;
/// a source that is not one (a file that is not an OSV database, a report of another image) is a
/// usage error.
pub fn collect_findings(
    context: &Context,
    components: &[Component],
    subject: &ImageSubject,
    sources: &Sources,
) -> anyhow::Result<Collected> {
    let collected = collect(components, subject, sources)
        .map_err(|e| usage_or_failure(e, SourceError::is_usage))?;
    for warning in &collected.warnings {
        context.warn(warning);
    }
    remember_ecosystems(context, &collected.ecosystems, sources);
    Ok(collected)
}

/// When the findings came from the local database, adds the `ecosystems` looked up to those it
/// remembers for `db update --ecosystems auto` (a record that cannot be written costs a warning).
fn remember_ecosystems(
    context: &Context,
    ecosystems: &std::collections::BTreeSet<String>,
    sources: &Sources,
) {
    let store = Store::new(default_dir(context.env()));
    if sources.db.as_deref() != Some(store.osv_dir().as_path()) {
        return;
    }
    if let Err(e) = store.remember(ecosystems) {
        context.warn(&format!(
            "{e}: the ecosystems of this image are not remembered for `db update --ecosystems auto`"
        ));
    }
}

/// An image's vulnerability findings, with what they were found in.
pub struct Scanned {
    pub image: Image,
    pub sbom: Sbom,
    pub collected: Collected,
}

/// Reads the image for its packages (or takes its `saved` SBOM) and gathers the findings of every
/// source given.
pub fn scan(
    context: &Context,
    image_arg: &ImageArg,
    saved: Option<&Path>,
    sources: &Sources,
    platform: Option<&Platform>,
) -> anyhow::Result<Scanned> {
    let reference = image_arg.text.as_str();
    let read = read(context, image_arg, &catalog::wanted(), platform)?;
    let sbom = sbom_of(context, &read, saved, reference)?;
    for warning in &read.warnings {
        context.warn(&format!("{reference}: {warning}"));
    }
    let components = sbom.components();
    let collected =
        vulnerability_findings(context, sources, &components, &read.image)?.unwrap_or_default();
    Ok(Scanned {
        image: read.image,
        sbom,
        collected,
    })
}

/// Refuses the flags that read an image (`--sbom`, `--platform`) with `sbom:FILE`, which is the SBOM
/// already.
pub fn refuse_image_flags(
    text: &str,
    saved: Option<&Path>,
    platform: Option<&Platform>,
) -> anyhow::Result<()> {
    if saved.is_some() || platform.is_some() {
        return Err(UsageError(format!(
            "{text}: --sbom and --platform are for images; sbom:FILE is the SBOM already"
        ))
        .into());
    }
    Ok(())
}

/// Gathers the findings of every source given for the SBOM vouch wrote of an image (`sbom:FILE`),
/// without reading the image.
pub fn scan_recorded(
    context: &Context,
    path: &Path,
    text: &str,
    sources: &Sources,
) -> anyhow::Result<Scanned> {
    let (image, sbom) = recorded(path, text)?;
    let components = sbom.components();
    let collected =
        vulnerability_findings(context, sources, &components, &image)?.unwrap_or_default();
    Ok(Scanned {
        image,
        sbom,
        collected,
    })
}

/// What the registry reference `text` names now: the reference, a client for its repository (with
/// the docker config's credentials for its registry) and the walk of what it names.
pub fn reach_registry(
    context: &Context,
    text: &str,
) -> anyhow::Result<(
    oci_client::Reference,
    crate::oci::client::Repository,
    crate::oci::resolve::Reached,
)> {
    let reference = crate::oci::parse_reference(text).map_err(|e| UsageError(e.to_string()))?;
    let repository = crate::oci::resolve::open_repository(context.docker_config(), &reference)?;
    let reached = crate::oci::resolve::reach(&repository, &reference)?;
    Ok((reference, repository, reached))
}
