//! `docker vouch diff OLD NEW`: judge both images with the same policy and vulnerability sources
//! (`pipeline::diff`), and print what changed as a table, the comparison document or Markdown.
//! Exit 1 only when `--fail-on-new` is given and the new image adds a finding that severe.

use super::{DiffArgs, DiffFormat};
use crate::fsio::write_result;
use crate::image::Subject;
use crate::pipeline::diff::diff;
use crate::pipeline::evaluate::Judging;
use crate::pipeline::Context;
use crate::vuln::sources::Sources;
use std::process::ExitCode;

/// Exit code when `--fail-on-new` is reached.
pub const EXIT_NEW_FINDING: u8 = 1;

pub fn run(context: &Context, args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let policy = super::load_policy(args.policy.as_deref())?;
    let (old, new) = (Subject::parse(&args.old)?, Subject::parse(&args.new)?);
    let sources = crate::pipeline::read::vulnerability_sources(
        context,
        Sources {
            db: args.vuln_db.clone(),
            vex: args.vex.clone(),
            ..Default::default()
        },
    )?;
    let judging = Judging {
        policy: &policy,
        sbom: None,
        base_image: None,
        sources: &sources,
        platform: args.platform.platform.as_ref(),
        only_app_layers: false,
    };
    let compared = diff(context, &old, &new, &judging)?;
    let mut rendered = Vec::new();
    match args.format {
        DiffFormat::Table => crate::diff::render::write_table(&compared, &mut rendered)?,
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut rendered, &compared)?;
            rendered.push(b'\n');
        }
        DiffFormat::Markdown => {
            rendered.extend(crate::diff::render::markdown(&compared).into_bytes())
        }
    }
    write_result(args.output.as_deref(), &rendered)?;
    Ok(
        match args.fail_on_new.filter(|t| compared.adds_finding_at(*t)) {
            Some(_) => ExitCode::from(EXIT_NEW_FINDING),
            None => ExitCode::SUCCESS,
        },
    )
}
