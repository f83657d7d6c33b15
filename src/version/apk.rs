//! Alpine's apk version ordering, as apk-tools compares versions (`version.c`): dotted numbers, one
//! optional letter, `_suffix[N]` parts (`alpha` < `beta` < `pre` < `rc` < none < `cvs` < `svn` <
//! `git` < `hg` < `p`) and a `-rN` revision. Written here: no crate implements it.

use std::cmp::Ordering;

const PRE_SUFFIXES: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST_SUFFIXES: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// One token of a version, in the order apk ranks token kinds when two versions differ in shape.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A number; after a dot, leading zeros count as minus their count, followed by the rest of
    /// the digits, as apk does (so `1.02` < `1.1` and `1.002` < `1.02`).
    Number(i64),
    Letter(u8),
    /// A suffix's rank: negative for pre-release suffixes.
    Suffix(i32),
    SuffixNumber(u64),
    Revision(u64),
    End,
}

impl Token {
    fn kind(&self) -> u8 {
        match self {
            Token::Number(_) => 1,
            Token::Letter(_) => 2,
            Token::Suffix(_) => 3,
            Token::SuffixNumber(_) => 4,
            Token::Revision(_) => 5,
            Token::End => 6,
        }
    }
}

/// A parsed apk version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(Vec<Token>);

fn digits(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

impl Version {
    /// Parses a version; `None` when apk would call it invalid.
    pub fn parse(version: &str) -> Option<Version> {
        let mut tokens = Vec::new();
        let (first, mut rest) = digits(version.trim());
        tokens.push(Token::Number(first.parse().ok()?));
        while let Some(c) = rest.chars().next() {
            match c {
                '.' if tokens.iter().all(|t| t.kind() <= 1) => {
                    let (part, after) = digits(&rest[1..]);
                    if part.is_empty() {
                        return None;
                    }
                    let digits = part.trim_start_matches('0');
                    let zeros = part.len() - digits.len();
                    if zeros > 0 {
                        tokens.push(Token::Number(-(zeros as i64)));
                    }
                    if !digits.is_empty() {
                        tokens.push(Token::Number(digits.parse().ok()?));
                    }
                    rest = after;
                }
                'a'..='z' if tokens.iter().all(|t| t.kind() <= 1) => {
                    tokens.push(Token::Letter(c as u8));
                    rest = &rest[1..];
                }
                '_' if !tokens.iter().any(|t| matches!(t, Token::Revision(_))) => {
                    let name_end = rest[1..]
                        .find(|c: char| !c.is_ascii_lowercase())
                        .map_or(rest.len(), |i| i + 1);
                    let name = &rest[1..name_end];
                    let rank = if let Some(i) = PRE_SUFFIXES.iter().position(|s| *s == name) {
                        i as i32 - PRE_SUFFIXES.len() as i32
                    } else {
                        POST_SUFFIXES.iter().position(|s| *s == name)? as i32 + 1
                    };
                    tokens.push(Token::Suffix(rank));
                    let (number, after) = digits(&rest[name_end..]);
                    if !number.is_empty() {
                        tokens.push(Token::SuffixNumber(number.parse().ok()?));
                    }
                    rest = after;
                }
                '-' if rest[1..].starts_with('r') => {
                    let (number, after) = digits(&rest[2..]);
                    if number.is_empty() || !after.is_empty() {
                        return None;
                    }
                    tokens.push(Token::Revision(number.parse().ok()?));
                    rest = after;
                }
                _ => return None,
            }
        }
        tokens.push(Token::End);
        Some(Version(tokens))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        for (a, b) in self.0.iter().zip(&other.0) {
            if a.kind() != b.kind() {
                // Equal so far, then different shapes: a pre-release suffix makes its side older;
                // otherwise the side with more (lower-ranked) parts is newer.
                return match (a, b) {
                    (Token::Suffix(s), _) if *s < 0 => Ordering::Less,
                    (_, Token::Suffix(s)) if *s < 0 => Ordering::Greater,
                    _ => b.kind().cmp(&a.kind()),
                };
            }
            let order = match (a, b) {
                (Token::Number(x), Token::Number(y)) => x.cmp(y),
                (Token::SuffixNumber(x), Token::SuffixNumber(y))
                | (Token::Revision(x), Token::Revision(y)) => x.cmp(y),
                (Token::Letter(x), Token::Letter(y)) => x.cmp(y),
                (Token::Suffix(x), Token::Suffix(y)) => x.cmp(y),
                _ => Ordering::Equal, // both End
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
    fn orders_as_apk_does() {
        less("1.2", "1.2.1");
        less("1.2.9", "1.2.10");
        less("1.2_alpha", "1.2_beta");
        less("1.2_rc3", "1.2");
        less("1.2", "1.2_p1");
        less("1.2_p1", "1.2_p2");
        less("1.2", "1.2a");
        less("1.2a", "1.2b");
        less("1.2a", "1.2.1");
        less("1.2-r0", "1.2-r1");
        less("1.2", "1.2-r1");
        less("3.1.4-r5", "3.1.4_git20230101-r0");
        less("1.02", "1.1");
        less("1.002", "1.02");
        less("1.0", "1.1");
        less("2.4.0_rc1-r0", "2.4.0-r0");
        assert_eq!(
            Version::parse("1.2.3-r4").unwrap(),
            Version::parse("1.2.3-r4").unwrap()
        );
    }

    #[test]
    fn rejects_what_apk_rejects() {
        for bad in ["", "abc", "1.2_banana", "1.2-r", "1.2-rx", "1..2", "1.2 3"] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
    }
}
