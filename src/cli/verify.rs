//! `docker vouch verify IMAGE --key cosign.pub`: resolve the image's digests now (engine inspect,
//! or the archive's own), find its attestation set, and run every check of `crate::verify`.
//! Exit 0 when all pass, 1 when any fails, 3 when the image or the set cannot be read.

use super::inputs::read_image_arg;
use super::{DockerFlags, VerifyArgs, VerifyFormat};
use crate::attest::keys::PublicKey;
use crate::attest::set::{load_set, SetError};
use crate::engine::resolve_endpoint;
use crate::image::{inspect_only, ImageSource};
use crate::layers::Wanted;
use crate::output::write_result;
use crate::verify::{verify, Requirements};
use std::collections::HashMap;
use std::process::ExitCode;

/// Exit code of a failed verification.
pub const EXIT_UNVERIFIED: u8 = 1;

pub fn run(docker: &DockerFlags, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let keys: Vec<PublicKey> = args
        .key
        .iter()
        .map(|path| PublicKey::load(path))
        .collect::<Result<_, _>>()?;
    let digests = image_digests(docker, &args.image)?;
    let set = match load_set(&args.attestations, &digests) {
        Ok(set) => set,
        // No attestations is a verification failure, not a runtime error: the image is not
        // vouched for.
        Err(missing @ SetError::Missing { .. }) => {
            eprintln!("{}: NOT VERIFIED: {missing}", args.image);
            return Ok(ExitCode::from(EXIT_UNVERIFIED));
        }
        Err(other) => return Err(other.into()),
    };
    let requirements = Requirements {
        require_pass: args.require_pass,
        max_age: args.max_age,
        policy_digest: args.policy_digest.clone(),
    };
    let report = verify(
        &args.image,
        &digests,
        &set,
        &keys,
        &requirements,
        time::OffsetDateTime::now_utc(),
    );
    let mut rendered = Vec::new();
    match args.format {
        VerifyFormat::Json => {
            serde_json::to_writer_pretty(&mut rendered, &report)?;
            rendered.push(b'\n');
        }
        VerifyFormat::Table => {
            use std::io::Write;
            writeln!(
                rendered,
                "Image:        {} ({})",
                report.image,
                report.digests.join(", ")
            )?;
            writeln!(rendered, "Attestations: {}", report.attestations)?;
            writeln!(rendered)?;
            for check in &report.checks {
                let mark = if check.passed { "ok  " } else { "FAIL" };
                writeln!(rendered, "{mark}  {:<22} {}", check.name, check.detail)?;
            }
            writeln!(rendered)?;
            writeln!(
                rendered,
                "{}",
                if report.verified {
                    "VERIFIED"
                } else {
                    "NOT VERIFIED"
                }
            )?;
        }
    }
    write_result(None, &rendered)?;
    Ok(if report.verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNVERIFIED)
    })
}

/// The image ID and manifest digests the image has now: an engine image is only inspected (its
/// repo digests and ID); an archive or layout is read for its own digests.
fn image_digests(docker: &DockerFlags, reference: &str) -> anyhow::Result<Vec<String>> {
    let ImageSource::Engine(name) = ImageSource::parse(reference)? else {
        let read = read_image_arg(docker, reference, &Wanted::from_globs(std::iter::empty())?)?;
        return Ok(read
            .image
            .manifest_digest
            .iter()
            .chain(std::iter::once(&read.image.id))
            .cloned()
            .collect());
    };
    let env: HashMap<String, String> = std::env::vars().collect();
    let found = inspect_only(&resolve_endpoint(&docker.engine_flags(), &env)?, &name)?;
    Ok(found
        .repo_digests
        .iter()
        .filter_map(|d| d.rsplit_once('@').map(|(_, d)| d.to_string()))
        .chain(std::iter::once(found.id))
        .collect())
}
