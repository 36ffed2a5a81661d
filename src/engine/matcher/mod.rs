//! Finds keys in a byte buffer: a search for every rule prefix (built once and shared by all
//! threads; see `prefixes`), then per hit the left-edge test, the body extent by the rule's
//! character set (or its pattern), length, placeholder and entropy checks, and nearby context.

mod buckets;
mod byte_freq;
pub mod checks;
mod memo;
mod prefixes;

use crate::engine::decode::{self, Encoded};
use crate::engine::limits::Limits;
use crate::rules::{Rule, RuleSet};
use crate::secret::fingerprint_of;
use crate::severity::Confidence;
use prefixes::Prefixes;
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

/// A hit of an encoded form of a literal: where, and how to decode around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub at: usize,
    pub kind: Encoded,
}

pub struct Matcher {
    rules: Arc<RuleSet>,
    prefixes: Prefixes,
    /// Pattern id → (rule index, variant index, prefix is all word bytes).
    targets: Vec<(usize, usize, bool)>,
    longest_key: usize,
    /// Extra literal number → what its hit stands for.
    encoded: Vec<Encoded>,
    limits: Limits,
}

impl Matcher {
    pub fn new(rules: Arc<RuleSet>) -> Result<Matcher, String> {
        Matcher::build(rules, true)
    }

    /// `gated: false` looks for short prefixes everywhere: the reference the gates must match.
    fn build(rules: Arc<RuleSet>, gated: bool) -> Result<Matcher, String> {
        let mut prefixes = Vec::new();
        let mut gates = Vec::new();
        let mut targets = Vec::new();
        let mut longest_key = 0;
        for (ri, rule) in rules.rules.iter().enumerate() {
            for (vi, v) in rule.variants.iter().enumerate() {
                prefixes.push(v.prefix.clone());
                gates.push(gate_literals(rule).filter(|_| gated));
                targets.push((ri, vi, v.prefix.iter().all(|&b| is_word(b))));
                longest_key = longest_key.max(v.prefix.len() + rule.max_len);
            }
        }
        let (extra, encoded) = encoded_literals(&rules);
        let margin = encoded_margin(longest_key);
        Ok(Matcher {
            // A gate may be inside the key or among the context words around it.
            prefixes: Prefixes::with_extra(
                &prefixes,
                &gates,
                longest_key + CONTEXT_BYTES + 1,
                &extra,
                margin,
            )?,
            rules,
            targets,
            longest_key,
            encoded,
            limits: Limits::default(),
        })
    }

    /// The same matcher with other expansion limits (`[limits]` in the config).
    pub fn with_limits(mut self, limits: Limits) -> Matcher {
        self.limits = limits;
        self
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Bytes a streaming caller must keep after the scanned region so that a key starting inside it
    /// is seen whole, with its trailing context, in plain text and in its encoded forms (whose
    /// literal may lie up to a margin past the region, with a window as wide after it).
    pub fn lookahead(&self) -> usize {
        (self.longest_key + 1 + CONTEXT_BYTES).max(2 * self.encoded_margin() + 8)
    }

    /// Bytes a streaming caller must keep before the scanned region: context for plain keys,
    /// and the window an encoded key's decoding reads before its literal.
    pub fn keep_before(&self) -> usize {
        CONTEXT_BYTES.max(self.encoded_margin() + 8)
    }

    /// How far around the hit of an encoded literal its key and context can be, in encoded bytes
    /// (UTF-16 takes two per character, base64 four per three).
    pub fn encoded_margin(&self) -> usize {
        encoded_margin(self.longest_key)
    }

    /// Appends to `out` every key that starts in `hay[from..until]`, and to `encoded` every hit of
    /// an encoded literal from `from` to `encoded_margin()` past `until` (a key starting before
    /// `until` may show its literal after it). The rest is as `find`.
    pub fn find_all(
        &self,
        hay: &[u8],
        from: usize,
        until: usize,
        out: &mut Vec<Hit>,
        encoded: &mut Vec<Candidate>,
    ) {
        let mut found = Vec::new();
        let mut extra = Vec::new();
        self.prefixes
            .all_and_extra(hay, from, until, &mut found, &mut extra);
        encoded.clear();
        encoded.extend(extra.into_iter().map(|(at, n)| Candidate {
            at,
            kind: self.encoded[n],
        }));
        self.confirm_all(hay, from, found, out);
    }

    /// Appends to `out` every key that starts in `hay[from..until]`. Bytes outside that range are
    /// only read as edges and context; `hay` must extend `lookahead()` past `until` unless it ends
    /// where the input ends.
    pub fn find(&self, hay: &[u8], from: usize, until: usize, out: &mut Vec<Hit>) {
        let mut found = Vec::new();
        self.prefixes.all(hay, from, until, &mut found);
        self.confirm_all(hay, from, found, out);
    }

    /// Whether the line holding `pos` carries the `stripe-scan:allow` marker.
    pub fn line_allows(&self, hay: &[u8], pos: usize) -> bool {
        surroundings(hay, pos, pos.min(hay.len()), false).0
    }

    fn confirm_all(
        &self,
        hay: &[u8],
        from: usize,
        found: Vec<(usize, usize, usize)>,
        out: &mut Vec<Hit>,
    ) {
        let mut pos = from;
        for (start, end, pattern) in found {
            if start < pos {
                continue;
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
                let m = re.get()?.find(&hay[body_start..limit])?;
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
        // Without this a key missing every `contains` literal would be found or not by chance,
        // as a gate for a short prefix happened to be near it or not.
        if !rule.contains.is_empty() && !rule.contains.iter().any(|c| contains(body, c)) {
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
            let names = |words: &[Vec<u8>], text: &[u8]| words.iter().any(|w| contains(text, w));
            // The key's own line speaks first: another vendor's name there excludes it, and
            // a Stripe word there keeps it even when a neighbouring line names another vendor
            // (an `.env` with both a Svix and a Stripe webhook secret).
            let own_context = names(&rule.context, &near.own);
            if !own_context && names(&rule.exclude_context, &near.own) {
                return None;
            }
            if own_context {
                confidence = Confidence::High;
            } else if names(&rule.exclude_context, &near.around) {
                return None;
            } else if names(&rule.context, &near.around)
                || column_header(hay, start).is_some_and(|h| names(&rule.context, &h))
            {
                confidence = Confidence::High;
            } else if rule.context_required {
                return None;
            }
        }
        if rule
            .strong_shape
            .as_ref()
            .and_then(|re| re.get())
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

/// How far from the hit of an encoded literal its key and context may reach: a key and its
/// context on either side, as UTF-16 (the widest encoding), plus a 4-character group.
fn encoded_margin(longest_key: usize) -> usize {
    2 * (longest_key + CONTEXT_BYTES + 2) + 4
}

/// The encoded forms of what the prefilter looks for: base64 fragments (at each alignment) and
/// the UTF-16 form of literals every key holds, and the base64 forms of compressed or archived
/// bytes at the start of a run. A rule's literals are its `contains`, which each of its keys holds
/// (so `seti_` costs nothing beside `_secret_`), else anchors of its prefixes; a literal holding
/// another adds nothing either (`s_secret_` holds `_secret_`): the shorter one's forms lie inside
/// its own. Context words are left out, so a short-prefix key whose rule only has context words
/// (`rt_`) is not looked for inside encodings. Variants with `in_base64 = false` keep their UTF-16
/// forms, which the prefilter searches apart (see `prefixes`).
fn encoded_literals(rules: &RuleSet) -> (Vec<Vec<u8>>, Vec<Encoded>) {
    let mut held: Vec<&[u8]> = Vec::new();
    let mut utf16_prefixes: Vec<&[u8]> = Vec::new();
    let mut base64_prefixes: Vec<&[u8]> = Vec::new();
    for rule in &rules.rules {
        let long_enough = |c: &Vec<u8>| c.len() >= prefixes::FINGERPRINT;
        if !rule.contains.is_empty() && rule.contains.iter().all(long_enough) {
            held.extend(rule.contains.iter().map(Vec::as_slice));
            continue;
        }
        for v in rule.variants.iter().filter(|v| long_enough(&v.prefix)) {
            utf16_prefixes.push(&v.prefix);
            if v.in_base64 {
                base64_prefixes.push(&v.prefix);
            }
        }
    }
    let mut literals: Vec<Vec<u8>> = Vec::new();
    let mut kinds = Vec::new();
    let mut add = |lit: Vec<u8>, kind: Encoded| {
        if lit.len() >= prefixes::FINGERPRINT && !literals.contains(&lit) {
            literals.push(lit);
            kinds.push(kind);
        }
    };
    for p in innermost(
        &held,
        memo::anchors(&base64_prefixes, &[], prefixes::choose_anchors),
    ) {
        for (fragment, phase) in decode::base64::fragments(&p) {
            add(fragment, Encoded::Base64 { phase: phase as u8 });
        }
    }
    for marker in decode::WHOLE_RUN_MARKERS {
        add(marker.to_vec(), Encoded::Base64Whole);
    }
    add(decode::manifest::WORD.to_vec(), Encoded::SecretKind);
    for p in innermost(
        &held,
        memo::anchors(&utf16_prefixes, &[], prefixes::choose_anchors),
    ) {
        add(decode::utf16::literal(&p), Encoded::Utf16);
    }
    (literals, kinds)
}

/// `held` and `anchors` less every literal that holds another of them, in that order.
fn innermost(held: &[&[u8]], anchors: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut all: Vec<Vec<u8>> = held.iter().map(|h| h.to_vec()).collect();
    for a in anchors {
        if !all.contains(&a) {
            all.push(a);
        }
    }
    let keep: Vec<bool> = all
        .iter()
        .map(|l| !all.iter().any(|o| o.len() < l.len() && contains(l, o)))
        .collect();
    all.into_iter()
        .zip(keep)
        .filter_map(|(l, k)| k.then_some(l))
        .collect()
}

/// Literals near which every key of `rule` is, if it has a short prefix: its `contains` literals,
/// else, when a context word is required, the context words. Those are matched in any case; the
/// gate takes the ways people write them: each word after its first byte (so `Stripe` too) in
/// lower case, upper case, and with every part after a `_`, `-` or `.` capitalised
/// (`Refresh_Token`). Words that hold another add nothing (`connect.stripe.com` holds `stripe`).
fn gate_literals(rule: &Rule) -> Option<Vec<Vec<u8>>> {
    if !rule.contains.is_empty() {
        return Some(rule.contains.clone());
    }
    if !rule.context_required || rule.context.is_empty() {
        return None;
    }
    let mut literals = Vec::new();
    for word in &rule.context {
        let holds_another = rule
            .context
            .iter()
            .any(|other| other != word && memchr::memmem::find(word, other).is_some());
        if holds_another {
            continue;
        }
        let tail = &word[1..];
        let mut title = tail.to_ascii_lowercase();
        for i in 1..title.len() {
            if !title[i - 1].is_ascii_alphanumeric() {
                title[i] = title[i].to_ascii_uppercase();
            }
        }
        for form in [tail.to_ascii_lowercase(), tail.to_ascii_uppercase(), title] {
            if !literals.contains(&form) {
                literals.push(form);
            }
        }
    }
    Some(literals)
}

/// The byte before a key must not continue a word (`task_test_`), except the letter of an escape
/// sequence written out in text (`\nsk_live_…`, `\u003dsk_live_…`, `%3Dsk_live_…`).
pub(crate) fn left_edge_ok(hay: &[u8], start: usize) -> bool {
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

/// The text around a key, lower-cased and without the key: its own line, and its own line with
/// the neighbouring ones.
struct Near {
    own: Vec<u8>,
    around: Vec<u8>,
}

/// Looks at the key's line for the allow marker and, when asked, returns its surroundings for
/// context words.
fn surroundings(hay: &[u8], start: usize, end: usize, want_context: bool) -> (bool, Option<Near>) {
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
    let without_key = |from: usize, to: usize| {
        let mut t = Vec::with_capacity(to - from);
        t.extend_from_slice(&hay[from..start]);
        t.push(b' ');
        t.extend_from_slice(&hay[end..to]);
        t.make_ascii_lowercase();
        t
    };
    let near = Near {
        own: without_key(line_start, line_end),
        around: without_key(ctx_start, ctx_end),
    };
    (allowed, Some(near))
}

/// The name of the column holding the key at `start`, lower-cased, when the key is a field of
/// a row under a header: a CSV (or TSV) row under the first line of `hay` with as many
/// separators, or a row of values under the nearest `INSERT INTO t (columns…)` before it. A
/// header many rows up names every row below it, which the neighbouring lines cannot.
fn column_header(hay: &[u8], start: usize) -> Option<Vec<u8>> {
    // A row longer than this is no table's (a minified line holding many keys would otherwise be
    // read back to its start once per key).
    let lo = start.saturating_sub(HEADER_REACH);
    let line_start = match memchr::memrchr(b'\n', &hay[lo..start]) {
        Some(i) => lo + i + 1,
        None if lo == 0 => 0,
        None => return None,
    };
    let before = &hay[line_start..start];
    if let Some(open) = memchr::memrchr(b'(', before) {
        // Bounded, so a dump with many keys and no context stays linear.
        let from = line_start.saturating_sub(HEADER_REACH);
        if let Some(header) = sql_columns(&hay[from..line_start]) {
            let column = before[open..].iter().filter(|&&b| b == b',').count();
            return header.split(|&b| b == b',').nth(column).map(<[u8]>::to_vec);
        }
    }
    let sep = [b',', b'\t', b';']
        .into_iter()
        .find(|&c| memchr::memchr(c, before).is_some())?;
    let first_end = memchr::memchr(b'\n', &hay[..hay.len().min(HEADER_REACH)])?;
    if first_end >= line_start {
        return None;
    }
    let line_end = memchr::memchr(b'\n', &hay[start..]).map_or(hay.len(), |i| start + i);
    let count = |t: &[u8]| t.iter().filter(|&&b| b == sep).count();
    let header = &hay[..first_end];
    if count(header) != count(&hay[line_start..line_end]) {
        return None;
    }
    let column = count(before);
    let mut name = header.split(|&b| b == sep).nth(column)?.to_vec();
    name.make_ascii_lowercase();
    Some(name)
}

/// How far back a column header is looked for, and how long a CSV header line may be.
const HEADER_REACH: usize = 64 << 10;

/// The column list of the last `INSERT INTO t (a, b, …)` in `text`, lower-cased.
fn sql_columns(text: &[u8]) -> Option<Vec<u8>> {
    let at = [&b"INSERT INTO"[..], b"insert into"]
        .iter()
        .filter_map(|w| memchr::memmem::rfind(text, w))
        .max()?;
    let rest = &text[at..];
    let open = memchr::memchr(b'(', rest)?;
    let close = open + memchr::memchr(b')', &rest[open..])?;
    // `INSERT INTO t VALUES (…)` has no column list: its first parenthesis follows VALUES.
    let head = rest[..open].to_ascii_lowercase();
    if contains(&head, b"values") {
        return None;
    }
    Some(rest[open + 1..close].to_ascii_lowercase())
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

    /// The start-up answers kept for the built-in rules (see `memo`) are the ones the searches give.
    #[test]
    fn known_answers_are_current() {
        memo::record::SEEN.with(|s| s.borrow_mut().clear());
        let rules = Arc::new(RuleSet::builtin().expect("built-in rules"));
        Matcher::new(rules).expect("matcher");
        let seen = memo::record::SEEN.with(|s| s.take());
        assert!(seen.iter().any(|s| s.1) && seen.iter().any(|s| !s.1));
        if seen.iter().all(|s| s.2) {
            return;
        }
        let table = |anchors: bool| {
            let mut lines: Vec<&str> = seen
                .iter()
                .filter(|s| s.1 == anchors)
                .map(|s| s.0.as_str())
                .collect();
            lines.dedup();
            lines.join("\n")
        };
        panic!(
            "the built-in rules changed: replace the tables in src/engine/matcher/memo.rs with\n\
             const KNOWN_ANCHORS: &[(u64, Anchors)] = &[\n{}\n];\n\n\
             const KNOWN_ORDERS: &[(u64, &[u16])] = &[\n{}\n];\n",
            table(true),
            table(false)
        );
    }

    fn keys(m: &Matcher, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        m.find(text.as_bytes(), 0, text.len(), &mut out);
        out.iter()
            .map(|h| text[h.start..h.end].to_string())
            .collect()
    }

    /// Teddy keeps full speed up to 32 literals, and few to a bucket (see `prefixes`); past 64 a
    /// full automaton takes over, several times slower on every file. UTF-16 forms, which hold
    /// NUL bytes, are searched apart.
    #[test]
    fn encoded_literals_keep_the_fast_search() {
        let rules = Arc::new(RuleSet::builtin().unwrap());
        let (extra, kinds) = encoded_literals(&rules);
        assert_eq!(extra.len(), kinds.len());
        let shown: Vec<String> = extra
            .iter()
            .map(|l| String::from_utf8_lossy(l).replace('\0', ""))
            .collect();
        // `seti_` keys hold `_secret_`, `s_secret_` holds it too, and `k_prod_` is left out.
        for gone in ["seti_", "s_secret_", "k_prod_"] {
            let forms = decode::base64::fragments(gone.as_bytes());
            assert!(
                forms.iter().all(|(f, _)| !extra.contains(f)),
                "{gone}: {shown:?}"
            );
        }
        assert!(extra.contains(&decode::utf16::literal(b"k_prod_")));
        // 5 anchors, 6 gates, 18 base64 forms and `Secret`: the 8-bucket form.
        let (count, fat) = matcher().prefixes.main_search();
        assert!(
            count <= 30 && fat == Some(false),
            "{count} literals: {shown:?}"
        );
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

    fn segment() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let body = |n: std::ops::Range<usize>| {
            proptest::string::string_regex(&format!("[A-Za-z0-9]{{{},{}}}", n.start, n.end))
                .unwrap()
        };
        prop_oneof![
            (
                prop::sample::select(vec!["pi_", "seti_"]),
                body(14..40),
                any::<bool>(),
                body(12..30)
            )
                .prop_map(|(p, a, scoped, b)| {
                    format!("{p}{a}_{}secret_{b}", if scoped { "scoped_" } else { "" })
                }),
            body(20..40).prop_map(|b| format!("rt_{b}")),
            // Anchored by `_secret_`, the gate of `pi_` and `seti_`.
            (
                prop::sample::select(vec!["cuss_secret_", "accs_secret__"]),
                body(47..49)
            )
                .prop_map(|(p, b)| format!("{p}{b}")),
            prop::sample::select(vec![
                "stripe",
                "Stripe",
                "STRIPE",
                "refresh_token",
                "REFRESH_TOKEN",
                "Refresh_Token",
                "Stripe-Signature",
                "connect.stripe.com",
                "api_",
                "report_",
                "_secret_",
            ])
            .prop_map(String::from),
            proptest::string::string_regex("[ .=\"\n]{0,700}").unwrap(),
            proptest::string::string_regex("[a-z_]{1,12}").unwrap(),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Gates only skip work: short-prefix keys are found the same with them as without, for
        /// context words written in lower, upper or capitalised case, near or far.
        #[test]
        fn gates_find_what_a_search_everywhere_finds(
            segments in proptest::collection::vec(segment(), 0..16)
        ) {
            let rules = Arc::new(RuleSet::builtin().unwrap());
            let gated = Matcher::build(rules.clone(), true).unwrap();
            let everywhere = Matcher::build(rules, false).unwrap();
            let hay = segments.concat();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            gated.find(hay.as_bytes(), 0, hay.len(), &mut a);
            everywhere.find(hay.as_bytes(), 0, hay.len(), &mut b);
            proptest::prop_assert_eq!(a, b);
        }
    }
}
