//! `docker vouch attest IMAGE --key cosign.key`: the SBOM and the policy verdict of the image, each
//! as an in-toto statement signed into a DSSE envelope and a Sigstore bundle, written as one set
//! under `DIR/sha256-<hex>/` (see `attest::set`). The key is loaded first, so a wrong password
//! costs nothing. The verdict is attested whether it passed or not; `verify --require-pass` is where
//! a FAILED verdict stops a deployment.

use super::check::{evaluate_image, load_policy};
use super::{AttestArgs, DockerFlags};
use crate::attest::keys::{password, PrivateKey};
use crate::attest::set::write_set;
use crate::attest::statement::AttestedImage;
use crate::attest::{signed_set, SetInput};
use crate::policy::verdict::Outcome;
use crate::UsageError;
use std::process::ExitCode;

pub fn run(docker: &DockerFlags, args: &AttestArgs) -> anyhow::Result<ExitCode> {
    let policy = load_policy(&args.evaluation)?;
    let password = password(
        &format!("Enter password for {}: ", args.key.display()),
        false,
    )?;
    let key = PrivateKey::load(&args.key, password.as_bytes())?;
    let evaluated = evaluate_image(docker, &args.image, &policy, &args.evaluation, args.quiet)?;
    let image = &evaluated.image;
    let subject = AttestedImage {
        name: image
            .name
            .as_deref()
            .map(crate::image::repository)
            .unwrap_or(&image.reference)
            .to_string(),
        manifest_digest: image.manifest_digest.clone(),
        config_digest: image.id.clone(),
    };
    if subject.subjects().is_empty() {
        return Err(UsageError(format!(
            "{}: the image has no sha256 digest",
            image.reference
        ))
        .into());
    }

    let verdict_json = serde_json::to_value(&evaluated.verdict)?;
    let result = match evaluated.verdict.outcome {
        Outcome::Passed => "PASSED",
        Outcome::Failed => "FAILED",
    };
    let files = signed_set(
        &SetInput {
            subject: &subject,
            sbom: &evaluated.sbom,
            verdict: &verdict_json,
            result,
            time_verified: &evaluated.verdict.evaluated_at,
            policy_source: &evaluated.verdict.policy.source,
            policy_digest: &evaluated.verdict.policy.digest,
        },
        &key,
    )?;
    let written = write_set(&args.output_dir, image.digest(), &files)?;
    println!(
        "{} ({}): verdict {result}; attestations in {}",
        image.display_name(),
        image.digest(),
        written.display()
    );
    Ok(ExitCode::SUCCESS)
}
