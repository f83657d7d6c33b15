//! License names as packages declare them → SPDX, shared by the catalogers.
//!
//! Parsing and the license list come from the `spdx` crate (the one cargo-deny uses). Before parsing, a
//! declared expression's terms are translated from the spellings ecosystems use that the SPDX list
//! lacks: Debian's DEP-5 short names (`GPL-2+`, `Expat`, `BSD-3-clause`, lowercase `or`) and names
//! such as `Apache License 2.0`. A name that is still not SPDX is kept as a plain name, never dropped.

use spdx::{Expression, ParseMode};

/// A package's license, as the SBOM will carry it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum License {
    /// A single SPDX license id (`MIT`, `GPL-2.0-or-later`).
    Id(String),
    /// A compound SPDX expression (`GPL-1.0-or-later OR Artistic-1.0-Perl`).
    Expression(String),
    /// Not expressible in SPDX: kept as the package wrote it.
    Name(String),
}

impl License {
    /// The text of the license, whatever its kind.
    pub fn as_str(&self) -> &str {
        match self {
            License::Id(s) | License::Expression(s) | License::Name(s) => s,
        }
    }
}

/// One SPDX expression for everything a package declares, ANDed: ids as they are, expressions in
/// parentheses when there are several, plain names as `LicenseRef-` + [`license_ref`] (the SPDX
/// way to name a license the list lacks).
pub fn spdx_expression(declared: &[License]) -> String {
    let terms: Vec<String> = declared
        .iter()
        .map(|l| match l {
            License::Id(id) => id.clone(),
            License::Expression(e) if declared.len() > 1 => format!("({e})"),
            License::Expression(e) => e.clone(),
            License::Name(n) => format!("LicenseRef-{}", license_ref(n)),
        })
        .collect();
    terms.join(" AND ")
}

/// A name made fit for `LicenseRef-` (letters, digits, `.` and `-`).
pub fn license_ref(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Normalises a declared license (a single name or an expression) to SPDX where possible.
pub fn normalize(declared: &str) -> Option<License> {
    let declared = declared.trim();
    if declared.is_empty() {
        return None;
    }
    let translated = translate_terms(declared);
    if let Some(id) = spdx::license_id(&translated).filter(|_| !translated.contains(' ')) {
        return Some(License::Id(id.name.to_string()));
    }
    match Expression::parse_mode(&translated, ParseMode::LAX) {
        Ok(expression) => {
            let reqs: Vec<String> = expression
                .requirements()
                .map(|r| r.req.to_string())
                .collect();
            if reqs.len() == 1 && !translated.contains('(') && !translated.contains(" WITH ") {
                Some(License::Id(canonical_single(&reqs[0])))
            } else {
                Some(License::Expression(canonical_expression(&translated)))
            }
        }
        Err(_) => Some(License::Name(declared.to_string())),
    }
}

/// `GPL-2.0+` (what `LicenseReq` prints) → `GPL-2.0-or-later` (the current SPDX id).
fn canonical_single(req: &str) -> String {
    match req.strip_suffix('+') {
        Some(base) if spdx::license_id(&format!("{base}-or-later")).is_some() => {
            format!("{base}-or-later")
        }
        _ => req.to_string(),
    }
}

/// Upper-cases the operators of an expression whose terms are already SPDX ids.
fn canonical_expression(expression: &str) -> String {
    expression
        .split_whitespace()
        .map(|t| match t.to_ascii_lowercase().as_str() {
            "or" => "OR".to_string(),
            "and" => "AND".to_string(),
            "with" => "WITH".to_string(),
            _ => t.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Translates each term of an expression (words between operators and parentheses).
fn translate_terms(expression: &str) -> String {
    // Fedora's legacy names with a space in them.
    let mut expression = expression.to_string();
    for (old, new) in [
        ("ASL 2.0", "Apache-2.0"),
        ("ASL 1.1", "Apache-1.1"),
        ("Public Domain", "public-domain"),
    ] {
        expression = expression.replace(old, new);
    }
    let spaced = expression
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace(',', " ");
    let mut out: Vec<String> = Vec::new();
    let mut words = spaced.split_whitespace().peekable();
    let mut after_with = false;
    while let Some(word) = words.next() {
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            "or" | "and" | "|" | "/" => {
                out.push(if lower == "and" { "AND" } else { "OR" }.to_string());
                after_with = false;
            }
            "with" => {
                out.push("WITH".to_string());
                after_with = true;
            }
            "(" | ")" => out.push(word.to_string()),
            _ if after_with => {
                // Exceptions: "Bison exception" / "OpenSSL exception" → Bison-exception-2.2 etc.
                let mut name = word.to_string();
                if words
                    .peek()
                    .is_some_and(|w| w.eq_ignore_ascii_case("exception"))
                {
                    words.next();
                }
                name = exception_name(&name);
                out.push(name);
                after_with = false;
            }
            _ => out.push(translate_term(word)),
        }
    }
    out.join(" ")
}

fn exception_name(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    let lower = lower.strip_suffix("-exception").unwrap_or(&lower);
    let known = match lower {
        "bison" => Some("Bison-exception-2.2"),
        "autoconf" => Some("Autoconf-exception-3.0"),
        "gcc" | "gcc-runtime" => Some("GCC-exception-3.1"),
        "classpath" => Some("Classpath-exception-2.0"),
        "openssl" => Some("OpenSSL-exception"),
        "font" => Some("Font-exception-2.0"),
        _ => None,
    };
    known
        .map(str::to_string)
        .or_else(|| spdx::exception_id(word).map(|e| e.name.to_string()))
        .unwrap_or_else(|| word.to_string())
}

/// One license name → its SPDX id where a known spelling maps to one.
fn translate_term(term: &str) -> String {
    // Current ids pass; deprecated ones (`LGPL-2.1`, `GFDL-1.3`) fall through to the GNU mapping.
    if let Some(id) = spdx::license_id(term).filter(|id| !id.is_deprecated()) {
        if !term.ends_with('+') {
            return id.name.to_string();
        }
    }
    let lower = term.to_ascii_lowercase();
    let fixed = match lower.as_str() {
        "expat" | "mit/x11" | "x11" => Some("MIT"),
        "artistic" | "artistic-1" | "perl" => Some("Artistic-1.0-Perl"),
        "psf-2" | "psf" | "python" => Some("PSF-2.0"),
        "public-domain" | "public_domain" | "publicdomain" => None,
        "zlib" => Some("Zlib"),
        "bsd" => Some("BSD-3-Clause"),
        "apache" | "apache-2" | "apache2" => Some("Apache-2.0"),
        "mpl-2" => Some("MPL-2.0"),
        "isc" => Some("ISC"),
        "curl" => Some("curl"),
        _ => None,
    };
    if let Some(id) = fixed {
        return id.to_string();
    }
    // Fedora's legacy GNU names: GPLv2+ → GPL-2+, LGPLv2.1 → LGPL-2.1 (mapped below).
    for family in ["agplv", "lgplv", "gplv"] {
        if let Some(rest) = lower.strip_prefix(family) {
            let upper_family = family.trim_end_matches('v').to_ascii_uppercase();
            return translate_term(&format!("{upper_family}-{rest}"));
        }
    }
    // BSD-3-clause → BSD-3-Clause
    if let Some(rest) = lower.strip_prefix("bsd-") {
        if let Some(n) = rest.strip_suffix("-clause") {
            return format!("BSD-{n}-Clause");
        }
    }
    // GNU families: GPL-2+ → GPL-2.0-or-later, LGPL-2.1 → LGPL-2.1-only, GFDL-1.3+ ...
    for family in ["AGPL", "LGPL", "GPL", "GFDL"] {
        if let Some(rest) = term.strip_prefix(family).and_then(|r| r.strip_prefix('-')) {
            let (version, later) = match rest.strip_suffix('+') {
                Some(v) => (v, true),
                None => (rest, false),
            };
            if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                let version = if version.contains('.') {
                    version.to_string()
                } else {
                    format!("{version}.0")
                };
                let id = format!(
                    "{family}-{version}-{}",
                    if later { "or-later" } else { "only" }
                );
                if spdx::license_id(&id).is_some() {
                    return id;
                }
            }
        }
    }
    term.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Option<License> {
        Some(License::Id(s.into()))
    }

    #[test]
    fn debian_short_names() {
        assert_eq!(normalize("GPL-2+"), id("GPL-2.0-or-later"));
        assert_eq!(normalize("GPL-2"), id("GPL-2.0-only"));
        assert_eq!(normalize("LGPL-2.1+"), id("LGPL-2.1-or-later"));
        assert_eq!(normalize("BSD-3-clause"), id("BSD-3-Clause"));
        assert_eq!(normalize("Expat"), id("MIT"));
        assert_eq!(normalize("zlib"), id("Zlib"));
        assert_eq!(normalize("Apache-2.0"), id("Apache-2.0"));
        assert_eq!(normalize("GFDL-1.3+"), id("GFDL-1.3-or-later"));
        assert_eq!(normalize("LGPL-2.1"), id("LGPL-2.1-only"), "deprecated id");
        assert_eq!(normalize("GFDL-1.3"), id("GFDL-1.3-only"), "deprecated id");
        assert_eq!(normalize("GPL-2.0"), id("GPL-2.0-only"), "deprecated id");
        assert_eq!(
            normalize("GPLv3+"),
            id("GPL-3.0-or-later"),
            "Fedora legacy name"
        );
        assert_eq!(
            normalize("LGPLv2"),
            id("LGPL-2.0-only"),
            "Fedora legacy name"
        );
        assert_eq!(normalize("ASL 2.0"), id("Apache-2.0"), "Fedora legacy name");
    }

    #[test]
    fn expressions_and_names() {
        assert_eq!(
            normalize("GPL-1+ or Artistic"),
            Some(License::Expression(
                "GPL-1.0-or-later OR Artistic-1.0-Perl".into()
            ))
        );
        assert_eq!(
            normalize("GPL-3+ with Bison exception"),
            Some(License::Expression(
                "GPL-3.0-or-later WITH Bison-exception-2.2".into()
            ))
        );
        assert_eq!(
            normalize("GPL-3+ WITH BISON-EXCEPTION"),
            Some(License::Expression(
                "GPL-3.0-or-later WITH Bison-exception-2.2".into()
            ))
        );
        assert_eq!(
            normalize("public-domain"),
            Some(License::Name("public-domain".into()))
        );
        assert_eq!(normalize("  "), None);
    }
}
