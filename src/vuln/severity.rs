//! Severity of a vulnerability: the CVSS base score of its vector (v3.0, v3.1 and v4.0, computed by
//! RustSec's `cvss` crate) mapped to the qualitative scale, or a database's own rating.

use super::Severity;
use std::str::FromStr;

/// The qualitative severity of a CVSS vector's base score; `None` when the vector cannot be read.
pub fn from_cvss(vector: &str) -> Option<Severity> {
    score(vector).map(from_score)
}

/// The CVSS base score of a vector; `None` when the vector cannot be read.
pub fn score(vector: &str) -> Option<f64> {
    Some(cvss::Cvss::from_str(vector.trim()).ok()?.score())
}

/// CVSS v3/v4 qualitative rating of a base score.
pub fn from_score(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Unknown
    }
}

/// A severity written as a word (`HIGH`, `moderate`, `important`).
pub fn from_name(name: &str) -> Option<Severity> {
    match name.trim().to_ascii_lowercase().as_str() {
        "critical" => Some(Severity::Critical),
        "high" | "important" => Some(Severity::High),
        "medium" | "moderate" => Some(Severity::Medium),
        "low" | "negligible" | "unimportant" => Some(Severity::Low),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_vectors_score_as_first_calculators_do() {
        // Scores from FIRST's calculators.
        assert_eq!(
            from_cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Some(Severity::Critical)
        ); // 9.8
        assert_eq!(
            from_cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),
            Some(Severity::Medium)
        ); // 6.1
        assert_eq!(
            from_cvss("CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"),
            Some(Severity::Low)
        ); // 1.6
        assert_eq!(
            from_cvss("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            Some(Severity::Critical)
        ); // 9.3
        assert_eq!(
            from_cvss("AV:N/AC:L/Au:N/C:P/I:P/A:P"),
            None,
            "v2 is not read"
        );
        assert_eq!(from_cvss("garbage"), None);
    }

    #[test]
    fn names() {
        assert_eq!(from_name("MODERATE"), Some(Severity::Medium));
        assert_eq!(from_name("unimportant"), Some(Severity::Low));
        assert_eq!(from_name("??"), None);
    }
}
