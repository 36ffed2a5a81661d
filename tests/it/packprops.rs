//! The pack reader (`read_every_object`, what the `pack` fuzz target drives) on a real pack git
//! wrote, with deltas, then on that pack damaged at random and on random bytes: an intact pack
//! reads whole, and no damage makes it panic, loop or allocate without bound.

use crate::util::{git, repo, write};
use proptest::prelude::*;
use std::sync::OnceLock;
use stripe_scan::git::read_every_object;

/// Largest object a delta may build here: damage must not turn into a huge allocation.
const LIMIT: u64 = 1 << 24;

/// A real pack (one file in 40 versions, deep delta chains, trees and commits) and its index,
/// with how many objects it holds.
fn real() -> &'static (Vec<u8>, Vec<u8>, usize) {
    static PACK: OnceLock<(Vec<u8>, Vec<u8>, usize)> = OnceLock::new();
    PACK.get_or_init(|| {
        let t = repo();
        let d = t.path();
        let mut lines: Vec<String> = (0..120).map(|i| format!("line {i}")).collect();
        for v in 0..40 {
            lines[(v * 13) % 120] = format!("version {v}");
            write(d, "f.txt", lines.join("\n"));
            git(d, &["add", "-A"]);
            git(d, &["commit", "-qm", &format!("v{v}")]);
        }
        git(d, &["repack", "-adfq", "--depth=50", "--window=50"]);
        let dir = d.join(".git/objects/pack");
        let idx = std::fs::read_dir(&dir)
            .expect("pack dir")
            .map(|e| e.expect("entry").path())
            .find(|p| p.extension().is_some_and(|x| x == "idx"))
            .expect("an index");
        let count = git(d, &["count-objects", "-v"])
            .lines()
            .find_map(|l| l.strip_prefix("in-pack: "))
            .and_then(|n| n.parse().ok())
            .expect("in-pack count");
        (
            std::fs::read(&idx).expect("read idx"),
            std::fs::read(idx.with_extension("pack")).expect("read pack"),
            count,
        )
    })
}

#[test]
fn an_intact_pack_reads_whole() {
    let (idx, pack, count) = real();
    assert_eq!(read_every_object(idx, pack, LIMIT), Ok(*count));
    assert!(*count > 100);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_damaged_pack_or_index_never_panics(
        hits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        in_index in any::<bool>(),
        cut in any::<Option<prop::sample::Index>>(),
    ) {
        let (idx, pack, count) = real();
        let (mut idx, mut pack) = (idx.clone(), pack.clone());
        // Inside the entries (or the index's tables), where the pairing check cannot see it.
        let target = if in_index { &mut idx } else { &mut pack };
        let body = 12..target.len() - 40;
        for (at, byte) in hits {
            let i = body.start + at.index(body.len());
            target[i] ^= byte | 1;
        }
        if let Some(cut) = cut {
            let n = cut.index(pack.len());
            pack.truncate(n);
        }
        if let Ok(read) = read_every_object(&idx, &pack, LIMIT) {
            prop_assert!(read <= *count);
        }
    }

    #[test]
    fn random_bytes_never_panic(
        idx in prop::collection::vec(any::<u8>(), 0..2048),
        body in prop::collection::vec(any::<u8>(), 0..2048),
        entries in prop::collection::vec(0u64..2048, 0..8),
    ) {
        // A v2 index of `entries` (offsets into the pack), a pack of random entries, and the
        // trailer both agree on: random bytes then reach the entry parsing.
        let mut pack = b"PACK\0\0\0\x02".to_vec();
        pack.extend((entries.len() as u32).to_be_bytes());
        pack.extend(&body);
        pack.extend([7u8; 20]);
        let mut v2 = b"\xfftOc\0\0\0\x02".to_vec();
        for b in 0..256usize {
            v2.extend(((b * entries.len() / 256) as u32).to_be_bytes());
        }
        // The fan-out's last slot is the count.
        let n = v2.len();
        v2[n - 4..].copy_from_slice(&(entries.len() as u32).to_be_bytes());
        for i in 0..entries.len() {
            v2.extend([i as u8; 20]);
        }
        v2.extend(std::iter::repeat_n(0u8, 4 * entries.len()));
        for &off in &entries {
            v2.extend(((12 + off) as u32).to_be_bytes());
        }
        v2.extend([7u8; 20]);
        v2.extend([0u8; 20]);
        let _ = read_every_object(&v2, &pack, LIMIT);
        // And wholly random index bytes against the same pack.
        let mut idx = idx;
        if idx.len() >= 40 {
            let n = idx.len();
            idx[n - 40..n - 20].copy_from_slice(&[7u8; 20]);
        }
        let _ = read_every_object(&idx, &pack, LIMIT);
    }
}
