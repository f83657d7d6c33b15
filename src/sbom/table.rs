//! The human table view of an image's packages, in the spirit of `syft -o table`.

use crate::catalog::Inventory;
use crate::image::{short_digest, Image};
use std::io::{self, Write};

/// Writes the image summary and one row per package (name, version, type, layer, path).
pub fn write_table<W: Write>(image: &Image, inventory: &Inventory, out: &mut W) -> io::Result<()> {
    writeln!(out, "Image:    {}", image.display_name())?;
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

    let mut rows: Vec<[String; 5]> = inventory
        .packages
        .iter()
        .map(|p| {
            let layer = image
                .layers
                .get(p.evidence.layer_index)
                .map(|l| short_digest(&l.diff_id).to_string())
                .unwrap_or_default();
            [
                p.name.clone(),
                p.version.clone(),
                p.purl_type.to_string(),
                format!("{} {}", p.evidence.layer_index + 1, layer),
                format!("/{}", p.evidence.path),
            ]
        })
        .collect();
    rows.sort();
    let header = ["NAME", "VERSION", "TYPE", "LAYER", "PATH"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(rows.iter()) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}
