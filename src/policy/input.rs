//! What a policy is evaluated over, as plain data: the image's identity and configuration, the
//! SBOM's components (read from the CycloneDX document, so a saved SBOM can be checked again), the
//! file facts, and vulnerability findings when a source gave some.

use crate::facts::FileFacts;
pub use crate::image::base::{BaseImage, BaseSource};
pub use crate::sbom::read::{components_from_sbom, Component};
pub use crate::vuln::VulnerabilityFinding;
use serde::Serialize;
use std::collections::BTreeMap;

/// The image's identity and runtime configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageFacts {
    pub reference: String,
    pub name: Option<String>,
    /// The image ID (config digest).
    pub id: String,
    /// The manifest digest when known, else the image ID.
    pub digest: String,
    pub user: Option<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// `80/tcp` form.
    pub exposed_ports: Vec<String>,
    /// The healthcheck test, when one is set (`["NONE"]` disables an inherited one).
    pub healthcheck: Option<Vec<String>>,
    pub diff_ids: Vec<String>,
    pub base: BaseImage,
    /// The environment (`KEY=VALUE`) the image sets.
    pub env: Vec<String>,
    /// Every build history entry, oldest first (metadata instructions included).
    pub history: Vec<HistoryEntry>,
}

/// One build history entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// What made it (`RUN /bin/sh -c apt-get update # buildkit`).
    pub created_by: String,
    /// The layer it made or applies to, when the history accounts for the image's layers.
    pub layer: Option<usize>,
}

impl ImageFacts {
    /// The diffID of a layer, by position.
    pub fn layer(&self, index: usize) -> Option<&str> {
        self.diff_ids.get(index).map(String::as_str)
    }

    /// Whether a layer belongs to the base image, when the base is known.
    pub fn in_base(&self, index: usize) -> Option<bool> {
        self.base.layer_count.map(|count| index < count)
    }
}

/// Everything a policy is evaluated over.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub image: &'a ImageFacts,
    pub components: &'a [Component],
    /// `None` when the image's files were not read (judged from its SBOM, `sbom:FILE`): the file
    /// rules cannot be evaluated.
    pub files: Option<&'a FileFacts>,
    /// `None` when no vulnerability source was given: vulnerability rules cannot be evaluated.
    pub vulnerabilities: Option<&'a [VulnerabilityFinding]>,
    /// The SBOM, made a document for Rego rules.
    pub sbom: &'a crate::sbom::read::Sbom,
    /// The first layer judged (`check --only-app-layers`): Rego's `input.sbom` leaves out the
    /// components of the layers below it, as `components` already does.
    pub judged_from_layer: Option<usize>,
    /// The verified verdict this judgment renews (`attest --from-attestation`): the results of the
    /// rules that need what is not read again (`files`, when `files` is `None`) are carried from it.
    pub prior: Option<&'a serde_json::Value>,
    /// Today, `YYYY-MM-DD` (UTC), for exception expiry.
    pub today: &'a str,
}
