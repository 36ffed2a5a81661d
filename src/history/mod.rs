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
//! 5. Messages: each selected commit's message is scanned during step 2, and each annotated tag the
//!    selection names (`tags`); a key there is a finding with an empty path, credited to that
//!    commit or tag.
//!
//! Objects no ref reaches (dropped stashes, amended commits, anything only a reflog remembers) are
//! not scanned: they are not in any clone, and `git gc` deletes them. The stash's own reflog is
//! scanned, since `git stash list` shows every entry in it.

mod attribution;
mod blobs;
mod by_git;
mod introduced;
mod tags;

use crate::diagnostics::Diagnostics;
use crate::engine::matcher::Matcher;
use crate::error::Error;
use crate::git::errors::ObjectErrors;
use crate::git::odb::fallbacks::Fallbacks;
use crate::git::odb::packs::Packs;
use crate::git::odb::reader::Reader;
use crate::git::odb::ObjectReader;
use crate::git::repo;
use crate::git::revs;
use crate::outcome::Outcome;
use crate::report::progress::Progress;
use attribution::{Attribution, Messages};
use blobs::BlobFindings;
use git2::{Oid, Repository};
use std::collections::{HashMap, HashSet};

pub struct Options<'a> {
    pub revs: &'a [String],
    pub since_commit: Option<&'a str>,
    pub threads: usize,
    pub progress: bool,
    /// Scan commit and tag messages (`--no-messages` turns it off).
    pub messages: bool,
    /// The revisions are a push this repository does not have yet (pre-receive): leave out what
    /// any ref reaches, and report every key as in commits not pushed.
    pub incoming: bool,
    /// `Fast`, or `Libgit2` to read every object through libgit2 (`Git` is `scan_by_git`'s).
    pub reader: ObjectReader,
}

pub fn scan(
    repo: &Repository,
    opts: &Options<'_>,
    matcher: &Matcher,
    diag: &Diagnostics,
) -> Result<Outcome, Error> {
    let root = repo::display_root(repo);
    let boundary = repo::shallow_boundary(repo);
    let grafted: HashSet<Oid> = boundary
        .iter()
        .flatten()
        .filter_map(|id| Oid::from_str(id).ok())
        .collect();
    if let Some(boundary) = &boundary {
        diag.error(&shallow(&root, boundary));
    }
    let mut errors = ObjectErrors::new(diag);
    if let Some(remote) = repo::promisor_remote(repo) {
        errors.promised_by(&root, &remote);
    }
    // Opened even when libgit2 reads everything: the same packs are then named as damaged.
    let packs = Packs::open(&repo::object_dirs(repo), diag)?;
    let packs = match opts.reader {
        ObjectReader::Libgit2 => Packs::none(),
        _ => packs,
    };
    let fallbacks = Fallbacks::default();
    let selected = {
        let handle =
            repo::open_worker().map_err(|e| Error::Fatal(format!("history: {}", e.message())))?;
        let mut reader = Reader::new(&packs, &fallbacks, handle, &grafted);
        let request = revs::Request {
            revs: opts.revs,
            since_commit: opts.since_commit,
            not_all: opts.incoming,
        };
        revs::select(repo, &mut reader, &request, diag, &errors)?
    };
    let revs::Selected {
        commits: selected,
        tags,
        tips,
    } = selected;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        // Delta chains are walked recursively; git allows them 4095 deep.
        .stack_size(16 << 20)
        .build()
        .map_err(|e| Error::Fatal(format!("history: cannot start threads: {e}")))?;
    let (walked, scanned, distinct) = Progress::run(opts.progress, |progress| {
        progress.phase("commits", selected.len() as u64);
        let walk = introduced::Context {
            packs: &packs,
            fallbacks: &fallbacks,
            grafted: &grafted,
            pool: &pool,
            errors: &errors,
            progress,
            messages: opts.messages.then_some(matcher),
        };
        let walked = introduced::walk(&selected, &walk);
        let mut distinct: Vec<Oid> = walked.records.iter().map(|r| r.blob).collect();
        distinct.sort_unstable();
        distinct.dedup();
        progress.phase("blobs", distinct.len() as u64);
        let cx = blobs::Context {
            packs: &packs,
            fallbacks: &fallbacks,
            pool: &pool,
            matcher,
            errors: &errors,
            progress,
        };
        let scanned = blobs::scan(&cx, &distinct);
        (walked, scanned, distinct)
    });
    let tag_messages = if opts.messages {
        tags::scan(repo, &tags, matcher, &errors, diag)
    } else {
        Vec::new()
    };
    errors.finish();
    if stats_wanted() {
        let off = match opts.reader {
            ObjectReader::Libgit2 => " (fast path off: libgit2 read every object)",
            _ => "",
        };
        diag.info(&format!("{}{off}", fallbacks.line()));
    }
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
    for (commit, chain, why) in &walked.message_notes {
        diag.note(
            &format!("message of commit {}{chain}", short_id(commit)),
            why,
        );
    }
    if !scanned.notes.is_empty() {
        // Notes name a blob by a path it was committed at (its first, in commit order).
        let mut named: HashMap<Oid, &str> = HashMap::new();
        for r in &walked.records {
            named.entry(r.blob).or_insert(r.path.as_str());
        }
        for (blob, chain, why) in &scanned.notes {
            let what = match named.get(blob) {
                Some(path) => format!("{path}{chain} (blob {})", short_id(blob)),
                None => format!("blob {blob}{chain}"),
            };
            diag.note(&what, why);
        }
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
        incoming: opts.incoming,
        // A push is not in HEAD yet: whether the key is still there is asked of what it pushes.
        head_tips: opts.incoming.then_some(tips),
    };
    let messages = Messages {
        commits: walked.messages,
        tags: tag_messages,
    };
    let findings = attribution.run(&walked.records, messages);
    Ok(Outcome {
        findings,
        stats: scanned.stats,
        commits: Some(selected.len() as u64),
    })
}

fn short_id(id: &Oid) -> String {
    id.to_string().chars().take(12).collect()
}

/// `history` through the installed `git` binary (see `by_git`), in the current directory's
/// repository as git finds it.
pub fn scan_by_git(
    opts: &Options<'_>,
    matcher: &Matcher,
    diag: &Diagnostics,
) -> Result<Outcome, Error> {
    by_git::scan(opts, matcher, diag)
}

/// `STRIPE_SCAN_STATS=1`: counts for tests and for whoever wonders why a scan was slow.
pub(crate) fn stats_wanted() -> bool {
    std::env::var_os("STRIPE_SCAN_STATS").is_some_and(|v| v == "1")
}

/// What a shallow clone's cut (`boundary`, the commits whose parents are missing) leaves out.
fn shallow(root: &str, boundary: &[String]) -> Error {
    Error::input(
        root,
        format!(
            "shallow clone: history before {} is not scanned; fetch with --unshallow or fetch-depth: 0",
            short_list(boundary)
        ),
    )
}

pub(crate) fn short_list(ids: &[String]) -> String {
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
