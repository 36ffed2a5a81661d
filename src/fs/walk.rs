//! The working tree: a parallel walk that honours .gitignore/.ignore inside git repositories,
//! includes hidden files, skips `.git/`, never follows symlinks unless asked, and scans every
//! regular file, binaries included. Paths are reported as the user wrote them, like ripgrep:
//! `scan docs` reports `docs/readme.md`, an absolute argument gives absolute paths. What the
//! ignore rules left out is counted (a folder once), so the summary can say so.

use super::{ignore_files, ignored};
use crate::diagnostics::Diagnostics;
use crate::engine::matcher::Matcher;
use crate::engine::scanner::{Origin, Scanner};
use crate::error::{describe_io, Error};
use crate::finding::Finding;
use crate::outcome::Stats;
use crate::paths::Frame;
use crate::policy::allow::Allow;
use crate::rules::Place;
use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct WalkOptions {
    pub no_ignore: bool,
    pub follow_links: bool,
    pub threads: usize,
    pub max_file_size: u64,
}

/// What the walker threads hand back.
#[derive(Default)]
struct Collected {
    findings: Vec<Finding>,
    stats: Stats,
}

/// Scans `paths` (files, directories, or `-` for stdin). `frame` says how the paths read, for
/// the allowlist.
pub fn scan(
    paths: &[PathBuf],
    opts: &WalkOptions,
    matcher: &Matcher,
    allow: &Allow,
    frame: &Frame,
    diag: &Diagnostics,
) -> (Vec<Finding>, Stats) {
    let collected = Mutex::new(Collected::default());
    let mut walk_roots = Vec::new();
    // Roots whose ignore files (or their parents') cannot be read safely: walked without them.
    let mut plain_roots = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            scan_stdin(opts, matcher, diag, &collected);
            continue;
        }
        match std::fs::metadata(p) {
            Err(e) => diag.error(&Error::io(p.display().to_string(), &e)),
            Ok(m) if m.is_dir() => {
                match ignore_files::unusable_here_or_above(p).filter(|_| !opts.no_ignore) {
                    Some((file, why)) => {
                        diag.note(
                            &file.display().to_string(),
                            &format!("{why}; {} scanned without ignore rules", p.display()),
                        );
                        plain_roots.push(p.clone());
                    }
                    None => walk_roots.push(p.clone()),
                }
            }
            Ok(m) if m.is_file() => walk_roots.push(p.clone()),
            Ok(_) => diag.note(
                &p.display().to_string(),
                "not a regular file or directory, skipped",
            ),
        }
    }
    let mut visitors = Builder {
        matcher,
        allow,
        frame,
        diag,
        opts,
        collected: &collected,
    };
    let quarantined = Arc::new(Mutex::new(Vec::new()));
    let mut ignored = 0;
    if !walk_roots.is_empty() {
        let guard = (!opts.no_ignore).then(|| quarantined.clone());
        let before = ignored::so_far();
        walker(&walk_roots, opts, !opts.no_ignore, guard)
            .build_parallel()
            .visit(&mut visitors);
        ignored = ignored::so_far() - before;
    }
    for (dir, file, why) in std::mem::take(&mut *lock(&quarantined)) {
        diag.note(
            &display_path(&file),
            &format!("{why}; {} scanned without ignore rules", display_path(&dir)),
        );
        plain_roots.push(dir);
    }
    if !plain_roots.is_empty() {
        walker(&plain_roots, opts, false, None)
            .build_parallel()
            .visit(&mut visitors);
    }
    let c = collected.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut stats = c.stats;
    stats.ignored = ignored;
    (c.findings, stats)
}

type Quarantine = Arc<Mutex<Vec<(PathBuf, PathBuf, &'static str)>>>;

/// A walk over `roots`. With `guard`, directories holding an ignore file that cannot be read
/// safely are left out of this walk and recorded there, to be walked again without ignore rules.
fn walker(
    roots: &[PathBuf],
    opts: &WalkOptions,
    ignore: bool,
    guard: Option<Quarantine>,
) -> WalkBuilder {
    let mut builder = WalkBuilder::new(&roots[0]);
    for r in &roots[1..] {
        builder.add(r);
    }
    builder
        .hidden(false)
        .parents(ignore)
        .ignore(ignore)
        .git_ignore(ignore)
        .git_global(ignore)
        .git_exclude(ignore)
        .require_git(true)
        .follow_links(opts.follow_links)
        .threads(threads_for(roots, opts.threads))
        .filter_entry(move |e| {
            if e.file_name() == ".git" {
                return false;
            }
            let Some(guard) = &guard else { return true };
            if !e.file_type().is_some_and(|t| t.is_dir()) {
                return true;
            }
            match ignore_files::unusable(e.path()) {
                Some((file, why)) => {
                    lock(guard).push((e.path().to_path_buf(), file, why));
                    false
                }
                None => true,
            }
        });
    builder
}

/// Small inputs (a few small files, or a directory of them) are walked on one thread: an idle
/// walker thread polls for work every millisecond, which doubled the run time of a scan with
/// almost nothing to do (a pre-commit run on a handful of files, an empty directory). A few large
/// files still get every thread.
fn threads_for(roots: &[PathBuf], wanted: usize) -> usize {
    const FEW_FILES: usize = 64;
    const FEW_BYTES: u64 = 16 << 20;
    let mut files = 0;
    let mut bytes = 0;
    let mut count = |len: u64| {
        files += 1;
        bytes += len;
        files <= FEW_FILES && bytes <= FEW_BYTES
    };
    for root in roots {
        // A file, or a root the walk will report as unreadable.
        let Ok(dir) = std::fs::read_dir(root) else {
            if !count(std::fs::metadata(root).map_or(0, |m| m.len())) {
                return wanted;
            }
            continue;
        };
        for entry in dir {
            let Ok(meta) = entry.and_then(|e| e.metadata()) else {
                return wanted;
            };
            // A link may lead to a large tree (with --follow): not counted as small.
            if meta.is_dir() || meta.file_type().is_symlink() || !count(meta.len()) {
                return wanted;
            }
        }
    }
    1
}

/// `-`: stdin, read up to --max-file-size (it cannot be skipped after the fact, and /dev/zero
/// never ends).
fn scan_stdin(
    opts: &WalkOptions,
    matcher: &Matcher,
    diag: &Diagnostics,
    collected: &Mutex<Collected>,
) {
    let mut scanner = Scanner::new(matcher, opts.max_file_size);
    let mut found = Vec::new();
    let origin = Origin {
        path: "-",
        place: Place::WorkingTree,
    };
    let limit = if opts.max_file_size > 0 {
        opts.max_file_size
    } else {
        u64::MAX
    };
    let mut stdin = std::io::stdin().lock();
    let mut limited = (&mut stdin).take(limit);
    let scanned = scanner.scan_reader(&mut limited, origin, &mut found);
    for (what, why) in scanner.take_notes() {
        diag.note(&what, &why);
    }
    match scanned {
        Ok(n) => {
            if limited.limit() == 0 && stdin.fill_buf().is_ok_and(|b| !b.is_empty()) {
                diag.error(&Error::input(
                    "-",
                    format!(
                        "only the first {n} bytes were scanned: the rest is over --max-file-size"
                    ),
                ));
            }
            let mut c = lock(collected);
            c.findings.extend(found);
            c.stats.files += 1;
            c.stats.bytes += n;
        }
        Err(e) => diag.error(&Error::input("-", describe_io(&e))),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Builder<'s> {
    matcher: &'s Matcher,
    allow: &'s Allow,
    frame: &'s Frame,
    diag: &'s Diagnostics,
    opts: &'s WalkOptions,
    collected: &'s Mutex<Collected>,
}

impl<'s> ParallelVisitorBuilder<'s> for Builder<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            scanner: Scanner::new(self.matcher, self.opts.max_file_size),
            allow: self.allow,
            frame: self.frame,
            diag: self.diag,
            collected: self.collected,
            findings: Vec::new(),
            stats: Stats::default(),
        })
    }
}

/// One per walker thread: its own buffer, findings and counts, merged once when the thread ends.
struct Visitor<'s> {
    scanner: Scanner<'s>,
    allow: &'s Allow,
    frame: &'s Frame,
    diag: &'s Diagnostics,
    collected: &'s Mutex<Collected>,
    findings: Vec<Finding>,
    stats: Stats,
}

impl ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let (what, cause, harmless) = walk_error(&err);
                if harmless {
                    self.diag.note(&what, &cause);
                } else {
                    self.diag.error(&Error::input(what, cause));
                }
                return WalkState::Continue;
            }
        };
        let Some(ft) = entry.file_type() else {
            return WalkState::Continue; // stdin marker; handled before the walk
        };
        if ft.is_dir() {
            return WalkState::Continue;
        }
        let display = display_path(entry.path());
        if !ft.is_file() {
            if !ft.is_symlink() {
                self.diag.note(
                    &display,
                    "not a regular file (FIFO, socket or device), skipped",
                );
            }
            return WalkState::Continue;
        }
        let origin = Origin {
            path: &display,
            place: Place::WorkingTree,
        };
        let exempt = self.allow.path_allowed(self.frame, &display);
        // A bug tripped by one file must not cost the rest of the scan, nor pass for a clean scan.
        let scanned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.scanner
                .scan_file(entry.path(), origin, self.diag, exempt, &mut self.findings)
        }));
        match scanned {
            Ok(Some(n)) => {
                self.stats.files += 1;
                self.stats.bytes += n;
            }
            Ok(None) => {}
            Err(_) => {
                self.scanner = Scanner::new(self.scanner.matcher(), self.scanner.max_file_size());
                self.diag.error(&Error::input(
                    display,
                    "internal error while scanning this file (a bug: please report it)",
                ));
            }
        }
        WalkState::Continue
    }
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        let mut c = lock(self.collected);
        c.findings.append(&mut self.findings);
        c.stats.files += self.stats.files;
        c.stats.bytes += self.stats.bytes;
    }
}

/// The path as the user wrote it (the walk joins names onto the argument), `/`-separated, without
/// a leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    let s = s.strip_prefix("./").unwrap_or(&s);
    if std::path::MAIN_SEPARATOR == '/' {
        s.to_string()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

/// The walker's errors nest a path around a cause; flatten them into `path`, `cause`, and whether
/// nothing was missed (a symlink loop leads back to files the walk reaches anyway).
fn walk_error(err: &ignore::Error) -> (String, String, bool) {
    match err {
        ignore::Error::WithPath { path, err } => {
            let looped = io_of(err).is_some_and(is_loop);
            let cause = if looped {
                "symlink loop, skipped".to_string()
            } else {
                cause_of(err)
            };
            (display_path(path), cause, looped)
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(err)
        }
        ignore::Error::Loop { child, .. } => (
            display_path(child),
            "symlink loop, skipped".to_string(),
            true,
        ),
        other => ("walk".to_string(), cause_of(other), false),
    }
}

fn io_of(err: &ignore::Error) -> Option<&std::io::Error> {
    match err {
        ignore::Error::Io(e) => Some(e),
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => io_of(err),
        _ => None,
    }
}

/// ELOOP: too many levels of symbolic links.
fn is_loop(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

fn cause_of(err: &ignore::Error) -> String {
    match err {
        ignore::Error::Io(e) => describe_io(e),
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => cause_of(err),
        other => other.to_string(),
    }
}
