//! `stripe-scan history`: every blob the selected commits introduced, read and scanned once, and each
//! key credited to the commit that introduced it.
//!
//! 1. `commits::select`: the commits (every ref by default), oldest first.
//! 2. `introduced::walk`: what each commit's tree adds relative to its parents, in parallel. This
//!    yields the blobs to read, and for each (blob, path) its oldest introducing commit. It also
//!    finds what no listing of the object database can: a blob a tree names but nobody has.
//! 3. `packs::pack_order` then `blobs::scan`: each distinct blob read once, in pack order, in parallel.
//! 4. Attribution, here: a key is one finding per (key, path), credited to the oldest commit whose
//!    blob at that path holds it while the commit's parents' blobs there did not. So a key on a
//!    line that later edits shift down is one finding, with the line in the introducing commit;
//!    a key copied to another file is another finding.
//!
//! Objects no ref reaches (dropped stashes, amended commits, anything only a reflog remembers) are
//! not scanned: they are not in any clone, and `git gc` deletes them. The stash's own reflog is
//! scanned, since `git stash list` shows every entry in it.

use super::blobs::{self, BlobFindings};
use super::commits;
use super::git::{self, ObjectErrors};
use super::introduced::{self, Introduced};
use super::objects::Reader;
use super::packs::Packs;
use super::progress::Progress;
use super::Stats;
use crate::diagnostics::Diagnostics;
use crate::error::Error;
use crate::finding::{CommitInfo, Finding};
use crate::matcher::Matcher;
use crate::rules::Place;
use crate::secret::Secret;
use git2::{Oid, Repository, TreeWalkMode, TreeWalkResult};
use std::collections::{HashMap, HashSet};

pub struct Options<'a> {
    pub revs: &'a [String],
    pub since_commit: Option<&'a str>,
    pub threads: usize,
    pub progress: bool,
}

pub struct Outcome {
    pub findings: Vec<Finding>,
    pub stats: Stats,
    pub commits: u64,
}

pub fn scan(
    repo: &Repository,
    opts: &Options<'_>,
    matcher: &Matcher,
    diag: &Diagnostics,
) -> Result<Outcome, Error> {
    // A read-only scan gains nothing from libgit2 re-hashing every object it inflates (28% of
    // the time when libgit2 read everything); a corrupt object still fails to inflate or parse.
    // Packed objects skip libgit2 entirely (see `packs`); this covers loose ones and the rest.
    git2::opts::strict_hash_verification(false);
    let root = commits::display_root(repo);
    let boundary = commits::shallow_boundary(repo);
    let grafted: HashSet<Oid> = boundary
        .iter()
        .flatten()
        .filter_map(|id| Oid::from_str(id).ok())
        .collect();
    if let Some(boundary) = &boundary {
        diag.error(&Error::input(
            &root,
            format!(
                "shallow clone: history before {} is not scanned; fetch with --unshallow or fetch-depth: 0",
                short_list(boundary)
            ),
        ));
    }
    let errors = ObjectErrors::new(diag);
    let git_dir = repo.path();
    // Objects live in the common directory, which a linked worktree shares with its main one.
    let packs = Packs::open(repo.commondir(), diag);
    let selected = {
        let handle =
            git::open(git_dir).map_err(|e| Error::Usage(format!("history: {}", e.message())))?;
        let mut reader = Reader::new(&packs, handle, &grafted);
        commits::select(
            repo,
            &mut reader,
            opts.revs,
            opts.since_commit,
            diag,
            &errors,
        )?
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        // Delta chains are walked recursively; git allows them 4095 deep.
        .stack_size(16 << 20)
        .build()
        .map_err(|e| Error::Usage(format!("history: cannot start threads: {e}")))?;
    let (walked, scanned, distinct) = Progress::run(opts.progress, |progress| {
        progress.phase("commits", selected.len() as u64);
        let walked = introduced::walk(
            git_dir, &selected, &packs, &grafted, &pool, &errors, progress,
        );
        let mut distinct: Vec<Oid> = walked.records.iter().map(|r| r.blob).collect();
        distinct.sort_unstable();
        distinct.dedup();
        progress.phase("blobs", distinct.len() as u64);
        let cx = blobs::Context {
            git_dir,
            packs: &packs,
            pool: &pool,
            matcher,
            errors: &errors,
            progress,
        };
        let scanned = blobs::scan(&cx, &distinct);
        (walked, scanned, distinct)
    });
    errors.finish();
    for path in &walked.submodules {
        diag.note(
            path,
            "submodule: its commits belong to another repository and are not scanned here; run `stripe-scan history` inside it",
        );
    }
    if let Some(first) = scanned.lfs_pointers.first() {
        let more = match scanned.lfs_pointers.len() {
            1 => String::new(),
            n => format!(" ({n} such blobs)"),
        };
        diag.note(
            &first.to_string(),
            &format!("Git LFS pointer{more}: the file's content is stored outside git and was not scanned; scan a checkout after `git lfs pull`"),
        );
    }
    let attribution = Attribution {
        repo,
        matcher,
        selected: &selected,
        scanned: distinct.into_iter().collect(),
        found: scanned
            .with_findings
            .into_iter()
            .map(|BlobFindings { blob, findings }| (blob, findings))
            .collect(),
        extra: HashMap::new(),
    };
    let findings = attribution.run(&walked.records);
    Ok(Outcome {
        findings,
        stats: scanned.stats,
        commits: selected.len() as u64,
    })
}

fn short_list(ids: &[String]) -> String {
    let shown: Vec<String> = ids
        .iter()
        .take(3)
        .map(|s| s.chars().take(12).collect())
        .collect();
    match ids.len() {
        0 => "the cut".to_string(),
        n if n > 3 => format!("{} and {} more", shown.join(", "), n - 3),
        _ => shown.join(", "),
    }
}

struct Attribution<'a> {
    repo: &'a Repository,
    matcher: &'a Matcher,
    selected: &'a [Oid],
    /// Every blob read in the parallel scan.
    scanned: HashSet<Oid>,
    /// Findings of the blobs that had any (path still empty).
    found: HashMap<Oid, Vec<Finding>>,
    /// Keys of blobs read afterwards (a parent's version outside a range, HEAD's version).
    extra: HashMap<Oid, HashSet<Secret>>,
}

/// The winner for one (key, path) so far.
struct Intro<'r> {
    commit: u32,
    record: &'r Introduced,
    /// Occurrences in that blob (a key written twice in one file is reported twice).
    at: Vec<usize>,
}

impl Attribution<'_> {
    fn run(mut self, records: &[Introduced]) -> Vec<Finding> {
        if self.found.is_empty() {
            return Vec::new();
        }
        let mut best: HashMap<(Secret, &str), Intro<'_>> = HashMap::new();
        for record in records {
            if !self.found.contains_key(&record.blob) {
                continue;
            }
            // Keys the commit's parents already had at this path are not its doing (a range
            // starting after the key was added, or an edit elsewhere in the file).
            let before: HashSet<Secret> = record
                .before
                .iter()
                .flat_map(|b| self.keys_of(*b))
                .collect();
            for (i, f) in self.found[&record.blob].iter().enumerate() {
                if before.contains(&f.secret) {
                    continue;
                }
                let key = (f.secret.clone(), record.path.as_str());
                match best.get_mut(&key) {
                    Some(cur) if cur.commit < record.commit => {}
                    Some(cur) if std::ptr::eq(cur.record, record) => cur.at.push(i),
                    // Same commit, another record: cannot be the same path; keep the first.
                    Some(cur) if cur.commit == record.commit => {}
                    _ => {
                        best.insert(
                            key,
                            Intro {
                                commit: record.commit,
                                record,
                                at: vec![i],
                            },
                        );
                    }
                }
            }
        }
        let in_head = self.head_keys(best.keys().map(|(_, p)| *p).collect());
        let mut commits: Vec<u32> = best.values().map(|b| b.commit).collect();
        commits.sort_unstable();
        commits.dedup();
        let not_pushed = self.not_pushed(&commits);
        let mut info: HashMap<u32, (String, String)> = HashMap::new();
        let mut out = Vec::new();
        for ((secret, path), intro) in best {
            let oid = self.selected[intro.commit as usize];
            let (author, date) = info
                .entry(intro.commit)
                .or_insert_with(|| commits::author_and_date(self.repo, oid))
                .clone();
            let still_in_head = in_head.contains(&secret);
            for i in intro.at {
                let mut f = self.found[&intro.record.blob][i].clone();
                f.path = path.to_string();
                f.place = if not_pushed.contains(&oid) {
                    Place::Committed
                } else {
                    Place::History
                };
                f.commit = Some(CommitInfo {
                    id: oid.to_string(),
                    author: author.clone(),
                    date: date.clone(),
                    still_in_head,
                });
                out.push(f);
            }
        }
        out
    }

    /// The keys a blob holds, reading it if the parallel scan did not.
    fn keys_of(&mut self, blob: Oid) -> Vec<Secret> {
        if let Some(f) = self.found.get(&blob) {
            return f.iter().map(|f| f.secret.clone()).collect();
        }
        if self.scanned.contains(&blob) {
            return Vec::new();
        }
        let (repo, matcher) = (self.repo, self.matcher);
        self.extra
            .entry(blob)
            .or_insert_with(|| {
                blobs::scan_one(repo, blob, matcher)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|f| f.secret)
                    .collect()
            })
            .iter()
            .cloned()
            .collect()
    }

    /// Keys HEAD still holds: those of every HEAD blob the scan read, and those of HEAD's version of
    /// each path with a finding (a range scan did not read all of HEAD).
    fn head_keys(&mut self, paths: HashSet<&str>) -> HashSet<Secret> {
        let mut keys = HashSet::new();
        let Some(tree) = self.repo.head().ok().and_then(|h| h.peel_to_tree().ok()) else {
            return keys;
        };
        let mut blobs_with_keys = Vec::new();
        let found = &self.found;
        let _ = tree.walk(TreeWalkMode::PreOrder, |_, entry| {
            if found.contains_key(&entry.id()) {
                blobs_with_keys.push(entry.id());
            }
            TreeWalkResult::Ok
        });
        for path in paths {
            if let Ok(entry) = tree.get_path(std::path::Path::new(path)) {
                if entry.kind() == Some(git2::ObjectType::Blob) {
                    blobs_with_keys.push(entry.id());
                }
            }
        }
        for blob in blobs_with_keys {
            keys.extend(self.keys_of(blob));
        }
        keys
    }

    /// Introducing commits that no remote-tracking ref reaches: committed here, not pushed. In a
    /// bare repository (a server, a mirror) everything counts as pushed.
    fn not_pushed(&self, commits: &[u32]) -> HashSet<Oid> {
        let repo = self.repo;
        if repo.is_bare() {
            return HashSet::new();
        }
        let ids: Vec<Oid> = commits.iter().map(|&i| self.selected[i as usize]).collect();
        let mut tips = Vec::new();
        if let Ok(refs) = repo.references_glob("refs/remotes/*") {
            for r in refs.flatten() {
                if let Ok(c) = r.peel_to_commit() {
                    tips.push(c.id());
                }
            }
        }
        if tips.is_empty() {
            return ids.into_iter().collect();
        }
        let Ok(mut walk) = repo.revwalk() else {
            return HashSet::new();
        };
        for id in &ids {
            let _ = walk.push(*id);
        }
        for tip in tips {
            let _ = walk.hide(tip);
        }
        let wanted: HashSet<Oid> = ids.into_iter().collect();
        walk.flatten().filter(|c| wanted.contains(c)).collect()
    }
}
