//! `docker vouch serve --key cosign.pub --tls-cert tls.crt --tls-key tls.key`: loads the keys and
//! the TLS material first (any problem is an error before the port is opened), then runs the
//! admission webhook of `crate::serve` until stopped. Registry credentials come from the docker
//! config directory, as for every other command.

use super::ServeArgs;
use crate::pipeline::Context;
use crate::policy::rules::runtime::RuntimeRules;
use crate::registry::checker::{Checker, Rejudging};
use crate::serve::{serve, tls_config, ServeOptions};
use std::process::ExitCode;

pub fn run(context: &Context, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let signers = args.trust.signers(context)?;
    let tls = tls_config(&args.tls_cert, &args.tls_key)?;
    // The policy's runtime rules weigh every container; with --rejudge, its vulnerability rules
    // judge the attested SBOMs again (the built-in default when no --policy is given).
    let runtime = match &args.policy {
        Some(path) => RuntimeRules::of(super::load_policy(Some(path))?),
        None => RuntimeRules::default(),
    };
    let rejudging = if args.rejudge {
        let policy = super::load_policy(args.policy.as_deref())?;
        let store = super::db::store_of(context, &args.db);
        Some(Rejudging::new(policy, store).map_err(|e| anyhow::anyhow!("--rejudge: {e}"))?)
    } else {
        None
    };
    let checker = Checker::new(
        context.docker_config().to_path_buf(),
        signers,
        args.trust.requirements(),
        args.trust.layouts(),
        args.cache_ttl,
        rejudging,
    );
    let options = ServeOptions {
        review_timeout: args.review_timeout,
        max_connections: args.max_connections as usize,
        max_reviews: args.max_reviews as usize,
        reverify_updates: args.reverify_updates,
        runtime: std::sync::Arc::new(runtime),
        mode: args.mode,
    };
    serve(&args.listen, tls, checker, options, |address| {
        eprintln!("vouch serve: listening on https://{address} (POST /validate, GET /healthz)");
    })?;
    Ok(ExitCode::SUCCESS)
}
