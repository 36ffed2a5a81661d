//! `stripe-scan history [REV-RANGE...]`: every blob the selected commits introduced, once; or,
//! with --repos/--github-org/--github-user, every repository listed (see `org`).

use super::context::{threads, RunContext};
use super::finish::finish;
use crate::cli::{ColorChoice, HistoryArgs};
use crate::diagnostics::Diagnostics;
use crate::error::{describe_io, Error};
use crate::exit;
use crate::git::cli;
use crate::git::odb::{ObjectReader, READER_ENV};
use crate::git::{repo, revs};
use crate::history;
use crate::org;
use crate::paths::Frame;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(crate) fn run(args: HistoryArgs, color: ColorChoice) -> Result<i32, Error> {
    let started = Instant::now();
    if args.repos.any() {
        let (report, out) = org::run(&args, threads(&args.common), started)?;
        let common = &args.common;
        let clean = report.exit_code() == crate::exit::CLEAN;
        let quiet = common.quiet || (clean && common.quiet_if_clean);
        return Ok(super::finish::many(
            &report,
            common.format,
            quiet,
            color,
            out,
        ));
    }
    let reader = ObjectReader::from_env()?;
    let (repo, slow) = match repo::open_main() {
        Ok(_) if reader == ObjectReader::Git => (None, Some(format!("{READER_ENV}=git"))),
        Ok(repo) => (Some(repo), None),
        // What libgit2 refuses (SHA-256 ids, reftable, extensions it does not know) git reads.
        Err(e) if cli::sees_repository() && !args.list_tips && args.revs_from.is_none() => (
            None,
            Some(format!("libgit2 cannot open it: {}", e.message())),
        ),
        Err(_) => (Some(repo::open("history")?), None),
    };
    let mut revs = args.revs.clone();
    if let Some(r) = &repo {
        if args.list_tips {
            return list_tips(r);
        }
        if let Some(source) = &args.revs_from {
            revs.extend(revs_from(r, source)?);
        }
    }
    let root = match &repo {
        Some(r) => r
            .workdir()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        None => cli::text(&["rev-parse", "--show-toplevel"])
            .map_or_else(|_| PathBuf::from("."), PathBuf::from),
    };
    // Paths are relative to the repository's top, whatever folder this runs in.
    let workdir = match &repo {
        Some(r) => r.workdir().map(Path::to_path_buf),
        None => Some(root.clone()),
    };
    let frame = Frame::new(&root, workdir.as_deref());
    let cx = RunContext::new(&args.common, &root, frame, color, started)?;
    let matcher = cx.config.matcher()?;
    let opts = history::Options {
        revs: &revs,
        since_commit: args.since_commit.as_deref(),
        threads: cx.threads(),
        progress: !args.common.quiet && io::stderr().is_terminal(),
        messages: !args.no_messages,
        incoming: false,
        reader,
    };
    let outcome = match (&repo, slow) {
        (Some(repo), _) => history::scan(repo, &opts, &matcher, &cx.diag)?,
        (None, why) => {
            cx.diag.info(&format!(
                "{}: reading history through the git binary ({}); slower than the fast path, but complete",
                root.display(),
                why.unwrap_or_default()
            ));
            history::scan_by_git(&opts, &matcher, &cx.diag)?
        }
    };
    Ok(finish(outcome, cx))
}

/// The commits every ref names, one a line: what a multi-repository run records in --state.
fn list_tips(repo: &git2::Repository) -> Result<i32, Error> {
    let diag = Diagnostics::default();
    let mut tips: Vec<String> = revs::every_ref(repo, &diag)
        .commits
        .iter()
        .map(|o| o.to_string())
        .collect();
    tips.sort();
    tips.dedup();
    let mut out = io::stdout().lock();
    for t in &tips {
        writeln!(out, "{t}").map_err(|e| Error::Fatal(format!("stdout: {}", describe_io(&e))))?;
    }
    Ok(if diag.errors() > 0 {
        exit::ERROR
    } else {
        exit::CLEAN
    })
}

/// Revisions from a file or stdin, one a line. A `^OLD` whose commit is gone (a branch
/// force-pushed, then garbage-collected) hides nothing and is dropped rather than failing the run.
fn revs_from(repo: &git2::Repository, source: &Path) -> Result<Vec<String>, Error> {
    let text = crate::util::read_text("--revs-from", &source.to_string_lossy())?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| match l.strip_prefix('^') {
            Some(hidden) => repo.revparse_single(hidden).is_ok(),
            None => true,
        })
        .map(str::to_string)
        .collect())
}
