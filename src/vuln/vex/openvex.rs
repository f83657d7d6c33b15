//! OpenVEX statements (v0.2.0, and the older v0.0.x shape), each read into a [`Statement`].

use super::*;

pub(super) fn statement(raw: &Value, default_time: Option<&str>) -> Result<Statement, String> {
    // v0.2.0: {"vulnerability": {"name", "aliases"}}; v0.0.x: {"vulnerability": "CVE-…"}.
    let (vulnerability, aliases) = match raw.get("vulnerability") {
        Some(Value::String(name)) => (name.clone(), Vec::new()),
        Some(v @ Value::Object(_)) => (
            v.get("name")
                .and_then(Value::as_str)
                .ok_or("a vulnerability without a name")?
                .to_string(),
            v.get("aliases")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        ),
        _ => return Err("no vulnerability".into()),
    };
    let status_text = raw
        .get("status")
        .and_then(Value::as_str)
        .ok_or("no status")?;
    let status = Status::from_openvex(status_text).ok_or(format!(
        "unknown status {status_text:?} (not_affected, affected, fixed, under_investigation)"
    ))?;
    // v0.0.x put subcomponents beside the products.
    let shared_subcomponents = subcomponent_purls(raw.get("subcomponents"))?;
    let raw_products = listed(raw, "products")?;
    let mut products = Vec::new();
    let mut written = Vec::new();
    for p in raw_products {
        let mut subs = subcomponent_purls(p.get("subcomponents"))?;
        subs.extend(shared_subcomponents.iter().cloned());
        let (name, product) = product(p, subs)?;
        written.push(name);
        products.push(product);
    }
    let text = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_string);
    Ok(Statement {
        vulnerability,
        aliases,
        products_written: written,
        products,
        status,
        justification: text("justification"),
        detail: text("impact_statement").or_else(|| text("status_notes")),
        timestamp: text("timestamp").or(default_time.map(str::to_string)),
    })
}
