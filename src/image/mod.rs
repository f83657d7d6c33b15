//! Image sources behind one `IMAGE` argument, and the [`Image`] they produce.
//!
//! `docker:NAME` (or a bare name or ID) reads from the engine; `docker-archive:PATH` a `docker save`
//! tar (legacy or OCI layout); `oci-archive:PATH` and `oci-dir:PATH` an OCI image layout. Every source
//! goes through the same single layer pass ([`crate::layers`]) and returns the image's identity and
//! config together with the squashed [`FileIndex`] of the files the catalogers asked for.

mod archive;
pub mod base;
pub mod config;
pub mod dockerfile;
mod engine_source;
mod layout;
mod oci_dir;
pub use crate::oci::platform;
mod registry_source;

pub use config::ImageConfig;
pub use engine_source::{
    container_image, inspect_only, running_containers, tagged_images, InspectedImage,
    RunningContainer,
};
pub use platform::{host_architecture, Platform};

use crate::engine::{Connection, EngineError};
use crate::layers::{squash, squash_with_views, FileIndex, Limits, Wanted};
use crate::oci::digest::sha256_digest;
use layout::{locate, Located};
use std::path::PathBuf;

/// Where an image comes from, parsed from the `IMAGE` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    Engine(String),
    DockerArchive(PathBuf),
    OciArchive(PathBuf),
    OciDir(PathBuf),
    Registry(String),
}

impl ImageSource {
    /// Parses `docker:NAME`, `docker-archive:PATH`, `oci-archive:PATH`, `oci-dir:PATH`,
    /// `registry:REF`, or a bare engine image name or ID.
    pub fn parse(arg: &str) -> Result<ImageSource, crate::UsageError> {
        let non_empty = |rest: &str, scheme: &str| {
            if rest.is_empty() {
                Err(crate::UsageError(format!(
                    "{scheme}: needs a value after the colon (e.g. {scheme}:...)"
                )))
            } else {
                Ok(rest.to_string())
            }
        };
        if arg.is_empty() {
            return Err(crate::UsageError("IMAGE must not be empty".into()));
        }
        if arg.starts_with("sbom:") {
            return Err(crate::UsageError(format!(
                "{arg}: sbom:FILE names an SBOM, not an image: only `scan` and `check` judge one"
            )));
        }
        let source = if let Some(rest) = arg.strip_prefix("docker-archive:") {
            ImageSource::DockerArchive(non_empty(rest, "docker-archive")?.into())
        } else if let Some(rest) = arg.strip_prefix("oci-archive:") {
            ImageSource::OciArchive(non_empty(rest, "oci-archive")?.into())
        } else if let Some(rest) = arg.strip_prefix("oci-dir:") {
            ImageSource::OciDir(non_empty(rest, "oci-dir")?.into())
        } else if let Some(rest) = arg.strip_prefix("registry:") {
            let rest = non_empty(rest, "registry")?;
            crate::oci::parse_reference(&rest)
                .map_err(|e| crate::UsageError(format!("registry:{rest}: {e}")))?;
            ImageSource::Registry(rest)
        } else if let Some(rest) = arg.strip_prefix("docker:") {
            ImageSource::Engine(non_empty(rest, "docker")?)
        } else {
            ImageSource::Engine(arg.to_string())
        };
        Ok(source)
    }

    /// The scheme name, as used in `vouch:image:source` and messages.
    pub fn scheme(&self) -> &'static str {
        match self {
            ImageSource::Engine(_) => "docker",
            ImageSource::DockerArchive(_) => "docker-archive",
            ImageSource::OciArchive(_) => "oci-archive",
            ImageSource::OciDir(_) => "oci-dir",
            ImageSource::Registry(_) => "registry",
        }
    }
}

/// An `IMAGE` argument, parsed once: as the user wrote it (for messages and the SBOM's
/// reference) and the source it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageArg {
    pub text: String,
    pub source: ImageSource,
}

impl ImageArg {
    /// Parses an `IMAGE` argument (see [`ImageSource::parse`]).
    pub fn parse(text: &str) -> Result<ImageArg, crate::UsageError> {
        Ok(ImageArg {
            text: text.to_string(),
            source: ImageSource::parse(text)?,
        })
    }
}

/// What `scan` and `check` judge: an image, or (`sbom:FILE`) the SBOM vouch wrote of one, judged
/// without reading the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Image(ImageArg),
    Sbom { text: String, path: PathBuf },
}

impl Subject {
    pub fn parse(text: &str) -> Result<Subject, crate::UsageError> {
        match text.strip_prefix("sbom:") {
            Some("") => Err(crate::UsageError(
                "sbom: needs a value after the colon (sbom:FILE)".into(),
            )),
            Some(path) => Ok(Subject::Sbom {
                text: text.to_string(),
                path: PathBuf::from(path),
            }),
            None => ImageArg::parse(text).map(Subject::Image),
        }
    }
}

impl std::fmt::Display for ImageArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why an image could not be read. Every variant names the input.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{input}: image not found: {detail}")]
    NotFound { input: String, detail: String },
    #[error("{input}: {detail}")]
    Io { input: String, detail: String },
    #[error("{input}: not a tar archive of an image ({detail})")]
    NotAnArchive { input: String, detail: String },
    #[error("{input}: the archive is truncated or corrupt ({detail})")]
    Truncated { input: String, detail: String },
    #[error("{input}: {detail}")]
    Layout { input: String, detail: String },
    #[error("{input}: layer {layer}: {detail}")]
    Layer {
        input: String,
        layer: String,
        detail: String,
    },
    #[error("{input}: {what} has digest {actual} but the image says {expected}: the image is corrupt or was tampered with")]
    DigestMismatch {
        input: String,
        what: String,
        expected: String,
        actual: String,
    },
}

/// One layer of the image, lowest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// sha256 of the uncompressed layer tar, as computed while reading it.
    pub diff_id: String,
    /// Digest of the stored blob (equal to `diff_id` for uncompressed `docker save` layers).
    pub blob_digest: String,
    pub uncompressed_size: u64,
    pub entry_count: u64,
    /// The build instruction that made the layer, from the image's history, where it says.
    pub created_by: Option<String>,
}

/// An image's identity and configuration.
#[derive(Debug, Clone)]
pub struct Image {
    /// The `IMAGE` argument as given.
    pub reference: String,
    pub source: &'static str,
    /// `repo:tag` when known.
    pub name: Option<String>,
    pub repo_tags: Vec<String>,
    /// The image ID: sha256 of the config document.
    pub id: String,
    /// The registry manifest digest, when known (OCI layout, or the engine's RepoDigests).
    pub manifest_digest: Option<String>,
    pub repo_digests: Vec<String>,
    pub config: ImageConfig,
    pub layers: Vec<LayerInfo>,
}

impl Image {
    /// The digest that best identifies the image: the manifest digest, else the image ID.
    pub fn digest(&self) -> &str {
        self.manifest_digest.as_deref().unwrap_or(&self.id)
    }

    /// A layer for tables: its 1-based position and short diffID (`3 0123456789ab`).
    pub fn layer_label(&self, index: usize) -> String {
        match self.layers.get(index) {
            Some(layer) => format!("{} {}", index + 1, short_digest(&layer.diff_id)),
            None => (index + 1).to_string(),
        }
    }

    /// A short name for humans: the tag, else the reference.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.reference)
    }
}

/// An image read in one pass: identity, the squashed index of wanted files, and warnings.
#[derive(Debug)]
pub struct ReadImage {
    pub image: Image,
    pub files: FileIndex,
    /// The squashed view after each layer but the last, lowest first: empty unless the read was
    /// asked for them ([`Wanted::with_layer_views`]).
    pub earlier_views: Vec<FileIndex>,
    pub warnings: Vec<String>,
}

/// Reads the image `reference` from its source, keeping the files `wanted` asks for. The engine
/// is only connected to for engine images; registry credentials come from `docker_config`
/// (the docker CLI's config directory). `platform` picks the image of a multi-platform index (see
/// [`platform`]); the image read must be of that platform, whatever its source.
pub fn read_image<'e>(
    reference: &str,
    source: &ImageSource,
    engine: impl FnOnce() -> Result<&'e Connection, EngineError>,
    docker_config: &std::path::Path,
    wanted: &Wanted,
    limits: &Limits,
    platform: Option<&Platform>,
) -> Result<ReadImage, ImageError> {
    let scheme = source.scheme();
    match source {
        ImageSource::Engine(name) => {
            let (engine_image, mut scan) =
                engine_source::read_from_engine(engine()?, name, wanted, limits)?;
            let input = format!("docker:{name}");
            let located = locate(&mut scan, &input, platform)?;
            let mut read = assemble(
                reference,
                scheme,
                &input,
                located,
                scan.warnings,
                platform,
                wanted,
            )?;
            if !engine_image.id.is_empty() && engine_image.id != read.image.id {
                return Err(ImageError::DigestMismatch {
                    input,
                    what: "the exported image config".into(),
                    expected: engine_image.id,
                    actual: read.image.id,
                });
            }
            let image = &mut read.image;
            image.repo_digests = engine_image.repo_digests;
            image.manifest_digest = image
                .repo_digests
                .first()
                .and_then(|d| d.split_once('@'))
                .map(|(_, digest)| digest.to_string());
            if !engine_image.repo_tags.is_empty() {
                image.repo_tags = engine_image.repo_tags;
            }
            let looks_like_id = name.starts_with("sha256:")
                || (name.len() >= 12 && name.bytes().all(|b| b.is_ascii_hexdigit()));
            image.name = if looks_like_id {
                image.repo_tags.first().cloned()
            } else {
                Some(name.clone())
            };
            Ok(read)
        }
        ImageSource::DockerArchive(path) | ImageSource::OciArchive(path) => {
            let input = format!("{scheme}:{}", path.display());
            let file = open_file(&input, path)?;
            let mut scan = archive::scan_archive_file(file, path, &input, wanted, limits)?;
            let located = locate(&mut scan, &input, platform)?;
            assemble(
                reference,
                scheme,
                &input,
                located,
                scan.warnings,
                platform,
                wanted,
            )
        }
        ImageSource::OciDir(path) => {
            let mut dir = oci_dir::OciDir::open(path, wanted, limits)?;
            let input = dir.input().to_string();
            let located = locate(&mut dir, &input, platform)?;
            assemble(
                reference,
                scheme,
                &input,
                located,
                Vec::new(),
                platform,
                wanted,
            )
        }
        ImageSource::Registry(text) => {
            read_registry_image(reference, text, docker_config, wanted, limits, platform)
        }
    }
}

/// `registry:REF`: resolves the reference (an index to this machine's platform) and reads the
/// image's blobs from the registry.
fn read_registry_image(
    reference: &str,
    text: &str,
    docker_config: &std::path::Path,
    wanted: &Wanted,
    limits: &Limits,
    platform: Option<&Platform>,
) -> Result<ReadImage, ImageError> {
    use crate::oci::resolve::open_image;
    use crate::oci::{parse_reference, RegistryError};
    let input = format!("registry:{text}");
    let failed = |detail: String| ImageError::Io {
        input: input.clone(),
        detail,
    };
    let parsed = parse_reference(text).map_err(|e| failed(e.to_string()))?;
    let (repository, resolved) = match open_image(docker_config, &parsed, platform) {
        Ok(opened) => opened,
        Err(RegistryError::NotFound { reference }) => {
            return Err(ImageError::NotFound {
                input,
                detail: format!("the registry has no {reference}"),
            })
        }
        Err(e @ RegistryError::NoPlatform { .. }) => {
            return Err(ImageError::NotFound {
                input,
                detail: e.to_string(),
            })
        }
        Err(e) => return Err(failed(e.to_string())),
    };
    // The name the image is known by: the reference as written, without a digest.
    let name = parsed
        .tag()
        .map(|tag| format!("{}/{}:{tag}", parsed.registry(), parsed.repository()));
    let mut blobs = registry_source::RegistryBlobs::new(
        &repository,
        resolved.manifest,
        name.clone(),
        input.clone(),
        wanted,
        limits,
    );
    let located = locate(&mut blobs, &input, None)?;
    let mut read = assemble(
        reference,
        "registry",
        &input,
        located,
        Vec::new(),
        platform,
        wanted,
    )?;
    let image = &mut read.image;
    image.name = Some(name.unwrap_or_else(|| text.to_string()));
    image.repo_digests = image
        .manifest_digest
        .iter()
        .map(|digest| format!("{}/{}@{digest}", parsed.registry(), parsed.repository()))
        .collect();
    Ok(read)
}

fn open_file(input: &str, path: &std::path::Path) -> Result<std::fs::File, ImageError> {
    let io_error = |e: std::io::Error| ImageError::Io {
        input: input.to_string(),
        detail: format!("cannot open: {e}"),
    };
    let file = std::fs::File::open(path).map_err(io_error)?;
    if file.metadata().map_err(io_error)?.is_dir() {
        return Err(ImageError::Io {
            input: input.to_string(),
            detail: "is a directory (use oci-dir: for an OCI layout directory)".into(),
        });
    }
    Ok(file)
}

/// Builds the [`ReadImage`] from a located image: parses the config, checks every computed diffID
/// against it, and squashes the layers.
/// The image must be of the platform asked for, whatever index entry or archive it came from.
fn check_platform(config: &ImageConfig, wanted: &Platform, input: &str) -> Result<(), ImageError> {
    if platform::config_matches(
        wanted,
        config.os.as_deref(),
        config.architecture.as_deref(),
        config.variant.as_deref(),
    ) {
        return Ok(());
    }
    let mut actual = format!(
        "{}/{}",
        config.os.as_deref().unwrap_or("unknown"),
        config.architecture.as_deref().unwrap_or("unknown")
    );
    if let Some(variant) = &config.variant {
        actual = format!("{actual}/{variant}");
    }
    Err(ImageError::NotFound {
        input: input.to_string(),
        detail: format!(
            "the image is {}, not {wanted}",
            crate::text::escape_controls(&actual)
        ),
    })
}

fn assemble(
    reference: &str,
    source: &'static str,
    input: &str,
    located: Located,
    mut warnings: Vec<String>,
    platform: Option<&Platform>,
    wanted: &Wanted,
) -> Result<ReadImage, ImageError> {
    let config: ImageConfig =
        serde_json::from_slice(&located.config_bytes).map_err(|e| ImageError::Layout {
            input: input.to_string(),
            detail: format!("the image config is not valid: {e}"),
        })?;
    if let Some(wanted) = platform {
        check_platform(&config, wanted, input)?;
    }
    let declared = config.diff_ids();
    if declared.len() != located.layers.len() {
        return Err(ImageError::Layout {
            input: input.to_string(),
            detail: format!(
                "the config lists {} layers but the manifest {}",
                declared.len(),
                located.layers.len()
            ),
        });
    }
    let mut layers = Vec::with_capacity(located.layers.len());
    let mut files = Vec::with_capacity(located.layers.len());
    let mut instructions = config.layer_instructions().into_iter();
    for (i, (scanned, expected)) in located.layers.into_iter().zip(declared).enumerate() {
        if &scanned.diff_id != expected {
            return Err(ImageError::DigestMismatch {
                input: input.to_string(),
                what: format!("layer {} (uncompressed)", i + 1),
                expected: expected.clone(),
                actual: scanned.diff_id,
            });
        }
        warnings.extend(
            scanned
                .files
                .warnings
                .iter()
                .map(|w| format!("layer {}: {w}", short_digest(&scanned.diff_id))),
        );
        layers.push(LayerInfo {
            diff_id: scanned.diff_id,
            blob_digest: scanned.blob_digest,
            uncompressed_size: scanned.uncompressed_size,
            entry_count: scanned.files.entry_count,
            created_by: instructions.next().flatten(),
        });
        files.push(scanned.files);
    }
    let image = Image {
        reference: reference.to_string(),
        source,
        name: located.repo_tags.first().cloned(),
        repo_tags: located.repo_tags,
        id: sha256_digest(&located.config_bytes),
        manifest_digest: located.manifest_digest,
        repo_digests: Vec::new(),
        config,
        layers,
    };
    let (files, earlier_views) = if wanted.layer_views {
        squash_with_views(files)
    } else {
        (squash(files), Vec::new())
    };
    Ok(ReadImage {
        image,
        files,
        earlier_views,
        warnings,
    })
}

/// `registry:5000/team/app` of `registry:5000/team/app:1.0` (a registry's port is not a tag).
pub fn repository(name: &str) -> &str {
    match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => name,
    }
}

/// `sha256:0123456789ab` → `0123456789ab` (12 hex digits), for messages and tables.
pub fn short_digest(digest: &str) -> &str {
    let hex = digest.split_once(':').map(|(_, h)| h).unwrap_or(digest);
    &hex[..hex.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_of_names() {
        assert_eq!(
            repository("registry:5000/team/app:1.0"),
            "registry:5000/team/app"
        );
        assert_eq!(
            repository("registry:5000/team/app"),
            "registry:5000/team/app"
        );
        assert_eq!(repository("app"), "app");
    }

    #[test]
    fn parses_image_arguments() {
        assert_eq!(
            ImageSource::parse("debian:12").unwrap(),
            ImageSource::Engine("debian:12".into())
        );
        assert_eq!(
            ImageSource::parse("docker:docker:24").unwrap(),
            ImageSource::Engine("docker:24".into())
        );
        assert_eq!(
            ImageSource::parse("docker-archive:/tmp/a.tar").unwrap(),
            ImageSource::DockerArchive("/tmp/a.tar".into())
        );
        assert_eq!(
            ImageSource::parse("oci-dir:x").unwrap(),
            ImageSource::OciDir("x".into())
        );
        assert!(ImageSource::parse("oci-archive:").is_err());
        assert!(ImageSource::parse("").is_err());
    }
}
