//! `stripe-scan completions SHELL` and `stripe-scan man`: generated from the clap definitions, so
//! they never drift from the options the binary takes.

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::error::{describe_io, Error};
use crate::exit;
use clap::CommandFactory;
use std::io::{self, Write};

pub(crate) fn completions(args: CompletionsArgs) -> Result<i32, Error> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "stripe-scan", &mut out);
    emit(&out)
}

pub(crate) fn man(args: ManArgs) -> Result<i32, Error> {
    let cmd = Cli::command();
    if let Some(dir) = args.dir {
        std::fs::create_dir_all(&dir)
            .and_then(|_| clap_mangen::generate_to(cmd, &dir))
            .map_err(|e| Error::Fatal(format!("{}: {}", dir.display(), describe_io(&e))))?;
        return Ok(exit::CLEAN);
    }
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| Error::Fatal(format!("rendering the manual: {}", describe_io(&e))))?;
    emit(&out)
}

fn emit(bytes: &[u8]) -> Result<i32, Error> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => Ok(exit::CLEAN),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(exit::CLEAN),
        Err(e) => Err(Error::Fatal(format!("writing: {}", describe_io(&e)))),
    }
}
