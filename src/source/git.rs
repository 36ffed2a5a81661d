//! What the git sources share: opening a repository per thread, and reporting unreadable objects as
//! `<object id>: <cause>`, once per object, without flooding the terminal when a pack is corrupt.

use super::commits;
use crate::diagnostics::Diagnostics;
use crate::error::Error;
use git2::{Oid, Repository, RepositoryOpenFlags};
use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Opens the repository whose git directory is `git_dir` (a worker's own handle: `Repository`
/// is not `Sync`).
pub fn open(git_dir: &Path) -> Result<Repository, git2::Error> {
    Repository::open_ext(
        git_dir,
        RepositoryOpenFlags::NO_SEARCH,
        std::iter::empty::<&OsStr>(),
    )
}

/// Past this many, unreadable objects are counted and summed up in one last line.
const SHOWN: usize = 20;

pub struct ObjectErrors<'d> {
    diag: &'d Diagnostics,
    seen: Mutex<HashSet<Oid>>,
    shown: AtomicUsize,
    hidden: AtomicUsize,
}

impl<'d> ObjectErrors<'d> {
    pub fn new(diag: &'d Diagnostics) -> ObjectErrors<'d> {
        ObjectErrors {
            diag,
            seen: Mutex::new(HashSet::new()),
            shown: AtomicUsize::new(0),
            hidden: AtomicUsize::new(0),
        }
    }

    /// An object that could not be read; the scan goes on without it.
    pub fn report(&self, oid: Oid, e: &git2::Error) {
        self.report_cause(oid, &commits::cause(e));
    }

    /// Like `report`, with the cause already worded.
    pub fn report_cause(&self, oid: Oid, cause: &str) {
        let first = self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(oid);
        if !first {
            return;
        }
        if self.shown.fetch_add(1, Ordering::Relaxed) < SHOWN {
            self.diag.error(&Error::input(oid.to_string(), cause));
        } else {
            self.hidden.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A failure that names no object (opening the repository in a worker).
    pub fn report_git(&self, what: &str, e: &git2::Error) {
        self.diag.error(&commits::object_error(e, what));
    }

    /// Sums up the objects not shown one by one.
    pub fn finish(&self) {
        let hidden = self.hidden.load(Ordering::Relaxed);
        if hidden > 0 {
            self.diag.error(&Error::input(
                format!("{hidden} more objects"),
                "could not be read either (not listed one by one); `git fsck` shows them all",
            ));
        }
    }
}
