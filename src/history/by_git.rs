//! `history` through the installed `git` binary: for repositories libgit2 cannot open (SHA-256,
//! reftable, extensions it refuses), and as a third reader the fast path is tested against
//! (`STRIPE_SCAN_OBJECT_READER=git`). One `git log --raw` lists what each commit introduces
//! (for a merge, what differs from every parent: `-c`), one `git cat-file --batch` reads each
//! distinct blob once, and each key is credited to the oldest commit that introduced it at its
//! path, as the fast path credits it. Commit and annotated tag messages are read whole by
//! further `cat-file --batch` runs.

use super::blobs::is_lfs_pointer;
use super::Options;
use crate::diagnostics::Diagnostics;
use crate::engine::matcher::Matcher;
use crate::engine::scanner::{Origin, Scanner};
use crate::error::Error;
use crate::finding::{CommitInfo, Finding};
use crate::git::cli::{self, Object};
use crate::git::errors::{partial_clone, NOT_FOUND, SHOWN};
use crate::git::meta::rfc3339;
use crate::git::object::message_at;
use crate::outcome::{Outcome, Stats};
use crate::rules::Place;
use crate::secret::Secret;
use std::collections::{HashMap, HashSet};

struct Commit {
    id: String,
    author: String,
    date: String,
}

/// A blob a commit introduced at a path.
struct Introduced {
    commit: usize,
    path: String,
    blob: String,
}

pub(super) fn scan(
    opts: &Options<'_>,
    matcher: &Matcher,
    diag: &Diagnostics,
) -> Result<Outcome, Error> {
    let root = cli::text(&["rev-parse", "--show-toplevel"])
        .or_else(|_| cli::text(&["rev-parse", "--absolute-git-dir"]))
        .map_err(|e| Error::Fatal(format!("history: {e}")))?;
    if let Ok(shallow) = cli::text(&["rev-parse", "--is-shallow-repository"]) {
        if shallow == "true" {
            let file = cli::text(&["rev-parse", "--git-path", "shallow"]).unwrap_or_default();
            let cut: Vec<String> = std::fs::read_to_string(file)
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect();
            diag.error(&super::shallow(&root, &cut));
        }
    }
    let (commits, introduced) = walk(opts)?;
    let mut wanted: Vec<String> = introduced.iter().map(|i| i.blob.clone()).collect();
    // HEAD's blobs too, to tell whether a key is still there.
    let head = head_blobs();
    wanted.extend(head.iter().cloned());
    wanted.sort_unstable();
    wanted.dedup();

    let mut stats = Stats::default();
    let mut found: HashMap<String, Vec<Finding>> = HashMap::new();
    let mut missing = Vec::new();
    let mut lfs = 0usize;
    let mut scanner = Scanner::new(matcher, 0);
    cli::cat_file(&wanted, |id, obj| match obj {
        Object::Found { kind, data } if kind == "blob" => {
            stats.files += 1;
            stats.bytes += data.len() as u64;
            if is_lfs_pointer(&data) {
                lfs += 1;
                return;
            }
            let mut out = Vec::new();
            let origin = Origin {
                path: "",
                place: Place::History,
            };
            for (chain, why) in scanner.scan_bytes(&data, origin, &mut out) {
                diag.note(&format!("blob {id}{chain}"), &why);
            }
            if !out.is_empty() {
                found.insert(id.to_string(), out);
            }
        }
        Object::Found { kind, .. } => diag.error(&Error::input(
            id,
            format!("a tree names it as a file, but it is a {kind}"),
        )),
        Object::Missing => missing.push(id.to_string()),
    })?;
    report_missing(&root, &missing, diag);
    let (messages, tags) = if opts.messages {
        let tags = scan_tags(&tag_ids(opts), &mut scanner, diag)?;
        (scan_messages(&commits, &mut scanner, diag)?, tags)
    } else {
        (Vec::new(), Vec::new())
    };
    if lfs > 0 {
        diag.note(
            &root,
            &format!("Git LFS pointers ({lfs} blobs): the files' content is stored outside git and was not scanned; scan a checkout after `git lfs pull`"),
        );
    }

    let in_head: HashSet<&Secret> = head
        .iter()
        .filter_map(|b| found.get(b))
        .flatten()
        .map(|f| &f.secret)
        .collect();
    // Oldest introduction of each (key, path); several occurrences in that blob each count.
    let mut best: HashMap<(&Secret, &str), (usize, &str)> = HashMap::new();
    for i in &introduced {
        let Some(fs) = found.get(&i.blob) else {
            continue;
        };
        for f in fs {
            best.entry((&f.secret, i.path.as_str()))
                .or_insert((i.commit, i.blob.as_str()));
        }
    }
    let credited: HashSet<usize> = best.values().map(|(c, _)| *c).collect();
    let not_pushed = not_pushed(&commits, &credited);
    let mut findings = Vec::new();
    for ((secret, path), (commit, blob)) in &best {
        let c = &commits[*commit];
        for f in found[*blob].iter().filter(|f| &&f.secret == secret) {
            let mut f = f.clone();
            f.path = path.to_string();
            f.place = if not_pushed.contains(commit) {
                Place::Committed
            } else {
                Place::History
            };
            f.commit = Some(CommitInfo {
                id: c.id.clone(),
                author: c.author.clone(),
                date: c.date.clone(),
                still_in_head: Some(in_head.contains(secret)),
                tag: None,
            });
            findings.push(f);
        }
    }
    // A message belongs to its commit or tag alone: every key in one is a finding.
    for m in messages.into_iter().chain(tags) {
        for mut f in m.findings {
            f.commit = Some(CommitInfo {
                id: m.target.clone(),
                author: m.author.clone(),
                date: m.date.clone(),
                still_in_head: Some(in_head.contains(&f.secret)),
                tag: m.tag.clone(),
            });
            findings.push(f);
        }
    }
    Ok(Outcome {
        findings,
        stats,
        commits: Some(commits.len() as u64),
    })
}

/// The keys in one commit's or tag's message, and what a finding says of where they are.
struct MessageKeys {
    /// The commit; for a tag, the commit it points to through any tags of tags, else the object
    /// it names.
    target: String,
    /// The author, or the tagger (empty for the old tags that have none), and the date.
    author: String,
    date: String,
    tag: Option<String>,
    findings: Vec<Finding>,
}

/// Each commit's message, read whole through `git cat-file --batch` (a message may hold any byte,
/// which `git log` output could not frame), scanned as the fast path scans it.
fn scan_messages(
    commits: &[Commit],
    scanner: &mut Scanner<'_>,
    diag: &Diagnostics,
) -> Result<Vec<MessageKeys>, Error> {
    let ids: Vec<String> = commits.iter().map(|c| c.id.clone()).collect();
    let mut out = Vec::new();
    // `cat_file` answers in the order asked, one call per id.
    let mut next = commits.iter();
    cli::cat_file(&ids, |id, obj| {
        let Some(commit) = next.next() else { return };
        let Object::Found { kind, data } = obj else {
            return diag.error(&Error::input(id, "the commit's object is missing"));
        };
        if kind != "commit" {
            return diag.error(&Error::input(
                id,
                format!("listed as a commit, but it is a {kind}"),
            ));
        }
        let origin = Origin {
            path: "",
            place: Place::CommitMessage,
        };
        let mut findings = Vec::new();
        let text = &data[message_at(&data)..];
        for (chain, why) in scanner.scan_bytes(text, origin, &mut findings) {
            let short: String = id.chars().take(12).collect();
            diag.note(&format!("message of commit {short}{chain}"), &why);
        }
        if !findings.is_empty() {
            out.push(MessageKeys {
                target: commit.id.clone(),
                author: commit.author.clone(),
                date: commit.date.clone(),
                tag: None,
                findings,
            });
        }
    })?;
    Ok(out)
}

/// The annotated tags the scan covers, as the fast path chooses them (`revs::select`): every one
/// a ref names when every ref is scanned, else those named as revisions (less those a ref already
/// names, for a push's incoming commits). Tags those tags name are added as they are read.
fn tag_ids(opts: &Options<'_>) -> Vec<String> {
    let positive: Vec<&String> = opts
        .revs
        .iter()
        .filter(|r| !r.starts_with('^') && !r.contains(".."))
        .collect();
    let refs = || -> Vec<String> {
        let listed = cli::text(&["for-each-ref", "--format=%(objecttype) %(objectname)"])
            .unwrap_or_default();
        listed
            .lines()
            .filter_map(|l| l.strip_prefix("tag "))
            .map(str::to_string)
            .collect()
    };
    if positive.is_empty() {
        return if opts.since_commit.is_none() && !opts.incoming {
            refs()
        } else {
            Vec::new()
        };
    }
    let mut named: Vec<String> = positive
        .iter()
        .filter_map(|r| cli::text(&["rev-parse", "--verify", "--quiet", r]).ok())
        .filter(|id| cli::text(&["cat-file", "-t", id]).is_ok_and(|t| t == "tag"))
        .collect();
    if opts.incoming {
        let known: HashSet<String> = refs().into_iter().collect();
        named.retain(|t| !known.contains(t));
    }
    named
}

/// An annotated tag as read: its headers and the keys in its message.
struct Tag {
    /// The object it names, and that object's type.
    object: String,
    kind: String,
    name: String,
    tagger: String,
    findings: Vec<Finding>,
}

/// Reads each tag (and each tag a tag names) once and scans its message.
fn scan_tags(
    start: &[String],
    scanner: &mut Scanner<'_>,
    diag: &Diagnostics,
) -> Result<Vec<MessageKeys>, Error> {
    let mut read: HashMap<String, Tag> = HashMap::new();
    let mut round: Vec<String> = start.to_vec();
    while !round.is_empty() {
        round.sort_unstable();
        round.dedup();
        let mut next = Vec::new();
        cli::cat_file(&round, |id, obj| {
            let Object::Found { kind, data } = obj else {
                return diag.error(&Error::input(id, "the tag's object is missing"));
            };
            if kind != "tag" {
                return;
            }
            let at = message_at(&data);
            let header = |key: &[u8]| -> String {
                data[..at]
                    .split(|&b| b == b'\n')
                    .find_map(|l| l.strip_prefix(key)?.strip_prefix(b" "))
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default()
            };
            let tag = Tag {
                object: header(b"object"),
                kind: header(b"type"),
                name: header(b"tag"),
                tagger: header(b"tagger"),
                findings: Vec::new(),
            };
            let origin = Origin {
                path: "",
                place: Place::TagMessage,
            };
            let mut findings = Vec::new();
            for (chain, why) in scanner.scan_bytes(&data[at..], origin, &mut findings) {
                diag.note(&format!("message of tag {}{chain}", tag.name), &why);
            }
            if tag.kind == "tag" && !read.contains_key(&tag.object) {
                next.push(tag.object.clone());
            }
            read.insert(id.to_string(), Tag { findings, ..tag });
        })?;
        round = next;
    }
    let mut out = Vec::new();
    let mut ids: Vec<&String> = read.keys().collect();
    ids.sort_unstable();
    for id in ids {
        let tag = &read[id];
        if tag.findings.is_empty() {
            continue;
        }
        // Through tags of tags: the last one's headers say what it names. A commit there is the
        // target, as libgit2's peel finds it; anything else leaves the object this tag names.
        let mut last = tag;
        for _ in 0..read.len() {
            match read.get(&last.object) {
                Some(inner) => last = inner,
                None => break,
            }
        }
        let target = if last.kind == "commit" {
            &last.object
        } else {
            &tag.object
        };
        let (author, date) = tagger_and_date(&tag.tagger);
        out.push(MessageKeys {
            target: target.clone(),
            author,
            date,
            tag: Some(tag.name.clone()),
            findings: tag.findings.clone(),
        });
    }
    Ok(out)
}

/// `Name <email> 1704164645 +0130` as (`Name <email>`, RFC 3339); empty for the old tags that have
/// no tagger.
fn tagger_and_date(line: &str) -> (String, String) {
    match line.rfind('>') {
        Some(end) => (line[..=end].to_string(), raw_date(line[end + 1..].trim())),
        None => (String::new(), String::new()),
    }
}

/// The revisions to walk, as `history` selects them: the ones given, else every ref; with
/// `--since-commit`, what came after it (on HEAD when nothing else is named).
fn rev_args(opts: &Options<'_>) -> Vec<String> {
    let mut args: Vec<String> = opts.revs.to_vec();
    let positive = |a: &[String]| a.iter().any(|r| !r.starts_with('^'));
    if let Some(since) = opts.since_commit {
        if !positive(&args) {
            args.push("HEAD".into());
        }
        args.push(format!("^{since}"));
    }
    if !positive(&args) {
        args.push("--all".into());
        // Every stash entry, as `git stash list` shows them; `--all` has only the newest.
        if let Ok(stashes) = cli::text(&["log", "-g", "--format=%H", "refs/stash", "--"]) {
            args.extend(stashes.lines().map(str::to_string));
        }
    }
    args
}

/// Every selected commit, parents first, and the blobs each introduced.
fn walk(opts: &Options<'_>) -> Result<(Vec<Commit>, Vec<Introduced>), Error> {
    let mut args: Vec<String> = [
        "log",
        "--reverse",
        "--topo-order",
        "-c",
        "-r",
        "--root",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "--no-textconv",
        "--no-ext-diff",
        "-z",
        "--date=raw",
        "--format=%x01%H%x00%an <%ae>%x00%ad",
    ]
    .map(str::to_string)
    .to_vec();
    args.extend(rev_args(opts));
    args.push("--".into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cli::output(&refs).map_err(|e| Error::Usage(format!("history: {e}")))?;
    Ok(parse_log(&out))
}

/// Reads `git log -z` output field by field: a commit's header (`\x01` id, author, date), then
/// (`:meta`, path) pairs. Each field's meaning comes from its position, never from its bytes:
/// a path or a name may hold any byte but NUL, `\x01` and a leading `:` included.
fn parse_log(out: &[u8]) -> (Vec<Commit>, Vec<Introduced>) {
    let mut commits = Vec::new();
    let mut introduced = Vec::new();
    let text = |f: &[u8]| String::from_utf8_lossy(f).into_owned();
    let mut fields = out.split(|&b| b == 0);
    let mut pending: Option<String> = None;
    while let Some(field) = fields.next() {
        if let Some(blob) = pending.take() {
            introduced.push(Introduced {
                commit: commits.len() - 1,
                path: text(field),
                blob,
            });
            continue;
        }
        let field = field.strip_prefix(b"\n").unwrap_or(field);
        if let Some(id) = field.strip_prefix(&[1u8][..]) {
            let (Some(author), Some(date)) = (fields.next(), fields.next()) else {
                break;
            };
            commits.push(Commit {
                id: text(id).trim().to_string(),
                author: text(author),
                date: raw_date(&text(date)),
            });
        } else if let Some(meta) = field.strip_prefix(b":") {
            // Diff lines only follow a commit's header.
            if !commits.is_empty() {
                pending = introduced_blob(&text(meta));
                if pending.is_none() {
                    // Its path names nothing to read.
                    fields.next();
                }
            }
        }
    }
    (commits, introduced)
}

/// From a raw diff line (`[:]mode.. id.. status`), the blob the commit has at the path, if it
/// has one (not a deletion, not a submodule's commit).
fn introduced_blob(meta: &str) -> Option<String> {
    let tokens: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
    // n parents: n + 1 modes, n + 1 ids, one status.
    let parents = tokens.len().checked_sub(3)? / 2;
    let mode = tokens.get(parents)?;
    let id = tokens.get(tokens.len().checked_sub(2)?)?;
    let status = tokens.last()?;
    if status.starts_with('D') || *mode == "160000" || id.bytes().all(|b| b == b'0') {
        return None;
    }
    Some(id.to_string())
}

/// `1704164645 +0130` as RFC 3339.
fn raw_date(raw: &str) -> String {
    let mut parts = raw.split_whitespace();
    let secs = parts.next().and_then(|s| s.parse::<i64>().ok());
    let zone = parts.next().unwrap_or("+0000");
    let (sign, digits) = zone.split_at(1.min(zone.len()));
    let hhmm: i32 = digits.parse().unwrap_or(0);
    let minutes = (hhmm / 100) * 60 + hhmm % 100;
    let minutes = if sign == "-" { -minutes } else { minutes };
    secs.map_or_else(String::new, |s| rfc3339(s, minutes))
}

/// The blobs of HEAD's tree (none when HEAD has no commit).
fn head_blobs() -> HashSet<String> {
    let Ok(out) = cli::output(&["ls-tree", "-r", "-z", "HEAD"]) else {
        return HashSet::new();
    };
    out.split(|&b| b == 0)
        .filter_map(|e| {
            let e = String::from_utf8_lossy(e);
            let meta = e.split('\t').next()?;
            let mut t = meta.split(' ');
            match (t.next(), t.next(), t.next()) {
                (Some(_), Some("blob"), Some(id)) => Some(id.to_string()),
                _ => None,
            }
        })
        .collect()
}

/// Credited commits no remote-tracking ref reaches: committed here, not pushed. In a bare
/// repository everything counts as pushed.
fn not_pushed(commits: &[Commit], credited: &HashSet<usize>) -> HashSet<usize> {
    if credited.is_empty()
        || cli::text(&["rev-parse", "--is-bare-repository"]).as_deref() == Ok("true")
    {
        return HashSet::new();
    }
    let mut args = vec!["rev-list"];
    args.extend(credited.iter().map(|&c| commits[c].id.as_str()));
    args.extend(["--not", "--remotes"]);
    let Ok(listed) = cli::text(&args) else {
        return HashSet::new();
    };
    let unpushed: HashSet<&str> = listed.lines().collect();
    credited
        .iter()
        .copied()
        .filter(|&c| unpushed.contains(commits[c].id.as_str()))
        .collect()
}

/// Objects git does not have: in a partial clone one line about what to do, else each by id.
fn report_missing(root: &str, missing: &[String], diag: &Diagnostics) {
    if missing.is_empty() {
        return;
    }
    if let Some(remote) = promisor_remote() {
        diag.error(&partial_clone(root, &remote, missing.len()));
        return;
    }
    for id in missing.iter().take(SHOWN) {
        diag.error(&Error::input(id, NOT_FOUND));
    }
    if missing.len() > SHOWN {
        diag.error(&Error::input(
            root,
            format!("{} more objects not found", missing.len() - SHOWN),
        ));
    }
}

/// The partial clone's promisor remote, as git's config names it.
fn promisor_remote() -> Option<String> {
    if let Ok(name) = cli::text(&["config", "extensions.partialClone"]) {
        return Some(name);
    }
    let list = cli::text(&["config", "--get-regexp", r"^remote\..*\.promisor$"]).ok()?;
    list.lines().find_map(|l| {
        let (key, value) = l.split_once(' ')?;
        (value == "true")
            .then(|| {
                key.strip_prefix("remote.")?
                    .strip_suffix(".promisor")
                    .map(str::to_string)
            })
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_lines_give_the_blob_a_commit_has_at_a_path() {
        let z = "0".repeat(40);
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        assert_eq!(
            introduced_blob(&format!("000000 100644 {z} {a} A")),
            Some(a.clone())
        );
        assert_eq!(introduced_blob(&format!("100644 000000 {a} {z} D")), None);
        assert_eq!(introduced_blob(&format!("160000 160000 {a} {b} M")), None);
        assert_eq!(
            introduced_blob(&format!(":100644 100644 100644 {a} {a} {b} MM")),
            Some(b)
        );
        assert_eq!(raw_date("1704164645 +0000"), "2024-01-02T03:04:05Z");
        assert_eq!(raw_date("1704164645 -0130"), "2024-01-02T01:34:05-01:30");
    }
}
