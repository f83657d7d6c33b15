//! `docker vouch serve --key cosign.pub --tls-cert tls.crt --tls-key tls.key`: loads the keys and
//! the TLS material first (any problem is an error before the port is opened), then runs the
//! admission webhook of `crate::serve` until stopped. Registry credentials come from the docker
//! config directory, as for every other command.

use super::{DockerFlags, ServeArgs};
use crate::engine::config_dir;
use crate::serve::checker::Checker;
use crate::serve::{serve, tls_config, ServeOptions};
use std::collections::HashMap;
use std::process::ExitCode;

pub fn run(docker: &DockerFlags, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let keys = args.trust.keys()?;
    let tls = tls_config(&args.tls_cert, &args.tls_key)?;
    let env: HashMap<String, String> = std::env::vars().collect();
    let checker = Checker::new(
        config_dir(&docker.engine_flags(), &env),
        keys,
        args.trust.requirements(),
        args.trust.layouts(),
        args.cache_ttl,
    );
    let options = ServeOptions {
        review_timeout: args.review_timeout,
        max_connections: args.max_connections as usize,
        max_reviews: args.max_reviews as usize,
        reverify_updates: args.reverify_updates,
    };
    serve(&args.listen, tls, checker, options, |address| {
        eprintln!("vouch serve: listening on https://{address} (POST /validate, GET /healthz)");
    })?;
    Ok(ExitCode::SUCCESS)
}
