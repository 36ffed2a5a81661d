//! A one-line progress meter on stderr for long history scans. It stays silent unless stderr is a
//! terminal and the scan has run for a second, so short runs, pipes and CI logs never see it.

use crate::util::sync::lock;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

pub struct Progress {
    enabled: bool,
    phase: Mutex<&'static str>,
    done: AtomicU64,
    total: AtomicU64,
    bytes: AtomicU64,
    shown: AtomicBool,
    stop: Mutex<bool>,
    wake: Condvar,
}

const QUIET_FOR: Duration = Duration::from_secs(1);
const EVERY: Duration = Duration::from_millis(200);

impl Progress {
    fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            phase: Mutex::new(""),
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            shown: AtomicBool::new(false),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        }
    }

    /// Runs `work` with a meter; a drawing thread lives only while `work` runs.
    pub fn run<R>(enabled: bool, work: impl FnOnce(&Progress) -> R) -> R {
        let progress = Progress::new(enabled);
        if !enabled {
            return work(&progress);
        }
        std::thread::scope(|s| {
            s.spawn(|| progress.draw_until_stopped());
            let result = work(&progress);
            *lock(&progress.stop) = true;
            progress.wake.notify_all();
            result
        })
    }

    /// Starts a phase with `total` steps.
    pub fn phase(&self, name: &'static str, total: u64) {
        *lock(&self.phase) = name;
        self.done.store(0, Ordering::Relaxed);
        self.bytes.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }

    pub fn add(&self, steps: u64, bytes: u64) {
        if self.enabled {
            self.done.fetch_add(steps, Ordering::Relaxed);
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    fn draw_until_stopped(&self) {
        let started = Instant::now();
        let mut stopped = lock(&self.stop);
        loop {
            let wait = if started.elapsed() < QUIET_FOR {
                QUIET_FOR - started.elapsed()
            } else {
                EVERY
            };
            let (guard, _) = self
                .wake
                .wait_timeout(stopped, wait)
                .unwrap_or_else(|p| p.into_inner());
            stopped = guard;
            if *stopped {
                break;
            }
            if started.elapsed() >= QUIET_FOR {
                self.draw();
            }
        }
        if self.shown.load(Ordering::Relaxed) {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
        }
    }

    fn draw(&self) {
        let phase = *lock(&self.phase);
        if phase.is_empty() {
            return;
        }
        let done = self.done.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed).max(1);
        let bytes = self.bytes.load(Ordering::Relaxed);
        let mut line = format!(
            "\r\x1b[Kstripe-scan: {phase} {done}/{total} ({}%)",
            done * 100 / total
        );
        if bytes > 0 {
            line.push_str(&format!(", {:.1} MB", bytes as f64 / 1e6));
        }
        self.shown.store(true, Ordering::Relaxed);
        let _ = write!(std::io::stderr().lock(), "{line}");
    }
}
