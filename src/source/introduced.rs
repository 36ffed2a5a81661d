//! What each commit introduced: the (blob, path) pairs its tree holds that none of its parents holds
//! at the same path. Commits are independent of each other here, so they are diffed in parallel,
//! one `Repository` per thread (`git2::Repository` is not `Sync`).
//!
//! A merge introduces only what differs from every parent (a conflict resolution, an evil merge),
//! so a key added on a branch is credited to the branch commit, not to the merge.

use super::git::{self, ObjectErrors};
use super::progress::Progress;
use git2::{ObjectType, Oid, Repository, Tree};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One blob at one path, and the oldest selected commit that introduced it there.
#[derive(Debug, Clone)]
pub struct Introduced {
    pub blob: Oid,
    pub path: String,
    /// Position in the selected commits (lower is older).
    pub commit: u32,
    /// The blobs that commit's parents held at the same path: what the commit changed.
    pub before: Vec<Oid>,
}

pub struct Walked {
    /// At most one record per (blob, path): the oldest.
    pub records: Vec<Introduced>,
    /// Paths of submodules (gitlinks) seen; their content is another repository's history.
    pub submodules: BTreeSet<String>,
}

const CHUNK: usize = 16;

pub fn walk(
    git_dir: &Path,
    commits: &[Oid],
    pool: &rayon::ThreadPool,
    errors: &ObjectErrors,
    progress: &Progress,
) -> Walked {
    let next = AtomicUsize::new(0);
    let parts = pool.broadcast(|_| {
        let mut out = Part::default();
        let repo = match git::open(git_dir) {
            Ok(r) => r,
            Err(e) => {
                errors.report_git("repository", &e);
                return out;
            }
        };
        loop {
            let start = next.fetch_add(1, Ordering::Relaxed) * CHUNK;
            if start >= commits.len() {
                break;
            }
            let end = (start + CHUNK).min(commits.len());
            for (i, oid) in commits[start..end].iter().enumerate() {
                diff_commit(&repo, *oid, (start + i) as u32, errors, &mut out);
            }
            progress.add((end - start) as u64, 0);
        }
        out
    });
    merge(parts)
}

#[derive(Default)]
struct Part {
    records: Vec<Introduced>,
    submodules: BTreeSet<String>,
}

fn merge(parts: Vec<Part>) -> Walked {
    let mut oldest: HashMap<(Oid, String), Introduced> = HashMap::new();
    let mut submodules = BTreeSet::new();
    for part in parts {
        submodules.extend(part.submodules);
        for r in part.records {
            match oldest.entry((r.blob, r.path.clone())) {
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    if r.commit < e.get().commit {
                        e.insert(r);
                    }
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(r);
                }
            }
        }
    }
    Walked {
        records: oldest.into_values().collect(),
        submodules,
    }
}

fn diff_commit(repo: &Repository, oid: Oid, index: u32, errors: &ObjectErrors, out: &mut Part) {
    let commit = match repo.find_commit(oid) {
        Ok(c) => c,
        Err(e) => return errors.report(oid, &e),
    };
    let tree = match repo.find_tree(commit.tree_id()) {
        Ok(t) => t,
        Err(e) => return errors.report(commit.tree_id(), &e),
    };
    let mut parents = Vec::with_capacity(commit.parent_count());
    // Parent ids come from the commit as grafted: a shallow clone's boundary commit has none.
    for pid in commit.parent_ids() {
        match repo.find_commit(pid) {
            Ok(p) => match repo.find_tree(p.tree_id()) {
                Ok(t) => parents.push(t),
                Err(e) => errors.report(p.tree_id(), &e),
            },
            Err(e) => errors.report(pid, &e),
        }
    }
    let mut path = Vec::new();
    diff_tree(repo, &tree, &parents, &mut path, index, errors, out);
}

#[allow(clippy::too_many_arguments)]
fn diff_tree(
    repo: &Repository,
    tree: &Tree<'_>,
    parents: &[Tree<'_>],
    path: &mut Vec<u8>,
    index: u32,
    errors: &ObjectErrors,
    out: &mut Part,
) {
    for entry in tree.iter() {
        let name = entry.name_bytes();
        let id = entry.id();
        let kind = entry.kind();
        let mut unchanged = false;
        let mut sub_parents = Vec::new();
        let mut before = Vec::new();
        for p in parents {
            let Some(pe) = p.get_name_bytes(name) else {
                continue;
            };
            if pe.id() == id {
                unchanged = true;
                break;
            }
            match (kind, pe.kind()) {
                (Some(ObjectType::Tree), Some(ObjectType::Tree)) => match repo.find_tree(pe.id()) {
                    Ok(t) => sub_parents.push(t),
                    Err(e) => errors.report(pe.id(), &e),
                },
                (Some(ObjectType::Blob), Some(ObjectType::Blob)) => before.push(pe.id()),
                _ => {}
            }
        }
        if unchanged {
            continue;
        }
        let len = path.len();
        if len > 0 {
            path.push(b'/');
        }
        path.extend_from_slice(name);
        match kind {
            Some(ObjectType::Tree) => match repo.find_tree(id) {
                Ok(sub) => diff_tree(repo, &sub, &sub_parents, path, index, errors, out),
                Err(e) => errors.report(id, &e),
            },
            Some(ObjectType::Blob) => out.records.push(Introduced {
                blob: id,
                path: String::from_utf8_lossy(path).into_owned(),
                commit: index,
                before,
            }),
            Some(ObjectType::Commit) => {
                out.submodules
                    .insert(String::from_utf8_lossy(path).into_owned());
            }
            _ => {}
        }
        path.truncate(len);
    }
}
