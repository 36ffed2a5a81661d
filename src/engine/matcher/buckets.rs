//! Puts literals in the order that gives Teddy's buckets the fewest false hits.
//!
//! Teddy (the packed searcher of `aho-corasick`) tests every place of a buffer against a few
//! buckets of literals at once. A bucket passes a place on to be checked when, at each of its
//! first (up to 4) positions, the byte's low nibble is one of its literals' low nibbles there and
//! its high nibble one of their high nibbles: so a bucket also admits every crossing of its
//! literals' nibbles, and the text it passes on is, per position, the share of bytes whose two
//! nibbles both fit. Literals whose nibbles overlap cost little together; `_live_` beside `9ha1`
//! lets through much of the alphabet.
//!
//! aho-corasick 1.1 files literal number `id` in bucket `buckets - 1 - id % buckets`, except that a
//! literal whose first low nibbles equal an earlier one's joins that one's bucket (`tripe` and
//! `TRIPE`). So the order of the literals decides the buckets. This module places the literals one
//! by one where they add the fewest expected false hits, weighed with how common each byte is in
//! text (`byte_freq`), then swaps pairs between buckets while that lowers them. Which bucket holds
//! a literal never changes what is found: if a later aho-corasick files them otherwise, only speed
//! is lost.
//!
//! Measured over tree200's 193 MB, searched file by file from memory (ms): the 30 literals of the
//! built-in rules in 8 buckets took 23.5 in this order (24.7 without the swaps), 34.6 to 60 in ten
//! random orders, and 35.7 in the 16-bucket form; ripgrep's 7 prefixes took 22.2. Finding the order
//! takes about 0.1 ms at start-up.

use super::byte_freq::BYTE_FREQ;

/// Longest fingerprint Teddy compares.
const POSITIONS: usize = 4;

/// The order (indices into `literals`) in which to hand `literals` to a Teddy searcher of
/// `buckets` buckets. Literals shorter than a fingerprint position are taken as Teddy takes them:
/// its fingerprint is as long as the shortest literal.
pub(super) fn order(literals: &[Vec<u8>], buckets: usize) -> Vec<usize> {
    let n = literals.len();
    let width = literals
        .iter()
        .map(Vec::len)
        .min()
        .unwrap_or(0)
        .min(POSITIONS);
    if n <= buckets || width == 0 {
        return (0..n).collect();
    }
    let cost = Cost::new(literals, width);
    // Literals that Teddy would put together must stay together: they move as one unit.
    let units = units(literals, width);
    // Bucket b holds the ids i with buckets - 1 - i % buckets == b.
    let capacity: Vec<usize> = (0..buckets)
        .map(|b| (0..n).filter(|i| buckets - 1 - i % buckets == b).count())
        .collect();
    let Some(mut groups) = greedy(&units, &capacity, &cost) else {
        return (0..n).collect();
    };
    improve(&mut groups, &units, &cost);
    let mut order = vec![usize::MAX; n];
    for (b, group) in groups.iter().enumerate() {
        let slots = (0..n).filter(|i| buckets - 1 - i % buckets == b);
        let members = group.iter().flat_map(|&u| units[u].iter().copied());
        for (slot, literal) in slots.zip(members) {
            order[slot] = literal;
        }
    }
    if order.contains(&usize::MAX) {
        return (0..n).collect();
    }
    order
}

/// Groups of literals (indices) that share their first `width` low nibbles, in input order.
fn units(literals: &[Vec<u8>], width: usize) -> Vec<Vec<usize>> {
    let mut units: Vec<Vec<usize>> = Vec::new();
    for (i, lit) in literals.iter().enumerate() {
        let low = |l: &Vec<u8>| l[..width].iter().map(|b| b & 15).collect::<Vec<u8>>();
        match units.iter_mut().find(|u| low(&literals[u[0]]) == low(lit)) {
            Some(u) => u.push(i),
            None => units.push(vec![i]),
        }
    }
    units
}

/// Places units one by one, those costing most alone first, each in the bucket with room where it
/// adds least to the cost.
fn greedy(units: &[Vec<usize>], capacity: &[usize], cost: &Cost) -> Option<Vec<Vec<usize>>> {
    let masks: Vec<Masks> = units.iter().map(|u| cost.masks(u)).collect();
    let mut sequence: Vec<usize> = (0..units.len()).collect();
    sequence.sort_by_key(|&u| {
        (
            std::cmp::Reverse(units[u].len()),
            std::cmp::Reverse(cost.of(&masks[u])),
        )
    });
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); capacity.len()];
    let mut room = capacity.to_vec();
    let mut held: Vec<Masks> = vec![Masks::default(); capacity.len()];
    for u in sequence {
        let b = (0..groups.len())
            .filter(|&b| room[b] >= units[u].len())
            .min_by_key(|&b| {
                let mut with = held[b];
                with.add(&masks[u]);
                let before = if groups[b].is_empty() {
                    0
                } else {
                    cost.of(&held[b])
                };
                cost.of(&with).saturating_sub(before)
            })?;
        room[b] -= units[u].len();
        groups[b].push(u);
        held[b].add(&masks[u]);
    }
    Some(groups)
}

/// Swaps units of equal size between buckets while that lowers the total cost.
fn improve(groups: &mut [Vec<usize>], units: &[Vec<usize>], cost: &Cost) {
    let unit_masks: Vec<Masks> = units.iter().map(|u| cost.masks(u)).collect();
    let of = |group: &[usize], swap: Option<(usize, usize)>| {
        let mut masks = Masks::default();
        for &u in group {
            let u = match swap {
                Some((out, into)) if u == out => into,
                _ => u,
            };
            masks.add(&unit_masks[u]);
        }
        cost.of(&masks)
    };
    let mut costs: Vec<u64> = groups.iter().map(|g| of(g, None)).collect();
    loop {
        let mut better = false;
        for a in 0..groups.len() {
            for b in a + 1..groups.len() {
                for i in 0..groups[a].len() {
                    for j in 0..groups[b].len() {
                        let (x, y) = (groups[a][i], groups[b][j]);
                        if units[x].len() != units[y].len() {
                            continue;
                        }
                        let ca = of(&groups[a], Some((x, y)));
                        let cb = of(&groups[b], Some((y, x)));
                        if ca + cb < costs[a] + costs[b] {
                            groups[a][i] = y;
                            groups[b][j] = x;
                            costs[a] = ca;
                            costs[b] = cb;
                            better = true;
                        }
                    }
                }
            }
        }
        if !better {
            return;
        }
    }
}

/// The low and high nibbles a set of literals has at each fingerprint position, as bit masks.
#[derive(Default, Clone, Copy)]
struct Masks([(u16, u16); POSITIONS]);

impl Masks {
    fn add(&mut self, other: &Masks) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            mine.0 |= theirs.0;
            mine.1 |= theirs.1;
        }
    }
}

/// Expected false hits of a bucket, from byte frequencies.
struct Cost {
    /// Literal → its nibbles.
    nibbles: Vec<Masks>,
    width: usize,
}

impl Cost {
    fn new(literals: &[Vec<u8>], width: usize) -> Cost {
        let nibbles = literals
            .iter()
            .map(|lit| {
                let mut m = Masks::default();
                for (p, &byte) in lit.iter().take(width).enumerate() {
                    m.0[p] = (1 << (byte & 15), 1 << (byte >> 4));
                }
                m
            })
            .collect();
        Cost { nibbles, width }
    }

    /// The nibbles of these literals together.
    fn masks(&self, literals: &[usize]) -> Masks {
        let mut m = Masks::default();
        for &l in literals {
            m.add(&self.nibbles[l]);
        }
        m
    }

    /// How often a bucket with these nibbles passes a place on, in arbitrary units: at each
    /// position, the share of bytes whose nibbles both fit, multiplied over the positions.
    fn of(&self, masks: &Masks) -> u64 {
        let mut product: u64 = 1;
        for (p, &(low, high)) in masks.0.iter().take(self.width).enumerate() {
            let mut share: u64 = 0;
            for h in bits(high) {
                let row = &ROW_SHARES[h];
                share += u64::from(row[0][usize::from(low & 0xFF)] + row[1][usize::from(low >> 8)]);
            }
            // Shares are in millionths: four of them multiplied would pass u64, so each after the
            // first is taken in thousandths of the running product (10^6 · 10^3 · 10^3 · 10^3).
            product = product.saturating_mul(share.max(1));
            if p > 0 {
                product /= 1000;
            }
        }
        product
    }
}

/// `ROW_SHARES[h][half][m]`: how common the bytes are whose high nibble is `h` and whose low
/// nibble is `8 * half + i` for a bit `i` set in `m`. A bucket's share at a position is then a
/// few lookups, which keeps the search for an order well under a millisecond at start-up.
static ROW_SHARES: [[[u32; 256]; 2]; 16] = row_shares();

const fn row_shares() -> [[[u32; 256]; 2]; 16] {
    let mut table = [[[0u32; 256]; 2]; 16];
    let mut h = 0;
    while h < 16 {
        let mut half = 0;
        while half < 2 {
            let mut m = 0;
            while m < 256 {
                let mut i = 0;
                while i < 8 {
                    if m >> i & 1 == 1 {
                        table[h][half][m] += BYTE_FREQ[h << 4 | (half * 8 + i)];
                    }
                    i += 1;
                }
                m += 1;
            }
            half += 1;
        }
        h += 1;
    }
    table
}

/// The numbers of the bits set in `mask`.
fn bits(mut mask: u16) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let bit = mask.trailing_zeros() as usize;
        mask &= mask.wrapping_sub(1);
        (bit < 16).then_some(bit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    fn buckets_of(order: &[usize], buckets: usize) -> Vec<Vec<usize>> {
        let mut groups = vec![Vec::new(); buckets];
        for (id, &lit) in order.iter().enumerate() {
            groups[buckets - 1 - id % buckets].push(lit);
        }
        groups
    }

    #[test]
    fn order_is_a_permutation() {
        let words: Vec<String> = (0..30).map(|i| format!("w{i:02}_x")).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let mut got = order(&lits(&words), 8);
        got.sort();
        assert_eq!(got, (0..30).collect::<Vec<_>>());
    }

    /// Two families of literals with disjoint nibbles end up in separate buckets, each family
    /// together, rather than crossed as round robin would put them.
    #[test]
    fn alike_literals_share_buckets() {
        // Round robin would put ids 0, 2, 4... in one bucket: both families in each.
        let words = [
            "_live_", "_lime_", "qzVx", "qzVy", "_lice_", "_lane_", "qzWx", "qzWy", "_live2",
            "qzXx",
        ];
        let l = lits(&words);
        let groups = buckets_of(&order(&l, 2), 2);
        for g in &groups {
            let first = l[g[0]][0];
            assert!(g.iter().all(|&i| l[i][0] == first), "{groups:?}");
        }
        let round_robin: Vec<usize> = (0..l.len()).collect();
        let cost = Cost::new(&l, 4);
        let total = |gs: &Vec<Vec<usize>>| gs.iter().map(|g| cost.of(&cost.masks(g))).sum();
        let (grouped, plain): (u64, u64) = (total(&groups), total(&buckets_of(&round_robin, 2)));
        assert!(grouped * 2 < plain, "{grouped} vs {plain}");
    }

    /// Literals Teddy files together (same low nibbles) stay in one bucket.
    #[test]
    fn case_pairs_stay_together() {
        let words = [
            "tripe", "a1b2", "TRIPE", "c3d4", "x9y8", "Q7R6", "m_n_", "zz__", "k0k0",
        ];
        let l = lits(&words);
        let groups = buckets_of(&order(&l, 8), 8);
        assert!(
            groups.iter().any(|g| g.contains(&0) && g.contains(&2)),
            "{groups:?}"
        );
    }

    #[test]
    fn few_literals_keep_their_order() {
        assert_eq!(order(&lits(&["abcd", "efgh"]), 8), vec![0, 1]);
    }
}
