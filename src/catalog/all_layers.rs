//! `--scope all-layers`: the packages of every layer's view, not only the image's. The squashed view
//! is cataloged as usual; each earlier view (the image as it stood after each lower layer) is
//! cataloged too, and a package found there but not in the image (a later layer deleted or replaced
//! its files) is added once, from the last view that had it, marked with the layer that removed it
//! (`vouch:removedInLayer`, a layer index as `vouch:layerIndex` counts), as Syft's all-layers
//! scope reports them.

use super::{catalog, CatalogError, Inventory};
use crate::layers::FileIndex;
use crate::package::Package;
use std::collections::HashSet;

/// The property naming the layer (its index, lowest 0) whose changes removed a package.
pub const REMOVED_IN_LAYER: &str = "vouch:removedInLayer";

/// Catalogs `image` (the squashed view) and every view in `earlier` (after layer 0, 1, ...),
/// adding the packages only earlier views had.
pub fn catalog_all_layers(
    image: &FileIndex,
    earlier: &[FileIndex],
) -> Result<Inventory, CatalogError> {
    let mut inventory = catalog(image)?;
    if earlier.is_empty() {
        // The squashed scope: no earlier view, and no key of every package to build.
        return Ok(inventory);
    }
    let mut seen: HashSet<(String, String)> = inventory.packages.iter().map(key).collect();
    let mut removed: Vec<Package> = Vec::new();
    // Highest view first: a package is taken from the last view that had it.
    for (view_index, view) in earlier.iter().enumerate().rev() {
        for mut package in catalog(view)?.packages {
            if seen.insert(key(&package)) {
                package
                    .properties
                    .push((REMOVED_IN_LAYER.into(), (view_index + 1).to_string()));
                removed.push(package);
            }
        }
    }
    removed.sort_by_key(|p| (p.evidence.layer_index, p.purl.clone()));
    inventory.packages.extend(removed);
    Ok(inventory)
}

/// A package as one component: its identity and where it was found.
fn key(package: &Package) -> (String, String) {
    (package.purl.clone(), package.evidence.path.to_string())
}
