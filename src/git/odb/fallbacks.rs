//! How often the fast path gave up: objects the pack reader could not give, which libgit2 then
//! read. A broken fast path would only make scans slower, so this count is what proves it works:
//! it stays at zero on a `git gc`'d repository (`STRIPE_SCAN_STATS=1` prints it).

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Fallbacks {
    /// In no pack: loose objects, or objects of a pack that was not trusted.
    not_packed: AtomicU64,
    /// In a pack, but not readable from it: a damaged entry, a delta whose base is elsewhere.
    failed: AtomicU64,
}

impl Fallbacks {
    pub fn not_packed(&self, n: u64) {
        if n > 0 {
            self.not_packed.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub fn failed(&self, n: u64) {
        if n > 0 {
            self.failed.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// `fast-path fallbacks: N (A not in a pack, B unreadable in one)`.
    pub fn line(&self) -> String {
        let a = self.not_packed.load(Ordering::Relaxed);
        let b = self.failed.load(Ordering::Relaxed);
        format!(
            "fast-path fallbacks: {} ({a} not in a pack, {b} unreadable in one)",
            a + b
        )
    }
}
