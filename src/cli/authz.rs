//! `docker vouch authz --key cosign.pub [--attestations DIR] [--socket PATH]`: loads the keys and
//! reaches the engine first (any problem is an error before the socket is opened), then serves the
//! engine authorization plugin of `crate::authz` until stopped.

use super::AuthzArgs;
use crate::authz::judge::EngineJudge;
use crate::authz::{serve, AuthzError, AuthzOptions};
use crate::pipeline::Context;
use crate::policy::rules::runtime::RuntimeRules;
use crate::registry::checker::Checker;
use crate::UsageError;
use std::process::ExitCode;
use std::sync::Arc;

pub fn run(context: &Context, args: &AuthzArgs) -> anyhow::Result<ExitCode> {
    let signers = args.trust.signers(context)?;
    // The engine the plugin asks about images and containers: the one the docker CLI's flags and
    // environment name (the engine the plugin serves), connected to at the first decision.
    let endpoint = context.endpoint()?;
    let sets = std::path::absolute(&args.attestations)?;
    let runtime = match &args.policy {
        Some(path) => RuntimeRules::of(super::load_policy(Some(path))?),
        None => RuntimeRules::default(),
    };
    // An image with no local set is looked for beside it in the registry it was pulled from.
    let registry = Checker::new(
        context.docker_config().to_path_buf(),
        signers.clone(),
        args.trust.requirements(),
        args.trust.layouts(),
        args.cache_ttl,
        None,
    );
    let judge = EngineJudge::new(
        endpoint,
        signers,
        args.trust.requirements(),
        sets.clone(),
        args.cache_ttl,
        runtime,
        registry,
    );
    let options = AuthzOptions {
        decision_timeout: args.decision_timeout,
        max_decisions: args.max_decisions as usize,
    };
    let served = serve(&args.socket, Arc::new(judge), options, |socket| {
        eprintln!(
            "vouch authz: listening on {} (attestations in {})",
            socket.display(),
            sets.display()
        );
    });
    match served {
        Err(e @ AuthzError::NotASocket { .. }) => Err(UsageError(e.to_string()).into()),
        other => Ok(other.map(|()| ExitCode::SUCCESS)?),
    }
}
