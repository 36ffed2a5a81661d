//! Finds keys in a byte buffer: one Aho-Corasick automaton over every rule prefix (built once and
//! shared by all threads), then per hit the left-edge test, the body extent by the rule's
//! character set (or its pattern), length, placeholder and entropy checks, and nearby context.

pub mod checks;

use crate::rules::RuleSet;
use crate::secret::fingerprint_of;
use crate::severity::Confidence;
use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind, Span};
use std::sync::Arc;

/// How far around a key we look for context words (same line and the neighbouring ones).
pub const CONTEXT_BYTES: usize = 1024;

const ALLOW_MARKER: &[u8] = b"stripe-scan:allow";

/// A confirmed key in a buffer: byte range plus what the checks concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub rule: usize,
    pub variant: usize,
    pub start: usize,
    pub end: usize,
    pub confidence: Confidence,
    pub public_example: bool,
    /// `stripe-scan:allow` is written on the key's line.
    pub inline_allowed: bool,
}

/// How prefixes are found: Teddy for up to 64 of them, else a full automaton.
enum Prefixes {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

pub struct Matcher {
    rules: Arc<RuleSet>,
    prefixes: Prefixes,
    /// Pattern id → (rule index, variant index, prefix is all word bytes).
    targets: Vec<(usize, usize, bool)>,
    longest_key: usize,
}

impl Matcher {
    pub fn new(rules: Arc<RuleSet>) -> Result<Matcher, String> {
        let mut prefixes = Vec::new();
        let mut targets = Vec::new();
        let mut longest_key = 0;
        for (ri, rule) in rules.rules.iter().enumerate() {
            for (vi, v) in rule.variants.iter().enumerate() {
                prefixes.push(v.prefix.clone());
                targets.push((ri, vi, v.prefix.iter().all(|&b| is_word(b))));
                longest_key = longest_key.max(v.prefix.len() + rule.max_len);
            }
        }
        // The packed (Teddy) searcher alone takes up to 64 prefixes and was measured slightly
        // faster than the automaton's own prefilter; building only what is used keeps start-up
        // short. Leftmost-longest prefers `sk_org_live_` over a shorter prefix at the same byte.
        let prefixes_found = match packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostLongest)
            .builder()
            .extend(&prefixes)
            .build()
        {
            Some(p) => Prefixes::Packed(p),
            None => Prefixes::Automaton(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&prefixes)
                    .map_err(|e| format!("cannot build the prefix automaton: {e}"))?,
            ),
        };
        Ok(Matcher {
            rules,
            prefixes: prefixes_found,
            targets,
            longest_key,
        })
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Bytes a streaming caller must keep after the scanned region so that a key starting inside it
    /// is seen whole, with its trailing context.
    pub fn lookahead(&self) -> usize {
        self.longest_key + 1 + CONTEXT_BYTES
    }

    /// Appends to `out` every key that starts in `hay[from..until]`. Bytes outside that range are
    /// only read as edges and context; `hay` must extend `lookahead()` past `until` unless it ends
    /// where the input ends.
    pub fn find(&self, hay: &[u8], from: usize, until: usize, out: &mut Vec<Hit>) {
        let mut pos = from;
        while pos < until {
            let Some((start, end, pattern)) = self.next_prefix(hay, pos) else {
                return;
            };
            if start >= until {
                return;
            }
            let (ri, vi, all_word) = self.targets[pattern];
            // A rejected hit cannot hide a key inside a prefix made of word bytes: a key starting
            // there would fail its own left-edge test. Other prefixes resume one byte on.
            pos = if all_word { end } else { start + 1 };
            if let Some(hit) = self.confirm(hay, start, end, ri, vi) {
                pos = hit.end;
                out.push(hit);
            }
        }
    }

    /// The next prefix at or after `pos`.
    fn next_prefix(&self, hay: &[u8], pos: usize) -> Option<(usize, usize, usize)> {
        match &self.prefixes {
            Prefixes::Packed(p) => p
                .find_in(hay, Span::from(pos..hay.len()))
                .map(|m| (m.start(), m.end(), m.pattern().as_usize())),
            Prefixes::Automaton(ac) => ac
                .find(Input::new(hay).span(pos..hay.len()))
                .map(|m| (m.start(), m.end(), m.pattern().as_usize())),
        }
    }

    fn confirm(
        &self,
        hay: &[u8],
        start: usize,
        body_start: usize,
        ri: usize,
        vi: usize,
    ) -> Option<Hit> {
        let rule = &self.rules.rules[ri];
        if !left_edge_ok(hay, start) {
            return None;
        }
        let limit = (body_start + rule.max_len + 1).min(hay.len());
        let end = match &rule.pattern {
            Some(re) => {
                let m = re.find(&hay[body_start..limit])?;
                let end = body_start + m.end();
                // The pattern must take the whole token, not a piece of a longer one.
                if end < hay.len() && rule.charset[hay[end] as usize] {
                    return None;
                }
                end
            }
            None => {
                let run = hay[body_start..limit]
                    .iter()
                    .position(|&b| !rule.charset[b as usize])
                    .unwrap_or(limit - body_start);
                body_start + run
            }
        };
        let body = &hay[body_start..end];
        if body.len() < rule.min_len || body.len() > rule.max_len {
            return None;
        }
        if rule
            .exclude_body_prefixes
            .iter()
            .any(|p| body.starts_with(p))
        {
            return None;
        }
        if checks::looks_placeholder(body) || checks::entropy(body) < rule.min_entropy {
            return None;
        }
        let mut confidence = rule.confidence;
        let (inline_allowed, near) = surroundings(
            hay,
            start,
            end,
            !rule.context.is_empty() || !rule.exclude_context.is_empty(),
        );
        if let Some(near) = near {
            if rule.exclude_context.iter().any(|w| contains(&near, w)) {
                return None;
            }
            if rule.context.iter().any(|w| contains(&near, w)) {
                confidence = Confidence::High;
            } else if rule.context_required {
                return None;
            }
        }
        if rule
            .strong_shape
            .as_ref()
            .is_some_and(|re| re.is_match(body))
        {
            confidence = Confidence::High;
        }
        let public_example = !self.rules.public_examples.is_empty()
            && self
                .rules
                .public_examples
                .contains(&fingerprint_of(&hay[start..end]));
        Some(Hit {
            rule: ri,
            variant: vi,
            start,
            end,
            confidence,
            public_example,
            inline_allowed,
        })
    }
}

/// The byte before a key must not continue a word (`task_test_`), except the letter of an escape
/// sequence written out in text (`\nsk_live_…`, `\u003dsk_live_…`, `%3Dsk_live_…`).
fn left_edge_ok(hay: &[u8], start: usize) -> bool {
    if start == 0 || !is_word(hay[start - 1]) {
        return true;
    }
    let before = &hay[..start];
    let n = before.len();
    let hex = |b: u8| b.is_ascii_hexdigit();
    (n >= 2 && before[n - 2] == b'\\' && b"ntrfbv0".contains(&before[n - 1]))
        || (n >= 6
            && before[n - 6] == b'\\'
            && before[n - 5] == b'u'
            && before[n - 4..].iter().all(|&b| hex(b)))
        || (n >= 4
            && before[n - 4] == b'\\'
            && before[n - 3] == b'x'
            && hex(before[n - 2])
            && hex(before[n - 1]))
        || (n >= 3 && before[n - 3] == b'%' && hex(before[n - 2]) && hex(before[n - 1]))
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Looks at the key's line for the allow marker and, when asked, returns the key's line and its
/// neighbours lower-cased (without the key itself) for context words.
fn surroundings(
    hay: &[u8],
    start: usize,
    end: usize,
    want_context: bool,
) -> (bool, Option<Vec<u8>>) {
    let lo_bound = start.saturating_sub(CONTEXT_BYTES);
    let hi_bound = (end + CONTEXT_BYTES).min(hay.len());
    let line_start =
        memchr::memrchr(b'\n', &hay[lo_bound..start]).map_or(lo_bound, |i| lo_bound + i + 1);
    let line_end = memchr::memchr(b'\n', &hay[end..hi_bound]).map_or(hi_bound, |i| end + i);
    let allowed = memchr::memmem::find(&hay[line_start..line_end], ALLOW_MARKER).is_some();
    if !want_context {
        return (allowed, None);
    }
    let ctx_start = if line_start > lo_bound {
        memchr::memrchr(b'\n', &hay[lo_bound..line_start - 1])
            .map_or(lo_bound, |i| lo_bound + i + 1)
    } else {
        line_start
    };
    let ctx_end = if line_end < hi_bound {
        memchr::memchr(b'\n', &hay[line_end + 1..hi_bound]).map_or(hi_bound, |i| line_end + 1 + i)
    } else {
        line_end
    };
    let mut near = Vec::with_capacity(ctx_end - ctx_start);
    near.extend_from_slice(&hay[ctx_start..start]);
    near.push(b' ');
    near.extend_from_slice(&hay[end..ctx_end]);
    near.make_ascii_lowercase();
    (allowed, Some(near))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> Matcher {
        Matcher::new(Arc::new(RuleSet::builtin().unwrap())).unwrap()
    }

    fn keys(m: &Matcher, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        m.find(text.as_bytes(), 0, text.len(), &mut out);
        out.iter()
            .map(|h| text[h.start..h.end].to_string())
            .collect()
    }

    #[test]
    fn public_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Matcher>();
    }

    #[test]
    fn edges() {
        let m = matcher();
        let body = "Q7wE9rT2yU4iO6pA8sD1fG3h";
        let key = format!("sk_live_{body}");
        assert_eq!(keys(&m, &format!("-u {key}:")), vec![key.clone()]);
        assert_eq!(keys(&m, &format!("x\\n{key}\\u0026")), vec![key.clone()]);
        assert_eq!(keys(&m, &format!("a=\\u003d{key}")), vec![key.clone()]);
        assert!(keys(&m, &format!("ask_live_{body}")).is_empty());
        assert!(keys(&m, &format!("_{key}")).is_empty());
    }
}
