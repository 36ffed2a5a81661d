//! One thin function per command: settings from the CLI and config, one source, then `finish`.

mod baseline;
mod context;
mod finish;
mod history;
mod hooks;
mod merge;
mod pre_receive;
mod rules;
mod scan;
mod staged;

use crate::cli::{Cli, Command};
use crate::exit;
use std::io::{self, Write};

pub(crate) fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Rules(args) => rules::run(args),
        Command::Baseline(args) => baseline::run(args),
        Command::Staged(args) => staged::run(args),
        Command::InstallHook(args) => hooks::install(args),
        Command::PrePush(args) => hooks::pre_push(args),
        Command::PreReceive(args) => pre_receive::run(args),
        Command::History(args) => history::run(*args),
        Command::Merge(args) => merge::run(args),
    };
    result.unwrap_or_else(|e| {
        let _ = writeln!(io::stderr(), "stripe-scan: {e}");
        exit::ERROR
    })
}
