//! `--shard I/N`: which repositories this machine scans. A repository belongs to the shard its
//! name hashes to, on its own: adding or removing a repository never moves another one, and every
//! machine that lists the same repository puts it in the same shard.

use sha2::{Digest, Sha256};
use std::fmt;

/// Shard `index` (1-based, as people count machines and as `--shard 1/8` reads) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || {
            format!(
                "--shard {s:?}: expected I/N with 1 ≤ I ≤ N (1-based; e.g. 1/8 … 8/8, or $((JOB_COMPLETION_INDEX+1))/N)"
            )
        };
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    pub fn keeps(&self, name: &str) -> bool {
        of(name, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard (1-based) of `count` that `name` falls in: the first 8 bytes of SHA-256 of the
/// normalized name, big-endian, modulo `count`, plus one.
pub fn of(name: &str, count: u64) -> u64 {
    let digest = Sha256::digest(normalize(name).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % count.max(1) + 1
}

/// The same repository written two ways hashes alike: case, a trailing `/` or `.git`.
fn normalize(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    let trimmed = lower.trim_end_matches('/');
    trimmed
        .strip_suffix(".git")
        .unwrap_or(trimmed)
        .trim_end_matches('/')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_one_based_shards() {
        assert_eq!(Shard::parse("1/8"), Ok(Shard { index: 1, count: 8 }));
        assert_eq!(Shard::parse("8/8"), Ok(Shard { index: 8, count: 8 }));
        for bad in ["0/8", "9/8", "1/0", "3", "a/b", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_name_is_in_exactly_one_shard_and_adding_names_moves_none() {
        let names: Vec<String> = (0..500).map(|i| format!("acme/repo-{i}")).collect();
        let before: Vec<u64> = names.iter().map(|n| of(n, 8)).collect();
        for (n, s) in names.iter().zip(&before) {
            let keeping: Vec<u64> = (1..=8)
                .filter(|&i| Shard { index: i, count: 8 }.keeps(n))
                .collect();
            assert_eq!(keeping, vec![*s]);
        }
        // Roughly even: no shard of 8 gets less than half or more than twice its share.
        for i in 1..=8 {
            let size = before.iter().filter(|&&s| s == i).count();
            assert!((31..=125).contains(&size), "shard {i}: {size}");
        }
        assert_eq!(of("Acme/Repo-1.git/", 8), of("acme/repo-1", 8));
        // Pinned (computed apart, with Python's hashlib): the split must not change between
        // versions, or the shards of a fleet running mixed versions would overlap and miss.
        assert_eq!((of("acme/api", 8), of("acme/web", 8)), (8, 7));
        assert_eq!(of("acme/repo-1", 3), 2);
    }
}
