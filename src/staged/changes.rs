//! What the next commit changes: the index compared with HEAD's tree, as the blobs it adds or
//! modifies and the blobs it drops (candidates for rename sources).
//!
//! The comparison walks directories from the root. A directory whose cache-tree id (see
//! `index.rs`) equals HEAD's tree id for it is skipped whole, so a commit touching three files in
//! a 19,000-file repository reads only the HEAD trees on the way to them. Without a valid
//! cache-tree the walk still works; it just reads more trees. Index formats this crate's reader
//! does not handle are compared by the git binary (`git diff-index`), which wrote them.

use crate::git::index::{Index, MODE_GITLINK, MODE_TREE, OID_LEN};
use crate::git::object::{oid_from_raw, tree_order};
use git2::{ObjectType, Oid, Repository};
use std::cmp::Ordering;
use std::ops::Range;
use std::path::Path;

/// A path whose content the next commit sets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub path: Vec<u8>,
    pub oid: Oid,
    pub mode: u32,
    /// The blob HEAD has at this path, when it has one: None for a new path.
    pub old: Option<Oid>,
}

/// Something HEAD has that the next commit drops. Directories are kept whole and only listed
/// when a rename source is wanted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dropped {
    Blob { path: Vec<u8>, oid: Oid },
    Tree { path: Vec<u8>, oid: Oid },
}

#[derive(Debug, Default)]
pub struct Changes {
    pub changed: Vec<Change>,
    pub dropped: Vec<Dropped>,
    /// Paths with unresolved merge conflicts: nothing of them can be committed yet.
    pub unmerged: Vec<Vec<u8>>,
    /// HEAD trees read, for tests of the cache-tree shortcut.
    pub trees_read: usize,
    /// HEAD trees that could not be read (directory prefix, tree, cause): everything staged
    /// under them is counted as new, so no key there goes unreported.
    pub unreadable: Vec<(Vec<u8>, Oid, String)>,
}

impl Changes {
    /// Sorted, so both ways of computing them compare equal.
    pub fn normalize(&mut self) {
        self.changed.sort();
        self.dropped.sort();
        self.unmerged.sort();
        self.unmerged.dedup();
    }
}

struct HeadEntry {
    name: Vec<u8>,
    mode: u32,
    oid: Oid,
}

impl HeadEntry {
    fn is_dir(&self) -> bool {
        self.mode == MODE_TREE
    }
}

/// One name at one directory level of the index.
enum Item {
    /// Entries `range` all have this path (several when a conflict left stages 1-3).
    File { range: Range<usize> },
    /// Entries `range` are under `name/`.
    Dir { range: Range<usize> },
    /// A sparse-index entry standing for a whole directory.
    SparseDir { oid: Oid },
}

enum Work {
    Dir {
        prefix: Vec<u8>,
        range: Range<usize>,
        head: Option<Oid>,
        node: Option<usize>,
    },
    /// A sparse directory entry against HEAD's tree for the same directory.
    Trees {
        prefix: Vec<u8>,
        old: Option<Oid>,
        new: Oid,
    },
}

/// The index against `head` (None before the first commit), using the cache-tree where valid.
pub fn from_index(
    repo: &Repository,
    index: &Index<'_>,
    head: Option<Oid>,
) -> Result<Changes, git2::Error> {
    let mut out = Changes::default();
    let mut work = vec![Work::Dir {
        prefix: Vec::new(),
        range: 0..index.entries.len(),
        head,
        node: index.cache_tree.as_ref().map(|t| t.root()),
    }];
    while let Some(w) = work.pop() {
        match w {
            Work::Dir {
                prefix,
                range,
                head,
                node,
            } => walk_dir(repo, index, &prefix, range, head, node, &mut work, &mut out)?,
            Work::Trees { prefix, old, new } => diff_trees(repo, &prefix, old, new, &mut out)?,
        }
    }
    out.normalize();
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn walk_dir(
    repo: &Repository,
    index: &Index<'_>,
    prefix: &[u8],
    range: Range<usize>,
    head: Option<Oid>,
    node: Option<usize>,
    work: &mut Vec<Work>,
    out: &mut Changes,
) -> Result<(), git2::Error> {
    let cache = index.cache_tree.as_ref();
    let Some(head) = head else {
        // A directory HEAD lacks: everything under it is new.
        added_range(index, range, work, out);
        return Ok(());
    };
    if let (Some(t), Some(n)) = (cache, node) {
        let n = t.node(n);
        // The count check only guards against a cache-tree that disagrees with the entries;
        // git keeps them in step.
        if n.oid.map(|o| oid_from_raw(&o)) == Some(head) && n.entry_count == range.len() {
            return Ok(());
        }
    }
    let tree = match repo.find_tree(head) {
        Ok(t) => t,
        Err(e) => {
            out.unreadable
                .push((prefix.to_vec(), head, crate::git::errors::cause(&e)));
            added_range(index, range, work, out);
            return Ok(());
        }
    };
    out.trees_read += 1;
    let head_entries: Vec<HeadEntry> = tree
        .iter()
        .map(|e| HeadEntry {
            name: e.name_bytes().to_vec(),
            mode: e.filemode() as u32,
            oid: e.id(),
        })
        .collect();
    drop(tree);

    let items = group(index, prefix, range);
    let (mut i, mut h) = (0, 0);
    while i < items.len() || h < head_entries.len() {
        let ord = match (items.get(i), head_entries.get(h)) {
            (Some((name, item)), Some(he)) => {
                let is_dir = !matches!(item, Item::File { .. });
                tree_order(name, is_dir, &he.name, he.is_dir())
            }
            (Some(_), None) => Ordering::Less,
            (None, _) => Ordering::Greater,
        };
        let mut path = prefix.to_vec();
        match ord {
            Ordering::Less => {
                let (name, item) = &items[i];
                path.extend_from_slice(name);
                added_item(index, path, item, work, out);
                i += 1;
            }
            Ordering::Greater => {
                let he = &head_entries[h];
                path.extend_from_slice(&he.name);
                dropped(path, he, out);
                h += 1;
            }
            Ordering::Equal => {
                let (name, item) = &items[i];
                let he = &head_entries[h];
                path.extend_from_slice(name);
                match item {
                    Item::File { range } => {
                        let e = &index.entries[range.start];
                        if range.len() > 1 || e.stage != 0 {
                            out.unmerged.push(path);
                        } else if e.intent_to_add {
                            dropped(path, he, out);
                        } else if e.mode == MODE_GITLINK {
                            // A submodule's commit is not content of this repository.
                        } else if he.mode == MODE_GITLINK {
                            push_change(out, path, index.oid(e), e.mode, None);
                        } else if oid_from_raw(&index.oid(e)) != he.oid {
                            push_change(out, path, index.oid(e), e.mode, Some(he.oid));
                        }
                    }
                    Item::Dir { range } => {
                        path.push(b'/');
                        let node = cache.zip(node).and_then(|(t, n)| t.child(n, name));
                        work.push(Work::Dir {
                            prefix: path,
                            range: range.clone(),
                            head: Some(he.oid),
                            node,
                        });
                    }
                    Item::SparseDir { oid: new } => {
                        if *new != he.oid {
                            path.push(b'/');
                            work.push(Work::Trees {
                                prefix: path,
                                old: Some(he.oid),
                                new: *new,
                            });
                        }
                    }
                }
                i += 1;
                h += 1;
            }
        }
    }
    Ok(())
}

fn push_change(out: &mut Changes, path: Vec<u8>, new: [u8; OID_LEN], mode: u32, old: Option<Oid>) {
    out.changed.push(Change {
        path,
        oid: oid_from_raw(&new),
        mode,
        old,
    });
}

fn dropped(path: Vec<u8>, he: &HeadEntry, out: &mut Changes) {
    if he.is_dir() {
        out.dropped.push(Dropped::Tree { path, oid: he.oid });
    } else if he.mode != MODE_GITLINK {
        out.dropped.push(Dropped::Blob { path, oid: he.oid });
    }
}

fn added_item(
    index: &Index<'_>,
    path: Vec<u8>,
    item: &Item,
    work: &mut Vec<Work>,
    out: &mut Changes,
) {
    match item {
        Item::File { range } => added_range(index, range.clone(), work, out),
        Item::Dir { range } => added_range(index, range.clone(), work, out),
        Item::SparseDir { oid } => {
            let mut prefix = path;
            prefix.push(b'/');
            work.push(Work::Trees {
                prefix,
                old: None,
                new: *oid,
            })
        }
    }
}

/// Every entry in `range` is new to HEAD.
fn added_range(index: &Index<'_>, range: Range<usize>, work: &mut Vec<Work>, out: &mut Changes) {
    for i in range {
        let e = &index.entries[i];
        let path = index.path(e);
        if e.stage != 0 {
            out.unmerged.push(path.to_vec());
        } else if e.is_sparse_dir() {
            work.push(Work::Trees {
                prefix: path.to_vec(),
                old: None,
                new: oid_from_raw(&index.oid(e)),
            });
        } else if !e.intent_to_add && e.mode != MODE_GITLINK {
            push_change(out, path.to_vec(), index.oid(e), e.mode, None);
        }
    }
}

/// The names directly under `prefix` among entries `range`, in index (= tree) order.
fn group(index: &Index<'_>, prefix: &[u8], range: Range<usize>) -> Vec<(Vec<u8>, Item)> {
    let mut items = Vec::new();
    let mut i = range.start;
    while i < range.end {
        let e = &index.entries[i];
        let rest = &index.path(e)[prefix.len().min(index.path(e).len())..];
        match memchr::memchr(b'/', rest) {
            Some(slash) if e.is_sparse_dir() && slash + 1 == rest.len() => {
                items.push((
                    rest[..slash].to_vec(),
                    Item::SparseDir {
                        oid: oid_from_raw(&index.oid(e)),
                    },
                ));
                i += 1;
            }
            Some(slash) => {
                let name = rest[..slash].to_vec();
                let dir_len = prefix.len() + slash + 1;
                let dir = &index.path(e)[..dir_len];
                let n =
                    index.entries[i..range.end].partition_point(|x| index.path(x).starts_with(dir));
                items.push((name, Item::Dir { range: i..i + n }));
                i += n;
            }
            None => {
                let path = index.path(e);
                let mut j = i + 1;
                while j < range.end && index.path_at(j) == path {
                    j += 1;
                }
                items.push((rest.to_vec(), Item::File { range: i..j }));
                i = j;
            }
        }
    }
    items
}

/// A sparse directory's tree against HEAD's: libgit2 reads both trees.
fn diff_trees(
    repo: &Repository,
    prefix: &[u8],
    old: Option<Oid>,
    new: Oid,
    out: &mut Changes,
) -> Result<(), git2::Error> {
    let old_tree = old.map(|o| repo.find_tree(o)).transpose()?;
    let new_tree = repo.find_tree(new)?;
    let diff = repo.diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), None)?;
    for d in diff.deltas() {
        let join = |p: Option<&Path>| {
            let mut v = prefix.to_vec();
            v.extend_from_slice(p.map(path_bytes).unwrap_or_default());
            v
        };
        let (n, o) = (d.new_file(), d.old_file());
        let path = join(n.path().or(o.path()));
        let is_blob =
            |m: git2::FileMode| !matches!(m, git2::FileMode::Commit | git2::FileMode::Unreadable);
        match d.status() {
            git2::Delta::Added | git2::Delta::Modified | git2::Delta::Typechange
                if is_blob(n.mode()) =>
            {
                let old = (d.status() != git2::Delta::Added && is_blob(o.mode())).then(|| o.id());
                out.changed.push(Change {
                    path,
                    oid: n.id(),
                    mode: u32::from(n.mode()),
                    old,
                });
            }
            git2::Delta::Deleted if is_blob(o.mode()) => {
                out.dropped.push(Dropped::Blob { path, oid: o.id() })
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(unix)]
fn path_bytes(p: &Path) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes()
}

#[cfg(not(unix))]
fn path_bytes(p: &Path) -> &[u8] {
    p.to_str().map(str::as_bytes).unwrap_or_default()
}

/// The same comparison by the git binary, for indexes our reader does not handle (a split
/// index). It reads `GIT_INDEX_FILE` and `GIT_DIR` from the environment we pass on.
pub fn from_git(repo: &Repository, workdir: &Path, head: Option<Oid>) -> Result<Changes, String> {
    // git knows the empty tree's id without having the object.
    let base = head.map_or_else(
        || "4b825dc642cb6eb9a060e54bf8d69288fbee4904".to_string(),
        |h| h.to_string(),
    );
    let args = [
        "diff-index",
        "--cached",
        "--raw",
        "-z",
        "--no-renames",
        "--no-abbrev",
        base.as_str(),
        "--",
    ];
    // Through `git::cli`: it never refreshes the index nor fetches what a partial clone lacks.
    let stdout = crate::git::cli::output_in(Some(workdir), &args)?;
    let mut out = Changes::default();
    let mut trees = Vec::new();
    parse_raw(&stdout, &mut out, &mut trees)?;
    // A sparse index is compared as it is: a directory outside the cone is one tree entry.
    for (mut prefix, old, new) in trees {
        prefix.push(b'/');
        diff_trees(repo, &prefix, old, new, &mut out).map_err(|e| {
            format!(
                "cannot compare a sparse directory with HEAD: {}",
                e.message()
            )
        })?;
    }
    out.normalize();
    Ok(out)
}

/// `:old_mode new_mode old_oid new_oid status NUL path NUL`, repeated. Directory entries
/// (a sparse index) go to `trees` as (path, HEAD's tree, the index's tree).
fn parse_raw(
    raw: &[u8],
    out: &mut Changes,
    trees: &mut Vec<(Vec<u8>, Option<Oid>, Oid)>,
) -> Result<(), String> {
    let mut fields = raw.split(|&b| b == 0);
    while let Some(meta) = fields.next() {
        if meta.is_empty() {
            continue;
        }
        let bad = || {
            format!(
                "unexpected git diff-index output: {}",
                String::from_utf8_lossy(meta)
            )
        };
        let path = fields.next().ok_or_else(bad)?.to_vec();
        let meta = std::str::from_utf8(meta).map_err(|_| bad())?;
        let parts: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let [old_mode, new_mode, old_oid, new_oid, status] = parts.as_slice() else {
            return Err(bad());
        };
        let mode = |m: &str| u32::from_str_radix(m, 8).map_err(|_| bad());
        let id = |s: &str| Oid::from_str(s).map_err(|_| bad());
        let (old_mode, new_mode) = (mode(old_mode)?, mode(new_mode)?);
        match status.as_bytes().first() {
            Some(b'U') => out.unmerged.push(path),
            Some(b'A' | b'M' | b'T') if new_mode == MODE_TREE => {
                let old = (old_mode == MODE_TREE).then(|| id(old_oid)).transpose()?;
                trees.push((path, old, id(new_oid)?));
            }
            Some(b'A' | b'M' | b'T') if new_mode != MODE_GITLINK => {
                let is_blob = !matches!(old_mode, 0 | MODE_GITLINK | MODE_TREE);
                let old = is_blob.then(|| id(old_oid)).transpose()?;
                let new = id(new_oid)?;
                if old == Some(new) {
                    // A mode change: no content to scan.
                    continue;
                }
                out.changed.push(Change {
                    path,
                    oid: new,
                    mode: new_mode,
                    old,
                });
            }
            Some(b'D') if old_mode == MODE_TREE => out.dropped.push(Dropped::Tree {
                path,
                oid: id(old_oid)?,
            }),
            Some(b'D') if old_mode != MODE_GITLINK => out.dropped.push(Dropped::Blob {
                path,
                oid: id(old_oid)?,
            }),
            _ => {}
        }
    }
    Ok(())
}

/// Every blob under the dropped paths, as rename sources. Directories are read only now, when a
/// new file with a key needs a source.
pub fn expand(repo: &Repository, dropped: &[Dropped]) -> Vec<(Vec<u8>, Oid)> {
    let mut blobs = Vec::new();
    let mut trees: Vec<(Vec<u8>, Oid)> = Vec::new();
    for d in dropped {
        match d {
            Dropped::Blob { path, oid } => blobs.push((path.clone(), *oid)),
            Dropped::Tree { path, oid } => trees.push((path.clone(), *oid)),
        }
    }
    while let Some((path, oid)) = trees.pop() {
        let Ok(tree) = repo.find_tree(oid) else {
            continue;
        };
        for e in tree.iter() {
            let mut p = path.clone();
            p.push(b'/');
            p.extend_from_slice(e.name_bytes());
            match e.kind() {
                Some(ObjectType::Blob) => blobs.push((p, e.id())),
                Some(ObjectType::Tree) => trees.push((p, e.id())),
                _ => {}
            }
        }
    }
    blobs
}

pub fn display(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

#[cfg(test)]
mod tests {
    //! The cache-tree walk against `git diff-index` on repositories the real git builds.
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn native(repo: &Repository, dir: &Path) -> Changes {
        let bytes = std::fs::read(dir.join(".git/index")).expect("index");
        let index = Index::parse(&bytes).expect("parse");
        let head = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_tree().ok())
            .map(|t| t.id());
        from_index(repo, &index, head).expect("walk")
    }

    fn by_git(repo: &Repository, dir: &Path) -> Changes {
        let head = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_tree().ok())
            .map(|t| t.id());
        from_git(repo, dir, head).expect("git diff-index")
    }

    fn dropped_blobs(repo: &Repository, c: &Changes) -> BTreeSet<(Vec<u8>, Oid)> {
        expand(repo, &c.dropped).into_iter().collect()
    }

    /// Names that interleave with `a/` in sort order, directories that become files and back.
    const PATHS: &[&str] = &[
        "a",
        "a.b",
        "a-b",
        "a0",
        "b",
        "a/a",
        "a/b",
        "a/b.c",
        "a.b/x",
        "a0/y",
        "b/c/d",
        "b/c/e",
        "b/c.d",
        "c d/e f",
        "z",
        "deep/1/2/3/4/f",
    ];

    fn write(dir: &Path, rel: &str, content: &str) {
        // Whatever stands in the way (a file where a directory goes, or the reverse) goes.
        let mut at = dir.to_path_buf();
        let parts: Vec<&str> = rel.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            at.push(part);
            if at.is_file() {
                std::fs::remove_file(&at).expect("rm file");
            }
        }
        let p = dir.join(rel);
        if p.is_dir() {
            std::fs::remove_dir_all(&p).expect("rm dir");
        }
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, content).expect("write");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Write(usize, u8),
        Delete(usize),
        Exec(usize),
        IntentToAdd(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        let n = PATHS.len();
        prop_oneof![
            (0..n, 0u8..3).prop_map(|(p, c)| Op::Write(p, c)),
            (0..n).prop_map(Op::Delete),
            (0..n).prop_map(Op::Exec),
            (0..n).prop_map(Op::IntentToAdd),
        ]
    }

    proptest! {
        // Each case runs git a dozen times: fewer cases than proptest's default unless asked.
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24),
            ..ProptestConfig::default()
        })]

        #[test]
        fn the_walk_agrees_with_git(initial in any::<u32>(), ops in proptest::collection::vec(op(), 0..8), version in 2u32..=4, write_tree in any::<bool>(), add_all in any::<bool>()) {
            let tmp = tempfile::tempdir().expect("tempdir");
            let dir = tmp.path();
            git(dir, &["init", "-q", "-b", "main"]);
            for (i, p) in PATHS.iter().enumerate() {
                if initial & (1 << i) != 0 {
                    write(dir, p, &format!("{p} v0\n"));
                }
            }
            git(dir, &["add", "-A"]);
            git(dir, &["commit", "-q", "--allow-empty", "-m", "base"]);
            for o in &ops {
                match *o {
                    Op::Write(p, c) => write(dir, PATHS[p], &format!("{} v{c}\n", PATHS[p])),
                    Op::Delete(p) => {
                        let _ = std::fs::remove_file(dir.join(PATHS[p]));
                    }
                    Op::Exec(p) => {
                        if dir.join(PATHS[p]).is_file() {
                            use std::os::unix::fs::PermissionsExt;
                            let _ = std::fs::set_permissions(dir.join(PATHS[p]), std::fs::Permissions::from_mode(0o755));
                        }
                    }
                    Op::IntentToAdd(p) => {
                        if dir.join(PATHS[p]).is_file() && git(dir, &["ls-files", "--", PATHS[p]]).is_empty() {
                            git(dir, &["add", "-N", "--", PATHS[p]]);
                        }
                    }
                }
            }
            if add_all {
                git(dir, &["add", "-A"]);
            } else {
                git(dir, &["add", "-u"]);
            }
            git(dir, &["update-index", "--index-version", &version.to_string()]);
            if write_tree {
                git(dir, &["write-tree"]);
            }
            let repo = Repository::open(dir).expect("open");
            let (a, b) = (native(&repo, dir), by_git(&repo, dir));
            prop_assert_eq!(&a.changed, &b.changed);
            prop_assert_eq!(dropped_blobs(&repo, &a), dropped_blobs(&repo, &b));
            prop_assert_eq!(&a.unmerged, &b.unmerged);
        }
    }

    #[test]
    fn a_valid_cache_tree_limits_the_walk_to_the_changed_path() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        for top in ["a", "b", "c", "d"] {
            for mid in ["x", "y", "z"] {
                for leaf in ["1", "2"] {
                    write(dir, &format!("{top}/{mid}/{leaf}/f.txt"), "v0\n");
                }
            }
        }
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", "base"]);
        let repo = Repository::open(dir).expect("open");
        // Right after a commit the cache-tree is valid and equals HEAD: no tree is read.
        assert_eq!(native(&repo, dir).trees_read, 0);
        write(dir, "b/y/2/f.txt", "v1\n");
        // Not `add -A`: files written in the same second as the index are racily clean, and
        // re-adding them invalidates their directories too.
        git(dir, &["add", "b/y/2/f.txt"]);
        // `git add` invalidated b, b/y, b/y/2 and the root: four trees, not 1 + 4 + 12 + 24.
        let c = native(&repo, dir);
        assert_eq!(c.changed.len(), 1);
        assert_eq!(c.trees_read, 4);
        // During `git commit` the cache-tree is valid again: still only that path.
        git(dir, &["write-tree"]);
        assert_eq!(native(&repo, dir).trees_read, 4);
    }

    #[test]
    fn tree_order_puts_a_directory_after_names_that_sort_before_its_slash() {
        assert_eq!(tree_order(b"a.b", false, b"a", true), Ordering::Less);
        assert_eq!(tree_order(b"a", true, b"a0", false), Ordering::Less);
        assert_eq!(tree_order(b"a", false, b"a", true), Ordering::Less);
        assert_eq!(tree_order(b"a", true, b"a", true), Ordering::Equal);
    }
}
