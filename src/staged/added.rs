//! Which lines a commit adds: git's line diff between the blob in HEAD and the staged one.

use git2::{DiffOptions, Oid, Patch, Repository};
use std::borrow::Cow;
use std::ops::Range;

/// The blobs themselves, not copies: a huge file is then held twice (old and new), not four times.
pub(super) fn read_pair(
    repo: &Repository,
    old: Oid,
    new: Oid,
) -> Result<(git2::Blob<'_>, git2::Blob<'_>), git2::Error> {
    Ok((repo.find_blob(old)?, repo.find_blob(new)?))
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
