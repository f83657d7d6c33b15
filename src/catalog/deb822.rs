//! The RFC 822-style "Field: value" format shared by dpkg databases (deb822) and Python package
//! metadata: paragraphs of fields with indented continuation lines. Written here rather than taken from
//! a crate because it must recover paragraph by paragraph and report line numbers, which the deb822
//! crates do not offer for damaged files.

/// One control paragraph: fields in order, and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    pub line: usize,
    pub fields: Vec<(String, String)>,
}

impl Paragraph {
    /// The first value of a field (names compare case-insensitively).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated field, in order (`Requires-Dist`, `Classifier`).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A paragraph that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ParagraphError {
    pub line: usize,
    pub reason: String,
}

/// A paragraph being read: where it started, its fields so far, and its first error.
struct Pending {
    line: usize,
    fields: Vec<(String, String)>,
    error: Option<ParagraphError>,
}

impl Pending {
    fn finish(self) -> Result<Paragraph, ParagraphError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(Paragraph {
                line: self.line,
                fields: self.fields,
            }),
        }
    }

    fn add_line(&mut self, line_no: usize, raw_line: &str) {
        if self.error.is_some() {
            return;
        }
        if raw_line.starts_with(' ') || raw_line.starts_with('\t') {
            match self.fields.last_mut() {
                Some((_, value)) => {
                    value.push('\n');
                    value.push_str(raw_line.trim_start());
                }
                None => {
                    self.error = Some(ParagraphError {
                        line: line_no,
                        reason: "continuation line before any field".into(),
                    })
                }
            }
            return;
        }
        match raw_line.split_once(':') {
            Some((name, value)) if !name.is_empty() && !name.contains(char::is_whitespace) => {
                self.fields
                    .push((name.to_string(), value.trim().to_string()));
            }
            _ => {
                self.error = Some(ParagraphError {
                    line: line_no,
                    reason: format!("not a 'Field: value' line: {:?}", truncate(raw_line, 60)),
                })
            }
        }
    }
}

/// Splits a deb822 file into paragraphs, each parsed on its own so one bad paragraph loses nothing
/// else. Lazy: a status file of 200,000 packages is never held as parsed fields all at once.
pub fn parse_paragraphs(text: &str) -> Paragraphs<'_> {
    Paragraphs {
        lines: text.lines().enumerate(),
    }
}

/// The paragraphs of a deb822 text, parsed one at a time as they are asked for.
pub struct Paragraphs<'a> {
    lines: std::iter::Enumerate<std::str::Lines<'a>>,
}

impl Iterator for Paragraphs<'_> {
    type Item = Result<Paragraph, ParagraphError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut current: Option<Pending> = None;
        for (i, raw_line) in self.lines.by_ref() {
            if raw_line.trim().is_empty() {
                if current.is_some() {
                    break;
                }
                continue;
            }
            current
                .get_or_insert_with(|| Pending {
                    line: i + 1,
                    fields: Vec::new(),
                    error: None,
                })
                .add_line(i + 1, raw_line);
        }
        current.map(Pending::finish)
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}
