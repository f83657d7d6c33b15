//! Deciding whether one container image may run, for `docker vouch serve`: the image reference is
//! resolved in its registry now (a tag to the digest it names at this moment), its attestation sets
//! are read beside it, and every check of [`crate::verify`] is run, exactly as `docker vouch verify
//! registry:REF` does. An index is admitted only when every runnable image it holds verifies
//! (which node, and so which image, the pod gets is not known at admission).
//! Every manifest is found by the one index walk ([`crate::oci::walk`]) and judged by its digest.
//! Outcomes are cached by registry, repository and the digest the reference names, for a while
//! (the tag is resolved on every request, so a moved tag is never served from the cache); registry
//! errors are not cached.

use crate::attest::keys::PublicKey;
use crate::registry::client::Repository;
use crate::registry::fetch::{image_attestation_sets, open_repository, Layout};
use crate::registry::{parse_reference, reach, Reached, RegistryError, RegistryImage};
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

    /// Judges `image` (a reference as a pod spec writes it). When it names an index, every runnable
    /// image reachable from it (through nested indexes, each by its own digest) must verify: the
    /// node the pod will run on, and so the image its runtime pulls, is not known here.
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
        let repository = match open_repository(&self.docker_config, &reference) {
            Ok(repository) => repository,
            Err(e) => return refused(None, format!("cannot be resolved in its registry: {e}")),
        };
        let reached = match reach(&repository, &reference) {
            Ok(reached) => reached,
            Err(e) => return refused(None, format!("cannot be resolved in its registry: {e}")),
        };
        let digest = reached.root.digest.clone();
        // What the reference names determines everything below it; the same digest in another
        // repository is another question (its attestations live there).
        let key = format!(
            "{}/{}@{digest}",
            reference.resolve_registry(),
            reference.repository()
        );
        if let Some(refusal) = self.cached(&key) {
            return Judgement {
                digest: Some(digest),
                refusal,
                cached: true,
            };
        }
        let refusal = match self.every_runnable(image, &repository, &reached) {
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

    /// Every runnable manifest `reached` holds, judged by its digest; the refusals name the
    /// platform and the manifest.
    fn every_runnable(
        &self,
        image: &str,
        repository: &Repository,
        reached: &Reached,
    ) -> Result<Option<String>, String> {
        let runnable = reached.tree.runnable();
        if runnable.is_empty() {
            return Ok(Some(format!(
                "NOT VERIFIED: the image index {} lists no runnable image",
                reached.root.digest
            )));
        }
        let mut refusals = Vec::new();
        for leaf in &runnable {
            let why = match reached.image(repository, leaf) {
                Ok(resolved) => self.refusal_of(image, repository, &resolved)?,
                // A manifest that is not what its index says is a refusal, not an outage.
                Err(e @ RegistryError::Invalid { .. }) => Some(format!("NOT VERIFIED: {e}")),
                Err(e) => return Err(format!("cannot be resolved in its registry: {e}")),
            };
            if let Some(why) = why {
                refusals.push(if reached.tree.is_index {
                    format!(
                        "its {} image {}: {why}",
                        leaf.describe_platform(),
                        leaf.digest
                    )
                } else {
                    why
                });
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
