//! `stripe-scan history [REV-RANGE...]`: every blob the selected commits introduced, once.

use super::context::RunContext;
use super::finish::finish;
use crate::cli::{ColorChoice, HistoryArgs};
use crate::engine::matcher::Matcher;
use crate::error::Error;
use crate::git::repo;
use crate::history;
use crate::paths::Frame;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(crate) fn run(args: HistoryArgs, color: ColorChoice) -> Result<i32, Error> {
    let started = Instant::now();
    let repo = repo::open("history")?;
    let root = repo
        .workdir()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    // Paths are relative to the repository's top, whatever folder this runs in.
    let frame = Frame::new(&root, repo.workdir());
    let cx = RunContext::new(&args.common, &root, frame, color, started)?;
    let matcher = Matcher::new(cx.config.rules.clone()).map_err(Error::Usage)?;
    let opts = history::Options {
        revs: &args.revs,
        since_commit: args.since_commit.as_deref(),
        threads: cx.threads(),
        progress: !args.common.quiet && io::stderr().is_terminal(),
        messages: !args.no_messages,
        incoming: false,
    };
    let outcome = history::scan(&repo, &opts, &matcher, &cx.diag)?;
    Ok(finish(outcome, cx))
}
