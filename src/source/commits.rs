//! Which commits a history scan covers, in what order, and what can be said about them: revisions
//! and ranges as `git log` takes them, every ref by default, shallow-clone boundaries, and the
//! author and RFC 3339 date a finding shows.

use crate::diagnostics::Diagnostics;
use crate::error::Error;
use git2::{ObjectType, Oid, Repository, Revwalk, Sort};
use std::path::Path;

/// The commits to scan, parents before children (ties broken by date, oldest first). A commit's
/// position in this list is its age: the lower, the older.
pub fn select(
    repo: &Repository,
    revs: &[String],
    since_commit: Option<&str>,
    diag: &Diagnostics,
) -> Result<Vec<Oid>, Error> {
    let mut walk = repo
        .revwalk()
        .map_err(|e| Error::Usage(format!("history: {}", e.message())))?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME | Sort::REVERSE)
        .map_err(|e| Error::Usage(format!("history: {}", e.message())))?;
    let mut positive = false;
    for rev in revs {
        positive |= add_rev(repo, &mut walk, rev)?;
    }
    if let Some(since) = since_commit {
        let oid = resolve(repo, since).ok_or_else(|| unknown("--since-commit", since))?;
        hide(&mut walk, oid, since)?;
        if !positive {
            // "What came after SHA" is about the checked-out line, not every branch.
            match repo.head().ok().and_then(|h| h.peel_to_commit().ok()) {
                Some(head) => push(&mut walk, head.id(), "HEAD")?,
                None => {
                    return Err(Error::Usage(
                        "--since-commit: HEAD does not name a commit".into(),
                    ))
                }
            }
            positive = true;
        }
    }
    if !positive {
        // No positive revision (none at all, or only `^X`): everything the refs reach.
        push_every_ref(repo, &mut walk, diag);
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

/// One command-line revision; returns whether it added commits (as opposed to hiding them).
fn add_rev(repo: &Repository, walk: &mut Revwalk<'_>, rev: &str) -> Result<bool, Error> {
    if let Some(hidden) = rev.strip_prefix('^') {
        let oid = resolve(repo, hidden).ok_or_else(|| unknown("revision", rev))?;
        hide(walk, oid, rev)?;
        return Ok(false);
    }
    if let Some((left, right)) = rev.split_once("...") {
        let a = resolve(repo, or_head(left)).ok_or_else(|| unknown("range", rev))?;
        let b = resolve(repo, or_head(right)).ok_or_else(|| unknown("range", rev))?;
        push(walk, a, rev)?;
        push(walk, b, rev)?;
        if let Ok(bases) = repo.merge_bases(a, b) {
            for base in bases.iter() {
                hide(walk, *base, rev)?;
            }
        }
        return Ok(true);
    }
    if let Some((left, right)) = rev.split_once("..") {
        let a = resolve(repo, or_head(left)).ok_or_else(|| unknown("range", rev))?;
        let b = resolve(repo, or_head(right)).ok_or_else(|| unknown("range", rev))?;
        hide(walk, a, rev)?;
        push(walk, b, rev)?;
        return Ok(true);
    }
    let oid = resolve(repo, rev).ok_or_else(|| unknown("revision", rev))?;
    push(walk, oid, rev)?;
    Ok(true)
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

fn push(walk: &mut Revwalk<'_>, oid: Oid, what: &str) -> Result<(), Error> {
    walk.push(oid).map_err(|e| object_error(&e, what))
}

fn hide(walk: &mut Revwalk<'_>, oid: Oid, what: &str) -> Result<(), Error> {
    walk.hide(oid).map_err(|e| object_error(&e, what))
}

/// Branches, tags, remote-tracking refs, notes, the stash and every stash entry in its reflog, and a
/// detached HEAD. Refs that name something other than a commit (a tag of a blob) have no history.
fn push_every_ref(repo: &Repository, walk: &mut Revwalk<'_>, diag: &Diagnostics) {
    let refs = match repo.references() {
        Ok(r) => r,
        Err(e) => {
            diag.error(&Error::input("refs", e.message()));
            return;
        }
    };
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
            Ok(obj) => {
                if let Ok(commit) = obj.peel(ObjectType::Commit) {
                    if let Err(e) = walk.push(commit.id()) {
                        diag.error(&object_error(&e, &name));
                    }
                }
            }
            Err(e) => diag.error(&Error::input(
                target.to_string(),
                format!("{} (ref {name})", cause(&e)),
            )),
        }
    }
    if let Ok(head) = repo.head() {
        if let Some(oid) = head.target() {
            let _ = walk.push(oid);
        }
    }
    if let Ok(log) = repo.reflog("refs/stash") {
        for entry in log.iter() {
            if let Err(e) = walk.push(entry.id_new()) {
                diag.error(&object_error(&e, "refs/stash"));
            }
        }
    }
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
    let text = std::fs::read_to_string(repo.path().join("shallow")).unwrap_or_default();
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
