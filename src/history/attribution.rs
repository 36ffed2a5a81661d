//! Attribution: a key is one finding per (key, path), credited to the oldest commit whose blob at
//! that path holds it while the commit's parents' blobs there did not.

use super::blobs;
use super::introduced::Introduced;
use super::tags::TagMessage;
use crate::engine::matcher::Matcher;
use crate::finding::{CommitInfo, Finding};
use crate::git::meta;
use crate::rules::Place;
use crate::secret::Secret;
use git2::{ErrorCode, Oid, Repository, TreeWalkMode, TreeWalkResult};
use std::collections::{HashMap, HashSet};

pub(super) struct Attribution<'a> {
    pub(super) repo: &'a Repository,
    pub(super) matcher: &'a Matcher,
    pub(super) selected: &'a [Oid],
    /// Every blob read in the parallel scan.
    pub(super) scanned: HashSet<Oid>,
    /// Findings of the blobs that had any (path still empty).
    pub(super) found: HashMap<Oid, Vec<Finding>>,
    /// Keys of blobs read afterwards (a parent's version outside a range, HEAD's version); None
    /// for a blob that could not be read.
    pub(super) extra: HashMap<Oid, Option<HashSet<Secret>>>,
    /// The commits are a push not yet in this repository (a pre-receive hook): every key is in
    /// commits that only the pusher has, whatever this repository's refs say.
    pub(super) incoming: bool,
    /// The commits standing for HEAD when asking whether a key is still there; None for HEAD.
    pub(super) head_tips: Option<Vec<Oid>>,
}

/// Keys found in messages, before attribution names their commit.
pub(super) struct Messages {
    /// Commit messages, by position in the selected commits.
    pub commits: Vec<(u32, Vec<Finding>)>,
    pub tags: Vec<TagMessage>,
}

impl Messages {
    fn is_empty(&self) -> bool {
        self.commits.is_empty() && self.tags.is_empty()
    }
}

/// The winner for one (key, path) so far.
struct Intro<'r> {
    commit: u32,
    record: &'r Introduced,
    /// Occurrences in that blob (a key written twice in one file is reported twice).
    at: Vec<usize>,
}

impl Attribution<'_> {
    pub(super) fn run(mut self, records: &[Introduced], messages: Messages) -> Vec<Finding> {
        if self.found.is_empty() && messages.is_empty() {
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
                .flat_map(|b| self.keys_of(*b).unwrap_or_default())
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
        let still_in_head = |secret: &Secret| in_head.as_ref().map(|k| k.contains(secret));
        let mut commits: Vec<u32> = best.values().map(|b| b.commit).collect();
        commits.sort_unstable();
        commits.dedup();
        let not_pushed = if self.incoming {
            commits.iter().map(|&c| self.selected[c as usize]).collect()
        } else {
            self.not_pushed(&commits)
        };
        let mut info: HashMap<u32, (String, String)> = HashMap::new();
        let mut out = Vec::new();
        for ((secret, path), intro) in best {
            let oid = self.selected[intro.commit as usize];
            let (author, date) = info
                .entry(intro.commit)
                .or_insert_with(|| meta::author_and_date(self.repo, oid))
                .clone();
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
                    still_in_head: still_in_head(&secret),
                    tag: None,
                });
                out.push(f);
            }
        }
        // A message belongs to its commit or tag alone: every one that holds a key is a finding.
        for (index, found) in messages.commits {
            let oid = self.selected[index as usize];
            let (author, date) = info
                .entry(index)
                .or_insert_with(|| meta::author_and_date(self.repo, oid))
                .clone();
            for mut f in found {
                f.commit = Some(CommitInfo {
                    id: oid.to_string(),
                    author: author.clone(),
                    date: date.clone(),
                    still_in_head: still_in_head(&f.secret),
                    tag: None,
                });
                out.push(f);
            }
        }
        for tag in messages.tags {
            for mut f in tag.findings {
                f.commit = Some(CommitInfo {
                    id: tag.target.to_string(),
                    author: tag.tagger.0.clone(),
                    date: tag.tagger.1.clone(),
                    still_in_head: still_in_head(&f.secret),
                    tag: Some(tag.name.clone()),
                });
                out.push(f);
            }
        }
        out
    }

    /// The keys a blob holds, reading it if the parallel scan did not; None when it cannot be read.
    fn keys_of(&mut self, blob: Oid) -> Option<Vec<Secret>> {
        if let Some(f) = self.found.get(&blob) {
            return Some(f.iter().map(|f| f.secret.clone()).collect());
        }
        if self.scanned.contains(&blob) {
            return Some(Vec::new());
        }
        let (repo, matcher) = (self.repo, self.matcher);
        self.extra
            .entry(blob)
            .or_insert_with(|| {
                blobs::scan_one(repo, blob, matcher)
                    .map(|found| found.into_iter().map(|f| f.secret).collect())
            })
            .as_ref()
            .map(|keys| keys.iter().cloned().collect())
    }

    /// Keys HEAD's files still hold: those of every HEAD blob the scan read, and those of HEAD's
    /// version of each path with a finding (a range scan did not read all of HEAD). None when
    /// HEAD, or part of its tree, could not be read: then nobody knows. An unborn HEAD (no commit
    /// yet, or a bare repository whose HEAD names a branch it does not have) holds nothing.
    fn head_keys(&mut self, paths: HashSet<&str>) -> Option<HashSet<Secret>> {
        let mut keys = HashSet::new();
        let trees = match &self.head_tips {
            Some(tips) => tips
                .iter()
                .map(|t| self.repo.find_commit(*t).and_then(|c| c.tree()))
                .collect::<Result<Vec<_>, _>>()
                .ok()?,
            None => match self.repo.head() {
                Ok(h) => vec![h.peel_to_tree().ok()?],
                Err(e) if e.code() == ErrorCode::UnbornBranch => return Some(keys),
                Err(_) => return None,
            },
        };
        let mut blobs_with_keys = Vec::new();
        let found = &self.found;
        for tree in &trees {
            tree.walk(TreeWalkMode::PreOrder, |_, entry| {
                if found.contains_key(&entry.id()) {
                    blobs_with_keys.push(entry.id());
                }
                TreeWalkResult::Ok
            })
            .ok()?;
            // The walk read every subtree, so a path that cannot be found is not in HEAD.
            for path in &paths {
                if let Ok(entry) = tree.get_path(std::path::Path::new(path)) {
                    if entry.kind() == Some(git2::ObjectType::Blob) {
                        blobs_with_keys.push(entry.id());
                    }
                }
            }
        }
        for blob in blobs_with_keys {
            keys.extend(self.keys_of(blob)?);
        }
        Some(keys)
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
