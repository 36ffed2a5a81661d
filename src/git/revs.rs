//! Which commits a history scan covers, and in what order: revisions and ranges as `git log`
//! takes them, every ref by default, and a topological walk of what they reach.

use super::errors::{cause, object_error, ObjectErrors};
use super::odb::reader::Reader;
use crate::diagnostics::Diagnostics;
use crate::error::Error;
use crate::util::fasthash::FxMap;
use git2::{ErrorCode, ObjectType, Oid, Repository, Sort};
use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::BinaryHeap;

/// The commits to scan, parents before children (ties broken by commit date, oldest first). A
/// commit's position in this list is its age: the lower, the older.
pub fn select(
    repo: &Repository,
    reader: &mut Reader<'_>,
    revs: &[String],
    since_commit: Option<&str>,
    diag: &Diagnostics,
    errors: &ObjectErrors<'_>,
) -> Result<Vec<Oid>, Error> {
    let mut sel = Selection::default();
    for rev in revs {
        add_rev(repo, &mut sel, rev)?;
    }
    if let Some(since) = since_commit {
        let oid = resolve(repo, since).ok_or_else(|| unknown("--since-commit", since))?;
        sel.hide.push(oid);
        if sel.push.is_empty() {
            // "What came after SHA" is about the checked-out line, not every branch.
            match repo.head().ok().and_then(|h| h.peel_to_commit().ok()) {
                Some(head) => sel.push.push(head.id()),
                None => {
                    return Err(Error::Usage(
                        "--since-commit: HEAD does not name a commit".into(),
                    ))
                }
            }
        }
    }
    if sel.push.is_empty() {
        // No positive revision (none at all, or only `^X`): everything the refs reach.
        sel.push = every_ref(repo, diag);
    }
    if sel.hide.is_empty() {
        return Ok(walk_all(reader, &sel.push, errors));
    }
    // Ranges: libgit2 stops walking the hidden side as soon as dates allow, where a plain walk
    // would read the whole history behind the range.
    let fail = |e: git2::Error| Error::Usage(format!("history: {}", e.message()));
    let mut walk = repo.revwalk().map_err(fail)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME | Sort::REVERSE)
        .map_err(fail)?;
    for oid in &sel.push {
        walk.push(*oid).map_err(|e| object_error(&e, "revision"))?;
    }
    for oid in &sel.hide {
        walk.hide(*oid).map_err(|e| object_error(&e, "revision"))?;
    }
    let mut commits = Vec::new();
    for step in walk {
        match step {
            Ok(oid) => commits.push(oid),
            Err(e) => {
                // The walk cannot go past a commit it cannot read; what it has is still scanned.
                diag.error(&object_error(&e, "history walk"));
                break;
            }
        }
    }
    Ok(commits)
}

#[derive(Default)]
struct Selection {
    push: Vec<Oid>,
    hide: Vec<Oid>,
}

/// Every commit the tips reach, parents first; among commits that do not depend on each other,
/// the older commit date first. A commit that cannot be read is reported, and its ancestors
/// are reached only through other paths.
fn walk_all(reader: &mut Reader<'_>, tips: &[Oid], errors: &ObjectErrors<'_>) -> Vec<Oid> {
    struct Node {
        id: Oid,
        time: i64,
        children: Vec<u32>,
        waiting_for: u32,
    }
    let mut index: FxMap<Oid, u32> = FxMap::default();
    let mut nodes: Vec<Node> = Vec::new();
    let mut parents_of: Vec<Vec<Oid>> = Vec::new();
    let mut todo: Vec<Oid> = Vec::new();
    // u32::MAX: seen, not read (yet, or ever if it cannot be).
    for &tip in tips {
        if let Entry::Vacant(e) = index.entry(tip) {
            e.insert(u32::MAX);
            todo.push(tip);
        }
    }
    while let Some(id) = todo.pop() {
        let links = match reader.commit(id) {
            Ok(l) => l,
            Err(cause) => {
                errors.report_cause(id, &cause);
                continue;
            }
        };
        let i = nodes.len() as u32;
        index.insert(id, i);
        for p in &links.parents {
            if let Entry::Vacant(e) = index.entry(*p) {
                e.insert(u32::MAX);
                todo.push(*p);
            }
        }
        nodes.push(Node {
            id,
            time: links.time,
            children: Vec::new(),
            waiting_for: 0,
        });
        parents_of.push(links.parents);
    }
    for (i, parents) in parents_of.iter().enumerate() {
        for p in parents {
            if let Some(&pi) = index.get(p).filter(|&&pi| pi != u32::MAX) {
                nodes[pi as usize].children.push(i as u32);
                nodes[i].waiting_for += 1;
            }
        }
    }
    drop(parents_of);
    let mut ready: BinaryHeap<Reverse<(i64, u32)>> = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.waiting_for == 0)
        .map(|(i, n)| Reverse((n.time, i as u32)))
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(Reverse((_, i))) = ready.pop() {
        order.push(nodes[i as usize].id);
        let children = std::mem::take(&mut nodes[i as usize].children);
        for c in children {
            let child = &mut nodes[c as usize];
            child.waiting_for -= 1;
            if child.waiting_for == 0 {
                ready.push(Reverse((child.time, c)));
            }
        }
    }
    order
}

/// One command-line revision, as `git log` reads it.
fn add_rev(repo: &Repository, sel: &mut Selection, rev: &str) -> Result<(), Error> {
    if let Some(hidden) = rev.strip_prefix('^') {
        let oid = resolve(repo, hidden).ok_or_else(|| unknown("revision", rev))?;
        sel.hide.push(oid);
        return Ok(());
    }
    if let Some((left, right)) = rev.split_once("...") {
        let a = resolve(repo, or_head(left)).ok_or_else(|| unknown("range", rev))?;
        let b = resolve(repo, or_head(right)).ok_or_else(|| unknown("range", rev))?;
        sel.push.extend([a, b]);
        if let Ok(bases) = repo.merge_bases(a, b) {
            sel.hide.extend(bases.iter().copied());
        }
        return Ok(());
    }
    if let Some((left, right)) = rev.split_once("..") {
        let a = resolve(repo, or_head(left)).ok_or_else(|| unknown("range", rev))?;
        let b = resolve(repo, or_head(right)).ok_or_else(|| unknown("range", rev))?;
        sel.hide.push(a);
        sel.push.push(b);
        return Ok(());
    }
    let oid = resolve(repo, rev).ok_or_else(|| unknown("revision", rev))?;
    sel.push.push(oid);
    Ok(())
}

fn or_head(side: &str) -> &str {
    if side.is_empty() {
        "HEAD"
    } else {
        side
    }
}

fn unknown(what: &str, rev: &str) -> Error {
    Error::Usage(format!(
        "{what} {rev:?}: unknown revision (not a commit, branch or tag of this repository)"
    ))
}

/// The commit a revision names, peeling tags.
fn resolve(repo: &Repository, rev: &str) -> Option<Oid> {
    if rev.is_empty() {
        return None;
    }
    repo.revparse_single(rev)
        .ok()?
        .peel_to_commit()
        .ok()
        .map(|c| c.id())
}

/// Branches, tags, remote-tracking refs, notes, the stash and every stash entry in its reflog, and a
/// detached HEAD. Refs that name something other than a commit (a tag of a blob) have no history.
pub(crate) fn every_ref(repo: &Repository, diag: &Diagnostics) -> Vec<Oid> {
    let mut tips = Vec::new();
    match repo.references() {
        Ok(refs) => {
            for r in refs {
                let r = match r {
                    Ok(r) => r,
                    Err(e) => {
                        diag.error(&Error::input("refs", e.message()));
                        continue;
                    }
                };
                let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
                let Some(target) = r.resolve().ok().and_then(|r| r.target()) else {
                    diag.error(&Error::input(name, "ref does not resolve to an object"));
                    continue;
                };
                match repo.find_object(target, None) {
                    Ok(obj) => tips.extend(obj.peel(ObjectType::Commit).ok().map(|c| c.id())),
                    Err(e) => diag.error(&Error::input(
                        target.to_string(),
                        format!("{}; ref {name} points to it", cause(&e)),
                    )),
                }
            }
        }
        Err(e) => diag.error(&Error::input("refs", e.message())),
    }
    match repo.head() {
        // A branch's tip is already among the refs (and named there if it is unreadable).
        Ok(head) if head.is_branch() => {}
        Ok(head) => tips.extend(head.target()),
        // No commit yet (or a branch not yet made): nothing of HEAD's to scan.
        Err(e) if e.code() == ErrorCode::UnbornBranch => {}
        // A detached HEAD may be the only way to a commit: not reading it is a partial scan.
        Err(e) => diag.error(&Error::input("HEAD", cause(&e))),
    }
    if let Ok(log) = repo.reflog("refs/stash") {
        tips.extend(log.iter().map(|entry| entry.id_new()));
    }
    tips
}
