//! `docker vouch check IMAGE`: load the policy (rejecting an invalid one before anything runs),
//! judge the image (`pipeline::evaluate`), and print the verdict. Exit 0 when it passed, 1 when it
//! failed.

use super::CheckArgs;
use super::CheckFormat;
use crate::fsio::write_result;
use crate::image::Subject;
use crate::pipeline::evaluate::{evaluate, evaluate_recorded};
use crate::pipeline::Context;
use crate::policy::config::DEFAULT_POLICY;
use crate::policy::verdict::{write_table, Outcome};
use crate::UsageError;
use std::process::ExitCode;

/// Exit code of a failed verdict.
pub const EXIT_FAILED: u8 = 1;

pub fn run(context: &Context, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    if args.print_default_policy {
        print!("{DEFAULT_POLICY}");
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(reference) = &args.print_policy {
        let text = crate::policy::config::builtin_text(reference)
            .ok_or_else(|| UsageError(crate::policy::config::unknown_builtin(reference)))?;
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let Some(image) = args.image.as_deref() else {
        return Err(UsageError("check needs an IMAGE".into()).into());
    };
    let policy = args.evaluation.load_policy()?;
    let subject = Subject::parse(image)?;
    let sources = args.evaluation.vulnerabilities.sources(context)?;
    let judging = crate::pipeline::evaluate::Judging {
        only_app_layers: args.only_app_layers,
        ..args
            .evaluation
            .judging(&policy, &sources, args.platform.platform.as_ref())
    };
    let evaluated = match &subject {
        Subject::Image(image) => evaluate(context, image, &judging)?,
        Subject::Sbom { text, path } => evaluate_recorded(context, path, text, &judging)?,
    };
    let dockerfile = args.dockerfile.lines(&evaluated.image)?;
    let verdict = evaluated.verdict;

    let mut rendered = Vec::new();
    match args.format {
        CheckFormat::Table => write_table(&verdict, &mut rendered)?,
        CheckFormat::Json => {
            serde_json::to_writer_pretty(&mut rendered, &verdict)?;
            rendered.push(b'\n');
        }
        CheckFormat::Sarif => {
            serde_json::to_writer_pretty(
                &mut rendered,
                &crate::ci::sarif::from_verdict(&verdict, dockerfile.as_ref()),
            )?;
            rendered.push(b'\n');
        }
        CheckFormat::Junit => crate::ci::junit::write_verdict(&verdict, &mut rendered)?,
        CheckFormat::Github => {
            rendered.extend(
                crate::ci::github::verdict_annotations(&verdict, dockerfile.as_ref()).into_bytes(),
            );
            super::append_step_summary(&crate::ci::github::verdict_summary(&verdict))?;
        }
    }
    write_result(args.output.as_deref(), &rendered)?;
    Ok(match verdict.outcome {
        Outcome::Passed => ExitCode::SUCCESS,
        Outcome::Failed => ExitCode::from(EXIT_FAILED),
    })
}
