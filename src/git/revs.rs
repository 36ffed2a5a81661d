//! Which commits a history scan covers, and in what order: revisions and ranges as `git log`
//! takes them, every ref by default, and a topological walk of what they reach. Also which
//! annotated tags the scan covers, since their messages are part of the repository too.

use super::errors::{cause, object_error, ObjectErrors};
use super::odb::reader::Reader;
use crate::diagnostics::Diagnostics;
use crate::error::Error;
use crate::paths::canonical;
use crate::util::fasthash::FxMap;
use git2::{ErrorCode, ObjectType, Oid, Repository, Sort};
use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashSet};
use std::path::PathBuf;

/// What the user asked for.
pub struct Request<'a> {
    /// Revisions and ranges, as `git log` takes them.
    pub revs: &'a [String],
    /// Hide this commit and its ancestors.
    pub since_commit: Option<&'a str>,
    /// Hide everything any ref reaches (`--not --all`): what a push brings that the repository
    /// does not have yet.
    pub not_all: bool,
}

/// What the scan covers.
pub struct Selected {
    /// Commits, parents before children (ties broken by commit date, oldest first). A commit's
    /// position in this list is its age: the lower, the older.
    pub commits: Vec<Oid>,
    /// Annotated tags whose messages are scanned: those the refs name when every ref is scanned,
    /// else those named as revisions; with `not_all`, none that a ref already names.
    pub tags: Vec<Oid>,
    /// The commits the walk started from (the positive revisions, or every ref's).
    pub tips: Vec<Oid>,
}

/// The commits and tags to scan.
pub fn select(
    repo: &Repository,
    reader: &mut Reader<'_>,
    req: &Request<'_>,
    diag: &Diagnostics,
    errors: &ObjectErrors<'_>,
) -> Result<Selected, Error> {
    let mut sel = Selection::default();
    for rev in req.revs {
        add_rev(repo, &mut sel, rev, req.not_all, diag)?;
    }
    if let Some(since) = req.since_commit {
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
    if sel.push.is_empty() && sel.tags.is_empty() && !req.not_all {
        // No positive revision (none at all, or only `^X`): everything the refs reach.
        let every = every_ref(repo, diag);
        sel.push = every.commits;
        sel.tags = every.tags;
    } else if req.not_all {
        let every = every_ref(repo, diag);
        sel.hide.extend(every.commits);
        let known: HashSet<Oid> = every.tags.into_iter().collect();
        sel.tags.retain(|t| !known.contains(t));
    }
    sel.tags.sort();
    sel.tags.dedup();
    let tags = sel.tags;
    let tips = sel.push.clone();
    if sel.push.is_empty() {
        return Ok(Selected {
            commits: Vec::new(),
            tags,
            tips,
        });
    }
    if sel.hide.is_empty() {
        return Ok(Selected {
            commits: walk_all(reader, &sel.push, errors),
            tags,
            tips,
        });
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
    Ok(Selected {
        commits,
        tags,
        tips,
    })
}

#[derive(Default)]
struct Selection {
    push: Vec<Oid>,
    hide: Vec<Oid>,
    tags: Vec<Oid>,
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
/// `incoming`: the revisions are what a push brings (`pre-receive`), where a ref may name a tree
/// or a blob (`git tag t HEAD^{tree}`): that is a note, not a refused push.
fn add_rev(
    repo: &Repository,
    sel: &mut Selection,
    rev: &str,
    incoming: bool,
    diag: &Diagnostics,
) -> Result<(), Error> {
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
    let obj = repo
        .revparse_single(rev)
        .map_err(|_| unknown("revision", rev))?;
    let tags_before = sel.tags.len();
    match peel_tags(obj.clone(), &mut sel.tags) {
        Some(commit) => sel.push.push(commit),
        // A tag of a tree or blob has no commits behind it; its message is still scanned.
        None if sel.tags.len() > tags_before => {}
        None if incoming && matches!(obj.kind(), Some(ObjectType::Tree | ObjectType::Blob)) => {
            diag.note(
                rev,
                "a ref of this push names a tree or blob, not a commit: it has no history, and its content is not scanned",
            );
        }
        None => return Err(unknown("revision", rev)),
    }
    Ok(())
}

/// Follows tags (tags of tags, each one recorded in `tags`: a tag names its own message too) to
/// what they point at, and that to its commit if it is or names one.
fn peel_tags(mut obj: git2::Object<'_>, tags: &mut Vec<Oid>) -> Option<Oid> {
    while let Some(tag) = obj.as_tag() {
        tags.push(tag.id());
        match tag.target() {
            Ok(next) => obj = next,
            // The message is still scanned; where the tag points is named by the tag scan.
            Err(_) => return None,
        }
    }
    obj.peel(ObjectType::Commit).ok().map(|c| c.id())
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

/// What every ref reaches.
pub(crate) struct EveryRef {
    pub(crate) commits: Vec<Oid>,
    /// Annotated tags the refs name (and the tags those name).
    pub(crate) tags: Vec<Oid>,
}

/// Branches, tags, remote-tracking refs, notes, the stash and every stash entry in its reflog, and
/// the HEAD of every worktree (a detached HEAD may be the only way to a commit), as `git log --all`
/// takes them. Refs that name something other than a commit (a tag of a blob) have no history.
///
/// Nothing here may write: libgit2's reflog reader creates a missing reflog file, so the stash's
/// reflog is read directly.
pub(crate) fn every_ref(repo: &Repository, diag: &Diagnostics) -> EveryRef {
    let mut every = EveryRef {
        commits: Vec::new(),
        tags: Vec::new(),
    };
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
                add_tip(repo, &mut every, target, &format!("ref {name}"), diag);
            }
        }
        Err(e) => diag.error(&Error::input("refs", e.message())),
    }
    match repo.head() {
        // A branch's tip is already among the refs (and named there if it is unreadable).
        Ok(head) if head.is_branch() => {}
        Ok(head) => every.commits.extend(head.target()),
        // No commit yet (or a branch not yet made): nothing of HEAD's to scan.
        Err(e) if e.code() == ErrorCode::UnbornBranch => {}
        // A detached HEAD may be the only way to a commit: not reading it is a partial scan.
        Err(e) => diag.error(&Error::input("HEAD", cause(&e))),
    }
    for (file, head) in other_worktree_heads(repo, diag) {
        add_tip(
            repo,
            &mut every,
            head,
            &format!("{} (a worktree's HEAD)", file.display()),
            diag,
        );
    }
    every.commits.extend(stash_entries(repo, diag));
    every
}

/// A ref's object: the commit it reaches, and the tags on the way there.
fn add_tip(
    repo: &Repository,
    every: &mut EveryRef,
    target: Oid,
    named_by: &str,
    diag: &Diagnostics,
) {
    let obj = match repo.find_object(target, None) {
        Ok(obj) => obj,
        Err(e) => {
            return diag.error(&Error::input(
                target.to_string(),
                format!("{}; {named_by} points to it", cause(&e)),
            ))
        }
    };
    every.commits.extend(peel_tags(obj, &mut every.tags));
}

/// Detached HEADs of the other worktrees (the main one seen from a linked one, and every linked
/// one), each with the file it was read from. A HEAD naming a branch adds nothing the refs lack.
fn other_worktree_heads(repo: &Repository, diag: &Diagnostics) -> Vec<(PathBuf, Oid)> {
    let common = repo.commondir();
    let mut files = vec![common.join("HEAD")];
    if let Ok(entries) = std::fs::read_dir(common.join("worktrees")) {
        let mut linked: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path().join("HEAD")))
            .collect();
        linked.sort();
        files.extend(linked);
    }
    let own = canonical(&repo.path().join("HEAD"));
    let mut out = Vec::new();
    for file in files {
        if canonical(&file) == own {
            continue;
        }
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                diag.error(&Error::io(file.display().to_string(), &e));
                continue;
            }
        };
        let line = text.trim();
        if line.starts_with("ref:") {
            continue;
        }
        match Oid::from_str(line) {
            Ok(id) if line.len() == 40 => out.push((file, id)),
            _ => diag.error(&Error::input(
                file.display().to_string(),
                "not a commit id or a symbolic ref; this worktree's HEAD is not scanned",
            )),
        }
    }
    out
}

/// The commits `git stash list` shows: the new side of every line of the stash's reflog
/// (`<old> <new> <who> <when>\t<message>`), which is shared by every worktree.
fn stash_entries(repo: &Repository, diag: &Diagnostics) -> Vec<Oid> {
    let file = repo.commondir().join("logs/refs/stash");
    let text = match std::fs::read(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            diag.error(&Error::io(file.display().to_string(), &e));
            return Vec::new();
        }
    };
    text.split(|&b| b == b'\n')
        .filter_map(|line| line.split(|&b| b == b' ').nth(1))
        .filter_map(|id| std::str::from_utf8(id).ok())
        .filter_map(|id| Oid::from_str(id).ok())
        .filter(|id| !id.is_zero())
        .collect()
}
