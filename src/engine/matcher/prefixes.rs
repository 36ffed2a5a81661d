//! Finds rule prefixes in a buffer with the answers one leftmost-longest Aho-Corasick search over
//! all of them would give, but about twice as fast on the prefixes Stripe uses.
//!
//! Two costs were measured on the benchmark tree. The packed (Teddy) searcher compares the first
//! bytes of every pattern at once, and with one 3-byte prefix among them (`pi_`, `rt_`) it can only
//! use 3-byte fingerprints, which match all through `api_` and `report_`. And its speed falls with
//! the number of patterns: 23 prefixes took twice as long as 7. So:
//! - prefixes of 4 bytes or more are found through anchors: the fewest substrings of 4 bytes or
//!   more that together occur in every one of them (`_live_` stands for all seven live prefixes),
//!   each hit checked against the prefixes that hold that anchor;
//! - shorter prefixes get a searcher of their own, run only near a gate: a literal that any key
//!   of theirs has inside it or beside it (`_secret_` for `pi_`, a context word for `rt_`). Gates
//!   ride in the anchors' search, so a buffer with none costs nothing more. A short prefix with
//!   no gate is searched everywhere.
//!
//! Extra literals (the encoded forms of anchors, see `engine::decode`) ride in the same search:
//! their hits are handed back as they are, for the caller to decode around. Those holding a NUL
//! byte (UTF-16 forms) are searched apart, only where a buffer holds one: text has none. Teddy's
//! cost is one pass over the bytes plus a check of each place whose first bytes fit a bucket's
//! nibble sets; `buckets` orders the literals so that few places do, which keeps the built-in
//! rules' 30 literals in one pass of the 8-bucket form.

use super::{buckets, memo};
use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind, Span};

/// Teddy's longest fingerprint; a shorter prefix would shorten it for every pattern.
pub(super) const FINGERPRINT: usize = 4;

/// Up to this many literals Teddy's 8-bucket form, which reads twice as many bytes a step as the
/// 16-bucket one, is the faster once `buckets` has grouped them (the packed searcher's own rule).
const SLIM_MOST: usize = 32;

/// A literal match: start, end, pattern id.
type Found = (usize, usize, usize);

/// One literal search, leftmost-longest: Teddy for up to 64 literals, else a full automaton.
enum Searcher {
    /// The packed searcher, given the literals in the order `buckets` chose; `ids[k]` is the
    /// caller's number of its literal `k`.
    Packed(packed::Searcher, Vec<usize>),
    Automaton(AhoCorasick),
}

impl Searcher {
    fn new(literals: &[Vec<u8>]) -> Result<Searcher, String> {
        let fat = literals.len() > SLIM_MOST;
        let ids = memo::bucket_order(literals, if fat { 16 } else { 8 }, buckets::order);
        let ordered: Vec<&Vec<u8>> = ids.iter().map(|&i| &literals[i]).collect();
        // Leftmost-longest is the kind under which the packed searcher runs; it also prefers
        // `sk_org_live_` over a shorter literal at the same byte.
        let packed = |fat: Option<bool>| {
            packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostLongest)
                .only_teddy_fat(fat)
                .builder()
                .extend(&ordered)
                .build()
        };
        // The 16-bucket form needs AVX2; without it, the packed searcher's own choice.
        match packed(Some(fat)).or_else(|| packed(None)) {
            Some(p) => Ok(Searcher::Packed(p, ids)),
            None => AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(literals)
                .map(Searcher::Automaton)
                .map_err(|e| format!("cannot build the prefix automaton: {e}")),
        }
    }

    fn find(&self, hay: &[u8], from: usize) -> Option<Found> {
        match self {
            Searcher::Packed(p, ids) => {
                let m = p.find_in(hay, Span::from(from..hay.len()))?;
                Some((m.start(), m.end(), ids[m.pattern().as_usize()]))
            }
            Searcher::Automaton(ac) => {
                let m = ac.find(Input::new(hay).span(from..hay.len()))?;
                Some((m.start(), m.end(), m.pattern().as_usize()))
            }
        }
    }
}

/// What a hit of one literal of the anchor search means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Meaning {
    /// The prefix may start `offset` bytes before the hit.
    Anchor { prefix: usize, offset: usize },
    /// A short prefix may be near.
    Gate,
    /// Extra literal number `n`: reported as found.
    Extra(usize),
}

/// A search for some literals, and what a hit of each means.
struct Literals {
    searcher: Searcher,
    /// Literal id → its meanings, and those of the literals that are its own prefixes: a
    /// leftmost-longest search reports only the longest literal starting at a byte.
    meanings: Vec<Vec<Meaning>>,
}

impl Literals {
    fn new(literals: &[(Vec<u8>, Vec<Meaning>)]) -> Result<Option<Literals>, String> {
        if literals.is_empty() {
            return Ok(None);
        }
        let meanings = literals
            .iter()
            .map(|(lit, _)| {
                let mut all: Vec<Meaning> = Vec::new();
                for (other, m) in literals {
                    if !lit.starts_with(other) {
                        continue;
                    }
                    for x in m {
                        if !all.contains(x) {
                            all.push(*x);
                        }
                    }
                }
                all
            })
            .collect();
        let bytes: Vec<Vec<u8>> = literals.iter().map(|(l, _)| l.clone()).collect();
        Ok(Some(Literals {
            searcher: Searcher::new(&bytes)?,
            meanings,
        }))
    }
}

pub struct Prefixes {
    prefixes: Vec<Vec<u8>>,
    /// Anchors, gates and extra literals without a NUL byte, in one search.
    literals: Option<Literals>,
    /// Extra literals holding a NUL byte, searched only where one is.
    extra_with_nul: Option<Literals>,
    short: Option<Searcher>,
    /// Short searcher's pattern id → prefix id.
    short_ids: Vec<usize>,
    short_longest: usize,
    /// Some short prefix has no gate: the short search covers every buffer.
    short_everywhere: bool,
    /// How far from a gate a short prefix's key may start.
    reach: usize,
    /// Extra literals are reported up to this far past `until` (a key starting before `until`
    /// may show its literal after it).
    extra_reach: usize,
}

impl Prefixes {
    /// `gates[i]`: the gate literals of prefix `i` (used when it is shorter than Teddy's
    /// fingerprint; None searches it everywhere). `reach`: how far a gate may be from the start of
    /// a key it vouches for, either way.
    #[cfg(test)]
    pub fn new(
        prefixes: &[Vec<u8>],
        gates: &[Option<Vec<Vec<u8>>>],
        reach: usize,
    ) -> Result<Prefixes, String> {
        Prefixes::with_extra(prefixes, gates, reach, &[], 0)
    }

    /// As `new`, plus `extra` literals, whose hits `all` reports from `from` to `extra_reach`
    /// bytes past `until`.
    pub fn with_extra(
        prefixes: &[Vec<u8>],
        gates: &[Option<Vec<Vec<u8>>>],
        reach: usize,
        extra: &[Vec<u8>],
        extra_reach: usize,
    ) -> Result<Prefixes, String> {
        let usable_gates = |i: usize| {
            gates
                .get(i)
                .cloned()
                .flatten()
                .filter(|words| words.iter().all(|w| w.len() >= FINGERPRINT))
        };
        // Near gates: short prefixes, and long ones whose keys always hold a gate (`seti_` keys
        // hold `_secret_`), which then cost no literal of their own.
        let (long, short): (Vec<usize>, Vec<usize>) = (0..prefixes.len())
            .partition(|&i| prefixes[i].len() >= FINGERPRINT && usable_gates(i).is_none());
        let mut literals: Vec<(Vec<u8>, Vec<Meaning>)> = Vec::new();
        let mut add = |literal: &[u8], meaning: Meaning| match literals
            .iter_mut()
            .find(|(l, _)| l == literal)
        {
            Some((_, m)) => m.push(meaning),
            None => literals.push((literal.to_vec(), vec![meaning])),
        };
        let mut short_everywhere = false;
        let mut gate_words: Vec<Vec<u8>> = Vec::new();
        for &p in &short {
            match usable_gates(p) {
                Some(words) => {
                    for w in words {
                        add(&w, Meaning::Gate);
                        gate_words.push(w);
                    }
                }
                None => short_everywhere = true,
            }
        }
        let long_prefixes: Vec<&[u8]> = long.iter().map(|&i| &prefixes[i][..]).collect();
        for anchor in memo::anchors(&long_prefixes, &gate_words, choose_anchors) {
            for &p in &long {
                if let Some(offset) = find(&prefixes[p], &anchor) {
                    add(&anchor, Meaning::Anchor { prefix: p, offset });
                }
            }
        }
        for (n, literal) in extra.iter().enumerate() {
            add(literal, Meaning::Extra(n));
        }
        let (with_nul, without): (Vec<_>, Vec<_>) = literals
            .into_iter()
            .partition(|(l, m)| l.contains(&0) && m.iter().all(|x| matches!(x, Meaning::Extra(_))));
        let short_literals: Vec<Vec<u8>> = short.iter().map(|&i| prefixes[i].clone()).collect();
        Ok(Prefixes {
            prefixes: prefixes.to_vec(),
            literals: Literals::new(&without)?,
            extra_with_nul: Literals::new(&with_nul)?,
            short: if short.is_empty() {
                None
            } else {
                Some(Searcher::new(&short_literals)?)
            },
            short_longest: short_literals.iter().map(Vec::len).max().unwrap_or(0),
            short_ids: short,
            short_everywhere,
            reach,
            extra_reach,
        })
    }

    /// Fills `out` with every place in `hay[from..until]` where a prefix starts, the longest
    /// prefix there, in order: (start, end, prefix id). Bytes before `from` and after `until` are
    /// read only for gates and for prefixes that cross `until`.
    pub fn all(&self, hay: &[u8], from: usize, until: usize, out: &mut Vec<Found>) {
        let mut extra = Vec::new();
        self.all_and_extra(hay, from, until, out, &mut extra);
    }

    /// As `all`, and fills `extra` with (position, extra literal number) for every extra literal
    /// found from `from` to `extra_reach` past `until`, in order.
    pub fn all_and_extra(
        &self,
        hay: &[u8],
        from: usize,
        until: usize,
        out: &mut Vec<Found>,
        extra: &mut Vec<(usize, usize)>,
    ) {
        out.clear();
        extra.clear();
        let gated = self.short.is_some() && !self.short_everywhere;
        let at = if gated {
            from.saturating_sub(self.reach)
        } else {
            from
        };
        let mut sink = Sink {
            from,
            until,
            extra_until: until.saturating_add(self.extra_reach),
            out,
            extra,
            near_gates: Vec::new(),
        };
        if let Some(literals) = &self.literals {
            self.search(literals, hay, at, &mut sink);
        }
        if let Some(literals) = &self.extra_with_nul {
            if memchr::memchr(0, &hay[sink.from.min(hay.len())..]).is_some() {
                self.search(literals, hay, sink.from, &mut sink);
                // Hits of two searches, each in order.
                sink.extra.sort_unstable();
            }
        }
        let near_gates = sink.near_gates;
        if let Some(short) = &self.short {
            if self.short_everywhere {
                self.find_short(short, hay, from, until, out);
            } else {
                for (lo, hi) in near_gates {
                    let (lo, hi) = (lo.max(from), hi.min(until));
                    if lo < hi {
                        self.find_short(short, hay, lo, hi, out);
                    }
                }
            }
        }
        // The longest prefix first at each start, then one per start.
        out.sort_unstable_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
        out.dedup_by_key(|m| m.0);
    }

    /// Every hit of `literals` from `at` on, by what it means: a prefix starting in
    /// `from..until`, a gate's reach (widened and merged, in order), an extra literal.
    fn search(&self, literals: &Literals, hay: &[u8], mut at: usize, sink: &mut Sink) {
        while let Some((q, _, l)) = literals.searcher.find(hay, at) {
            for &meaning in &literals.meanings[l] {
                match meaning {
                    Meaning::Anchor { prefix, offset } => {
                        let Some(start) = q.checked_sub(offset) else {
                            continue;
                        };
                        let p = &self.prefixes[prefix];
                        if start >= sink.from && start < sink.until && hay[start..].starts_with(p) {
                            sink.out.push((start, start + p.len(), prefix));
                        }
                    }
                    Meaning::Gate => {
                        let lo = q.saturating_sub(self.reach);
                        // A column header vouches for every row below it.
                        let hi = if names_columns(hay, q) {
                            usize::MAX
                        } else {
                            q.saturating_add(self.reach)
                        };
                        match sink.near_gates.last_mut() {
                            Some(last) if last.1 >= lo => last.1 = last.1.max(hi),
                            _ => sink.near_gates.push((lo, hi)),
                        }
                    }
                    Meaning::Extra(n) => {
                        if q >= sink.from && q < sink.extra_until {
                            sink.extra.push((q, n));
                        }
                    }
                }
            }
            at = q + 1;
        }
    }

    /// How many literals the main search holds, and whether it is Teddy in its 16-bucket form.
    #[cfg(test)]
    pub fn main_search(&self) -> (usize, Option<bool>) {
        self.literals.as_ref().map_or((0, None), |l| {
            let fat = match &l.searcher {
                Searcher::Packed(..) => Some(l.meanings.len() > SLIM_MOST),
                Searcher::Automaton(_) => None,
            };
            (l.meanings.len(), fat)
        })
    }

    /// Short prefixes starting in `hay[lo..hi]`.
    fn find_short(&self, short: &Searcher, hay: &[u8], lo: usize, hi: usize, out: &mut Vec<Found>) {
        let end = hay.len().min(hi + self.short_longest);
        let mut at = lo;
        while let Some((start, stop, id)) = short.find(&hay[..end], at) {
            if start >= hi {
                break;
            }
            out.push((start, stop, self.short_ids[id]));
            at = start + 1;
        }
    }
}

/// Where one buffer's hits go.
struct Sink<'a> {
    from: usize,
    until: usize,
    extra_until: usize,
    out: &'a mut Vec<Found>,
    extra: &'a mut Vec<(usize, usize)>,
    /// Gate hits, widened by the reach and merged, in order.
    near_gates: Vec<(usize, usize)>,
}

/// Whether the word at `q` is in a column header: the first line of `hay` when it is
/// separated by commas, tabs or semicolons (CSV), or after `INSERT INTO` on its line (SQL).
fn names_columns(hay: &[u8], q: usize) -> bool {
    const LOOK: usize = 4096;
    let from = q.saturating_sub(LOOK);
    let line_start = match memchr::memrchr(b'\n', &hay[from..q]) {
        Some(i) => from + i + 1,
        None if from == 0 => 0,
        None => return false,
    };
    let head = &hay[line_start..q];
    if memchr::memmem::find(head, b"INSERT INTO").is_some()
        || memchr::memmem::find(head, b"insert into").is_some()
    {
        return true;
    }
    if line_start != 0 {
        return false;
    }
    let end = hay.len().min(q + LOOK);
    let line = &hay[..memchr::memchr(b'\n', &hay[..end]).unwrap_or(end)];
    memchr::memchr3(b',', b'\t', b';', line).is_some()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Picks few anchors for `prefixes` (each at least FINGERPRINT bytes): greedily, the substring of
/// FINGERPRINT bytes or more held by the most prefixes not yet covered; on a tie one of the `free`
/// literals (searched for anyway: `_secret_` serves `cuss_secret_`), else the longest (a longer
/// literal matches less text by chance), then the first in byte order so the choice is always
/// the same.
pub(super) fn choose_anchors(prefixes: &[&[u8]], free: &[Vec<u8>]) -> Vec<Vec<u8>> {
    // Every substring long enough, with the prefix it came from, grouped into one bit set of
    // holders per substring so each round below is a count of bits.
    if prefixes.is_empty() {
        return Vec::new();
    }
    let mut pieces: Vec<(&[u8], usize)> = Vec::new();
    for (i, p) in prefixes.iter().enumerate() {
        for from in 0..p.len() {
            for to in from + FINGERPRINT..=p.len() {
                pieces.push((&p[from..to], i));
            }
        }
    }
    pieces.sort_unstable();
    let words = prefixes.len().div_ceil(64);
    let mut candidates: Vec<&[u8]> = Vec::new();
    // Candidate c's holders are `holders[c * words..][..words]`: one allocation, not one each.
    let mut holders: Vec<u64> = Vec::new();
    for (piece, i) in pieces {
        if candidates.last() != Some(&piece) {
            candidates.push(piece);
            holders.resize(holders.len() + words, 0);
        }
        let at = holders.len() - words + i / 64;
        holders[at] |= 1 << (i % 64);
    }
    let mut uncovered = vec![u64::MAX; words];
    let mut anchors = Vec::new();
    loop {
        let mut best: Option<(u32, usize)> = None;
        for (i, set) in holders.chunks_exact(words).enumerate() {
            let n: u32 = set
                .iter()
                .zip(&uncovered)
                .map(|(a, b)| (a & b).count_ones())
                .sum();
            let rank = |c: &[u8]| (free.iter().any(|f| f == c), c.len());
            let better = match best {
                None => n > 0,
                Some((bn, b)) => n > bn || (n == bn && rank(candidates[i]) > rank(candidates[b])),
            };
            if better {
                best = Some((n, i));
            }
        }
        // None once every prefix is covered (each is a candidate of its own).
        let Some((_, i)) = best else { break };
        for (u, h) in uncovered
            .iter_mut()
            .zip(&holders[i * words..(i + 1) * words])
        {
            *u &= !h;
        }
        anchors.push(candidates[i].to_vec());
    }
    anchors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    /// Every match of a plain leftmost-longest automaton over the same prefixes, stepping one byte
    /// past each match start: what `Prefixes::next` must reproduce.
    fn reference(prefixes: &[Vec<u8>], hay: &[u8]) -> Vec<Found> {
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(prefixes)
            .unwrap();
        let mut out = Vec::new();
        let mut pos = 0;
        while let Some(m) = ac.find(Input::new(hay).span(pos..hay.len())) {
            out.push((m.start(), m.end(), m.pattern().as_usize()));
            pos = m.start() + 1;
        }
        out
    }

    fn ours(prefixes: &[Vec<u8>], gates: &[Option<Vec<Vec<u8>>>], hay: &[u8]) -> Vec<Found> {
        let p = Prefixes::new(prefixes, gates, 8).unwrap();
        let mut out = Vec::new();
        p.all(hay, 0, hay.len(), &mut out);
        out
    }

    #[test]
    fn anchors_are_shared_substrings() {
        let a = choose_anchors(
            &[b"sk_live_", b"rk_live_", b"sk_test_", b"whsec_", b"oak_"],
            &[],
        );
        assert_eq!(a, lits(&["k_live_", "sk_test_", "whsec_", "oak_"]));
        let a = choose_anchors(
            &[
                b"sk_live_",
                b"pst_live_",
                b"cs_test_",
                b"rk_test_",
                b"ek_test_",
            ],
            &[],
        );
        assert_eq!(a, lits(&["_test_", "_live_"]));
        // A literal searched for anyway wins a tie with a longer one.
        let pair: [&[u8]; 2] = [b"cuss_secret_", b"accs_secret__"];
        assert_eq!(choose_anchors(&pair, &[]), lits(&["s_secret_"]));
        assert_eq!(
            choose_anchors(&pair, &lits(&["_secret_"])),
            lits(&["_secret_"])
        );
    }

    #[test]
    fn same_matches_as_one_automaton() {
        let prefixes = lits(&[
            "sk_live_",
            "sk_org_live_",
            "rk_live_",
            "pk_test_",
            "sk_test_",
            "rkcs_test_",
            "whsec_",
            "oak_",
            "pi_",
            "rt_",
            "cuss_secret_",
            "accs_secret__",
            "abcd",
            "abcdef",
            "xabcdeg",
        ]);
        let hay = b"api_ sk_org_live_x rkcs_test_ sk_live_sk_test_ pi_rt_ whsec_oak_ \
            accs_secret__cuss_secret_ abcdefg xabcdeg abcd_live_ rk_live rk_live_";
        assert_eq!(ours(&prefixes, &[], hay), reference(&prefixes, hay));
        for cut in 0..hay.len() {
            assert_eq!(
                ours(&prefixes, &[], &hay[cut..]),
                reference(&prefixes, &hay[cut..])
            );
        }
    }

    #[test]
    fn short_prefixes_only_near_their_gates() {
        let prefixes = lits(&["sk_live_", "pi_", "rt_"]);
        let gates = [
            None,
            Some(lits(&["_secret_"])),
            Some(lits(&["ripe", "RIPE"])),
        ];
        let starts = |hay: &[u8]| -> Vec<usize> {
            ours(&prefixes, &gates, hay).iter().map(|m| m.0).collect()
        };
        // Within 8 bytes of a gate, either way, and nowhere else.
        assert_eq!(starts(b"pi_1_secret_ rt_ sk_live_"), vec![0, 17]);
        assert_eq!(starts(b"pi_1 ............ _secret_"), Vec::<usize>::new());
        assert_eq!(starts(b"STRIPE rt_ ......... rt_ pi_"), vec![7]);
        // A short prefix with no gate is searched everywhere.
        let everywhere = ours(&prefixes, &[None, None, Some(lits(&["ripe"]))], b"api_ rt_");
        assert_eq!(
            everywhere.iter().map(|m| m.0).collect::<Vec<_>>(),
            vec![1, 5]
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// Text stitched from pieces of prefixes and anchors, so prefixes overlap, nest and
        /// straddle each other far more often than in real files.
        #[test]
        fn same_matches_as_one_automaton_on_any_text(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "sk_", "live_", "test_", "org_", "rk", "cs_", "_secret_", "accs", "cuss",
                    "whsec_", "oak_", "pi_", "rt_", "a", "_", " ", "\n", "x", "k_prod_",
                ]),
                0..40,
            )
        ) {
            let prefixes = lits(&[
                "sk_live_", "sk_org_live_", "rk_live_", "sk_test_", "sk_org_test_", "rkcs_test_",
                "cs_live_", "cs_test_", "whsec_", "oak_", "pi_", "rt_", "cuss_secret_",
                "accs_secret__", "sk_prod_", "rk_prod_",
            ]);
            let hay = pieces.concat();
            proptest::prop_assert_eq!(
                ours(&prefixes, &[], hay.as_bytes()),
                reference(&prefixes, hay.as_bytes())
            );
        }
    }
}
