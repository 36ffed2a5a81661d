//! Two answers that depend only on the rules, kept for the built-in ones: which anchors cover a
//! set of prefixes (`prefixes::choose_anchors`) and the order that groups the prefilter's
//! literals into Teddy buckets (`buckets::order`). Searching for them costs 0.2-0.3 ms at
//! start-up, cold, which is 5% of a pre-commit run; every other input (rules from a config) is
//! still searched.
//!
//! An entry is looked up by a hash of its whole input and used only after checking that it
//! fits that input (every prefix holds an anchor; the order is a permutation), so a stale entry
//! or a hash collision can cost speed but never a key. The test `known_answers_are_current`
//! fails when the built-in rules change and prints the new `KNOWN_*` tables to paste here.

/// `prefixes::choose_anchors`, passed in so that this module depends on neither searcher.
pub(super) type AnchorSearch = fn(&[&[u8]], &[Vec<u8>]) -> Vec<Vec<u8>>;
/// `buckets::order`.
pub(super) type OrderSearch = fn(&[Vec<u8>], usize) -> Vec<usize>;

/// Anchors as (prefix index, start, end): substrings of the input, so no literal is spelled out.
type Anchors = &'static [(u16, u8, u8)];

/// Input hash → anchors, for the built-in rules.
#[rustfmt::skip]
const KNOWN_ANCHORS: &[(u64, Anchors)] = &[
    (0x91f88433d3cad42b, &[(1, 2, 8), (0, 2, 8), (16, 3, 12), (9, 2, 6), (18, 0, 4)]),
    (0xd84860239f13e7ea, &[(1, 2, 8), (0, 2, 8), (18, 3, 12), (2, 1, 8), (11, 2, 6), (20, 0, 4)]),
    (0xd098eae46fe3733b, &[(1, 2, 8), (0, 2, 8), (18, 4, 12), (2, 1, 8), (11, 2, 6), (20, 0, 4)]),
];

/// Input hash → literal order, for the built-in rules.
#[rustfmt::skip]
const KNOWN_ORDERS: &[(u64, &[u16])] = &[
    (0xd975c58ac0f16583, &[7, 19, 27, 0, 10, 29, 1, 3, 24, 8, 15, 18, 13, 26, 2, 4, 21, 23, 14, 6, 16, 17, 25, 5, 22, 20, 11, 12, 9, 28]),
    (0xe5c5a0d4fd42e6d6, &[0, 1, 2, 3, 4, 5]),
    (0x5c19e46ddc5fdfa8, &[0, 1, 2]),
];

pub(super) fn anchors(prefixes: &[&[u8]], free: &[Vec<u8>], search: AnchorSearch) -> Vec<Vec<u8>> {
    let key = anchors_key(prefixes, free);
    let known = KNOWN_ANCHORS
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, a)| rebuild_anchors(prefixes, a));
    #[cfg(test)]
    let known = record::anchors(key, prefixes, free, known, search);
    known.unwrap_or_else(|| search(prefixes, free))
}

pub(super) fn bucket_order(
    literals: &[Vec<u8>],
    buckets: usize,
    search: OrderSearch,
) -> Vec<usize> {
    let key = order_key(literals, buckets);
    let known = KNOWN_ORDERS
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, o)| permutation(o, literals.len()));
    #[cfg(test)]
    let known = record::order(key, literals, buckets, known, search);
    known.unwrap_or_else(|| search(literals, buckets))
}

/// The anchors an entry names, if they are substrings of `prefixes` and every prefix holds one.
fn rebuild_anchors(prefixes: &[&[u8]], known: Anchors) -> Option<Vec<Vec<u8>>> {
    let mut anchors = Vec::with_capacity(known.len());
    for &(p, start, end) in known {
        let piece = prefixes
            .get(usize::from(p))?
            .get(usize::from(start)..usize::from(end))?;
        if piece.is_empty() {
            return None;
        }
        anchors.push(piece.to_vec());
    }
    let covered = prefixes.iter().all(|p| {
        anchors
            .iter()
            .any(|a| p.windows(a.len()).any(|w| w == &a[..]))
    });
    covered.then_some(anchors)
}

/// `known` as indices, if it orders exactly `0..n`.
fn permutation(known: &[u16], n: usize) -> Option<Vec<usize>> {
    let mut seen = vec![false; n];
    for &i in known {
        let slot = seen.get_mut(usize::from(i))?;
        if *slot {
            return None;
        }
        *slot = true;
    }
    (known.len() == n).then(|| known.iter().map(|&i| usize::from(i)).collect())
}

/// FNV-1a over the input, each piece preceded by its length so that no two inputs read alike.
struct Key(u64);

impl Key {
    fn new(tag: u8) -> Key {
        let mut k = Key(0xcbf2_9ce4_8422_2325);
        k.byte(tag);
        k
    }

    fn byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }

    fn bytes(&mut self, s: &[u8]) {
        for b in (s.len() as u64).to_le_bytes() {
            self.byte(b);
        }
        for &b in s {
            self.byte(b);
        }
    }
}

fn anchors_key(prefixes: &[&[u8]], free: &[Vec<u8>]) -> u64 {
    let mut k = Key::new(b'a');
    k.bytes(&prefixes.len().to_le_bytes());
    for p in prefixes {
        k.bytes(p);
    }
    for f in free {
        k.bytes(f);
    }
    k.0
}

fn order_key(literals: &[Vec<u8>], buckets: usize) -> u64 {
    let mut k = Key::new(b'o');
    k.bytes(&buckets.to_le_bytes());
    for l in literals {
        k.bytes(l);
    }
    k.0
}

/// Under test, every lookup also runs the search and records whether the table agreed.
#[cfg(test)]
pub(super) mod record {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        /// (the table line the search gives, whether it is an anchor entry, whether the table
        /// already held that answer)
        pub static SEEN: RefCell<Vec<(String, bool, bool)>> = const { RefCell::new(Vec::new()) };
    }

    pub fn anchors(
        key: u64,
        prefixes: &[&[u8]],
        free: &[Vec<u8>],
        known: Option<Vec<Vec<u8>>>,
        search: AnchorSearch,
    ) -> Option<Vec<Vec<u8>>> {
        let searched = search(prefixes, free);
        let spans: Vec<String> = searched
            .iter()
            .map(|a| {
                let (p, start) = prefixes
                    .iter()
                    .enumerate()
                    .find_map(|(i, p)| p.windows(a.len()).position(|w| w == &a[..]).map(|s| (i, s)))
                    .expect("an anchor is a substring of a prefix");
                format!("({p}, {start}, {})", start + a.len())
            })
            .collect();
        let line = format!("    (0x{key:016x}, &[{}]),", spans.join(", "));
        let agrees = known.as_ref() == Some(&searched);
        SEEN.with(|s| s.borrow_mut().push((line, true, agrees)));
        Some(searched)
    }

    pub fn order(
        key: u64,
        literals: &[Vec<u8>],
        buckets: usize,
        known: Option<Vec<usize>>,
        search: OrderSearch,
    ) -> Option<Vec<usize>> {
        let searched = search(literals, buckets);
        let ids: Vec<String> = searched.iter().map(usize::to_string).collect();
        let line = format!("    (0x{key:016x}, &[{}]),", ids.join(", "));
        let agrees = known.as_ref() == Some(&searched);
        SEEN.with(|s| s.borrow_mut().push((line, false, agrees)));
        Some(searched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_that_does_not_fit_its_input_is_not_used() {
        let prefixes: [&[u8]; 2] = [b"abcdef", b"xyzabc"];
        assert_eq!(
            rebuild_anchors(&prefixes, &[(0, 0, 3)]),
            Some(vec![b"abc".to_vec()])
        );
        // Leaves a prefix without an anchor, points past a prefix, names no prefix.
        assert_eq!(rebuild_anchors(&prefixes, &[(0, 3, 6)]), None);
        assert_eq!(rebuild_anchors(&prefixes, &[(0, 4, 9)]), None);
        assert_eq!(rebuild_anchors(&prefixes, &[(2, 0, 3)]), None);
        assert_eq!(rebuild_anchors(&prefixes, &[(0, 2, 2)]), None);
        assert_eq!(permutation(&[2, 0, 1], 3), Some(vec![2, 0, 1]));
        assert_eq!(permutation(&[0, 0, 1], 3), None);
        assert_eq!(permutation(&[0, 1], 3), None);
        assert_eq!(permutation(&[0, 1, 3], 3), None);
    }
}
