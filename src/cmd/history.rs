//! `stripe-scan history [REV-RANGE...]`: every blob the selected commits introduced, once.

use super::context::RunContext;
use super::finish::finish;
use crate::cli::HistoryArgs;
use crate::engine::matcher::Matcher;
use crate::error::Error;
use crate::git::cli;
use crate::git::odb::{ObjectReader, READER_ENV};
use crate::git::repo;
use crate::history;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(crate) fn run(args: HistoryArgs) -> Result<i32, Error> {
    let started = Instant::now();
    let reader = ObjectReader::from_env()?;
    let (repo, slow) = match repo::open_main() {
        Ok(_) if reader == ObjectReader::Git => (None, Some(format!("{READER_ENV}=git"))),
        Ok(repo) => (Some(repo), None),
        // What libgit2 refuses (SHA-256 ids, reftable, extensions it does not know) git reads.
        Err(e) if cli::sees_repository() => (
            None,
            Some(format!("libgit2 cannot open it: {}", e.message())),
        ),
        Err(_) => (Some(repo::open("history")?), None),
    };
    let root = match &repo {
        Some(r) => r
            .workdir()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        None => cli::text(&["rev-parse", "--show-toplevel"])
            .map_or_else(|_| PathBuf::from("."), PathBuf::from),
    };
    let cx = RunContext::new(&args.common, &root, started)?;
    let matcher = Matcher::new(cx.config.rules.clone())
        .map_err(Error::Usage)?
        .with_limits(cx.config.limits);
    let opts = history::Options {
        revs: &args.revs,
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
