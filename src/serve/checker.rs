//! Deciding whether one container image may run, for `docker vouch serve`: the image reference is
//! resolved in its registry now (a tag to the digest it names at this moment; an index to this
//! machine's platform), its attestation sets are read beside it, and every check of
//! [`crate::verify`] is run, exactly as `docker vouch verify registry:REF` does. Outcomes are cached
//! by manifest digest for a while (the tag is resolved on every request, so a moved tag is never
//! served from the cache); registry errors are not cached.

use crate::attest::keys::PublicKey;
use crate::registry::fetch::{image_attestation_sets, open_image, Layout};
use crate::registry::parse_reference;
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

    /// Judges `image` (a reference as a pod spec writes it).
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
        // The index matters too: a tag moved to another index of the same image may carry other
        // attestations.
        let key = match &resolved.index {
            Some(index) => format!("{}/{digest}", index.digest),
            None => digest.clone(),
        };
        if let Some(refusal) = self.cached(&key) {
            return Judgement {
                digest: Some(digest),
                refusal,
                cached: true,
            };
        }
        let (sets, unreadable) = match image_attestation_sets(&repository, &resolved, &self.layouts)
        {
            Ok(found) => found,
            Err(e) => {
                return refused(
                    Some(digest),
                    format!("its attestations cannot be read: {e}"),
                )
            }
        };
        let refusal = if sets.is_empty() {
            let looked: Vec<&str> = self.layouts.iter().map(|l| l.name()).collect();
            let mut why = format!(
                "NOT VERIFIED: no vouch attestations beside it in the registry (looked in: {})",
                looked.join(", ")
            );
            for message in unreadable {
                why.push_str(&format!("; {message}"));
            }
            Some(why)
        } else {
            let now = time::OffsetDateTime::now_utc();
            let digests = resolved.digests();
            let reports: Vec<_> = sets
                .iter()
                .map(|set| verify(image, &digests, set, &self.keys, &self.requirements, now))
                .collect();
            if reports.iter().any(|r| r.verified) {
                None
            } else {
                // Each failed check once, however many sets failed it.
                let mut failed: Vec<String> = Vec::new();
                for check in reports.iter().flat_map(|r| &r.checks).filter(|c| !c.passed) {
                    let line = format!("{}: {}", check.name, check.detail);
                    if !failed.contains(&line) {
                        failed.push(line);
                    }
                }
                Some(format!("NOT VERIFIED: {}", failed.join("; ")))
            }
        };
        self.remember(&key, refusal.clone());
        Judgement {
            digest: Some(digest),
            refusal,
            cached: false,
        }
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
