//! Text from images and registries on its way to a terminal or a log: control characters (newlines
//! that would forge log lines, escape sequences that would drive the terminal) are shown escaped,
//! never passed through.

use std::borrow::Cow;
use std::io::Write;

/// `text` with every control character (C0, DEL, C1) written as a `\u{..}` escape (`\n`, `\r` and
/// `\t` by their names); unchanged, and not copied, when it has none.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c if c.is_control() => escaped.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// Whether XML 1.0 can carry `c` at all (escaped or not): tab, line feed, carriage return and
/// everything from U+0020 up except U+FFFE and U+FFFF (Rust strings hold no surrogates).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
}

/// `text` with every character XML 1.0 cannot carry (the C0 controls other than tab and line
/// breaks, U+FFFE, U+FFFF) written as U+FFFD, so that a name from an image cannot make an XML
/// document unreadable; unchanged, and not copied, when it has none.
pub fn xml_safe(text: &str) -> Cow<'_, str> {
    if text.chars().all(xml_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if xml_char(c) { c } else { '\u{fffd}' })
            .collect(),
    )
}

/// [`escape_controls`] except for line breaks, for messages of several lines of our own (a policy
/// file's errors, one per line): each line's other control characters are escaped.
pub fn escape_controls_in_lines(text: &str) -> String {
    text.split('\n')
        .map(|line| escape_controls(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// At most `limit` characters of `text`, escaped, with `…` when cut: for quoting what a peer sent.
pub fn excerpt(text: &str, limit: usize) -> String {
    let mut cut: String = text.chars().take(limit).collect();
    let more = text.chars().nth(limit).is_some();
    cut = escape_controls(&cut).into_owned();
    if more {
        cut.push('…');
    }
    cut
}

/// Writes a header and rows as left-aligned columns two spaces apart, as `docker images` does.
pub fn write_columns<W: Write + ?Sized, C: AsRef<str>>(
    out: &mut W,
    header: &[&str],
    rows: &[Vec<C>],
) -> std::io::Result<()> {
    write_columns_with(out, header, rows.len(), |row, column| {
        rows.get(row)
            .and_then(|r| r.get(column))
            .map(|c| Cow::Borrowed(c.as_ref()))
            .unwrap_or_default()
    })
}

/// [`write_columns`] for `count` rows whose cells `cell(row, column)` makes on demand (twice: once
/// to measure, once to write), so 200,000 rows are never held. Cells hold text from images and
/// registries: control characters are escaped on the way out.
pub fn write_columns_with<'c, W: Write + ?Sized>(
    out: &mut W,
    header: &[&str],
    count: usize,
    cell: impl Fn(usize, usize) -> Cow<'c, str>,
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in 0..count {
        for (column, w) in widths.iter_mut().enumerate() {
            let text = cell(row, column);
            *w = (*w).max(escape_controls(&text).chars().count());
        }
    }
    let mut line = String::new();
    let mut write_line = |cells: &mut dyn Iterator<Item = Cow<'_, str>>| -> std::io::Result<()> {
        line.clear();
        for (i, (text, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let text = escape_controls(&text).into_owned();
            line.push_str(&text);
            line.extend(std::iter::repeat_n(
                ' ',
                w.saturating_sub(text.chars().count()),
            ));
        }
        writeln!(out, "{}", line.trim_end())
    };
    write_line(&mut header.iter().map(|h| Cow::Borrowed(*h)))?;
    for row in 0..count {
        write_line(&mut (0..header.len()).map(|column| cell(row, column)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert!(matches!(escape_controls("linux/amd64"), Cow::Borrowed(_)));
        assert_eq!(
            escape_controls("a\nINFO forged\r\x1b[2J\u{9b}é"),
            "a\\nINFO forged\\r\\u{1b}[2J\\u{9b}é"
        );
        assert_eq!(excerpt("abcdef", 3), "abc…");
        assert_eq!(escape_controls_in_lines("a\x1b\nb\r"), "a\\u{1b}\nb\\r");
        assert_eq!(excerpt("a\x07", 5), "a\\u{7}");
    }
}
