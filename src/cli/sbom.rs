//! `docker vouch sbom IMAGE`: read the image, catalog it, print or write the SBOM.

use super::inputs::read_image_arg;
use super::{DockerFlags, SbomArgs, SbomFormat};
use crate::catalog;
use crate::sbom::{spdx::write_spdx, table::write_table, write_json, write_xml};
use anyhow::Context;
use std::io::Write;
use std::process::ExitCode;

pub fn run(docker: &DockerFlags, args: &SbomArgs) -> anyhow::Result<ExitCode> {
    let read = read_image_arg(
        docker,
        &args.image,
        &catalog::wanted(),
        args.platform.platform.as_ref(),
    )?;
    let inventory =
        catalog::catalog(&read.files).with_context(|| format!("cataloging {}", args.image))?;
    // The kept file contents are not needed past cataloging (a large dpkg status is tens of MB).
    let read = crate::image::ReadImage {
        files: Default::default(),
        ..read
    };
    if !args.quiet {
        for warning in read.warnings.iter().chain(&inventory.warnings) {
            eprintln!(
                "{}",
                crate::text::escape_controls(&format!("warning: {}: {warning}", args.image))
            );
        }
    }

    // Written as it is made: the SBOM of a large image is never held whole.
    let mut rendered = crate::fsio::Sink::create(args.output.as_deref(), 0o644)?;
    match args.format {
        SbomFormat::CyclonedxJson => {
            write_json(&read.image, &inventory, &mut rendered)?;
            rendered.write_all(b"\n")?;
        }
        SbomFormat::CyclonedxXml => {
            write_xml(&read.image, &inventory, &mut rendered)?;
            rendered.write_all(b"\n")?;
        }
        SbomFormat::SpdxJson => {
            let created = crate::sbom::timestamp()?;
            let unique = uuid::Uuid::new_v4().to_string();
            write_spdx(&read.image, &inventory, &created, &unique, &mut rendered)?;
            rendered.write_all(b"\n")?;
        }
        SbomFormat::Table => write_table(&read.image, &inventory, &mut rendered)?,
    }
    rendered.finish()?;
    Ok(ExitCode::SUCCESS)
}
