//! Two images compared: each judged as `check` judges it (one read, the same policy and
//! vulnerability sources), then [`crate::diff::compare`]d.

use super::evaluate::{evaluate, evaluate_recorded, Evaluated, Judging};
use super::Context;
use crate::diff::{compare, ImageDiff, Side};
use crate::image::Subject;

/// Judges `old` and `new` (image arguments or `sbom:FILE`) with `judging` and compares them.
pub fn diff(
    context: &Context,
    old: &Subject,
    new: &Subject,
    judging: &Judging,
) -> anyhow::Result<ImageDiff> {
    let judge = |subject: &Subject| -> anyhow::Result<Evaluated> {
        match subject {
            Subject::Image(image) => evaluate(context, image, judging),
            Subject::Sbom { text, path } => evaluate_recorded(context, path, text, judging),
        }
    };
    let (old, new) = (judge(old)?, judge(new)?);
    Ok(compare(&side(&old), &side(&new)))
}

/// What the comparison reads of a judged image.
fn side(e: &Evaluated) -> Side<'_> {
    Side {
        reference: &e.image.reference,
        digest: e.image.digest(),
        diff_ids: e.image.layers.iter().map(|l| l.diff_id.clone()).collect(),
        components: e.sbom.components(),
        findings: e.findings.as_deref(),
        verdict: &e.verdict,
        base: &e.base,
    }
}
