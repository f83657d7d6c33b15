//! `docker vouch scan IMAGE`: read the image (or reuse its saved SBOM), gather the findings of every
//! vulnerability source given, apply VEX, and print them as a table, the scan document, SARIF, or the
//! SBOM with a CycloneDX `vulnerabilities` section. Exit 1 only when `--fail-on` is given and a finding
//! VEX does not suppress reaches that severity.

use super::{ScanArgs, ScanFormat, ScanSort};
use crate::clock::now;
use crate::fsio::write_result;
use crate::image::Subject;
use crate::pipeline::read::{refuse_image_flags, scan, scan_recorded, Scanned};
use crate::pipeline::Context;
use crate::vuln::present::{
    cyclonedx_with_vulnerabilities, scan_document, sort_findings, write_table, SortKey,
};
use crate::UsageError;
use std::process::ExitCode;

/// Exit code when `--fail-on` is reached.
pub const EXIT_FOUND: u8 = 1;

/// Each component's evidence file, by purl: where a finding on it is located.
fn evidence_paths(sbom: &crate::sbom::read::Sbom) -> std::collections::HashMap<String, String> {
    sbom.components()
        .into_iter()
        .filter_map(|c| Some((c.purl, c.path?)))
        .collect()
}

pub fn run(context: &Context, args: &ScanArgs) -> anyhow::Result<ExitCode> {
    let (_, started) = now();
    let sources = args.vulnerabilities.sources(context)?;
    if !sources.any() {
        return Err(UsageError(
            "scan needs a source of findings: --vuln-db PATH and/or --vuln-report FILE, or a local database (`docker vouch db update`)".into(),
        )
        .into());
    }
    let Scanned {
        image,
        sbom,
        mut collected,
    } = match Subject::parse(&args.image)? {
        Subject::Image(image) => scan(
            context,
            &image,
            args.sbom.as_deref(),
            &sources,
            args.platform.platform.as_ref(),
        )?,
        Subject::Sbom { text, path } => {
            refuse_image_flags(&text, args.sbom.as_deref(), args.platform.platform.as_ref())?;
            scan_recorded(context, &path, &text, &sources)?
        }
    };

    sort_findings(
        &mut collected.findings,
        match args.sort {
            ScanSort::Severity => SortKey::Severity,
            ScanSort::Kev => SortKey::Kev,
            ScanSort::Epss => SortKey::Epss,
            ScanSort::Package => SortKey::Package,
        },
    );
    let mut rendered = Vec::new();
    match args.format {
        ScanFormat::Table => write_table(&image, &collected, &mut rendered)?,
        ScanFormat::Json => {
            let (_, stamp) = now();
            serde_json::to_writer_pretty(
                &mut rendered,
                &scan_document(&image, &collected, &stamp),
            )?;
            rendered.push(b'\n');
        }
        ScanFormat::Sarif => {
            serde_json::to_writer_pretty(
                &mut rendered,
                &crate::ci::sarif::from_scan(
                    &image,
                    &collected,
                    &evidence_paths(&sbom),
                    args.dockerfile.lines(&image)?.as_ref(),
                ),
            )?;
            rendered.push(b'\n');
        }
        ScanFormat::Junit => crate::ci::junit::write_scan(
            &image,
            &collected,
            args.fail_on,
            args.only_fixed,
            &started,
            &mut rendered,
        )?,
        ScanFormat::Gitlab => {
            let (_, ended) = now();
            serde_json::to_writer_pretty(
                &mut rendered,
                &crate::ci::gitlab::from_scan(
                    &image,
                    &collected,
                    sbom.operating_system().as_deref(),
                    &started,
                    &ended,
                ),
            )?;
            rendered.push(b'\n');
        }
        ScanFormat::Github => {
            rendered.extend(
                crate::ci::github::scan_annotations(
                    &image,
                    &collected,
                    &evidence_paths(&sbom),
                    args.dockerfile.lines(&image)?.as_ref(),
                )
                .into_bytes(),
            );
            super::append_step_summary(&crate::ci::github::scan_summary(&image, &collected))?;
        }
        ScanFormat::CyclonedxJson => {
            serde_json::to_writer_pretty(
                &mut rendered,
                &cyclonedx_with_vulnerabilities(sbom.document()?.into_owned(), &collected),
            )?;
            rendered.push(b'\n');
        }
    }
    write_result(args.output.as_deref(), &rendered)?;
    let reached = args.fail_on.is_some_and(|threshold| {
        collected.findings.iter().any(|f| {
            !f.suppressed()
                && f.severity >= threshold
                && (!args.only_fixed || f.fixed_version.is_some())
        })
    });
    Ok(if reached {
        ExitCode::from(EXIT_FOUND)
    } else {
        ExitCode::SUCCESS
    })
}
