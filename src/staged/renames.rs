//! Renames: a new path compared with the files the commit drops, so `git mv` of an old file does
//! not re-report its keys.

use super::added::line_diff;
use super::Pending;
use git2::{Oid, Repository};
use std::collections::HashSet;

/// git's default: a new path is a rename when at least half of it comes from the old one.
const RENAME_MIN_SCORE: f64 = 0.5;
/// Dropped files compared with each new file that holds a key, nearest size first.
const RENAME_CANDIDATES: usize = 100;
/// Pairs new files (those in `new_files`, indices into `pending`) with dropped blobs they were
/// renamed from: identical content first, then by similarity, each source used once.
pub(super) fn renames(
    repo: &Repository,
    pending: &[Pending<'_>],
    new_files: &[usize],
    sources: &[(Vec<u8>, Oid)],
) -> Vec<(usize, Oid)> {
    let Ok(odb) = repo.odb() else {
        return Vec::new();
    };
    let size_of = |oid: Oid| odb.read_header(oid).ok().map(|(n, _)| n as u64);
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for &i in new_files {
        let new = pending[i].change.oid;
        let exact: Vec<usize> = (0..sources.len())
            .filter(|&s| sources[s].1 == new)
            .collect();
        if !exact.is_empty() {
            candidates.extend(exact.into_iter().map(|s| (2.0, i, s)));
            continue;
        }
        let Ok(new_blob) = repo.find_blob(new) else {
            continue;
        };
        let new_bytes = new_blob.content();
        let new_len = new_bytes.len() as u64;
        let mut near: Vec<(usize, u64)> = (0..sources.len())
            .filter_map(|s| size_of(sources[s].1).map(|n| (s, n)))
            .filter(|&(_, n)| n.min(new_len) * 2 >= n.max(new_len))
            .collect();
        near.sort_by_key(|&(_, n)| n.abs_diff(new_len));
        near.truncate(RENAME_CANDIDATES);
        for (s, old_len) in near {
            let Ok(old) = repo.find_blob(sources[s].1) else {
                continue;
            };
            let Ok(d) = line_diff(old.content(), new_bytes) else {
                continue;
            };
            let same = new_len.saturating_sub(d.added_bytes);
            let score = same as f64 / old_len.max(new_len).max(1) as f64;
            if score >= RENAME_MIN_SCORE {
                candidates.push((score, i, s));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let (mut used_new, mut used_src) = (HashSet::new(), HashSet::new());
    let mut pairs = Vec::new();
    for (_, i, s) in candidates {
        if !used_new.contains(&i) && !used_src.contains(&s) {
            used_new.insert(i);
            used_src.insert(s);
            pairs.push((i, sources[s].1));
        }
    }
    pairs
}
