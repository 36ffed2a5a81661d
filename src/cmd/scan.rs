//! `stripe-scan scan [PATH...]`: files and directories, in parallel, honouring ignore files.

use super::context::RunContext;
use super::finish::finish;
use crate::cli::ScanArgs;
use crate::diagnostics::Diagnostics;
use crate::engine::matcher::Matcher;
use crate::error::Error;
use crate::fs::walk;
use crate::outcome::Outcome;
use crate::policy::config::Config;
use std::path::PathBuf;
use std::time::Instant;

pub(crate) fn run(args: ScanArgs) -> Result<i32, Error> {
    let started = Instant::now();
    let (paths, root) = scan_paths(&args);
    let cx = RunContext::new(&args.common, &root, started)?;
    let outcome = walk_paths(&args, &paths, &cx.config, &cx.diag)?;
    Ok(finish(outcome, cx))
}

/// The paths to scan and the scan root (the one directory given, else `.`).
pub(crate) fn scan_paths(args: &ScanArgs) -> (Vec<PathBuf>, PathBuf) {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let root = match paths.as_slice() {
        [one] if one.is_dir() => one.clone(),
        _ => PathBuf::from("."),
    };
    (paths, root)
}

pub(crate) fn walk_paths(
    args: &ScanArgs,
    paths: &[PathBuf],
    config: &Config,
    diag: &Diagnostics,
) -> Result<Outcome, Error> {
    let matcher = Matcher::new(config.rules.clone())
        .map_err(Error::Usage)?
        .with_limits(config.limits);
    let opts = walk::WalkOptions {
        no_ignore: args.no_ignore,
        follow_links: args.follow,
        threads: super::context::threads(&args.common),
        max_file_size: args.max_file_size,
    };
    let (findings, stats) = walk::scan(paths, &opts, &matcher, &config.allow, diag);
    Ok(Outcome {
        findings,
        stats,
        commits: None,
    })
}
