//! Results as the command line shows them, where two commands show the same thing.

use crate::pipeline::attest::Attestation;

/// An attestation's summary line (and a line per place it was attached): `attest` and `build`.
pub fn attestation_summary(attestation: &Attestation) -> String {
    let mut line = format!(
        "{} ({}): verdict {}; attestations in {}",
        attestation.image,
        attestation.digest,
        attestation.result,
        attestation.directory.display()
    );
    for (reference, attached) in &attestation.attached {
        line.push_str(&format!(
            "\n  attached to {reference}: {}",
            attached.describe()
        ));
    }
    line
}
