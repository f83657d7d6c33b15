//! RubyGems' version ordering (`Gem::Version#<=>`): segments of digits or letters, where any letter
//! segment marks a pre-release (`1.0.a` < `1.0`), numbers beat letters, and trailing zeros do not
//! count (`1.0` == `1`). Written here: no crate implements it.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Number(u64),
    Text(String),
}

/// A parsed gem version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(Vec<Segment>);

impl Version {
    /// Parses a version as `Gem::Version.new` accepts it (`-` is read as `.pre.`).
    pub fn parse(version: &str) -> Option<Version> {
        let text = version.trim();
        if !text.starts_with(|c: char| c.is_ascii_digit())
            || !text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            || text.contains("..")
            || text.ends_with('.')
        {
            return None;
        }
        let text = text.replace('-', ".pre.");
        let mut segments = Vec::new();
        let mut rest = text.as_str();
        while let Some(c) = rest.chars().next() {
            if c == '.' {
                rest = &rest[1..];
                continue;
            }
            let numeric = c.is_ascii_digit();
            let end = rest
                .find(|c: char| c == '.' || c.is_ascii_digit() != numeric)
                .unwrap_or(rest.len());
            let (part, after) = rest.split_at(end);
            segments.push(if numeric {
                Segment::Number(part.parse().ok()?)
            } else {
                Segment::Text(part.to_string())
            });
            rest = after;
        }
        // Canonical form: trailing zeros dropped from the release part and from the pre-release part.
        let split = segments
            .iter()
            .position(|s| matches!(s, Segment::Text(_)))
            .unwrap_or(segments.len());
        let mut pre = segments.split_off(split);
        let trim = |v: &mut Vec<Segment>| {
            while v.len() > 1 && v.last() == Some(&Segment::Number(0)) {
                v.pop();
            }
        };
        trim(&mut segments);
        if !pre.is_empty() {
            trim(&mut pre);
            if segments == [Segment::Number(0)] {
                segments.clear();
            }
            segments.extend(pre);
        }
        Some(Version(segments))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        let zero = Segment::Number(0);
        for i in 0..self.0.len().max(other.0.len()) {
            let a = self.0.get(i).unwrap_or(&zero);
            let b = other.0.get(i).unwrap_or(&zero);
            let order = match (a, b) {
                (Segment::Number(x), Segment::Number(y)) => x.cmp(y),
                (Segment::Text(x), Segment::Text(y)) => x.cmp(y),
                (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
                (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn less(a: &str, b: &str) {
        let (va, vb) = (Version::parse(a).unwrap(), Version::parse(b).unwrap());
        assert_eq!(va.cmp(&vb), Ordering::Less, "{a} < {b}");
        assert_eq!(vb.cmp(&va), Ordering::Greater, "{b} > {a}");
    }

    #[test]
    fn orders_as_rubygems_does() {
        less("1.0.a", "1.0");
        less("1.0.a", "1.0.b");
        less("1.0.rc1", "1.0");
        less("1.9", "1.10");
        less("1.0.0-beta", "1.0.0");
        less("7.0.8", "7.0.8.1");
        less("2.0.0.pre", "2.0.0.rc1");
        assert_eq!(Version::parse("1.0").unwrap(), Version::parse("1").unwrap());
        assert_eq!(
            Version::parse("1.0.0")
                .unwrap()
                .cmp(&Version::parse("1").unwrap()),
            Ordering::Equal
        );
    }

    #[test]
    fn rejects_what_rubygems_rejects() {
        for bad in ["", "junk", "1..2", "1.2.", "1 2", "1.2_3"] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
    }
}
