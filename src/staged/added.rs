//! Which lines a commit adds: git's line diff between the blob in HEAD and the staged one.

use crate::engine::matcher::Matcher;
use crate::engine::scanner::{Origin, Scanner};
use crate::finding::Finding;
use crate::rules::Place;
use crate::secret::Secret;
use git2::{DiffOptions, Oid, Patch, Repository};
use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

/// The blobs themselves, not copies: a huge file is then held twice (old and new), not four times.
pub(super) fn read_pair(
    repo: &Repository,
    old: Oid,
    new: Oid,
) -> Result<(git2::Blob<'_>, git2::Blob<'_>), git2::Error> {
    Ok((repo.find_blob(old)?, repo.find_blob(new)?))
}

/// The findings of the staged version `new` that HEAD's version `old` did not have. A key written
/// out is new when its line is one the change adds; a key inside a member or an encoding (whose
/// line is not a line of the file) when `old` did not hold it in the same member and encoding.
/// When the lines cannot be compared, every written-out key is kept and the error said beside.
pub(super) fn new_in(
    old: &[u8],
    new: &[u8],
    findings: Vec<Finding>,
    path: &str,
    matcher: &Matcher,
) -> (Vec<Finding>, Option<git2::Error>) {
    let (plain, expanded): (Vec<Finding>, Vec<Finding>) = findings
        .into_iter()
        .partition(|f| f.encoding.is_empty() && f.line_in_outer_file());
    let mut kept = Vec::new();
    if !expanded.is_empty() {
        let held = expanded_keys(old, path, matcher);
        kept.extend(
            expanded
                .into_iter()
                .filter(|f| !held.contains(&expanded_key(f))),
        );
    }
    if plain.is_empty() {
        return (kept, None);
    }
    match line_diff(old, new) {
        Ok(d) => {
            kept.extend(plain.into_iter().filter(|f| d.is_added(f.line)));
            (kept, None)
        }
        Err(e) => {
            kept.extend(plain);
            (kept, Some(e))
        }
    }
}

type ExpandedKey = (String, Secret, Vec<&'static str>);

fn expanded_key(f: &Finding) -> ExpandedKey {
    (
        f.member_chain().to_string(),
        f.secret.clone(),
        f.encoding.clone(),
    )
}

/// The keys HEAD's version held inside members and encodings.
fn expanded_keys(old: &[u8], path: &str, matcher: &Matcher) -> HashSet<ExpandedKey> {
    let mut found = Vec::new();
    let origin = Origin {
        path,
        place: Place::Staged,
    };
    // HEAD's version: what it left unread is no news about what is staged.
    let _old = Scanner::new(matcher, 0).scan_bytes(old, origin, &mut found);
    found
        .iter()
        .filter(|f| !(f.encoding.is_empty() && f.line_in_outer_file()))
        .map(expanded_key)
        .collect()
}

/// The `+` side of a diff: 1-based line ranges of the new blob, and their bytes.
pub(super) struct LineDiff {
    added: Vec<Range<u64>>,
    pub(super) added_bytes: u64,
}

impl LineDiff {
    pub fn is_added(&self, line: u64) -> bool {
        self.added.iter().any(|r| r.contains(&line))
    }
}

fn terminated(b: &[u8]) -> Cow<'_, [u8]> {
    if b.is_empty() || b.ends_with(b"\n") {
        Cow::Borrowed(b)
    } else {
        let mut v = b.to_vec();
        v.push(b'\n');
        Cow::Owned(v)
    }
}

/// libgit2's diff (git's xdiff), forced to text so a binary blob is still compared by lines.
/// A missing newline at the end of either side is supplied first: appending a line to a file
/// that lacked one must not make its old last line (and a key on it) look added.
pub(super) fn line_diff(old: &[u8], new: &[u8]) -> Result<LineDiff, git2::Error> {
    let (old, new) = (terminated(old), terminated(new));
    let mut opts = DiffOptions::new();
    opts.force_text(true).context_lines(0).interhunk_lines(0);
    let patch = Patch::from_buffers(&old, None, &new, None, Some(&mut opts))?;
    let mut d = LineDiff {
        added: Vec::new(),
        added_bytes: 0,
    };
    for h in 0..patch.num_hunks() {
        let (hunk, lines) = patch.hunk(h)?;
        if hunk.new_lines() > 0 {
            let start = u64::from(hunk.new_start());
            d.added.push(start..start + u64::from(hunk.new_lines()));
        }
        for l in 0..lines {
            let line = patch.line_in_hunk(h, l)?;
            if line.origin() == '+' {
                d.added_bytes += line.content().len() as u64;
            }
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(old: &str, new: &str) -> Vec<u64> {
        let d = line_diff(old.as_bytes(), new.as_bytes()).expect("diff");
        (1..=new.lines().count() as u64)
            .filter(|&l| d.is_added(l))
            .collect()
    }

    #[test]
    fn added_lines_are_the_plus_side() {
        assert_eq!(added("a\nb\nc\n", "a\nb\nc\n"), Vec::<u64>::new());
        assert_eq!(added("a\nb\nc\n", "a\nK\nb\nc\n"), vec![2]);
        assert_eq!(added("", "x\ny\n"), vec![1, 2]);
        // A moved line is added where it lands.
        assert_eq!(added("K\na\nb\nc\n", "a\nb\nc\nK\n"), vec![4]);
        // A duplicated line: one copy is new.
        assert_eq!(added("a\nK\nb\n", "a\nK\nb\nK\n"), vec![4]);
    }

    #[test]
    fn a_missing_final_newline_does_not_make_the_last_line_added() {
        assert_eq!(added("a\nK", "a\nK\nb\n"), vec![3]);
        assert_eq!(added("a\nK\n", "a\nK\nb"), vec![3]);
    }

    #[test]
    fn binary_blobs_are_compared_by_lines() {
        let old = b"\x00\x01bin\nK\n\x00tail\n";
        let new = b"\x00\x01bin\nK\nnew\n\x00tail\n";
        let d = line_diff(old, new).expect("diff");
        assert!(!d.is_added(2) && d.is_added(3) && !d.is_added(4));
    }
}
