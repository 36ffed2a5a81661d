//! `staged` through the installed `git` binary, for repositories libgit2 cannot open (SHA-256,
//! reftable): `git diff --cached --raw` lists what the next commit changes (renames detected as
//! `git mv` is), `git cat-file --batch` reads both sides, and only keys on added lines count, as
//! in the fast path.

use super::added::new_in;
use super::PathFilter;
use crate::diagnostics::Diagnostics;
use crate::engine::matcher::Matcher;
use crate::engine::scanner::{Origin, Scanner};
use crate::error::Error;
use crate::git::cli::{self, Object};
use crate::outcome::{Outcome, Stats};
use crate::rules::Place;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One changed path: the blob it had (none when new) and the staged one.
struct Staged {
    path: String,
    old: Option<String>,
    new: String,
}

pub(super) fn scan(
    workdir: &Path,
    paths: &[PathBuf],
    matcher: &Matcher,
    diag: &Diagnostics,
) -> Result<Outcome, Error> {
    let filter = PathFilter::new(paths, workdir)?;
    let raw = cli::output(&[
        "diff",
        "--cached",
        "--raw",
        "-z",
        "-M",
        "--no-abbrev",
        "--no-ext-diff",
        "--no-textconv",
        "--ignore-submodules=all",
    ])
    .map_err(|e| Error::Fatal(format!("staged: {e}")))?;
    let (changed, unmerged) = parse_raw(&raw);
    for path in unmerged.iter().filter(|p| filter.keeps(p.as_bytes())) {
        diag.note(path, "unmerged (the conflict is not resolved), not scanned");
    }
    let changed: Vec<Staged> = changed
        .into_iter()
        .filter(|c| filter.keeps(c.path.as_bytes()))
        .collect();
    let mut ids: Vec<String> = changed
        .iter()
        .flat_map(|c| c.old.iter().chain([&c.new]).cloned())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut blobs: HashMap<String, Vec<u8>> = HashMap::new();
    cli::cat_file(&ids, |id, obj| {
        if let Object::Found { data, .. } = obj {
            blobs.insert(id.to_string(), data);
        }
    })?;
    let mut stats = Stats::default();
    let mut scanner = Scanner::new(matcher, 0);
    let mut findings = Vec::new();
    for c in &changed {
        let Some(new) = blobs.get(&c.new) else {
            diag.error(&Error::input(
                &c.path,
                format!("cannot read staged blob {}: object not found", c.new),
            ));
            continue;
        };
        stats.files += 1;
        stats.bytes += new.len() as u64;
        let mut found = Vec::new();
        let origin = Origin {
            path: &c.path,
            place: Place::Staged,
        };
        for (what, why) in scanner.scan_bytes(new, origin, &mut found) {
            diag.note(&what, &why);
        }
        if found.is_empty() {
            continue;
        }
        let Some(old) = c.old.as_ref().and_then(|o| blobs.get(o)) else {
            findings.extend(found);
            continue;
        };
        let (new_keys, failed) = new_in(old, new, found, &c.path, matcher);
        if let Some(e) = failed {
            diag.error(&Error::input(
                &c.path,
                format!(
                    "cannot diff with HEAD: {}; every key in it is reported",
                    e.message()
                ),
            ));
        }
        findings.extend(new_keys);
    }
    Ok(Outcome {
        findings,
        stats,
        commits: None,
    })
}

/// `git diff --raw -z` entries: `:old_mode new_mode old_id new_id status\0path\0[path2\0]`.
/// Deletions and submodules are nothing to scan; unmerged paths are listed apart.
fn parse_raw(raw: &[u8]) -> (Vec<Staged>, Vec<String>) {
    let mut fields = raw
        .split(|&b| b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned());
    let mut changed = Vec::new();
    let mut unmerged = Vec::new();
    while let Some(meta) = fields.next() {
        let Some(meta) = meta.strip_prefix(':') else {
            continue;
        };
        let t: Vec<&str> = meta.split(' ').collect();
        let [_, new_mode, old, new, status] = t.as_slice() else {
            continue;
        };
        let two_paths = status.starts_with('R') || status.starts_with('C');
        let Some(first) = fields.next() else { break };
        let path = if two_paths {
            fields.next().unwrap_or(first)
        } else {
            first
        };
        let zero = |id: &str| id.bytes().all(|b| b == b'0');
        match status.chars().next() {
            Some('U') => unmerged.push(path),
            Some('D') => {}
            _ if *new_mode == "160000" || zero(new) => {}
            _ => changed.push(Staged {
                path,
                old: (!zero(old)).then(|| old.to_string()),
                new: new.to_string(),
            }),
        }
    }
    (changed, unmerged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_entries_give_path_and_both_blobs() {
        let z = "0".repeat(64);
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let raw = format!(
            ":000000 100644 {z} {a} A\0new.txt\0:100644 100644 {a} {b} R090\0old name\0moved\0:100644 000000 {a} {z} D\0gone\0:000000 000000 {z} {z} U\0both\0"
        );
        let (changed, unmerged) = parse_raw(raw.as_bytes());
        assert_eq!(changed.len(), 2);
        assert_eq!(
            (changed[0].path.as_str(), changed[0].old.is_none()),
            ("new.txt", true)
        );
        assert_eq!(changed[1].path, "moved");
        assert_eq!(changed[1].old.as_deref(), Some(a.as_str()));
        assert_eq!(changed[1].new, b);
        assert_eq!(unmerged, ["both"]);
    }
}
