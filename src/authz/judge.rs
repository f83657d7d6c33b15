//! What `authz` decides with: an image, as the engine holds it now (its ID and repository
//! digests, from the engine's inspect), verified against its attestation set in a local directory
//! by every check of [`crate::verify`], exactly as `docker vouch verify docker:IMAGE --attestations
//! DIR` does; an image with no local set that was pulled from a registry is verified there, by the
//! digest it was pulled by, as `serve` verifies it ([`crate::registry::checker`]). An image that
//! verified is remembered by its ID for a while (an ID names the same
//! bytes forever; the cache only bounds how long a verdict's age, a key or a set removed from the
//! directory goes unseen); refusals are not remembered (the image may be attested a moment later),
//! and an engine that cannot be asked is a refusal.

use super::{Decision, Judge, Privileges};
use crate::attest::set::{load_set, SetError};
use crate::engine::{Connection, Endpoint, EngineError};
use crate::expiring::ExpiringMap;
use crate::image::{container_image, inspect_only, ImageError, InspectedImage};
use crate::policy::rules::runtime::RuntimeRules;
use crate::registry::checker::Checker;
use crate::verify::{failed_checks, verify, Requirements, Signers};
use std::path::PathBuf;
use std::time::Duration;

pub struct EngineJudge {
    endpoint: Endpoint,
    /// Connected on the first decision, not at startup: the engine activates its plugins when it
    /// starts, and the plugin must answer before the engine answers anyone.
    engine: std::sync::OnceLock<Connection>,
    signers: Signers,
    requirements: Requirements,
    /// Where the attestation sets are (`attest --output-dir`).
    sets: PathBuf,
    /// Outcomes by image ID: `Err` says why it does not verify.
    outcomes: ExpiringMap<Result<(), String>>,
    /// The policy's `runtime` rules (none without `--policy`).
    runtime: RuntimeRules,
    /// Where an image without a local set is looked for: beside it in the registry it came from.
    registry: Checker,
}

impl EngineJudge {
    pub fn new(
        endpoint: Endpoint,
        signers: Signers,
        requirements: Requirements,
        sets: PathBuf,
        cache_ttl: Duration,
        runtime: RuntimeRules,
        registry: Checker,
    ) -> EngineJudge {
        EngineJudge {
            endpoint,
            engine: std::sync::OnceLock::new(),
            signers,
            requirements,
            sets,
            outcomes: ExpiringMap::new(cache_ttl),
            runtime,
            registry,
        }
    }

    /// The decision on the image `found` (named `shown` in messages), from the cache when it holds
    /// one for its ID.
    fn judge_found(&self, shown: &str, found: InspectedImage) -> Decision {
        let id = found.id.clone();
        let (outcome, cached) = match self.outcomes.get(&id) {
            Some((_, outcome)) => (outcome, " (cached)"),
            None => {
                let outcome = self.verify(found);
                // Only what verified is kept: an image refused now may be attested a minute later
                // (and a refusal costs an inspect and a directory lookup to repeat).
                if outcome.is_ok() {
                    self.outcomes.put(&id, outcome.clone());
                }
                (outcome, "")
            }
        };
        match outcome {
            Ok(()) => Decision::Allow(format!("{shown} ({id}) verified{cached}")),
            Err(why) => Decision::Refuse(format!("{shown} ({id}): NOT VERIFIED: {why}")),
        }
    }

    /// Verifies the image `found` against its set: why not, when it does not.
    fn verify(&self, found: InspectedImage) -> Result<(), String> {
        let digests = found.subject_digests();
        match load_set(&self.sets, &digests, self.signers.keyless.is_some()) {
            Ok(set) => {
                let now = time::OffsetDateTime::now_utc();
                let report = verify(&found.id, &digests, &set, &self.signers, &self.requirements, now);
                if report.verified {
                    Ok(())
                } else {
                    Err(failed_checks(std::slice::from_ref(&report)))
                }
            }
            Err(SetError::Missing { .. }) => self.verify_in_registry(&found).map_err(|registry| {
                format!(
                    "no vouch attestations for it in {}{registry} (attest it with `docker vouch attest` or `docker vouch build`)",
                    self.sets.display()
                )
            }),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Verifies an image that has no local set in the registries it was pulled from (its
    /// repository digests, `registry/repo@sha256:...`), as `serve` does: `Ok` when one verifies,
    /// else what each said (empty for an image that came from no registry).
    fn verify_in_registry(&self, found: &InspectedImage) -> Result<(), String> {
        let mut said = Vec::new();
        for reference in &found.repo_digests {
            match self.registry.judge(reference).refusal {
                None => return Ok(()),
                Some(why) => said.push(format!("{reference}: {why}")),
            }
        }
        if said.is_empty() {
            Err(String::new())
        } else {
            Err(format!(", nor in its registry ({})", said.join("; ")))
        }
    }

    /// The engine, connected to now if it was not yet (a failure is tried again next time).
    fn engine(&self) -> Result<&Connection, EngineError> {
        if let Some(engine) = self.engine.get() {
            return Ok(engine);
        }
        let engine = Connection::open(self.endpoint.clone())?;
        Ok(self.engine.get_or_init(|| engine))
    }

    fn engine_failed(&self, shown: &str, error: &dyn std::fmt::Display) -> Decision {
        Decision::Refuse(format!(
            "{shown}: the engine could not be asked about it ({error}): refused"
        ))
    }

    /// The image the container `name` runs, inspected; `None` when there is no such container.
    fn container_image(
        &self,
        engine: &Connection,
        name: &str,
    ) -> Result<Option<InspectedImage>, ImageError> {
        match container_image(engine, name)? {
            Some(id) => inspect_only(engine, &id).map(Some),
            None => Ok(None),
        }
    }

    /// `decision` (of the image), then the privileges `asked` weighed against the runtime rules:
    /// the `deny` rules' findings refuse, the `warn` rules' are said beside the allowance.
    fn with_privileges(
        &self,
        decision: Decision,
        shown: &str,
        asked: &Privileges,
        image_user: Option<&str>,
    ) -> Decision {
        let Decision::Allow(why) = decision else {
            return decision;
        };
        let weighed = self.runtime.weigh(asked, image_user);
        if !weighed.refused.is_empty() {
            Decision::Refuse(format!(
                "{shown}: not allowed by the policy's runtime rules: {}",
                weighed.refused.join("; ")
            ))
        } else if weighed.warned.is_empty() {
            Decision::Allow(why)
        } else {
            Decision::Allow(format!("{why}; warned: {}", weighed.warned.join("; ")))
        }
    }
}

impl Judge for EngineJudge {
    fn image(&self, reference: &str, asked: &Privileges) -> Decision {
        let engine = match self.engine() {
            Ok(engine) => engine,
            Err(e) => return self.engine_failed(reference, &e),
        };
        match inspect_only(engine, reference) {
            Ok(found) => {
                let user = found.user.clone();
                let decision = self.judge_found(reference, found);
                self.with_privileges(decision, reference, asked, user.as_deref())
            }
            // The engine answers this create with "no such image"; `docker run` then pulls and
            // creates again, judged then; and a start is judged by the image the container has.
            Err(ImageError::NotFound { .. }) => self.with_privileges(
                Decision::Allow(format!(
                    "{reference}: not in the engine (the create fails; what is pulled is judged at the next create and at start)"
                )),
                reference,
                asked,
                None,
            ),
            Err(e) => self.engine_failed(reference, &e),
        }
    }

    fn container(&self, name: &str) -> Decision {
        let shown = format!("container {name}");
        let engine = match self.engine() {
            Ok(engine) => engine,
            Err(e) => return self.engine_failed(&shown, &e),
        };
        match self.container_image(engine, name) {
            Ok(Some(found)) => self.judge_found(&shown, found),
            Ok(None) => Decision::Allow(format!(
                "{shown}: no such container (the engine answers 404)"
            )),
            Err(e) => self.engine_failed(&shown, &e),
        }
    }

    fn exec(&self, name: &str, asked: &Privileges) -> Decision {
        let shown = format!("exec in container {name}");
        if self.runtime.is_empty() {
            return Decision::Allow(format!("{shown}: no runtime rule"));
        }
        let engine = match self.engine() {
            Ok(engine) => engine,
            Err(e) => return self.engine_failed(&shown, &e),
        };
        let user = match self.container_image(engine, name) {
            Ok(Some(found)) => found.user,
            Ok(None) => {
                return Decision::Allow(format!(
                    "{shown}: no such container (the engine answers 404)"
                ))
            }
            Err(e) => return self.engine_failed(&shown, &e),
        };
        self.with_privileges(
            Decision::Allow(shown.clone()),
            &shown,
            asked,
            user.as_deref(),
        )
    }

    fn volume(&self, asked: &Privileges) -> Decision {
        let shown = "a volume binding a host path".to_string();
        self.with_privileges(Decision::Allow(shown.clone()), &shown, asked, None)
    }
}
