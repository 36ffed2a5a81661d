//! What every scanning command sets up before it reads anything: the config, the output file and
//! the diagnostics, so `finish` gets one value instead of a list of arguments.

use crate::cli::Common;
use crate::diagnostics::Diagnostics;
use crate::error::{describe_io, Error};
use crate::policy::baseline::Baseline;
use crate::policy::config::{self, Config};
use crate::verify;
use std::fs::File;
use std::path::Path;
use std::time::Instant;

/// More threads than this only wait on the disk; thousands fail to spawn and would abort the scan.
const MAX_THREADS: usize = 256;

pub(crate) struct RunContext<'a> {
    pub common: &'a Common,
    pub config: Config,
    pub diag: Diagnostics,
    pub started: Instant,
    /// `--output`, opened before anything is scanned, so a bad path costs nothing.
    pub out: Option<File>,
    /// `--verify`, checked before anything is scanned (where keys may be sent, the proxy).
    pub verify: Option<verify::Settings>,
}

impl<'a> RunContext<'a> {
    /// Loads the config found from `root` (or `--config`), checks the baseline and opens the
    /// output, so every mistake in the settings is reported before the scan.
    pub fn new(common: &'a Common, root: &Path, started: Instant) -> Result<RunContext<'a>, Error> {
        let verify = verify::Settings::new(&common.verify, common.quiet)?;
        let config = config::load(common.config.as_deref(), root)?;
        load_baseline(common, &config)?;
        let out = open_output(common.output.as_deref())?;
        Ok(RunContext {
            common,
            config,
            diag: Diagnostics::default(),
            started,
            out,
            verify,
        })
    }

    pub fn threads(&self) -> usize {
        threads(self.common)
    }
}

pub(crate) fn threads(common: &Common) -> usize {
    common
        .threads
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .min(MAX_THREADS)
}

/// `--baseline FILE`, else `baseline = …` from the config, else none.
pub(crate) fn load_baseline(common: &Common, config: &Config) -> Result<Option<Baseline>, Error> {
    match common.baseline.as_deref().or(config.baseline.as_deref()) {
        Some(path) => Baseline::load(path).map(Some),
        None => Ok(None),
    }
}

fn open_output(path: Option<&Path>) -> Result<Option<File>, Error> {
    match path {
        None => Ok(None),
        Some(p) => File::create(p)
            .map(Some)
            .map_err(|e| Error::Fatal(format!("--output {}: {}", p.display(), describe_io(&e)))),
    }
}
