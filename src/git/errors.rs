//! How git failures are worded: libgit2's messages as `<object id>: <cause>`, and unreadable
//! objects reported once each, without flooding the terminal when a pack is corrupt.

use crate::diagnostics::Diagnostics;
use crate::error::Error;
use crate::util::sync::lock;
use git2::Oid;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Past this many, unreadable objects are counted (each one is an error of the scan) and summed
/// up in one last line.
pub(crate) const SHOWN: usize = 20;

pub struct ObjectErrors<'d> {
    diag: &'d Diagnostics,
    seen: Mutex<HashSet<Oid>>,
    shown: AtomicUsize,
    hidden: AtomicUsize,
    /// A partial clone (its root, its promisor remote): missing objects are summed up in one line.
    partial: Option<(String, String)>,
    promised: AtomicUsize,
}

/// libgit2's "not found", as `cause` words it.
pub const NOT_FOUND: &str = "object not found (missing from the object database)";

impl<'d> ObjectErrors<'d> {
    pub fn new(diag: &'d Diagnostics) -> ObjectErrors<'d> {
        ObjectErrors {
            diag,
            seen: Mutex::new(HashSet::new()),
            shown: AtomicUsize::new(0),
            hidden: AtomicUsize::new(0),
            partial: None,
            promised: AtomicUsize::new(0),
        }
    }

    /// The repository at `root` is a partial clone of `remote`: an object it lacks was left on
    /// the remote on purpose, so the lacking ones make one line that says what to do, not one
    /// "object not found" each.
    pub fn promised_by(&mut self, root: &str, remote: &str) {
        self.partial = Some((root.to_string(), remote.to_string()));
    }

    /// An object that could not be read; the scan goes on without it.
    pub fn report(&self, oid: Oid, e: &git2::Error) {
        self.report_cause(oid, &cause(e));
    }

    /// Like `report`, with the cause already worded.
    pub fn report_cause(&self, oid: Oid, cause: &str) {
        let first = lock(&self.seen).insert(oid);
        if !first {
            return;
        }
        if self.partial.is_some() && cause == NOT_FOUND {
            self.promised.fetch_add(1, Ordering::Relaxed);
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
        self.diag.error(&object_error(e, what));
    }

    /// Sums up the objects not shown one by one.
    pub fn finish(&self) {
        let promised = self.promised.load(Ordering::Relaxed);
        if let (Some((root, remote)), true) = (&self.partial, promised > 0) {
            self.diag.error(&partial_clone(root, remote, promised));
        }
        let hidden = self.hidden.load(Ordering::Relaxed);
        if hidden > 0 {
            self.diag.errors_summed(
                hidden,
                &Error::input(
                    format!("{hidden} more objects"),
                    "could not be read either (not listed one by one); `git fsck` shows them all",
                ),
            );
        }
    }
}

/// The one line for a partial clone's missing objects: what they are and how to get them. The
/// scanner itself never fetches (that would touch the network and write into the repository).
pub fn partial_clone(root: &str, remote: &str, missing: usize) -> Error {
    Error::input(
        root,
        format!(
            "partial clone: {missing} objects were left on the remote {remote:?} and were not scanned \
             (stripe-scan never fetches); get them with `git fetch --refetch --no-filter {remote}` and scan again \
             (`git rev-list --objects --all --missing=print` lists what is missing)"
        ),
    )
}

/// A git error as `<object id>: <cause>` when libgit2 names the object, else `<what>: <cause>`.
pub fn object_error(e: &git2::Error, what: &str) -> Error {
    let msg = e.message();
    match find_oid(msg) {
        Some(oid) => Error::input(oid, cause(e)),
        None => Error::input(what, cause(e)),
    }
}

/// libgit2's message without the object id it names (the id goes first in our lines).
pub fn cause(e: &git2::Error) -> String {
    let msg = e.message();
    let base = match e.code() {
        git2::ErrorCode::NotFound
            if msg.contains("object not found") || msg.contains("no match for id") =>
        {
            NOT_FOUND.to_string()
        }
        _ => match find_oid(msg) {
            Some(oid) => msg
                .replace(&format!("({oid})"), "")
                .replace(&oid, "")
                .trim()
                .to_string(),
            None => msg.to_string(),
        },
    };
    base.trim_end_matches([' ', '-', ':']).to_string()
}

fn find_oid(msg: &str) -> Option<String> {
    let b = msg.as_bytes();
    let mut run = 0;
    for (i, c) in b.iter().enumerate() {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run += 1;
            if run == 40 && b.get(i + 1).is_none_or(|n| !n.is_ascii_hexdigit()) {
                return Some(msg[i + 1 - 40..=i].to_string());
            }
        } else {
            run = 0;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_found_in_messages() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            find_oid(&format!("object not found - no match for id ({id})")),
            Some(id.into())
        );
        assert_eq!(find_oid("nothing here"), None);
        assert_eq!(find_oid(&format!("{id}0")), None);
    }
}
