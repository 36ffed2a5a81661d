//! Per-item problems (an unreadable file, a skipped special file) are printed as they happen, one
//! line each, and counted so the exit status can say the scan was partial.

use crate::error::{printable, Error};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Default)]
pub struct Diagnostics {
    errors: AtomicUsize,
    skipped: AtomicUsize,
}

impl Diagnostics {
    /// An input we could not scan: the scan goes on, but it can no longer be reported clean.
    pub fn error(&self, err: &Error) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        emit(&format!("stripe-scan: {err}"));
    }

    /// `count` inputs we could not scan, printed as the one line `err` (a summary of many alike):
    /// the count is what the summary and JSON `errors` report, not the number of lines.
    pub fn errors_summed(&self, count: usize, err: &Error) {
        self.errors.fetch_add(count, Ordering::Relaxed);
        emit(&format!("stripe-scan: {err}"));
    }

    /// Something left out on purpose (a FIFO, a device), said so but not an error.
    pub fn note(&self, what: &str, why: &str) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        emit(&format!("stripe-scan: {}: {why}", printable(what)));
    }

    pub fn errors(&self) -> usize {
        self.errors.load(Ordering::Relaxed)
    }

    pub fn skipped(&self) -> usize {
        self.skipped.load(Ordering::Relaxed)
    }
}

fn emit(line: &str) {
    // A closed stderr is not worth dying for.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
