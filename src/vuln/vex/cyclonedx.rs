//! CycloneDX VEX: a BOM whose `vulnerabilities` carry an `analysis`, each read into a [`Statement`]
//! through the BOM's own bom-refs and the image it describes.

use super::*;

/// What a CycloneDX VEX's `affects` refs resolve through: its own components' bom-refs, and the
/// image it describes (`metadata.component`).
pub(super) struct Context {
    refs: Vec<(String, String)>,
    image: Option<Product>,
}

impl Context {
    pub(super) fn of(bom: &Value) -> Context {
        let mut refs = Vec::new();
        fn walk(list: Option<&Value>, refs: &mut Vec<(String, String)>) {
            for c in list.and_then(Value::as_array).into_iter().flatten() {
                if let (Some(r), Some(p)) = (
                    c.get("bom-ref").and_then(Value::as_str),
                    c.get("purl").and_then(Value::as_str),
                ) {
                    refs.push((r.to_string(), p.to_string()));
                }
                walk(c.get("components"), refs);
            }
        }
        walk(bom.get("components"), &mut refs);
        let image = bom
            .pointer("/metadata/component/purl")
            .and_then(Value::as_str)
            .and_then(PackageUrl::parse)
            .map(|p| from_purl(p, Vec::new()))
            .filter(|p| matches!(p, Product::Image { .. }));
        Context { refs, image }
    }

    /// The purl an `affects.ref` names: a BOM-Link (`urn:cdx:serial/version#bom-ref`) or a plain
    /// bom-ref, looked up among the document's components, else read as a purl itself (vouch's
    /// bom-refs are purls).
    fn resolve(&self, reference: &str) -> Option<PackageUrl> {
        let bom_ref = match reference.strip_prefix("urn:cdx:") {
            Some(link) => percent_decode(link.split_once('#')?.1),
            None => reference.to_string(),
        };
        let purl = self
            .refs
            .iter()
            .find(|(r, _)| *r == bom_ref)
            .map(|(_, p)| p.as_str())
            .unwrap_or(&bom_ref);
        // vouch gives duplicate purls a `#n` suffix to keep bom-refs unique.
        let purl = match purl.rsplit_once('#') {
            Some((base, n)) if n.chars().all(|c| c.is_ascii_digit()) => base,
            _ => purl,
        };
        PackageUrl::parse(purl)
    }
}

pub(super) fn statement(raw: &Value, bom: &Context) -> Result<Statement, String> {
    let vulnerability = raw
        .get("id")
        .and_then(Value::as_str)
        .ok_or("a vulnerability without an id")?
        .to_string();
    let aliases = raw
        .get("references")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|x| x.get("id").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let analysis = &raw["analysis"];
    let state = analysis
        .get("state")
        .and_then(Value::as_str)
        .ok_or("an analysis without a state")?;
    let status = Status::from_cyclonedx(state).ok_or(format!(
        "unknown analysis state {state:?} (resolved, resolved_with_pedigree, exploitable, in_triage, false_positive, not_affected)"
    ))?;
    let affects = listed(raw, "affects")?;
    let mut written = Vec::new();
    let mut packages = Vec::new();
    for a in affects {
        let reference = a
            .get("ref")
            .and_then(Value::as_str)
            .ok_or("an affects entry without a ref")?;
        let purl = bom.resolve(reference).ok_or(format!(
            "affects ref {reference:?} names no component of the document and is not a package URL"
        ))?;
        written.push(reference.to_string());
        packages.push(purl);
    }
    let products = match &bom.image {
        // A VEX about an image: its refs are components inside that image.
        Some(Product::Image { digest, name, .. }) => vec![Product::Image {
            digest: digest.clone(),
            name: name.clone(),
            subcomponents: packages,
        }],
        _ => packages
            .into_iter()
            .map(|purl| Product::Package {
                purl,
                subcomponents: Vec::new(),
            })
            .collect(),
    };
    let text = |key: &str| {
        analysis
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Ok(Statement {
        vulnerability,
        aliases,
        products_written: written,
        products,
        status,
        justification: text("justification"),
        detail: text("detail"),
        timestamp: text("lastUpdated").or_else(|| text("firstIssued")),
    })
}
