//! `docker vouch sbom IMAGE`: read the image, catalog it, print or write the SBOM.

use super::{SbomArgs, SbomFormat, SbomScope};
use crate::image::ImageArg;
use crate::pipeline::read::{catalog_image, Scope};
use crate::pipeline::Context;
use crate::sbom::{spdx::write_spdx, table::write_table, write_json, write_xml};
use std::io::Write;
use std::process::ExitCode;

pub fn run(context: &Context, args: &SbomArgs) -> anyhow::Result<ExitCode> {
    let image = ImageArg::parse(&args.image)?;
    let scope = match args.scope {
        SbomScope::Squashed => Scope::Squashed,
        SbomScope::AllLayers => Scope::AllLayers,
    };
    let (image, inventory) =
        catalog_image(context, &image, args.platform.platform.as_ref(), scope)?;

    // Written as it is made: the SBOM of a large image is never held whole.
    let mut rendered = crate::fsio::Sink::create(args.output.as_deref(), 0o644)?;
    match args.format {
        SbomFormat::CyclonedxJson => {
            write_json(&image, &inventory, &mut rendered)?;
            rendered.write_all(b"\n")?;
        }
        SbomFormat::CyclonedxXml => {
            write_xml(&image, &inventory, &mut rendered)?;
            rendered.write_all(b"\n")?;
        }
        SbomFormat::SpdxJson => {
            let created = crate::clock::stamp();
            let unique = uuid::Uuid::new_v4().to_string();
            write_spdx(&image, &inventory, &created, &unique, &mut rendered)?;
            rendered.write_all(b"\n")?;
        }
        SbomFormat::Table => write_table(&image, &inventory, &mut rendered)?,
    }
    rendered.finish()?;
    Ok(ExitCode::SUCCESS)
}
