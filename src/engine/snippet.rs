//! The line a key was found on, as a report shows it: the key redacted, the text around it cut to a
//! few dozen characters, and anything else on that line that starts like a key masked too. So a
//! reader can tell a fixture from a config file at a glance, and no report ever holds a key
//! (nor the visible part of a second key cut in half by the edge of the excerpt).

use crate::engine::matcher::left_edge_ok;
use crate::rules::RuleSet;
use crate::secret::Secret;

/// Characters kept before and after the key.
const BEFORE: usize = 48;
const AFTER: usize = 32;
/// A run this long after a prefix is masked as if it were a key.
const MASK_MIN_BODY: usize = 8;

/// `buf[start..end]` is the key; the rest of `buf` holds as much of its line as the scanner has.
pub fn excerpt(buf: &[u8], start: usize, end: usize, secret: &Secret, rules: &RuleSet) -> String {
    let line_start = memchr::memrchr(b'\n', &buf[..start]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &buf[end..]).map_or(buf.len(), |i| end + i);
    let before = &buf[line_start..start];
    let after = &buf[end..line_end];
    let after = after.strip_suffix(b"\r").unwrap_or(after);

    let mut out = String::new();
    let from = cut_before(before);
    let kept = if from > 0 {
        out.push('…');
        &before[from..]
    } else {
        // Indentation says nothing about the key.
        let lead = before
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        &before[lead..]
    };
    out.push_str(&clean(&mask(kept, rules)));
    out.push_str(&secret.redacted());
    let to = cut_after(after);
    out.push_str(&clean(&mask(&after[..to], rules)));
    if to < after.len() {
        out.push('…');
    }
    out
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Where the kept part of the text before the key starts: at most `BEFORE` characters back, and
/// never inside a token (the cut half of another key would show).
fn cut_before(before: &[u8]) -> usize {
    let mut chars = 0;
    let mut at = before.len();
    while at > 0 && chars < BEFORE {
        at -= 1;
        if before[at] & 0xC0 != 0x80 {
            chars += 1;
        }
    }
    // Back up to a character boundary.
    while at > 0 && at < before.len() && before[at] & 0xC0 == 0x80 {
        at -= 1;
    }
    if at == 0 {
        return 0;
    }
    while at < before.len() && is_token(before[at - 1]) && is_token(before[at]) {
        at += 1;
    }
    at
}

/// Where the kept part after the key ends, by the same rules.
fn cut_after(after: &[u8]) -> usize {
    let mut chars = 0;
    let mut at = 0;
    while at < after.len() {
        if after[at] & 0xC0 != 0x80 {
            if chars == AFTER {
                break;
            }
            chars += 1;
        }
        at += 1;
    }
    if at >= after.len() {
        return after.len();
    }
    while at > 0 && is_token(after[at - 1]) && is_token(after[at]) {
        at -= 1;
    }
    at
}

/// Any rule prefix where the scanner would take a key to start (`matcher::left_edge_ok`: the
/// start of a word, or after an escape such as `%3D` or `\n`) followed by a run of its body
/// characters keeps the prefix and loses the run.
fn mask(text: &[u8], rules: &RuleSet) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    'outer: while i < text.len() {
        if left_edge_ok(text, i) {
            for rule in &rules.rules {
                for v in &rule.variants {
                    let p = &v.prefix;
                    if p.is_empty() || !text[i..].starts_with(p) {
                        continue;
                    }
                    let body = text[i + p.len()..]
                        .iter()
                        .take_while(|&&b| rule.charset[b as usize])
                        .count();
                    if body >= MASK_MIN_BODY {
                        out.extend_from_slice(p);
                        out.extend_from_slice("…".as_bytes());
                        i += p.len() + body;
                        continue 'outer;
                    }
                }
            }
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

/// As text: tabs as spaces, invalid UTF-8 replaced. Other control characters stay; reports show
/// them escaped.
fn clean(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\t', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(line: &str, key: &str) -> String {
        let rules = RuleSet::builtin().expect("rules");
        let start = line.find(key).expect("key in line");
        let end = start + key.len();
        let prefix = key.find('_').map_or(0, |i| {
            key[i + 1..].find('_').map_or(i + 1, |j| i + 1 + j + 1)
        });
        let secret = Secret::new(key.as_bytes().to_vec(), prefix);
        excerpt(line.as_bytes(), start, end, &secret, &rules)
    }

    fn body(n: usize) -> String {
        "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7"
            .chars()
            .cycle()
            .take(n)
            .collect()
    }

    #[test]
    fn the_line_with_the_key_redacted() {
        let key = format!("sk_live_{}", body(24));
        let line = format!("x = 1\n    STRIPE_SECRET_KEY = \"{key}\"\r\nnext");
        let shown = show(&line, &key);
        assert!(
            shown.starts_with("STRIPE_SECRET_KEY = \"sk_live_aB3d…"),
            "{shown}"
        );
        assert!(shown.ends_with('"'), "{shown}");
        assert!(!shown.contains(&body(24)), "{shown}");
    }

    /// A second key after an escape is one the scanner reports: the excerpt of the first must
    /// not show it.
    #[test]
    fn a_key_after_an_escape_is_masked_too() {
        let key = format!("sk_live_{}", body(24));
        for before in ["%3D", "\\n", "\\u003d", "\\x3d"] {
            let other = format!("rk_live_{}", body(26));
            let line = format!("a={before}{other}&b={key}");
            let shown = show(&line, &key);
            assert!(!shown.contains(&body(26)[4..]), "{before}: {shown}");
            assert!(shown.contains("rk_live_…"), "{before}: {shown}");
        }
    }

    #[test]
    fn long_lines_are_cut_outside_tokens_and_other_keys_are_masked() {
        let key = format!("sk_live_{}", body(24));
        let other = format!("rk_live_{}", body(30));
        let line = format!(
            "{}{} {} , {} then a long tail of words that goes on and on",
            "word ".repeat(30),
            body(40),
            other,
            key
        );
        let shown = show(&line, &key);
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert!(shown.contains("rk_live_…"), "{shown}");
        assert!(!shown.contains(&body(30)[4..20]), "{shown}");
        assert!(shown.chars().count() < BEFORE + AFTER + 40, "{shown}");
    }
}
