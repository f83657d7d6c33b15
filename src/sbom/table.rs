//! The human table view of an image's packages, in the spirit of `syft -o table`.

use crate::catalog::Inventory;
use crate::image::Image;
use crate::output::write_columns;
use std::io::{self, Write};

/// Writes the image summary and one row per package (name, version, type, layer, path).
pub fn write_table<W: Write>(image: &Image, inventory: &Inventory, out: &mut W) -> io::Result<()> {
    writeln!(
        out,
        "Image:    {}",
        crate::text::escape_controls(image.display_name())
    )?;
    writeln!(out, "Digest:   {}", image.digest())?;
    let os = inventory
        .distro
        .as_ref()
        .map(|d| {
            d.pretty_name
                .clone()
                .unwrap_or_else(|| format!("{} {}", d.id, d.version_id.as_deref().unwrap_or("")))
        })
        .unwrap_or_else(|| "unknown (no os-release)".into());
    writeln!(out, "OS:       {os}")?;
    writeln!(
        out,
        "Packages: {}   Layers: {}",
        inventory.packages.len(),
        image.layers.len()
    )?;
    writeln!(out)?;

    let mut rows: Vec<Vec<String>> = inventory
        .packages
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.version.clone(),
                p.purl_type.to_string(),
                image.layer_label(p.evidence.layer_index),
                format!("/{}", p.evidence.path),
            ]
        })
        .collect();
    rows.sort();
    write_columns(out, &["NAME", "VERSION", "TYPE", "LAYER", "PATH"], &rows)
}
