//! A few workers asking in parallel, within a deadline: at most `workers` requests in flight, and
//! once the deadline has passed, no request starts; the rest are answered by `too_late`.

use crate::report::progress::Progress;
use crate::util::sync::{into_inner, lock, Claims};
use std::sync::Mutex;
use std::time::Instant;

/// `work(job, deadline)` for every job on at most `workers` threads, in job order.
pub fn run<J: Sync, R: Send>(
    jobs: &[J],
    workers: usize,
    deadline: Instant,
    progress: &Progress,
    work: impl Fn(&J, Instant) -> R + Sync,
    too_late: impl Fn(&J) -> R + Sync,
) -> Vec<R> {
    let claims = Claims::new(jobs.len(), 1);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers.clamp(1, jobs.len().max(1)) {
            s.spawn(|| {
                while let Some(range) = claims.next() {
                    for i in range {
                        let r = if Instant::now() >= deadline {
                            too_late(&jobs[i])
                        } else {
                            work(&jobs[i], deadline)
                        };
                        lock(&results)[i] = Some(r);
                        progress.add(1, 0);
                    }
                }
            });
        }
    });
    // A worker that panicked leaves its slot empty: that job was not answered in time either.
    into_inner(results)
        .into_iter()
        .zip(jobs)
        .map(|(r, j)| r.unwrap_or_else(|| too_late(j)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn never_more_than_workers_at_once_and_results_in_order() {
        let now = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let jobs: Vec<usize> = (0..40).collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        let out = Progress::run(false, |p| {
            run(
                &jobs,
                4,
                deadline,
                p,
                |j, _| {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(2));
                    now.fetch_sub(1, Ordering::SeqCst);
                    j * 2
                },
                |_| usize::MAX,
            )
        });
        assert_eq!(out, jobs.iter().map(|j| j * 2).collect::<Vec<_>>());
        assert!(peak.load(Ordering::SeqCst) <= 4);
        assert!(peak.load(Ordering::SeqCst) >= 2, "no parallelism at all");
    }

    #[test]
    fn nothing_starts_after_the_deadline() {
        let jobs = [1, 2, 3];
        let out = Progress::run(false, |p| {
            run(&jobs, 4, Instant::now(), p, |_, _| "asked", |_| "too late")
        });
        assert_eq!(out, ["too late"; 3]);
    }
}
