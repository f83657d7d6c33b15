//! `docker vouch attest IMAGE --key cosign.key [--push]` (or `--keyless`): the signer is made first
//! (a wrong password or identity token costs nothing), then the policy is loaded; the image (or,
//! for a registry index of several runnable images and no `--platform`, each of them by its digest)
//! goes through `pipeline::attest`, and a summary line per image is printed.

use super::render::attestation_summary;
use super::AttestArgs;
use crate::image::ImageArg;
use crate::pipeline::attest::{
    attest_image, images_to_attest, load_key, renew_attestation, AttestOptions, NothingToRenew,
};
use crate::pipeline::verify::SetsFrom;
use crate::pipeline::Context;
use crate::UsageError;
use std::process::ExitCode;

/// Exit code of `--from-attestation` when no attestation of the image verifies.
pub const EXIT_NOTHING_TO_RENEW: u8 = 1;

pub fn run(context: &Context, args: &AttestArgs) -> anyhow::Result<ExitCode> {
    // The signer first (a wrong password or token costs nothing); renewals sign with a key.
    let signer = if args.from_attestation {
        if args.keyless.keyless {
            return Err(UsageError(
                "--from-attestation renews with a key: --keyless is not for it".into(),
            )
            .into());
        }
        Err(load_key(&args.key)?)
    } else {
        Ok(args.keyless.signer(&args.key)?)
    };
    let policy = args.evaluation.load_policy()?;
    let image = ImageArg::parse(&args.image)?;
    let platform = args.platform.platform.as_ref();
    let sources = args.evaluation.vulnerabilities.sources(context)?;
    let judging = args.evaluation.judging(&policy, &sources, platform);
    let options = AttestOptions {
        output_dir: &args.output_dir,
        push: args.push,
    };
    let signer = match signer {
        Ok(signer) => signer,
        Err(key) => return renew(context, args, &image, &key, &judging, &options),
    };
    if !args.verify_key.is_empty() {
        return Err(UsageError("--verify-key is for --from-attestation".into()).into());
    }
    for image in images_to_attest(context, &image, platform)? {
        let attestation = attest_image(context, &image, signer.as_ref(), &judging, &options)?;
        println!("{}", attestation_summary(&attestation));
    }
    Ok(ExitCode::SUCCESS)
}

/// `attest --from-attestation`: the image's verified set renewed, signed with `key`.
fn renew(
    context: &Context,
    args: &AttestArgs,
    image: &ImageArg,
    key: &crate::attest::keys::PrivateKey,
    judging: &crate::pipeline::evaluate::Judging,
    options: &AttestOptions,
) -> anyhow::Result<ExitCode> {
    {
        let verify_keys = args
            .verify_key
            .iter()
            .map(|path| crate::attest::keys::PublicKey::load(path))
            .collect::<Result<Vec<_>, _>>()?;
        let sets_from = SetsFrom {
            local: args.attestations.as_deref(),
            default_dir: &args.output_dir,
        };
        match renew_attestation(
            context,
            image,
            key,
            &verify_keys,
            judging,
            options,
            &sets_from,
        ) {
            Ok(attestation) => {
                println!("{}", attestation_summary(&attestation));
                Ok(ExitCode::SUCCESS)
            }
            Err(e) if e.downcast_ref::<NothingToRenew>().is_some() => {
                eprintln!(
                    "docker vouch: {}",
                    crate::text::escape_controls_in_lines(&format!("{e:#}"))
                );
                Ok(ExitCode::from(EXIT_NOTHING_TO_RENEW))
            }
            Err(e) => Err(e),
        }
    }
}
