//! Kubernetes `Secret` manifests, whose values are base64 and sometimes base64 of base64 (a value
//! that was itself encoded before it went in). A key encoded twice has no fixed fragment to
//! search for: the outer layer encodes base64 text, not the key. So the `kind` line of a Secret
//! is what the search finds (the word `Secret`), and every value of its document is decoded.

use super::base64::is_base64;
use std::ops::Range;

/// The word the prefilter searches for.
pub const WORD: &[u8] = b"Secret";

/// How far before the word the `kind` key and its quotes and spaces may start.
const LOOK_BACK: usize = 64;

/// A value shorter than this holds no key, even encoded once.
const SHORTEST_VALUE: usize = 24;

/// Whether `hay[at..]`, which starts with `WORD`, is the kind of a Kubernetes object: `kind:
/// Secret` in YAML, `"kind": "Secret"` in JSON, and not `SecretList` or `SealedSecret`.
pub fn is_kind(hay: &[u8], at: usize) -> bool {
    let after = at + WORD.len();
    if hay
        .get(after)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return false;
    }
    // Only the end of the line matters, and a minified file's one line may hold this word
    // thousands of times: look back a bounded way, not to the line's start.
    let lo = at.saturating_sub(LOOK_BACK);
    let line_start = memchr::memrchr(b'\n', &hay[lo..at]).map_or(lo, |i| lo + i + 1);
    let cut = line_start > 0 && hay[line_start - 1] != b'\n';
    let mut before = &hay[line_start..at];
    let trim = |s: &mut &[u8], what: &[u8]| {
        while let [rest @ .., last] = *s {
            if !what.contains(last) {
                break;
            }
            *s = rest;
        }
    };
    trim(&mut before, b" \t\"");
    let Some(rest) = before.strip_suffix(b":") else {
        return false;
    };
    let mut rest = rest;
    trim(&mut rest, b" \t\"");
    let Some(rest) = rest.strip_suffix(b"kind") else {
        return false;
    };
    match rest.last() {
        Some(&b) => matches!(b, b' ' | b'\t' | b'"' | b'{' | b','),
        // Nothing before `kind` but the window's edge: not known to start its line.
        None => !cut,
    }
}

/// The YAML document around `at`: from the `---` line before it to the next, or the whole text.
pub fn document(hay: &[u8], at: usize) -> Range<usize> {
    let separator = |line_start: usize| hay[line_start..].starts_with(b"---");
    let mut start = 0;
    let mut p = at;
    while let Some(i) = memchr::memrchr(b'\n', &hay[..p]) {
        if separator(i + 1) && i + 1 < at {
            start = i + 1;
            break;
        }
        p = i;
    }
    let mut end = hay.len();
    let mut p = at;
    while let Some(i) = memchr::memchr(b'\n', &hay[p..]) {
        let line = p + i + 1;
        if separator(line) {
            end = line;
            break;
        }
        p = line;
    }
    start..end
}

/// Where each base64 run in `range` long enough to be a value starts.
pub fn values(hay: &[u8], range: Range<usize>) -> Vec<usize> {
    let mut out = Vec::new();
    let mut p = range.start;
    while p < range.end {
        if !is_base64(hay[p]) {
            p += 1;
            continue;
        }
        let start = p;
        while p < range.end && is_base64(hay[p]) {
            p += 1;
        }
        if p - start >= SHORTEST_VALUE {
            out.push(start);
        }
    }
    out
}

/// Whether decoded bytes are base64 text themselves, in the standard alphabet (allowing padding
/// and line breaks). Not the URL-safe one: a key on its own (`sk_live_…`) is made of its
/// characters, and is found as it is.
pub fn is_base64_text(decoded: &[u8]) -> bool {
    decoded.len() >= SHORTEST_VALUE
        && decoded
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_at(text: &str) -> bool {
        let at = text.find("Secret").expect("word");
        is_kind(text.as_bytes(), at)
    }

    #[test]
    fn the_kind_line_in_yaml_and_json_and_nothing_else() {
        assert!(kind_at("apiVersion: v1\nkind: Secret\n"));
        assert!(kind_at("  kind:   \"Secret\"\n"));
        assert!(kind_at(
            "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":{}}"
        ));
        assert!(kind_at("{\n  \"kind\": \"Secret\",\n"));
        assert!(!kind_at("kind: SecretList\n"));
        assert!(!kind_at("kind: SealedSecret\n"));
        assert!(!kind_at("clientSecret: abc\n"));
        assert!(!kind_at("mykind: Secret\n"));
        assert!(!kind_at("Secret\n"));
        // Far along one long line (a minified bundle), as in a short one.
        let long = "x".repeat(5000);
        assert!(kind_at(&format!("{long},\"kind\":\"Secret\"}}")));
        assert!(!kind_at(&format!("{long}mykind: Secret")));
        assert!(kind_at(&format!("{}kind: Secret\n", " ".repeat(80))));
    }

    #[test]
    fn base64_text_is_the_standard_alphabet_and_a_bare_key_is_not() {
        assert!(is_base64_text(b"U1RSSVBFX1NFQ1JFVF9LRVk9c2tfbGl2ZV8K\n"));
        let key = ["sk", "live", "a1B2c3D4e5F6g7H8i9J0k1L2"].join("_");
        assert!(!is_base64_text(key.as_bytes()));
        assert!(!is_base64_text(b"short"));
    }

    #[test]
    fn documents_end_at_separators() {
        let text = b"a: 1\n---\nkind: Secret\ndata:\n  k: v\n---\nkind: ConfigMap\n";
        let at = memchr::memmem::find(text, WORD).expect("word");
        let doc = document(text, at);
        assert_eq!(&text[doc], b"---\nkind: Secret\ndata:\n  k: v\n".as_slice());
    }
}
