//! The human table view of an image's packages, in the spirit of `syft -o table`.

use crate::catalog::Inventory;
use crate::image::Image;
use crate::text::write_columns_with;
use std::borrow::Cow;
use std::io::{self, Write};

/// The most of a layer's instruction a row shows (the SBOM's `vouch:createdBy` has it whole).
const INSTRUCTION_CHARS: usize = 60;

/// Writes the image summary and one row per package (name, version, type, layer, path, and the
/// instruction that made the layer where the image's history says).
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

    let layer_labels: Vec<String> = (0..image.layers.len())
        .map(|i| image.layer_label(i))
        .collect();
    let instructions: Vec<String> = image
        .layers
        .iter()
        .map(|l| {
            l.created_by
                .as_deref()
                .map(|i| crate::text::excerpt(i, INSTRUCTION_CHARS))
                .unwrap_or_default()
        })
        .collect();
    let packages = &inventory.packages;
    let cell = |index: usize, column: usize| -> Cow<'_, str> {
        let Some(p) = packages.get(index) else {
            return Cow::Borrowed("");
        };
        match column {
            0 => Cow::Borrowed(p.name.as_str()),
            1 => Cow::Borrowed(p.version.as_str()),
            2 => Cow::Borrowed(p.purl_type),
            3 => match layer_labels.get(p.evidence.layer_index) {
                Some(label) => Cow::Borrowed(label.as_str()),
                None => Cow::Owned(image.layer_label(p.evidence.layer_index)),
            },
            4 => match p
                .properties
                .iter()
                .find(|(name, _)| name == crate::catalog::all_layers::REMOVED_IN_LAYER)
            {
                Some((_, layer)) => Cow::Owned(format!(
                    "/{} (removed by layer {})",
                    p.evidence.path,
                    layer.parse::<usize>().map_or(0, |i| i + 1)
                )),
                None => Cow::Owned(format!("/{}", p.evidence.path)),
            },
            _ => Cow::Borrowed(
                instructions
                    .get(p.evidence.layer_index)
                    .map_or("", String::as_str),
            ),
        }
    };
    // Sorted by every column in turn, as rows: an order of indices, not a copy of the rows.
    let mut order: Vec<usize> = (0..packages.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        (0..5)
            .map(|c| cell(a, c).cmp(&cell(b, c)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    write_columns_with(
        out,
        &["NAME", "VERSION", "TYPE", "LAYER", "PATH", "CREATED BY"],
        order.len(),
        |row, column| order.get(row).map(|&i| cell(i, column)).unwrap_or_default(),
    )
}
