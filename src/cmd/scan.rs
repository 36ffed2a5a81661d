//! `stripe-scan scan [PATH...]`: files and directories, in parallel, honouring ignore files.

use super::context::RunContext;
use super::finish::finish;
use crate::cli::{ColorChoice, ScanArgs};
use crate::diagnostics::Diagnostics;
use crate::error::Error;
use crate::fs::walk;
use crate::outcome::Outcome;
use crate::paths::{self, Frame};
use crate::policy::config::{self, Config};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(crate) fn run(args: ScanArgs, color: ColorChoice) -> Result<i32, Error> {
    let started = Instant::now();
    let (paths, root) = scan_paths(&args);
    let cx = RunContext::new(&args.common, &root, frame_for(&root), color, started)?;
    let outcome = walk_paths(&args, &paths, &cx.config, &cx.frame, &cx.diag)?;
    warn_unused_allow_paths(&cx.config, &paths);
    Ok(finish(outcome, cx))
}

/// The paths to scan and the scan root, where the config search starts: the one directory given
/// (or the folder of the one file), else the current directory.
pub(crate) fn scan_paths(args: &ScanArgs) -> (Vec<PathBuf>, PathBuf) {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let root = match paths.as_slice() {
        [one] if one.is_dir() => one.clone(),
        [one] if one.is_file() => match one.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        },
        _ => PathBuf::from("."),
    };
    (paths, root)
}

/// Paths read as the user wrote them, from the current directory, in the repository holding the
/// scan root.
pub(crate) fn frame_for(root: &Path) -> Frame {
    Frame::new(Path::new("."), paths::repo_top(root).as_deref())
}

pub(crate) fn walk_paths(
    args: &ScanArgs,
    paths: &[PathBuf],
    config: &Config,
    frame: &Frame,
    diag: &Diagnostics,
) -> Result<Outcome, Error> {
    let matcher = config.matcher()?;
    let opts = walk::WalkOptions {
        no_ignore: args.no_ignore,
        follow_links: args.follow,
        threads: super::context::threads(&args.common),
        max_file_size: args.max_file_size,
    };
    let (findings, stats) = walk::scan(paths, &opts, &matcher, &config.allow, frame, diag);
    Ok(Outcome {
        findings,
        stats,
        commits: None,
    })
}

/// A pattern in `[allow] paths` that matched none of the files just walked is likely a typo or
/// anchored where the user did not expect: said once, when the walk covered every file the
/// pattern could name (one folder, at or above the patterns' base; not a file or a list).
pub(crate) fn warn_unused_allow_paths(config: &Config, scanned: &[PathBuf]) {
    let [root] = scanned else {
        return;
    };
    let covered = root.is_dir()
        && config
            .allow
            .base()
            .starts_with(paths::absolute(root).as_path());
    if !covered {
        return;
    }
    let file = config
        .file
        .as_deref()
        .map(|f| config::shown(f).display().to_string())
        .unwrap_or_default();
    let mut err = std::io::stderr().lock();
    for pattern in config.allow.unused() {
        let _ = writeln!(
            err,
            "stripe-scan: warning: {file}: [allow] paths entry {pattern:?} matches no file scanned (patterns read like .gitignore lines, from {})",
            config::shown(config.allow.base()).display()
        );
    }
}
