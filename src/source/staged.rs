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

use super::changes::{self, display, Change, Changes};
use super::index::{Index, IndexError};
use super::{files, Stats};
use crate::app;
use crate::cli::StagedArgs;
use crate::config;
use crate::diagnostics::Diagnostics;
use crate::error::{describe_io, Error};
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::rules::Place;
use crate::scanner::{Origin, Scanner};
use git2::{DiffOptions, ErrorCode, Oid, Patch, Repository};
use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Fewer blobs than this are scanned on the calling thread: a worker has to open its own
/// repository, which costs more than scanning a few files.
const PARALLEL_MIN: usize = 32;
/// git's default: a new path is a rename when at least half of it comes from the old one.
const RENAME_MIN_SCORE: f64 = 0.5;
/// Dropped files compared with each new file that holds a key, nearest size first.
const RENAME_CANDIDATES: usize = 100;
/// As `scan --max-file-size`'s default, for the files the pre-commit framework names.
const MAX_FILE_SIZE: u64 = 1 << 30;
/// Set to `git` to compare the index with HEAD through the git binary instead of our reader
/// (tests run both and compare; a way out if our reader is ever wrong).
const READER_ENV: &str = "STRIPE_SCAN_INDEX_READER";

pub fn command(args: StagedArgs) -> Result<i32, Error> {
    let started = Instant::now();
    let repo = Repository::open_from_env()
        .map_err(|e| Error::Usage(format!("not inside a git repository: {}", e.message())))?;
    let workdir = repo
        .workdir()
        .map(Path::to_path_buf)
        .ok_or_else(|| Error::Usage("the repository is bare: there is no index to scan".into()))?;
    let config = config::load(args.common.config.as_deref(), &workdir)?;
    let out = app::open_output(args.common.output.as_deref())?;
    let matcher = Matcher::new(config.rules.clone()).map_err(Error::Usage)?;
    let diag = Diagnostics::default();
    let threads = app::threads(&args.common);
    let (findings, stats) = if framework_outside_commit(&args) {
        let opts = files::WalkOptions {
            // The framework already chose the files (and honours its own excludes).
            no_ignore: true,
            follow_links: false,
            threads,
            max_file_size: MAX_FILE_SIZE,
        };
        files::scan(&args.paths, &opts, &matcher, &config.allow, &diag)
    } else {
        let filter = PathFilter::new(&args.paths, &workdir)?;
        let changes = staged_changes(&repo, &workdir, &diag)?;
        for (prefix, tree, cause) in &changes.unreadable {
            let what = if prefix.is_empty() {
                "HEAD".to_string()
            } else {
                display(prefix)
            };
            diag.error(&Error::input(
                what,
                format!(
                    "HEAD's tree {tree}: {cause}; everything staged under it is scanned as new"
                ),
            ));
        }
        for p in changes.unmerged.iter().filter(|p| filter.keeps(p)) {
            diag.note(
                &display(p),
                "unmerged (the conflict is not resolved), not scanned",
            );
        }
        scan(&repo, &changes, &filter, &matcher, threads, &diag)
    };
    Ok(app::finish(
        findings,
        stats,
        None,
        &config,
        &args.common,
        &diag,
        started,
        out,
    ))
}

/// The pre-commit framework sets `PRE_COMMIT=1`; git sets `GIT_INDEX_FILE` for every commit and
/// merge hook, and nothing sets it for `pre-commit run`.
fn framework_outside_commit(args: &StagedArgs) -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    !args.paths.is_empty()
        && std::env::var_os("PRE_COMMIT").is_some_and(|v| v == "1")
        && !set("GIT_INDEX_FILE")
}

/// The index against HEAD: our reader, or git for an index it does not handle.
pub fn staged_changes(
    repo: &Repository,
    workdir: &Path,
    diag: &Diagnostics,
) -> Result<Changes, Error> {
    let head = head_tree(repo, diag)?;
    let use_git = std::env::var_os(READER_ENV).is_some_and(|v| v == "git");
    let mut damage = None;
    if !use_git {
        let path = index_path(repo);
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
            let path = index_path(repo);
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

enum IndexBytes {
    Read(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for IndexBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            IndexBytes::Read(v) => v,
            IndexBytes::Mapped(m) => m,
        }
    }
}

fn read_index(path: &Path) -> std::io::Result<IndexBytes> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len < MAP_MIN {
        let mut v = Vec::with_capacity(len as usize);
        std::io::Read::read_to_end(&mut file, &mut v)?;
        return Ok(IndexBytes::Read(v));
    }
    // SAFETY: the mapping is only read, and its bytes do not change while we read them: git
    // never writes an index in place. It writes `<index>.lock` and renames it over the old
    // file, so a rename during our read leaves our mapping on the old inode; and the index a
    // hook gets in GIT_INDEX_FILE is held unchanged by git until the hook returns. A third
    // program truncating the file in place could still make a read fault (SIGBUS); the process
    // then dies by a signal, which the hooks treat as a failed scan and block on.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    Ok(IndexBytes::Mapped(map))
}

fn index_path(repo: &Repository) -> PathBuf {
    match std::env::var_os("GIT_INDEX_FILE").filter(|v| !v.is_empty()) {
        // Relative to the current directory, as git and libgit2 take it.
        Some(p) => PathBuf::from(p),
        None => repo.path().join("index"),
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
                            super::commits::cause(&e)
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
    (keep_added(repo, changes, pending, diag), stats)
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
                    super::commits::cause(&e)
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
    scanner.scan_bytes(blob.content(), origin, &mut findings);
    (!findings.is_empty()).then_some(Pending { change, findings })
}

/// Workers share a counter; each opens its own repository (a libgit2 handle is not shareable).
fn scan_parallel<'c>(
    todo: &[&'c Change],
    matcher: &Matcher,
    threads: usize,
    diag: &Diagnostics,
) -> (Vec<Pending<'c>>, Stats) {
    let next = AtomicUsize::new(0);
    let collected = Mutex::new((Vec::new(), Stats::default()));
    std::thread::scope(|s| {
        for _ in 0..threads.min(todo.len() / 8).max(1) {
            s.spawn(|| {
                let repo = match Repository::open_from_env() {
                    Ok(r) => r,
                    Err(e) => {
                        diag.error(&Error::input("repository", e.message()));
                        return;
                    }
                };
                let mut scanner = Scanner::new(matcher, 0);
                let mut stats = Stats::default();
                let mut found = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(c) = todo.get(i) else { break };
                    found.extend(scan_blob(&repo, &mut scanner, c, diag, &mut stats));
                }
                let mut all = collected.lock().unwrap_or_else(|p| p.into_inner());
                all.0.extend(found);
                all.1.files += stats.files;
                all.1.bytes += stats.bytes;
            });
        }
    });
    let (pending, stats) = collected.into_inner().unwrap_or_else(|p| p.into_inner());
    let missed = todo.len() - next.load(Ordering::Relaxed).min(todo.len());
    if missed > 0 {
        diag.error(&Error::input(
            "index",
            format!("{missed} staged blobs were not scanned"),
        ));
    }
    (pending, stats)
}

/// Keeps the findings on lines the commit adds: all of a new file's, and for a modified or
/// renamed one those on lines its diff marks `+`.
fn keep_added(
    repo: &Repository,
    changes: &Changes,
    pending: Vec<Pending<'_>>,
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
        let added = read_pair(repo, base, p.change.oid)
            .and_then(|(old, new)| line_diff(old.content(), new.content()));
        match added {
            Ok(d) => kept.extend(p.findings.into_iter().filter(|f| d.is_added(f.line))),
            Err(e) => {
                // Reporting every key is the safe side of not knowing which lines are new.
                diag.error(&Error::input(
                    display(&p.change.path),
                    format!(
                        "cannot diff with HEAD's {base}: {}; every key in it is reported",
                        super::commits::cause(&e)
                    ),
                ));
                kept.extend(p.findings);
            }
        }
    }
    kept
}

/// The blobs themselves, not copies: a huge file is then held twice (old and new), not four times.
fn read_pair(
    repo: &Repository,
    old: Oid,
    new: Oid,
) -> Result<(git2::Blob<'_>, git2::Blob<'_>), git2::Error> {
    Ok((repo.find_blob(old)?, repo.find_blob(new)?))
}

/// Pairs new files (those in `new_files`, indices into `pending`) with dropped blobs they were
/// renamed from: identical content first, then by similarity, each source used once.
fn renames(
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

/// The `+` side of a diff: 1-based line ranges of the new blob, and their bytes.
pub struct LineDiff {
    added: Vec<Range<u64>>,
    added_bytes: u64,
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
pub fn line_diff(old: &[u8], new: &[u8]) -> Result<LineDiff, git2::Error> {
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
