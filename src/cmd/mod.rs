//! One thin function per command: settings from the CLI and config, one source, then `finish`.

mod baseline;
mod context;
mod docs;
mod finish;
mod history;
mod hooks;
mod merge;
mod pre_receive;
mod rules;
mod scan;
mod staged;

use crate::cli::{Cli, Command};
use crate::error::{describe_io, Error};
use crate::exit;
use std::io::{self, Write};

pub(crate) fn run(cli: Cli) -> i32 {
    let result = chdir(&cli).and_then(|()| {
        let color = cli.color;
        match cli.command {
            Command::Scan(args) => scan::run(args, color),
            Command::Rules(args) => rules::run(args),
            Command::Baseline(args) => baseline::run(args),
            Command::Staged(args) => staged::run(args, color),
            Command::InstallHook(args) => hooks::install(args),
            Command::UninstallHook => hooks::uninstall(),
            Command::PrePush(args) => hooks::pre_push(args, color),
            Command::PreReceive(args) => pre_receive::run(args, color),
            Command::History(args) => history::run(*args, color),
            Command::Merge(args) => merge::run(args, color),
            Command::Completions(args) => docs::completions(args),
            Command::Man(args) => docs::man(args),
        }
    });
    result.unwrap_or_else(|e| {
        let _ = writeln!(io::stderr(), "stripe-scan: {e}");
        exit::ERROR
    })
}

/// `-C DIR`, as git does it: before anything else reads a path, each in turn.
fn chdir(cli: &Cli) -> Result<(), Error> {
    for dir in &cli.chdir {
        if dir.as_os_str().is_empty() {
            continue;
        }
        std::env::set_current_dir(dir)
            .map_err(|e| Error::Usage(format!("-C {}: {}", dir.display(), describe_io(&e))))?;
    }
    Ok(())
}
