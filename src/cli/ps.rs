//! `docker vouch ps --key cosign.pub [--attestations DIR] [--rejudge]`: what is running now, and
//! whether it is what was judged. `pipeline::verify::verify_running` lists the engine's running
//! containers and verifies each one's image, by the ID it runs, as `verify` does; this prints a
//! table (or JSON, for monitoring). Exit 0 when every running image verifies (or none runs), 1 when
//! one does not, 3 when the engine or a set cannot be read.

use super::{PsArgs, VerifyFormat};
use crate::fsio::write_result;
use crate::pipeline::verify::{verify_running, CheckedSets, SetsFrom, Trust};
use crate::pipeline::Context;
use crate::rejudge::Rejudge;
use crate::verify::failed_checks;
use serde::Serialize;
use std::path::Path;
use std::process::ExitCode;

/// One running container, as `ps` reports it.
#[derive(Debug, Serialize)]
struct Row {
    container: String,
    name: String,
    image: String,
    image_id: String,
    verified: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

pub fn run(context: &Context, args: &PsArgs) -> anyhow::Result<ExitCode> {
    let signers = args.trust.signers(context)?;
    let layouts = args.trust.layouts();
    let requirements = args.trust.requirements();
    let (policy, sources) = args.rejudge.prepare(context)?;
    let running = verify_running(
        context,
        &Trust {
            signers: &signers,
            requirements: &requirements,
            layouts: &layouts,
            rejudge: policy.as_ref().map(|policy| Rejudge {
                policy,
                sources: &sources,
            }),
        },
        &SetsFrom {
            local: args.attestations.as_deref(),
            default_dir: Path::new(super::OUTPUT_DIR),
        },
    )?;
    let rows: Vec<Row> = running
        .into_iter()
        .map(|(container, checked)| {
            let verified = checked.verified();
            let reason = (!verified).then(|| match &checked.sets {
                CheckedSets::Reports(reports) => failed_checks(reports),
                CheckedSets::Missing(missing) => missing.to_string(),
                CheckedSets::NoneInRegistry { looked_in } => format!(
                    "no vouch attestations beside it in the registry (looked in: {})",
                    looked_in.join(", ")
                ),
            });
            Row {
                container: container.id,
                name: container.name,
                image: container.image,
                image_id: container.image_id,
                verified,
                reason,
            }
        })
        .collect();
    let mut rendered = Vec::new();
    match args.format {
        VerifyFormat::Json => {
            serde_json::to_writer_pretty(&mut rendered, &rows)?;
            rendered.push(b'\n');
        }
        VerifyFormat::Table => table(&mut rendered, &rows)?,
    }
    write_result(None, &rendered)?;
    Ok(if rows.iter().all(|r| r.verified) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::verify::EXIT_UNVERIFIED)
    })
}

fn table(out: &mut Vec<u8>, rows: &[Row]) -> std::io::Result<()> {
    use std::io::Write;
    let short = |id: &str| {
        id.trim_start_matches("sha256:")
            .chars()
            .take(12)
            .collect::<String>()
    };
    let width = |f: &dyn Fn(&Row) -> usize, title: &str| {
        rows.iter().map(f).max().unwrap_or(0).max(title.len())
    };
    let name_w = width(&|r| r.name.len(), "CONTAINER");
    let image_w = width(&|r| r.image.len(), "IMAGE");
    writeln!(
        out,
        "{:<name_w$}  {:<image_w$}  {:<12}  VERIFIED",
        "CONTAINER", "IMAGE", "IMAGE ID"
    )?;
    for row in rows {
        let verdict = match &row.reason {
            None => "yes".to_string(),
            Some(why) => format!("NO: {why}"),
        };
        writeln!(
            out,
            "{:<name_w$}  {:<image_w$}  {:<12}  {verdict}",
            crate::text::escape_controls(&row.name),
            crate::text::escape_controls(&row.image),
            short(&row.image_id)
        )?;
    }
    if rows.is_empty() {
        writeln!(out, "(no container is running)")?;
    }
    Ok(())
}
