//! Reads each blob once and scans it, in parallel: the list arrives in pack order and is handed out
//! in small contiguous runs, so each thread still reads mostly in pack order. One `Repository` per
//! thread, since `git2::Repository` is not `Sync`.

use super::git::{self, ObjectErrors};
use super::progress::Progress;
use super::Stats;
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::rules::Place;
use crate::scanner::{Origin, Scanner};
use git2::{ObjectType, Oid};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Findings of one blob, before anyone knows its path or commit (`path` is empty).
pub struct BlobFindings {
    pub blob: Oid,
    pub findings: Vec<Finding>,
}

#[derive(Default)]
pub struct Scanned {
    pub with_findings: Vec<BlobFindings>,
    pub stats: Stats,
    /// Git LFS pointers: the file's content lives on an LFS server, not in git.
    pub lfs_pointers: Vec<Oid>,
}

/// Run of blobs one thread takes at a time: long enough to keep a delta next to its base, short
/// enough that both threads finish together.
const CHUNK: usize = 32;

pub fn scan(
    git_dir: &Path,
    blobs: &[Oid],
    pool: &rayon::ThreadPool,
    matcher: &Matcher,
    errors: &ObjectErrors,
    progress: &Progress,
) -> Scanned {
    let next = AtomicUsize::new(0);
    let parts = pool.broadcast(|_| {
        let mut out = Scanned::default();
        let repo = match git::open(git_dir) {
            Ok(r) => r,
            Err(e) => {
                errors.report_git("repository", &e);
                return out;
            }
        };
        let odb = match repo.odb() {
            Ok(o) => o,
            Err(e) => {
                errors.report_git("object database", &e);
                return out;
            }
        };
        let mut scanner = Scanner::new(matcher, 0);
        let mut found = Vec::new();
        loop {
            let start = next.fetch_add(1, Ordering::Relaxed) * CHUNK;
            if start >= blobs.len() {
                break;
            }
            let end = (start + CHUNK).min(blobs.len());
            let mut bytes = 0;
            for &oid in &blobs[start..end] {
                let obj = match odb.read(oid) {
                    Ok(o) => o,
                    Err(e) => {
                        errors.report(oid, &e);
                        continue;
                    }
                };
                if obj.kind() != ObjectType::Blob {
                    continue;
                }
                let data = obj.data();
                out.stats.files += 1;
                out.stats.bytes += data.len() as u64;
                bytes += data.len() as u64;
                if is_lfs_pointer(data) {
                    out.lfs_pointers.push(oid);
                    continue;
                }
                let origin = Origin {
                    path: "",
                    place: Place::History,
                };
                scanner.scan_bytes(data, origin, &mut found);
                if !found.is_empty() {
                    out.with_findings.push(BlobFindings {
                        blob: oid,
                        findings: std::mem::take(&mut found),
                    });
                }
            }
            progress.add((end - start) as u64, bytes);
        }
        out
    });
    let mut all = Scanned::default();
    for p in parts {
        all.with_findings.extend(p.with_findings);
        all.stats.files += p.stats.files;
        all.stats.bytes += p.stats.bytes;
        all.lfs_pointers.extend(p.lfs_pointers);
    }
    all.lfs_pointers.sort();
    all
}

/// Reads and scans one blob on the calling thread (the few extra blobs attribution needs).
pub fn scan_one(repo: &git2::Repository, oid: Oid, matcher: &Matcher) -> Option<Vec<Finding>> {
    let odb = repo.odb().ok()?;
    let obj = odb.read(oid).ok()?;
    let mut found = Vec::new();
    let origin = Origin {
        path: "",
        place: Place::History,
    };
    Scanner::new(matcher, 0).scan_bytes(obj.data(), origin, &mut found);
    Some(found)
}

/// The pointer file Git LFS commits in place of the content (the spec caps it at 1024 bytes).
pub fn is_lfs_pointer(data: &[u8]) -> bool {
    data.len() < 1024 && data.starts_with(b"version https://git-lfs.github.com/spec/v1\n")
}
