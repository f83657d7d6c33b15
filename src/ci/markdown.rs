//! Markdown for pages CI systems render (GitHub job summaries, pull-request comments): a value from
//! an image as one table cell that shows as the text it is, whatever it holds.

/// `text` as the content of one Markdown table cell: the characters GitHub-flavoured Markdown
/// gives a meaning to are backslash-escaped (`|` would end the cell, `<` start HTML, `[` a link,
/// `*`/`_`/`` ` `` emphasis or code, `@` a mention, `#` an issue link), and line breaks and
/// other control characters become spaces, so one value stays on its row.
pub fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '<' | '>' | '[' | ']' | '*' | '_' | '`' | '~' | '#' | '@' | '!' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_stays_one_cell_of_plain_text() {
        assert_eq!(cell("a|b\nc<img src=x>"), "a\\|b c\\<img src=x\\>");
        assert_eq!(
            cell("[x](http://e) @team #1"),
            "\\[x\\](http://e) \\@team \\#1"
        );
        assert_eq!(cell("left-pad 1.3.0"), "left-pad 1.3.0");
    }
}
