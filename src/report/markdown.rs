//! Markdown for SARIF help and the GitHub job summary: our own steps keep their code spans, and
//! anything that came from outside (a path, a name) is shown literally.

/// Steps written in the rule file: code spans stay as they are; outside them, `<path>` must not be
/// read as HTML nor `[allow]` as a link.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_code = false;
    for c in s.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            '*' | '_' | '[' | ']' | '\\' | '|' if !in_code => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Text from outside (a path, an author) in a table cell, shown literally: the characters that can
/// start inline Markdown or HTML are backslash-escaped (GFM tables need it for `|` too), and a line
/// break becomes a visible `⏎`, since a raw one would end the row. A cell never starts a line, so
/// block syntax (`#`, `-`, `1.`) cannot trigger.
pub fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push('⏎'),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_keep_code_spans_and_escape_the_rest() {
        assert_eq!(
            escape_text("run `git rm <path>` then <path> [allow]"),
            "run `git rm <path>` then &lt;path&gt; \\[allow\\]"
        );
    }

    #[test]
    fn outside_text_is_literal() {
        assert_eq!(literal("a|b\n`c`<d>/e.f"), "a\\|b⏎\\`c\\`\\<d\\>/e.f");
    }
}
