//! The working tree: a parallel walk that honours .gitignore/.ignore inside git repositories,
//! includes hidden files, skips `.git/`, never follows symlinks unless asked, and scans every
//! regular file, binaries included.

use super::Stats;
use crate::allow::Allow;
use crate::diagnostics::Diagnostics;
use crate::error::{describe_io, Error};
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::rules::Place;
use crate::scanner::{Origin, Scanner};
use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct WalkOptions {
    pub no_ignore: bool,
    pub follow_links: bool,
    pub threads: usize,
    pub max_file_size: u64,
}

/// Scans `paths` (files, directories, or `-` for stdin).
pub fn scan(
    paths: &[PathBuf],
    opts: &WalkOptions,
    matcher: &Matcher,
    allow: &Allow,
    diag: &Diagnostics,
) -> (Vec<Finding>, Stats) {
    let collected = Mutex::new((Vec::new(), Stats::default()));
    // Paths are shown relative to the root when there is a single directory to scan.
    let strip_root = match paths {
        [one] if one.is_dir() => Some(one.clone()),
        _ => None,
    };
    let mut walk_roots = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            let mut scanner = Scanner::new(matcher, opts.max_file_size);
            let mut found = Vec::new();
            let origin = Origin {
                path: "-",
                place: Place::WorkingTree,
            };
            match scanner.scan_reader(std::io::stdin().lock(), origin, &mut found) {
                Ok(n) => {
                    let mut c = lock(&collected);
                    c.0.extend(found);
                    c.1.files += 1;
                    c.1.bytes += n;
                }
                Err(e) => diag.error(&Error::input("-", describe_io(&e))),
            }
            continue;
        }
        match std::fs::metadata(p) {
            Err(e) => diag.error(&Error::io(p.display().to_string(), &e)),
            Ok(m) if m.is_dir() || m.is_file() => walk_roots.push(p.clone()),
            Ok(_) => diag.note(&p.display().to_string(), "not a regular file or directory, skipped"),
        }
    }
    if !walk_roots.is_empty() {
        let mut builder = WalkBuilder::new(&walk_roots[0]);
        for r in &walk_roots[1..] {
            builder.add(r);
        }
        builder
            .hidden(false)
            .parents(true)
            .ignore(!opts.no_ignore)
            .git_ignore(!opts.no_ignore)
            .git_global(!opts.no_ignore)
            .git_exclude(!opts.no_ignore)
            .require_git(true)
            .follow_links(opts.follow_links)
            .threads(opts.threads)
            .filter_entry(|e| e.file_name() != ".git");
        let mut visitors = Builder {
            matcher,
            allow,
            diag,
            opts,
            strip_root: strip_root.as_deref(),
            collected: &collected,
        };
        builder.build_parallel().visit(&mut visitors);
    }
    collected.into_inner().unwrap_or_else(|p| p.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Builder<'s> {
    matcher: &'s Matcher,
    allow: &'s Allow,
    diag: &'s Diagnostics,
    opts: &'s WalkOptions,
    strip_root: Option<&'s Path>,
    collected: &'s Mutex<(Vec<Finding>, Stats)>,
}

impl<'s> ParallelVisitorBuilder<'s> for Builder<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            scanner: Scanner::new(self.matcher, self.opts.max_file_size),
            allow: self.allow,
            diag: self.diag,
            strip_root: self.strip_root,
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
    diag: &'s Diagnostics,
    strip_root: Option<&'s Path>,
    collected: &'s Mutex<(Vec<Finding>, Stats)>,
    findings: Vec<Finding>,
    stats: Stats,
}

impl ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                self.diag.error(&walk_error(&err));
                return WalkState::Continue;
            }
        };
        let Some(ft) = entry.file_type() else {
            return WalkState::Continue; // stdin marker; handled before the walk
        };
        if ft.is_dir() {
            return WalkState::Continue;
        }
        let display = display_path(entry.path(), self.strip_root);
        if !ft.is_file() {
            if !ft.is_symlink() {
                self.diag.note(&display, "not a regular file (FIFO, socket or device), skipped");
            }
            return WalkState::Continue;
        }
        let origin = Origin {
            path: &display,
            place: Place::WorkingTree,
        };
        let exempt = self.allow.path_allowed(&display);
        if let Some(n) = self
            .scanner
            .scan_file(entry.path(), origin, self.diag, exempt, &mut self.findings)
        {
            self.stats.files += 1;
            self.stats.bytes += n;
        }
        WalkState::Continue
    }
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        let mut c = lock(self.collected);
        c.0.append(&mut self.findings);
        c.1.files += self.stats.files;
        c.1.bytes += self.stats.bytes;
    }
}

/// `/`-separated, relative to the single scan root if there is one, without a leading `./`.
pub fn display_path(path: &Path, root: Option<&Path>) -> String {
    let rel = root
        .and_then(|r| path.strip_prefix(r).ok())
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(path);
    let s = rel.to_string_lossy();
    let s = s.strip_prefix("./").unwrap_or(&s);
    if std::path::MAIN_SEPARATOR == '/' {
        s.to_string()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

/// The walker's errors nest a path around a cause; flatten them into `path: cause`.
fn walk_error(err: &ignore::Error) -> Error {
    match err {
        ignore::Error::WithPath { path, err } => Error::input(path.display().to_string(), cause_of(err)),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => walk_error(err),
        ignore::Error::Loop { child, .. } => Error::input(child.display().to_string(), "symlink loop, skipped"),
        other => Error::input("walk", cause_of(other)),
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
