//! Deciding whether one container image may run, for `docker vouch serve` (and `docker vouch authz`,
//! for an engine image pulled from a registry and attested there): the image reference is
//! resolved in its registry now (a tag to the digest it names at this moment), its attestation sets
//! are read beside it, and every check of [`crate::verify`] is run, exactly as `docker vouch verify
//! registry:REF` does. Every manifest is found by the one index walk ([`crate::oci::walk`]) and
//! judged by its digest: an index is admitted only when every runnable image it holds verifies
//! (which node, and so which image, the pod gets is not known at admission).
//!
//! With [`Rejudging`] (`serve --rejudge`), a verified image's signed SBOM is also judged again by
//! the attested policy's vulnerability rules with the local database as it is now (see
//! [`crate::rejudge`]): an image with a new gating finding since its attestation is refused. The
//! database is indexed once per snapshot (its zips' and feeds' digests), and the snapshot is part
//! of the cache key: a `db update` that changed the data takes effect at the next review.
//!
//! Outcomes are cached by registry, repository and the digest the reference names, for a while
//! (the tag is resolved on every request, so a moved tag is never served from the cache).
//! Concurrent reviews of one image share one judgement; a registry that cannot be asked is
//! remembered for a few seconds (the reviews meanwhile are refused at once), never cached longer.

use crate::expiring::ExpiringMap;
use crate::oci::client::Repository;
use crate::oci::resolve::open_repository;
use crate::oci::resolve::{reach, Reached, RegistryImage};
use crate::oci::{parse_reference, RegistryError};
use crate::policy::Policy;
use crate::registry::fetch::{image_attestation_sets, Layout};
use crate::rejudge::{rejudge, Rejudge};
use crate::verify::{verify, Requirements, Signers};
use crate::vuln::db::store::Store;
use crate::vuln::sources::Sources;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How one image was judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// The manifest digest the reference resolved to, when it resolved.
    pub digest: Option<String>,
    /// `None` when verified; else why not.
    pub refusal: Option<String>,
    /// Taken from the cache (or from a registry error remembered for a few seconds).
    pub cached: bool,
    /// The registry could not be asked (not cached as an outcome; remembered briefly).
    pub registry_error: bool,
}

/// How long a registry error is remembered: a dead registry is asked again after this, not on
/// every review.
const ERROR_TTL: Duration = Duration::from_secs(10);

/// A judgement in progress that other reviews of the same image wait for.
#[derive(Default)]
struct InFlight {
    outcome: Mutex<Option<Judgement>>,
    done: Condvar,
}

/// Completes an [`InFlight`] even when judging panics, so that no waiter waits forever.
struct Completion<'a> {
    checker: &'a Checker,
    image: &'a str,
    flight: Arc<InFlight>,
    outcome: Option<Judgement>,
}

impl Drop for Completion<'_> {
    fn drop(&mut self) {
        let outcome = self.outcome.take().unwrap_or_else(|| Judgement {
            digest: None,
            refusal: Some("the review failed unexpectedly".into()),
            cached: false,
            registry_error: true,
        });
        *lock(&self.flight.outcome) = Some(outcome);
        self.flight.done.notify_all();
        lock(&self.checker.in_flight).remove(self.image);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `serve --rejudge`: the attested policy, and the local database, indexed for its current snapshot.
pub struct Rejudging {
    policy: Policy,
    store: Store,
    /// The snapshot key and the sources indexed for it.
    current: Mutex<Option<(String, Arc<Sources>)>>,
}

impl Rejudging {
    /// Rejudging with `policy` against the database `store` keeps; the database is indexed now, so
    /// that a missing or unreadable one stops the server before it listens.
    pub fn new(policy: Policy, store: Store) -> Result<Rejudging, String> {
        let rejudging = Rejudging {
            policy,
            store,
            current: Mutex::new(None),
        };
        rejudging.sources()?;
        Ok(rejudging)
    }

    /// The database as it is now: its snapshot key and sources (indexed again when `db update`
    /// changed its data; concurrent reviews wait for the one indexing).
    fn sources(&self) -> Result<(String, Arc<Sources>), String> {
        let manifest = self.store.manifest().map_err(|e| e.to_string())?;
        if manifest.ecosystems.is_empty() {
            return Err(format!(
                "{}: no vulnerability database to judge with (run `docker vouch db update`)",
                self.store.dir.display()
            ));
        }
        let snapshot: String = manifest
            .ecosystems
            .iter()
            .chain(&manifest.feeds)
            .map(|(name, fetched)| format!("{name}={};", fetched.digest))
            .collect();
        let mut current = lock(&self.current);
        if let Some((key, sources)) = current.as_ref() {
            if *key == snapshot {
                return Ok((key.clone(), sources.clone()));
            }
        }
        let sources = Sources {
            db: Some(self.store.osv_dir()),
            feeds: self.store.feed_files(&manifest),
            ..Default::default()
        };
        let sources = Arc::new(sources.indexed().map_err(|e| e.to_string())?);
        *current = Some((snapshot.clone(), sources.clone()));
        Ok((snapshot, sources))
    }
}

pub struct Checker {
    docker_config: PathBuf,
    signers: Signers,
    requirements: Requirements,
    layouts: Vec<Layout>,
    /// Outcomes (`None`: verified, else the refusal) by registry, repository and digest.
    outcomes: ExpiringMap<Option<String>>,
    /// Registry errors by image reference, remembered for [`ERROR_TTL`].
    errors: ExpiringMap<Judgement>,
    /// Judgements in progress by image reference: concurrent reviews of one image share one.
    in_flight: Mutex<HashMap<String, Arc<InFlight>>>,
    rejudging: Option<Rejudging>,
}

impl Checker {
    pub fn new(
        docker_config: PathBuf,
        signers: Signers,
        requirements: Requirements,
        layouts: Vec<Layout>,
        ttl: Duration,
        rejudging: Option<Rejudging>,
    ) -> Self {
        Checker {
            docker_config,
            signers,
            requirements,
            layouts,
            outcomes: ExpiringMap::new(ttl),
            errors: ExpiringMap::new(ERROR_TTL),
            in_flight: Mutex::new(HashMap::new()),
            rejudging,
        }
    }

    /// Judges `image` (a reference as a pod spec writes it). When it names an index, every runnable
    /// image reachable from it (through nested indexes, each by its own digest) must verify: the
    /// node the pod will run on, and so the image its runtime pulls, is not known here.
    ///
    /// Concurrent judgements of the same reference share one; a registry error is remembered for
    /// [`ERROR_TTL`] (the reviews meanwhile are refused with it at once).
    pub fn judge(&self, image: &str) -> Judgement {
        if let Some(remembered) = self.remembered_error(image) {
            return remembered;
        }
        let (flight, leader) = {
            let mut in_flight = lock(&self.in_flight);
            match in_flight.get(image) {
                Some(flight) => (flight.clone(), false),
                None => {
                    let flight = Arc::new(InFlight::default());
                    in_flight.insert(image.to_string(), flight.clone());
                    (flight, true)
                }
            }
        };
        if !leader {
            let mut outcome = lock(&flight.outcome);
            while outcome.is_none() {
                outcome = flight
                    .done
                    .wait(outcome)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            return outcome.clone().unwrap_or_else(|| unreachable!());
        }
        let mut completion = Completion {
            checker: self,
            image,
            flight,
            outcome: None,
        };
        let judged = self.judge_now(image);
        if judged.registry_error {
            self.errors.put(image, judged.clone());
        }
        completion.outcome = Some(judged.clone());
        judged
    }

    fn remembered_error(&self, image: &str) -> Option<Judgement> {
        let (age, judged) = self.errors.get(image)?;
        Some(Judgement {
            refusal: judged
                .refusal
                .as_ref()
                .map(|why| format!("{why} (the registry error of {} s ago)", age.as_secs())),
            cached: true,
            ..judged
        })
    }

    fn judge_now(&self, image: &str) -> Judgement {
        let refused = |digest: Option<String>, why: String| Judgement {
            digest,
            refusal: Some(why),
            cached: false,
            registry_error: false,
        };
        let unreachable = |digest: Option<String>, why: String| Judgement {
            digest,
            refusal: Some(why),
            cached: false,
            registry_error: true,
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
            Err(e @ (RegistryError::Request { .. } | RegistryError::Io { .. })) => {
                return unreachable(None, format!("cannot be resolved in its registry: {e}"))
            }
            Err(e) => return refused(None, format!("cannot be resolved in its registry: {e}")),
        };
        let digest = reached.root.digest.clone();
        // With rejudging, the database as it is now: its snapshot is part of the key.
        let today = match self.rejudging.as_ref().map(Rejudging::sources).transpose() {
            Ok(today) => today,
            Err(why) => {
                return refused(
                    Some(digest),
                    format!("NOT VERIFIED: cannot be judged again: {why}"),
                )
            }
        };
        // What the reference names determines everything below it; the same digest in another
        // repository is another question (its attestations live there).
        let key = format!(
            "{}/{}@{digest}{}",
            reference.resolve_registry(),
            reference.repository(),
            today
                .as_ref()
                .map(|(snapshot, _)| format!("#{snapshot}"))
                .unwrap_or_default()
        );
        if let Some((_, refusal)) = self.outcomes.get(&key) {
            return Judgement {
                digest: Some(digest),
                refusal,
                cached: true,
                registry_error: false,
            };
        }
        let sources = today.as_ref().map(|(_, sources)| sources.as_ref());
        let refusal = match self.every_runnable(image, &repository, &reached, sources) {
            Ok(refusal) => refusal,
            // Registry errors are not cached as outcomes (only remembered briefly).
            Err(why) => return unreachable(Some(digest), why),
        };
        self.outcomes.put(&key, refusal.clone());
        Judgement {
            digest: Some(digest),
            refusal,
            cached: false,
            registry_error: false,
        }
    }

    /// Every runnable manifest `reached` holds, judged by its digest; the refusals name the
    /// platform and the manifest.
    fn every_runnable(
        &self,
        image: &str,
        repository: &Repository,
        reached: &Reached,
        sources: Option<&Sources>,
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
                Ok(resolved) => self.refusal_of(image, repository, &resolved, sources)?,
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
        sources: Option<&Sources>,
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
        let mut reports: Vec<_> = sets
            .iter()
            .map(|set| verify(image, &digests, set, &self.signers, &self.requirements, now))
            .collect();
        if let (Some(rejudging), Some(sources)) = (&self.rejudging, sources) {
            let asked = Rejudge {
                policy: &rejudging.policy,
                sources,
            };
            for report in &mut reports {
                if let Err(e) = rejudge(report, &asked) {
                    report.add_check(
                        crate::rejudge::CHECK,
                        Err(format!("cannot be judged again: {e}")),
                    );
                }
            }
        }
        if reports.iter().any(|r| r.verified) {
            return Ok(None);
        }
        Ok(Some(format!(
            "NOT VERIFIED: {}",
            crate::verify::failed_checks(&reports)
        )))
    }
}
