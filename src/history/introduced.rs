//! What each commit introduced: the (blob, path) pairs its tree holds that none of its parents holds
//! at the same path. Commits are independent of each other here, so they are diffed in parallel,
//! one object reader per thread.
//!
//! A merge introduces only what differs from every parent (a conflict resolution, an evil merge),
//! so a key added on a branch is credited to the branch commit, not to the merge.
//!
//! Each selected commit's message is scanned here too: the walk reads the commit anyway, so a
//! message costs one pass of the matcher over bytes already in memory.

use crate::engine::matcher::Matcher;
use crate::engine::scanner::{Origin, Scanner};
use crate::finding::Finding;
use crate::git::errors::ObjectErrors;
use crate::git::object::Entries;
use crate::git::odb::fallbacks::Fallbacks;
use crate::git::odb::packs::Packs;
use crate::git::odb::reader::Reader;
use crate::git::repo;
use crate::report::progress::Progress;
use crate::rules::Place;
use crate::util::sync::Claims;
use git2::Oid;
use std::cmp::Ordering as Ordering_;
use std::collections::{BTreeSet, HashSet};
use std::rc::Rc;

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
    /// Keys in commit messages, by position in the selected commits.
    pub messages: Vec<(u32, Vec<Finding>)>,
    /// What limits left unread in commit messages: (commit, chain, why).
    pub message_notes: Vec<(Oid, String, String)>,
}

const CHUNK: usize = 16;

pub struct Context<'a> {
    pub packs: &'a Packs,
    pub fallbacks: &'a Fallbacks,
    pub grafted: &'a HashSet<Oid>,
    pub pool: &'a rayon::ThreadPool,
    pub errors: &'a ObjectErrors<'a>,
    pub progress: &'a Progress,
    /// Scans each commit's message when set.
    pub messages: Option<&'a Matcher>,
}

pub fn walk(commits: &[Oid], cx: &Context<'_>) -> Walked {
    let Context {
        packs,
        fallbacks,
        grafted,
        pool,
        errors,
        progress,
        messages,
    } = *cx;
    let claims = Claims::new(commits.len(), CHUNK);
    let parts = pool.broadcast(|_| {
        let mut out = Part::default();
        let repo = match repo::open_worker() {
            Ok(r) => r,
            Err(e) => {
                errors.report_git("repository", &e);
                return out;
            }
        };
        let mut w = Walker {
            reader: Reader::new(packs, fallbacks, repo, grafted),
            errors,
            out: &mut out,
            path: Vec::new(),
            scanner: messages.map(|m| Scanner::new(m, 0)),
        };
        while let Some(run) = claims.next() {
            for i in run.clone() {
                w.commit(commits[i], i as u32);
            }
            progress.add(run.len() as u64, 0);
        }
        out
    });
    merge(parts)
}

#[derive(Default)]
struct Part {
    records: Vec<Introduced>,
    submodules: BTreeSet<String>,
    messages: Vec<(u32, Vec<Finding>)>,
    message_notes: Vec<(Oid, String, String)>,
}

/// Keeps the oldest record of each (blob, path): sorted in place, no map beside it.
fn merge(parts: Vec<Part>) -> Walked {
    let mut records = Vec::with_capacity(parts.iter().map(|p| p.records.len()).sum());
    let mut submodules = BTreeSet::new();
    let mut messages = Vec::new();
    let mut message_notes = Vec::new();
    for part in parts {
        submodules.extend(part.submodules);
        records.extend(part.records);
        messages.extend(part.messages);
        message_notes.extend(part.message_notes);
    }
    records.sort_unstable_by(|a, b| (a.blob, &a.path, a.commit).cmp(&(b.blob, &b.path, b.commit)));
    records.dedup_by(|later, first| later.blob == first.blob && later.path == first.path);
    records.shrink_to_fit();
    Walked {
        records,
        submodules,
        messages,
        message_notes,
    }
}

struct Walker<'a, 'p, 'm> {
    reader: Reader<'p>,
    errors: &'a ObjectErrors<'a>,
    out: &'a mut Part,
    path: Vec<u8>,
    scanner: Option<Scanner<'m>>,
}

impl Walker<'_, '_, '_> {
    fn commit(&mut self, oid: Oid, index: u32) {
        let (links, bytes) = match self.reader.commit_and_bytes(oid) {
            Ok(l) => l,
            Err(cause) => return self.errors.report_cause(oid, &cause),
        };
        if let Some(scanner) = &mut self.scanner {
            let mut found = Vec::new();
            let origin = Origin {
                path: "",
                place: Place::CommitMessage,
            };
            let notes = scanner.scan_bytes(&bytes[links.message_at..], origin, &mut found);
            for (chain, why) in notes {
                self.out.message_notes.push((oid, chain, why));
            }
            if !found.is_empty() {
                self.out.messages.push((index, found));
            }
        }
        let Some(tree) = self.tree(links.tree) else {
            return;
        };
        let mut parents = Vec::with_capacity(links.parents.len());
        for pid in links.parents {
            match self.reader.commit(pid) {
                Ok(p) => parents.extend(self.tree(p.tree)),
                Err(cause) => self.errors.report_cause(pid, &cause),
            }
        }
        self.path.clear();
        self.diff(links.tree, &tree, &parents, index);
    }

    fn tree(&mut self, oid: Oid) -> Option<Rc<Vec<u8>>> {
        match self.reader.tree(oid) {
            Ok(t) => Some(t),
            Err(cause) => {
                self.errors.report_cause(oid, &cause);
                None
            }
        }
    }

    /// Records what `tree` holds that no parent tree holds at the same path.
    fn diff(&mut self, id: Oid, tree: &[u8], parents: &[Rc<Vec<u8>>], index: u32) {
        let mut cursors: Vec<Entries<'_>> = parents.iter().map(|p| Entries::new(p)).collect();
        let mut entries = Entries::new(tree);
        for entry in entries.by_ref() {
            let mut unchanged = false;
            let mut sub_parents = Vec::new();
            let mut before = Vec::new();
            for cursor in cursors.iter_mut() {
                while cursor
                    .peek()
                    .is_some_and(|pe| pe.cmp_order(&entry) == Ordering_::Less)
                {
                    cursor.next();
                }
                let Some(pe) = cursor.peek() else { continue };
                if pe.cmp_order(&entry) != Ordering_::Equal {
                    continue;
                }
                if pe.id == entry.id {
                    unchanged = true;
                    break;
                }
                if entry.is_tree() {
                    sub_parents.push(pe.oid());
                } else if !pe.is_gitlink() {
                    before.push(pe.oid());
                }
            }
            if unchanged {
                continue;
            }
            let len = self.path.len();
            if len > 0 {
                self.path.push(b'/');
            }
            self.path.extend_from_slice(entry.name);
            if entry.is_tree() {
                let sub_id = entry.oid();
                if let Some(sub) = self.tree(sub_id) {
                    let subs: Vec<Rc<Vec<u8>>> = sub_parents
                        .into_iter()
                        .filter_map(|p| self.tree(p))
                        .collect();
                    self.diff(sub_id, &sub, &subs, index);
                }
            } else if entry.is_gitlink() {
                self.out
                    .submodules
                    .insert(String::from_utf8_lossy(&self.path).into_owned());
            } else {
                self.out.records.push(Introduced {
                    blob: entry.oid(),
                    path: String::from_utf8_lossy(&self.path).into_owned(),
                    commit: index,
                    before,
                });
            }
            self.path.truncate(len);
        }
        if entries.damaged {
            self.errors
                .report_cause(id, "damaged tree: an entry cannot be parsed");
        }
    }
}
