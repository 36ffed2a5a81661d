//! Which commits a history scan covers, in what order, and what can be said about them: revisions
//! and ranges as `git log` takes them, every ref by default, shallow-clone boundaries, and the
//! author and RFC 3339 date a finding shows.

use super::fasthash::FxMap;
use super::git::ObjectErrors;
use super::objects::Reader;
use crate::diagnostics::Diagnostics;
use crate::error::Error;
use git2::{ErrorCode, ObjectType, Oid, Repository, Sort};
use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::BinaryHeap;
use std::path::Path;

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
fn every_ref(repo: &Repository, diag: &Diagnostics) -> Vec<Oid> {
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

/// A git error as `<object id>: <cause>` when libgit2 names the object, else `<what>: <cause>`.
pub fn object_error(e: &git2::Error, what: &str) -> Error {
    let msg = e.message();
    match find_oid(msg) {
        Some(oid) => Error::input(oid, cause(e)),
        None => Error::input(what, cause(e)),
    }
}

/// libgit2's message without the object id it names (the id goes first in our lines).
pub fn cause(e: &git2::Error) -> String {
    let msg = e.message();
    let base = match e.code() {
        git2::ErrorCode::NotFound
            if msg.contains("object not found") || msg.contains("no match for id") =>
        {
            "object not found (missing from the object database)".to_string()
        }
        _ => match find_oid(msg) {
            Some(oid) => msg
                .replace(&format!("({oid})"), "")
                .replace(&oid, "")
                .trim()
                .to_string(),
            None => msg.to_string(),
        },
    };
    base.trim_end_matches([' ', '-', ':']).to_string()
}

fn find_oid(msg: &str) -> Option<String> {
    let b = msg.as_bytes();
    let mut run = 0;
    for (i, c) in b.iter().enumerate() {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run += 1;
            if run == 40 && b.get(i + 1).is_none_or(|n| !n.is_ascii_hexdigit()) {
                return Some(msg[i + 1 - 40..=i].to_string());
            }
        } else {
            run = 0;
        }
    }
    None
}

/// The commits a shallow clone was cut at (its history before them is missing), if it is one.
pub fn shallow_boundary(repo: &Repository) -> Option<Vec<String>> {
    if !repo.is_shallow() {
        return None;
    }
    let text = std::fs::read_to_string(repo.commondir().join("shallow")).unwrap_or_default();
    Some(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// `Name <email>` and the author date in RFC 3339, for a finding's commit.
pub fn author_and_date(repo: &Repository, oid: Oid) -> (String, String) {
    match repo.find_commit(oid) {
        Ok(c) => {
            let a = c.author();
            let name = String::from_utf8_lossy(a.name_bytes()).into_owned();
            let email = String::from_utf8_lossy(a.email_bytes()).into_owned();
            let t = a.when();
            (
                format!("{name} <{email}>"),
                rfc3339(t.seconds(), t.offset_minutes()),
            )
        }
        Err(_) => (String::new(), String::new()),
    }
}

/// `2024-01-02T03:04:05+01:00` (or `Z` at UTC), the date as its author's clock showed it.
pub fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let local = seconds + i64::from(offset_minutes) * 60;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let zone = if offset_minutes == 0 {
        "Z".to_string()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let off = offset_minutes.unsigned_abs();
        format!("{sign}{:02}:{:02}", off / 60, off % 60)
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{zone}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The repository's root as users name it: the work tree, or the git directory of a bare one.
pub fn display_root(repo: &Repository) -> String {
    let p: &Path = repo.workdir().unwrap_or_else(|| repo.path());
    let s = p.display().to_string();
    match s.strip_suffix('/') {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_rfc3339() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_704_164_645, 0), "2024-01-02T03:04:05Z");
        assert_eq!(rfc3339(1_704_164_645, 90), "2024-01-02T04:34:05+01:30");
        assert_eq!(rfc3339(1_704_164_645, -300), "2024-01-01T22:04:05-05:00");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn object_ids_are_found_in_messages() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            find_oid(&format!("object not found - no match for id ({id})")),
            Some(id.into())
        );
        assert_eq!(find_oid("nothing here"), None);
        assert_eq!(find_oid(&format!("{id}0")), None);
    }
}
