//! `stripe-scan staged`: what the next commit will contain. The repository is opened from the
//! environment, so the index git names in `GIT_INDEX_FILE` is the one read (`git commit -a` and
//! `git commit -- path` commit a temporary index, not `.git/index`). Blobs are read from the
//! object store, never from the working tree and never as `git diff` text (a `-diff` attribute
//! hides content from diffs, not from blobs).
//!
//! Only keys on lines the commit adds are reported, so an old key elsewhere in a file never blocks
//! an unrelated change. "Added" is what `git diff --cached` shows with `+`: a key on a line that
//! moved, was duplicated or was edited is on an added line and is reported, even if HEAD has the
//! same key somewhere else in the file. A new path is compared with the file it was renamed from
//! (a path the commit drops, with at least half its content), so `git mv` of an old file does not
//! re-report its keys; a copy of a file that stays is new content and is reported whole.
//!
//! The pre-commit framework runs this with file names. Inside a commit (git sets
//! `GIT_INDEX_FILE`) they narrow the staged scan; outside one (`pre-commit run --all-files`,
//! `--files X`), the framework is asking about those files, and every key in them is reported.

mod added;
mod by_git;
mod changes;
mod renames;

use crate::diagnostics::Diagnostics;
use crate::engine::matcher::Matcher;
use crate::engine::scanner::{Origin, Scanner};
use crate::error::{describe_io, Error};
use crate::finding::Finding;
use crate::git::index::{Index, IndexError};
use crate::outcome::{Outcome, Stats};
use crate::rules::Place;
use crate::util::mmap::{open_regular, read_or_map, Bytes};
use crate::util::sync::{into_inner, lock, Claims};
use added::{new_in, read_pair};
use changes::{display, Change, Changes};
use git2::{ErrorCode, Oid, Repository};
use renames::renames;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// Fewer blobs than this are scanned on the calling thread: a worker has to open its own
/// repository, which costs more than scanning a few files.
const PARALLEL_MIN: usize = 32;
/// Set to `git` to compare the index with HEAD through the git binary instead of our reader
/// (tests run both and compare; a way out if our reader is ever wrong).
const READER_ENV: &str = "STRIPE_SCAN_INDEX_READER";

/// `scan_index` through the installed `git` binary, for a repository libgit2 cannot open.
pub(crate) fn scan_by_git(
    workdir: &Path,
    paths: &[PathBuf],
    matcher: &Matcher,
    diag: &Diagnostics,
) -> Result<Outcome, Error> {
    by_git::scan(workdir, paths, matcher, diag)
}

/// Everything the index stages against HEAD, narrowed to `paths` when the caller names some.
pub(crate) fn scan_index(
    repo: &Repository,
    workdir: &Path,
    paths: &[PathBuf],
    matcher: &Matcher,
    threads: usize,
    diag: &Diagnostics,
) -> Result<Outcome, Error> {
    let filter = PathFilter::new(paths, workdir)?;
    let changes = staged_changes(repo, workdir, diag)?;
    for (prefix, tree, cause) in &changes.unreadable {
        let what = if prefix.is_empty() {
            "HEAD".to_string()
        } else {
            display(prefix)
        };
        diag.error(&Error::input(
            what,
            format!("HEAD's tree {tree}: {cause}; everything staged under it is scanned as new"),
        ));
    }
    for p in changes.unmerged.iter().filter(|p| filter.keeps(p)) {
        diag.note(
            &display(p),
            "unmerged (the conflict is not resolved), not scanned",
        );
    }
    let (findings, stats) = scan(repo, &changes, &filter, matcher, threads, diag);
    Ok(Outcome {
        findings,
        stats,
        commits: None,
    })
}

/// The index against HEAD: our reader, or git for an index it does not handle.
pub(crate) fn staged_changes(
    repo: &Repository,
    workdir: &Path,
    diag: &Diagnostics,
) -> Result<Changes, Error> {
    let head = head_tree(repo, diag)?;
    let use_git = std::env::var_os(READER_ENV).is_some_and(|v| v == "git");
    let mut damage = None;
    if !use_git {
        let path = crate::git::repo::index_file(repo);
        let bytes = match read_index(&path) {
            Ok(bytes) => Some(bytes),
            // `git init` with nothing added yet.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::input(path.display().to_string(), describe_io(&e))),
        };
        let index = match &bytes {
            Some(b) => Index::parse(b),
            None => Ok(Index::empty()),
        };
        match index {
            Ok(index) => {
                return changes::from_index(repo, &index, head).map_err(|e| {
                    Error::input("HEAD", format!("cannot read its trees: {}", e.message()))
                })
            }
            // git wrote it, so git can read it: a split index, a newer extension, or damage
            // that git will name better than we can.
            Err(IndexError::Unsupported(_)) => {}
            Err(IndexError::Corrupt(cause)) => damage = Some(cause),
        }
    }
    let changes = changes::from_git(repo, workdir, head).map_err(Error::Usage)?;
    // git skips the index checksum too, and reads a truncated index as entries of zeros with
    // empty names: no staged blob has the null id, so that is the damage we saw, not content.
    if let Some(cause) = damage {
        if changes.changed.iter().any(|c| c.oid.is_zero()) {
            let path = crate::git::repo::index_file(repo);
            return Err(Error::input(
                path.display().to_string(),
                format!("damaged: {cause}"),
            ));
        }
    }
    Ok(changes)
}

/// Index files below this are read; larger ones mapped (a 19,000-file index is 2.3 MB, and
/// copying it cost more than the rest of the comparison).
const MAP_MIN: u64 = 1 << 20;

/// Only a regular file: a FIFO in its place would wait forever for a writer.
fn read_index(path: &Path) -> std::io::Result<Bytes> {
    match open_regular(path)? {
        Ok(file) => read_or_map(file, MAP_MIN, true),
        Err(kind) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{kind} where the index belongs, not read"),
        )),
    }
}

fn head_tree(repo: &Repository, diag: &Diagnostics) -> Result<Option<Oid>, Error> {
    match repo.head() {
        // The tree's id, not the tree: a missing tree is then named by the walk, which counts
        // everything under it as new instead of failing the whole scan.
        Ok(r) => match r.peel_to_commit() {
            Ok(c) => Ok(Some(c.tree_id())),
            Err(e) => match r.target() {
                // A missing or damaged commit leaves nothing to compare with: every staged key
                // is reported rather than none.
                Some(commit) => {
                    // Reading the commit itself names the damage; peeling only says it failed.
                    let e = repo.find_commit(commit).err().unwrap_or(e);
                    diag.error(&Error::input(
                        commit.to_string(),
                        format!(
                            "HEAD's commit: {}; every staged file is scanned as new",
                            crate::git::errors::cause(&e)
                        ),
                    ));
                    Ok(None)
                }
                None => Err(Error::input("HEAD", e.message())),
            },
        },
        // Before the first commit everything staged is new.
        Err(e) if e.code() == ErrorCode::UnbornBranch => Ok(None),
        Err(e) => Err(Error::input("HEAD", e.message())),
    }
}

/// The paths named on the command line, repository-relative; none means everything.
struct PathFilter {
    prefixes: Vec<Vec<u8>>,
    all: bool,
}

impl PathFilter {
    fn new(paths: &[PathBuf], workdir: &Path) -> Result<PathFilter, Error> {
        let root = workdir
            .canonicalize()
            .map_err(|e| Error::io(workdir.display().to_string(), &e))?;
        let cwd = std::env::current_dir()
            .and_then(|d| d.canonicalize())
            .map_err(|e| Error::io(".", &e))?;
        let mut prefixes = Vec::new();
        let mut all = paths.is_empty();
        for p in paths {
            let joined = lexical(&cwd.join(p));
            let rel = joined.strip_prefix(&root).map_err(|_| {
                Error::Usage(format!(
                    "{}: outside the repository {}",
                    p.display(),
                    root.display()
                ))
            })?;
            let bytes = rel_bytes(rel);
            if bytes.is_empty() {
                all = true;
            }
            prefixes.push(bytes);
        }
        Ok(PathFilter { prefixes, all })
    }

    fn keeps(&self, path: &[u8]) -> bool {
        self.all
            || self
                .prefixes
                .iter()
                .any(|p| path.starts_with(p) && (path.len() == p.len() || path[p.len()] == b'/'))
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system (the path may be a deleted file).
fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn rel_bytes(rel: &Path) -> Vec<u8> {
    let parts: Vec<Vec<u8>> = rel
        .components()
        .map(|c| {
            #[cfg(unix)]
            {
                use std::os::unix::ffi::OsStrExt;
                c.as_os_str().as_bytes().to_vec()
            }
            #[cfg(not(unix))]
            {
                c.as_os_str().to_string_lossy().as_bytes().to_vec()
            }
        })
        .collect();
    parts.join(&b'/')
}

/// A changed blob whose new content has keys, waiting for the added-lines check.
struct Pending<'c> {
    change: &'c Change,
    findings: Vec<Finding>,
}

fn scan(
    repo: &Repository,
    changes: &Changes,
    filter: &PathFilter,
    matcher: &Matcher,
    threads: usize,
    diag: &Diagnostics,
) -> (Vec<Finding>, Stats) {
    let todo: Vec<&Change> = changes
        .changed
        .iter()
        .filter(|c| filter.keeps(&c.path))
        .collect();
    let (pending, stats) = if todo.len() < PARALLEL_MIN || threads <= 1 {
        let mut scanner = Scanner::new(matcher, 0);
        let mut stats = Stats::default();
        let pending = todo
            .iter()
            .filter_map(|c| scan_blob(repo, &mut scanner, c, diag, &mut stats))
            .collect();
        (pending, stats)
    } else {
        scan_parallel(&todo, matcher, threads, diag)
    };
    if pending.is_empty() {
        return (Vec::new(), stats);
    }
    (keep_added(repo, changes, pending, matcher, diag), stats)
}

fn scan_blob<'c>(
    repo: &Repository,
    scanner: &mut Scanner<'_>,
    change: &'c Change,
    diag: &Diagnostics,
    stats: &mut Stats,
) -> Option<Pending<'c>> {
    let path = display(&change.path);
    let blob = match repo.find_blob(change.oid) {
        Ok(b) => b,
        Err(e) => {
            diag.error(&Error::input(
                &path,
                format!(
                    "cannot read staged blob {}: {}",
                    change.oid,
                    crate::git::errors::cause(&e)
                ),
            ));
            return None;
        }
    };
    stats.files += 1;
    stats.bytes += blob.size() as u64;
    let mut findings = Vec::new();
    let origin = Origin {
        path: &path,
        place: Place::Staged,
    };
    for (what, why) in scanner.scan_bytes(blob.content(), origin, &mut findings) {
        diag.note(&what, &why);
    }
    (!findings.is_empty()).then_some(Pending { change, findings })
}

/// Workers share a counter; each opens its own repository (a libgit2 handle is not shareable).
fn scan_parallel<'c>(
    todo: &[&'c Change],
    matcher: &Matcher,
    threads: usize,
    diag: &Diagnostics,
) -> (Vec<Pending<'c>>, Stats) {
    let claims = Claims::new(todo.len(), 1);
    let collected = Mutex::new((Vec::new(), Stats::default()));
    std::thread::scope(|s| {
        for _ in 0..threads.min(todo.len() / 8).max(1) {
            s.spawn(|| {
                let repo = match crate::git::repo::open_worker() {
                    Ok(r) => r,
                    Err(e) => {
                        diag.error(&Error::input("repository", e.message()));
                        return;
                    }
                };
                let mut scanner = Scanner::new(matcher, 0);
                let mut stats = Stats::default();
                let mut found = Vec::new();
                while let Some(run) = claims.next() {
                    for c in &todo[run] {
                        found.extend(scan_blob(&repo, &mut scanner, c, diag, &mut stats));
                    }
                }
                let mut all = lock(&collected);
                all.0.extend(found);
                all.1.files += stats.files;
                all.1.bytes += stats.bytes;
            });
        }
    });
    let (pending, stats) = into_inner(collected);
    let missed = claims.unclaimed();
    if missed > 0 {
        diag.error(&Error::input(
            "index",
            format!("{missed} staged blobs were not scanned"),
        ));
    }
    (pending, stats)
}

/// Keeps the findings on lines the commit adds: all of a new file's, and for a modified or
/// renamed one those on lines its diff marks `+`. A key inside an archive member, a compressed
/// file or an encoding has no line of the file to diff: it is kept unless the old blob held the
/// same key at the same member and encoding.
fn keep_added(
    repo: &Repository,
    changes: &Changes,
    pending: Vec<Pending<'_>>,
    matcher: &Matcher,
    diag: &Diagnostics,
) -> Vec<Finding> {
    let mut base: Vec<Option<Oid>> = pending.iter().map(|p| p.change.old).collect();
    let new_files: Vec<usize> = (0..pending.len()).filter(|&i| base[i].is_none()).collect();
    if !new_files.is_empty() && !changes.dropped.is_empty() {
        let sources = changes::expand(repo, &changes.dropped);
        for (i, src) in renames(repo, &pending, &new_files, &sources) {
            base[i] = Some(src);
        }
    }
    let mut kept = Vec::new();
    for (p, base) in pending.into_iter().zip(base) {
        let Some(base) = base else {
            kept.extend(p.findings);
            continue;
        };
        if base == p.change.oid {
            continue;
        }
        match read_pair(repo, base, p.change.oid) {
            Ok((old, new)) => {
                let path = display(&p.change.path);
                let (new_keys, failed) =
                    new_in(old.content(), new.content(), p.findings, &path, matcher);
                if let Some(e) = failed {
                    diag.error(&Error::input(
                        path,
                        format!(
                            "cannot diff with HEAD's {base}: {}; every key in it is reported",
                            crate::git::errors::cause(&e)
                        ),
                    ));
                }
                kept.extend(new_keys);
            }
            Err(e) => {
                // Reporting every key is the safe side of not knowing which are new.
                diag.error(&Error::input(
                    display(&p.change.path),
                    format!(
                        "cannot read HEAD's {base}: {}; every key in it is reported",
                        crate::git::errors::cause(&e)
                    ),
                ));
                kept.extend(p.findings);
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_filter_matches_files_and_directories() {
        let f = PathFilter {
            prefixes: vec![b"src".to_vec(), b"a b/c.txt".to_vec()],
            all: false,
        };
        assert!(f.keeps(b"src/x.rs") && f.keeps(b"src") && f.keeps(b"a b/c.txt"));
        assert!(!f.keeps(b"srcx/y") && !f.keeps(b"a b/c.txt2") && !f.keeps(b"other"));
    }
}
