//! What a reference names in its registry now: the manifest or index it names, walked through any
//! nesting of indexes ([`super::walk`]), and the image manifest a client of a platform takes.

use super::client::{Manifest, Repository};
use super::platform::Platform;
use super::walk::{is_index, walk, Choice, Leaf, Tree, Unchosen, WalkError};
use super::RegistryError;
use oci_client::Reference;

/// An image as the registry holds it now.
#[derive(Debug, Clone)]
pub struct RegistryImage {
    /// The image manifest: the one the reference names, or, when it names an image index, the
    /// index's entry a client takes for the platform (see [`crate::oci::walk::Tree::choose`]).
    pub manifest: Manifest,
    /// The index the reference named, when it named one.
    pub index: Option<Manifest>,
    /// The image config digest (the image ID).
    pub config_digest: Option<String>,
    /// How many runnable manifests the index holds (through nested indexes), when there is one.
    pub index_runnable: usize,
}

impl RegistryImage {
    /// The digests an attestation subject must name for this image: the image manifest digest, and
    /// the index the reference named when that index holds no other runnable image (what cosign
    /// attests when given such a tag). Never the image ID alone: another manifest may reuse this
    /// config with other layers.
    pub fn digests(&self) -> Vec<String> {
        std::iter::once(self.manifest.digest.clone())
            .chain(self.index_as_subject().map(|index| index.digest.clone()))
            .collect()
    }

    /// The index digest, when it may stand for this image in a subject (see [`Self::digests`]).
    pub fn index_as_subject(&self) -> Option<&Manifest> {
        self.index.as_ref().filter(|_| self.index_runnable == 1)
    }
}

/// What a reference names in its registry now: the manifest or index, and every manifest reachable
/// from it ([`crate::oci::walk`]).
#[derive(Debug, Clone)]
pub struct Reached {
    pub reference: Reference,
    pub root: Manifest,
    pub tree: Tree,
}

/// Fetches what `reference` (a tag or digest) names and walks it.
pub fn reach(repository: &Repository, reference: &Reference) -> Result<Reached, RegistryError> {
    let tag_or_digest = reference
        .digest()
        .or(reference.tag())
        .unwrap_or("latest")
        .to_string();
    let root = repository
        .manifest(&tag_or_digest)?
        .ok_or_else(|| RegistryError::NotFound {
            reference: reference.whole(),
        })?;
    let tree = walk(&root.digest, &root.bytes, |digest| {
        repository.manifest(digest).map(|m| m.map(|m| m.bytes))
    })
    .map_err(|e| match e {
        WalkError::Fetch(e) => e,
        WalkError::Invalid { what, detail } => RegistryError::Invalid {
            what: format!("{what} of {}", reference.whole()),
            detail,
        },
    })?;
    Ok(Reached {
        reference: reference.clone(),
        root,
        tree,
    })
}

impl Reached {
    /// The image one leaf of the walk is, fetched by its digest and checked to be an image manifest.
    pub fn image(
        &self,
        repository: &Repository,
        leaf: &Leaf,
    ) -> Result<RegistryImage, RegistryError> {
        let invalid = |detail: String| RegistryError::Invalid {
            what: format!("manifest {} of {}", leaf.digest, self.reference.whole()),
            detail,
        };
        let manifest = if self.tree.is_index {
            // Fetched by digest: the client checks the content against it.
            repository.manifest(&leaf.digest)?.ok_or_else(|| {
                invalid("the index names it, but the registry does not have it".into())
            })?
        } else {
            self.root.clone()
        };
        if is_index(&manifest.bytes) {
            return Err(invalid(
                "it is an image index, but its entry says image manifest".into(),
            ));
        }
        let parsed = manifest_json(&self.reference, &manifest)?;
        Ok(RegistryImage {
            config_digest: parsed["config"]["digest"].as_str().map(str::to_string),
            manifest,
            index: self.tree.is_index.then(|| self.root.clone()),
            index_runnable: self.tree.runnable().len(),
        })
    }

    /// What a client asking for `platform` (this machine's when `None`) takes, and what other
    /// clients of that platform might. Without a platform, an index none of whose images this
    /// machine runs gives its first runnable image, and every runnable image as what others take.
    pub fn choose(&self, platform: Option<&Platform>) -> Result<Choice<'_>, RegistryError> {
        self.tree
            .choose_for(platform)
            .map_err(|unchosen| match unchosen {
                Unchosen::NoPlatform => RegistryError::NoPlatform {
                    reference: self.reference.whole(),
                    platform: platform.map(Platform::to_string).unwrap_or_default(),
                    available: self.tree.describe_platforms(),
                },
                Unchosen::NoRunnable => RegistryError::Invalid {
                    what: format!(
                        "image index {} of {}",
                        self.root.digest,
                        self.reference.whole()
                    ),
                    detail: "it lists no runnable image manifest".into(),
                },
            })
    }
}

/// Resolves `reference` (a tag or digest) in `repository` to the image manifest a client asking
/// for `platform` (else this machine's) takes, through any nesting of indexes.
pub fn resolve(
    repository: &Repository,
    reference: &Reference,
    platform: Option<&Platform>,
) -> Result<RegistryImage, RegistryError> {
    let reached = reach(repository, reference)?;
    let choice = reached.choose(platform)?;
    reached.image(repository, choice.chosen)
}

fn manifest_json(
    reference: &Reference,
    manifest: &Manifest,
) -> Result<serde_json::Value, RegistryError> {
    serde_json::from_slice(&manifest.bytes).map_err(|e| RegistryError::Invalid {
        what: format!("manifest {} of {}", manifest.digest, reference.whole()),
        detail: format!("not JSON ({e})"),
    })
}

/// The repository of `reference` (with the docker config's credentials for its registry) and the
/// image it names now (of `platform` when it names an index, see [`resolve`]).
pub fn open_image(
    docker_config: &std::path::Path,
    reference: &oci_client::Reference,
    platform: Option<&Platform>,
) -> Result<(Repository, RegistryImage), RegistryError> {
    let repository = open_repository(docker_config, reference)?;
    let image = resolve(&repository, reference, platform)?;
    Ok((repository, image))
}

/// A client for the repository of `reference`, with the docker config's credentials for its
/// registry.
pub fn open_repository(
    docker_config: &std::path::Path,
    reference: &oci_client::Reference,
) -> Result<Repository, RegistryError> {
    let credentials = super::auth::credentials_for(docker_config, reference.registry())?;
    Repository::new(reference, &credentials)
}
