//! Version ranges as policies write them, one syntax for every ecosystem: comparisons joined by `,`
//! (all must hold), alternatives joined by `||`, `*` for any version: `>= 1.2, < 2 || = 3.0.1`.
//! The versions are ordered by the package's own ecosystem ([`super::Scheme`]).

use super::{Scheme, VersionError};
use std::cmp::Ordering;
use std::fmt;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    const ALL: [(&'static str, Op); 7] = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("!=", Op::Ne),
        ("==", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("=", Op::Eq),
    ];

    /// The operator `text` starts with, and the rest, trimmed (`"<= 90"` → `(Le, "90")`).
    pub fn split(text: &str) -> Option<(Op, &str)> {
        let text = text.trim();
        Op::ALL
            .iter()
            .find_map(|(symbol, op)| text.strip_prefix(symbol).map(|rest| (*op, rest.trim())))
    }

    /// Whether `order` (the actual value against the wanted one) satisfies the operator.
    pub fn holds(self, order: Ordering) -> bool {
        match self {
            Op::Eq => order == Ordering::Equal,
            Op::Ne => order != Ordering::Equal,
            Op::Lt => order == Ordering::Less,
            Op::Le => order != Ordering::Greater,
            Op::Gt => order == Ordering::Greater,
            Op::Ge => order != Ordering::Less,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// Why a range could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("the version range is empty")]
    Empty,
    #[error("`{0}` has no comparison operator (write e.g. `>= 1.2.0`)")]
    NoOperator(String),
    #[error("`{0}` has an operator but no version")]
    NoVersion(String),
}

/// One comparison: `>= 1.2.0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub op: Op,
    pub version: String,
}

/// Alternatives (`||`) of conjunctions (`,`) of comparisons; no alternatives means any version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    any_of: Vec<Vec<Constraint>>,
}

impl Range {
    /// Any version at all.
    pub fn any() -> Range {
        Range { any_of: Vec::new() }
    }

    /// A single comparison.
    pub fn comparison(op: Op, version: &str) -> Range {
        Range {
            any_of: vec![vec![Constraint {
                op,
                version: version.to_string(),
            }]],
        }
    }

    pub fn parse(text: &str) -> Result<Range, RangeError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(RangeError::Empty);
        }
        if text == "*" {
            return Ok(Range::any());
        }
        let mut any_of = Vec::new();
        for alternative in text.split("||") {
            let mut all_of = Vec::new();
            for part in alternative.split(',') {
                let part = part.trim();
                if part.is_empty() {
                    return Err(RangeError::Empty);
                }
                let (symbol, op) = Op::ALL
                    .iter()
                    .find(|(symbol, _)| part.starts_with(symbol))
                    .ok_or_else(|| RangeError::NoOperator(part.to_string()))?;
                let version = part[symbol.len()..].trim();
                if version.is_empty() {
                    return Err(RangeError::NoVersion(part.to_string()));
                }
                all_of.push(Constraint {
                    op: *op,
                    version: version.to_string(),
                });
            }
            any_of.push(all_of);
        }
        Ok(Range { any_of })
    }

    /// The comparison, when the range is exactly one.
    pub fn single(&self) -> Option<&Constraint> {
        match self.any_of.as_slice() {
            [all_of] => match all_of.as_slice() {
                [constraint] => Some(constraint),
                _ => None,
            },
            _ => None,
        }
    }

    /// Checks every version in the range against an ecosystem's rules.
    pub fn validate(&self, scheme: Scheme) -> Result<(), VersionError> {
        self.any_of
            .iter()
            .flatten()
            .try_for_each(|c| scheme.validate(&c.version))
    }

    /// Whether `version` is in the range, ordered by `scheme`.
    pub fn contains(&self, scheme: Scheme, version: &str) -> Result<bool, VersionError> {
        if self.any_of.is_empty() {
            return Ok(true);
        }
        for all_of in &self.any_of {
            let mut holds = true;
            for c in all_of {
                if !c.op.holds(scheme.compare(version, &c.version)?) {
                    holds = false;
                    break;
                }
            }
            if holds {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.any_of.is_empty() {
            return f.write_str("*");
        }
        let text: Vec<String> = self
            .any_of
            .iter()
            .map(|all| {
                all.iter()
                    .map(|c| format!("{} {}", c.op.symbol(), c.version))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect();
        f.write_str(&text.join(" || "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let range = Range::parse(">= 1.2, < 2 || = 3.0.1").unwrap();
        assert_eq!(range.to_string(), ">= 1.2, < 2 || = 3.0.1");
        let semver = Scheme::Semver;
        assert!(range.contains(semver, "1.5.0").unwrap());
        assert!(!range.contains(semver, "2.0.0").unwrap());
        assert!(range.contains(semver, "3.0.1").unwrap());
        assert!(!range.contains(semver, "1.1.9").unwrap());
        assert!(Range::parse("*")
            .unwrap()
            .contains(semver, "0.0.1")
            .unwrap());
        let dpkg = Range::parse("< 3.0.15-1~deb12u1").unwrap();
        assert!(dpkg.contains(Scheme::Dpkg, "3.0.11-1~deb12u2").unwrap());
        assert!(!dpkg.contains(Scheme::Dpkg, "3.0.15-1~deb12u1").unwrap());
    }

    #[test]
    fn rejects_malformed_ranges() {
        assert_eq!(Range::parse(" "), Err(RangeError::Empty));
        assert_eq!(
            Range::parse("1.2.3"),
            Err(RangeError::NoOperator("1.2.3".into()))
        );
        assert_eq!(Range::parse(">="), Err(RangeError::NoVersion(">=".into())));
        assert_eq!(Range::parse(">= 1,"), Err(RangeError::Empty));
        assert!(Range::parse(">= banana")
            .unwrap()
            .validate(Scheme::Pep440)
            .is_err());
    }
}
