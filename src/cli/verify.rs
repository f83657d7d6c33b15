//! `docker vouch verify IMAGE --key cosign.pub`: `pipeline::verify` resolves the image's digests now (engine inspect,
//! the archive's own, or the registry's manifest for `registry:REF`), find its attestation set
//! (a local directory, or beside the image in the registry), and runs every check of
//! `crate::verify`; this prints the tables. In a registry each layout found (OCI 1.1 referrers, cosign's `.att` tag) is a
//! set of its own; the image is verified when one of them passes every check, and the others'
//! failures are reported. For an index, every image a client asking for the platform could take
//! must verify (see [`crate::oci::platform`]), and a subject must name the manifest (or an index
//! holding no other image), never the image ID alone. Exit 0 when verified, 1 when not, 3 when the image or a set cannot be read.

use super::{VerifyArgs, VerifyFormat};
use crate::fsio::write_result;
use crate::image::{ImageArg, ImageSource};
use crate::pipeline::verify::{verify_image, CheckedSets, SetsFrom, Trust};
use crate::pipeline::Context;
use crate::rejudge::Rejudge;
use crate::verify::Report;
use crate::UsageError;
use std::path::Path;
use std::process::ExitCode;

/// Exit code of a failed verification.
pub const EXIT_UNVERIFIED: u8 = 1;

pub fn run(context: &Context, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let signers = args.trust.signers(context)?;
    let layouts = args.trust.layouts();
    let requirements = args.trust.requirements();
    let image = ImageArg::parse(&args.image)?;
    let (policy, sources) = args.rejudge.prepare(context)?;
    let checked = verify_image(
        context,
        &image,
        &Trust {
            signers: &signers,
            requirements: &requirements,
            layouts: &layouts,
            rejudge: policy.as_ref().map(|policy| Rejudge {
                policy,
                sources: &sources,
            }),
        },
        args.platform.platform.as_ref(),
        &SetsFrom {
            local: args.attestations.as_deref(),
            default_dir: Path::new(super::OUTPUT_DIR),
        },
    )?;
    let several_images = checked.len() > 1;
    let mut several_sets = several_images;
    let all_verified = checked.iter().all(|c| c.verified());
    let mut reports: Vec<&Report> = Vec::new();
    // The reports of each image that had sets.
    let mut of_image: Vec<&[Report]> = Vec::new();
    for image_checked in &checked {
        match &image_checked.sets {
            CheckedSets::Reports(sets) => {
                several_sets |= sets.len() > 1;
                reports.extend(sets);
                of_image.push(sets);
            }
            CheckedSets::NoneInRegistry { looked_in } => eprintln!(
                "{} ({}): NOT VERIFIED: no vouch attestations beside it in the registry (looked in: {})",
                args.image,
                image_checked.digests.join(", "),
                looked_in.join(", ")
            ),
            CheckedSets::Missing(missing) => {
                eprintln!("{}: NOT VERIFIED: {missing}", args.image)
            }
        }
    }
    if reports.is_empty() {
        return Ok(ExitCode::from(EXIT_UNVERIFIED));
    }
    let mut rendered = Vec::new();
    match args.format {
        VerifyFormat::Json if matches!(image.source, ImageSource::Registry(_)) => {
            serde_json::to_writer_pretty(&mut rendered, &reports)?;
            rendered.push(b'\n');
        }
        VerifyFormat::Json => {
            serde_json::to_writer_pretty(&mut rendered, reports[0])?;
            rendered.push(b'\n');
        }
        VerifyFormat::Table => {
            for (i, sets) in of_image.iter().enumerate() {
                if i > 0 {
                    rendered.push(b'\n');
                }
                write_image_tables(&mut rendered, sets)?;
            }
            if several_sets {
                use std::io::Write;
                writeln!(rendered)?;
                writeln!(
                    rendered,
                    "{}: {}",
                    args.image,
                    match (all_verified, several_images) {
                        (true, true) => "VERIFIED (every image a client could take, each by at least one attestation set)",
                        (true, false) => "VERIFIED (by at least one attestation set)",
                        (false, _) => "NOT VERIFIED",
                    }
                )?;
            }
        }
    }
    write_result(None, &rendered)?;
    Ok(if all_verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNVERIFIED)
    })
}

impl super::RejudgeArgs {
    /// With `--rejudge`, the attested policy and the vulnerability data to judge again with
    /// (indexed once, for as many images as there are); without it, the sources flags must be
    /// absent.
    pub(super) fn prepare(
        &self,
        context: &Context,
    ) -> anyhow::Result<(Option<crate::policy::Policy>, crate::vuln::sources::Sources)> {
        let given = self.vulnerabilities.sources_given();
        if !self.rejudge {
            if given.any() || !given.vex.is_empty() {
                return Err(UsageError(
                    "--vuln-db, --vuln-report and --vex are for --rejudge".into(),
                )
                .into());
            }
            return Ok((None, given));
        }
        let policy = super::load_policy(self.policy.as_deref())?;
        let sources =
            crate::pipeline::read::indexed(context, self.vulnerabilities.sources(context)?)?;
        if !sources.any() {
            return Err(UsageError(
                "--rejudge needs vulnerability data: --vuln-db PATH and/or --vuln-report FILE, or a local database (`docker vouch db update`)".into(),
            )
            .into());
        }
        Ok((Some(policy), sources))
    }
}

/// One image's sets: with one set, its table; with several (a registry's layouts), a line for each
/// set, then the table of the set that decides (the first that verifies, else the first).
fn write_image_tables(out: &mut Vec<u8>, sets: &[Report]) -> std::io::Result<()> {
    use std::io::Write;
    let Some(deciding) = sets.iter().find(|r| r.verified).or(sets.first()) else {
        return Ok(());
    };
    if sets.len() > 1 {
        writeln!(out, "Attestation sets of {}:", deciding.image)?;
        for report in sets {
            let outcome = match report.checks.iter().find(|c| !c.passed) {
                None if report.verified => "VERIFIED".to_string(),
                None => "NOT VERIFIED".to_string(),
                Some(failed) => format!("NOT VERIFIED ({}: {})", failed.name, failed.detail),
            };
            writeln!(out, "  {}: {outcome}", report.attestations)?;
        }
        writeln!(out)?;
    }
    write_table(out, deciding)
}

fn write_table(out: &mut Vec<u8>, report: &Report) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(
        out,
        "Image:        {} ({})",
        report.image,
        report.digests.join(", ")
    )?;
    writeln!(out, "Attestations: {}", report.attestations)?;
    writeln!(out)?;
    for check in &report.checks {
        let mark = if check.passed { "ok  " } else { "FAIL" };
        writeln!(out, "{mark}  {:<22} {}", check.name, check.detail)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        if report.verified {
            "VERIFIED"
        } else {
            "NOT VERIFIED"
        }
    )
}
