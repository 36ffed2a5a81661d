//! Shared state between worker threads.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Locks `m` even if a worker panicked while holding it: the data is plain collected results, and
/// losing the whole scan to one poisoned lock would turn a bug into a missed key.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The value behind `m` once every worker is done, poisoned or not (see `lock`).
pub(crate) fn into_inner<T>(m: Mutex<T>) -> T {
    m.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Hands out `0..len` in runs of `chunk` to whichever worker asks next: work-stealing with one
/// atomic, so a slow item holds back only the worker that drew it.
pub(crate) struct Claims {
    next: AtomicUsize,
    len: usize,
    chunk: usize,
}

impl Claims {
    pub fn new(len: usize, chunk: usize) -> Claims {
        Claims {
            next: AtomicUsize::new(0),
            len,
            chunk: chunk.max(1),
        }
    }

    /// The next run of indices, or `None` when all are handed out.
    pub fn next(&self) -> Option<Range<usize>> {
        let start = self
            .next
            .fetch_add(1, Ordering::Relaxed)
            .saturating_mul(self.chunk);
        (start < self.len).then(|| start..(start + self.chunk).min(self.len))
    }

    /// How many indices were never handed out (workers that stopped early leave some).
    pub fn unclaimed(&self) -> usize {
        let claimed = self.next.load(Ordering::Relaxed).saturating_mul(self.chunk);
        self.len - claimed.min(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_cover_every_index_once() {
        let c = Claims::new(10, 4);
        assert_eq!(c.next(), Some(0..4));
        assert_eq!(c.unclaimed(), 6);
        assert_eq!(c.next(), Some(4..8));
        assert_eq!(c.next(), Some(8..10));
        assert_eq!(c.next(), None);
        assert_eq!(c.next(), None);
        assert_eq!(c.unclaimed(), 0);
    }
}
