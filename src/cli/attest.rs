//! `docker vouch attest IMAGE --key cosign.key [--push]`: the key is loaded first (a wrong password
//! costs nothing), then the policy; the image (or, for a registry index of several runnable images
//! and no `--platform`, each of them by its digest) goes through `pipeline::attest`, and a summary
//! line per image is printed.

use super::render::attestation_summary;
use super::AttestArgs;
use crate::image::ImageArg;
use crate::pipeline::attest::{attest_image, images_to_attest, load_key, AttestOptions};
use crate::pipeline::Context;
use std::process::ExitCode;

pub fn run(context: &Context, args: &AttestArgs) -> anyhow::Result<ExitCode> {
    let key = load_key(&args.key)?;
    let policy = args.evaluation.load_policy()?;
    let image = ImageArg::parse(&args.image)?;
    let platform = args.platform.platform.as_ref();
    let sources = args.evaluation.vulnerabilities.sources(context)?;
    let judging = args.evaluation.judging(&policy, &sources, platform);
    let options = AttestOptions {
        output_dir: &args.output_dir,
        push: args.push,
    };
    for image in images_to_attest(context, &image, platform)? {
        let attestation = attest_image(context, &image, &key, &judging, &options)?;
        println!("{}", attestation_summary(&attestation));
    }
    Ok(ExitCode::SUCCESS)
}
