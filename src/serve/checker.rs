//! Deciding whether one container image may run, for `docker vouch serve`: the image reference is
//! resolved in its registry now (a tag to the digest it names at this moment), its attestation sets
//! are read beside it, and every check of [`crate::verify`] is run, exactly as `docker vouch verify
//! registry:REF` does. An index of several platforms is admitted only when the image of each
//! platform verifies (which node, and so which image, the pod gets is not known at admission).
//! Outcomes are cached by manifest (or index) digest for a while (the tag is resolved on every
//! request, so a moved tag is never served from the cache); registry errors are not cached.

use crate::attest::keys::PublicKey;
use crate::image::Platform;
use crate::registry::client::Repository;
use crate::registry::fetch::{image_attestation_sets, open_image, Layout};
use crate::registry::{index_platforms, parse_reference, resolve, RegistryImage};
use crate::verify::{verify, Requirements};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most cached outcomes kept (an entry is a digest and a short message).
const CACHE_LIMIT: usize = 10_000;

/// How one image was judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// The manifest digest the reference resolved to, when it resolved.
    pub digest: Option<String>,
    /// `None` when verified; else why not.
    pub refusal: Option<String>,
    /// Taken from the cache.
    pub cached: bool,
}

pub struct Checker {
    docker_config: PathBuf,
    keys: Vec<PublicKey>,
    requirements: Requirements,
    layouts: Vec<Layout>,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Option<String>)>>,
}

impl Checker {
    pub fn new(
        docker_config: PathBuf,
        keys: Vec<PublicKey>,
        requirements: Requirements,
        layouts: Vec<Layout>,
        ttl: Duration,
    ) -> Self {
        Checker {
            docker_config,
            keys,
            requirements,
            layouts,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Judges `image` (a reference as a pod spec writes it). When it names an index of several
    /// platforms, every image the index lists must verify: the node the pod will run on (and so the
    /// image its kubelet pulls) is not known here.
    pub fn judge(&self, image: &str) -> Judgement {
        let refused = |digest: Option<String>, why: String| Judgement {
            digest,
            refusal: Some(why),
            cached: false,
        };
        let reference = match parse_reference(image) {
            Ok(reference) => reference,
            Err(e) => return refused(None, e.to_string()),
        };
        let (repository, resolved) = match open_image(&self.docker_config, &reference, None) {
            Ok(opened) => opened,
            Err(e) => return refused(None, format!("cannot be resolved in its registry: {e}")),
        };
        let digest = resolved.manifest.digest.clone();
        // The index, when there is one, determines every manifest below it.
        let key = resolved
            .index
            .as_ref()
            .map_or_else(|| digest.clone(), |index| index.digest.clone());
        if let Some(refusal) = self.cached(&key) {
            return Judgement {
                digest: Some(digest),
                refusal,
                cached: true,
            };
        }
        let platforms = match &resolved.index {
            Some(index) => match index_platforms(&reference, index) {
                Ok(platforms) => platforms,
                Err(e) => return refused(Some(digest), e.to_string()),
            },
            None => Vec::new(),
        };
        let outcome = if platforms.len() > 1 {
            self.every_platform(image, &reference, &repository, &resolved, &platforms)
        } else {
            self.refusal_of(image, &repository, &resolved)
        };
        let refusal = match outcome {
            Ok(refusal) => refusal,
            // Registry errors are not remembered.
            Err(why) => return refused(Some(digest), why),
        };
        self.remember(&key, refusal.clone());
        Judgement {
            digest: Some(digest),
            refusal,
            cached: false,
        }
    }

    /// Each platform's image of the index `resolved` came through, judged; the refusals name the
    /// platform and the manifest.
    fn every_platform(
        &self,
        image: &str,
        reference: &oci_client::Reference,
        repository: &Repository,
        resolved: &RegistryImage,
        platforms: &[String],
    ) -> Result<Option<String>, String> {
        let Some(index) = &resolved.index else {
            return self.refusal_of(image, repository, resolved);
        };
        // By digest: the tag may move while the platforms are read.
        let pinned = oci_client::Reference::with_digest(
            reference.registry().to_string(),
            reference.repository().to_string(),
            index.digest.clone(),
        );
        let mut refusals = Vec::new();
        for name in platforms {
            let platform = match name.parse::<Platform>() {
                Ok(platform) => platform,
                Err(e) => {
                    refusals.push(format!("index entry {e}"));
                    continue;
                }
            };
            let image_of_platform = resolve(repository, &pinned, Some(&platform))
                .map_err(|e| format!("cannot be resolved in its registry: {e}"))?;
            if let Some(why) = self.refusal_of(image, repository, &image_of_platform)? {
                refusals.push(format!(
                    "its {name} image {}: {why}",
                    image_of_platform.manifest.digest
                ));
            }
        }
        Ok((!refusals.is_empty()).then(|| refusals.join("; ")))
    }

    /// Why `resolved` may not run (`None`: verified), or a registry error (`Err`).
    fn refusal_of(
        &self,
        image: &str,
        repository: &Repository,
        resolved: &RegistryImage,
    ) -> Result<Option<String>, String> {
        let (sets, unreadable) = image_attestation_sets(repository, resolved, &self.layouts)
            .map_err(|e| format!("its attestations cannot be read: {e}"))?;
        if sets.is_empty() {
            let looked: Vec<&str> = self.layouts.iter().map(|l| l.name()).collect();
            let mut why = format!(
                "NOT VERIFIED: no vouch attestations beside it in the registry (looked in: {})",
                looked.join(", ")
            );
            for message in unreadable {
                why.push_str(&format!("; {message}"));
            }
            return Ok(Some(why));
        }
        let now = time::OffsetDateTime::now_utc();
        let digests = resolved.digests();
        let reports: Vec<_> = sets
            .iter()
            .map(|set| verify(image, &digests, set, &self.keys, &self.requirements, now))
            .collect();
        if reports.iter().any(|r| r.verified) {
            return Ok(None);
        }
        // Each failed check once, however many sets failed it.
        let mut failed: Vec<String> = Vec::new();
        for check in reports.iter().flat_map(|r| &r.checks).filter(|c| !c.passed) {
            let line = format!("{}: {}", check.name, check.detail);
            if !failed.contains(&line) {
                failed.push(line);
            }
        }
        Ok(Some(format!("NOT VERIFIED: {}", failed.join("; "))))
    }

    fn cached(&self, digest: &str) -> Option<Option<String>> {
        let cache = self.cache.lock().ok()?;
        let (at, refusal) = cache.get(digest)?;
        (at.elapsed() < self.ttl).then(|| refusal.clone())
    }

    fn remember(&self, digest: &str, refusal: Option<String>) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= CACHE_LIMIT {
            let ttl = self.ttl;
            cache.retain(|_, (at, _)| at.elapsed() < ttl);
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
        }
        cache.insert(digest.to_string(), (Instant::now(), refusal));
    }
}
