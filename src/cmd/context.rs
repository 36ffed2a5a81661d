//! What every scanning command sets up before it reads anything: the config, the baseline, the
//! output file and the diagnostics, so `finish` gets one value instead of a list of arguments.

use crate::cli::{ColorChoice, Common, MAX_THREADS};
use crate::diagnostics::Diagnostics;
use crate::error::Error;
use crate::paths::{self, Frame};
use crate::policy::baseline::Baseline;
use crate::policy::config::{self, Config, NamedFile};
use crate::report::Format;
use crate::verify;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

pub(crate) struct RunContext<'a> {
    pub common: &'a Common,
    pub config: Config,
    pub baseline: Option<Baseline>,
    /// How the findings' paths read.
    pub frame: Frame,
    pub color: ColorChoice,
    pub diag: Diagnostics,
    pub started: Instant,
    /// `--output`, opened before anything is scanned, so a bad path costs nothing.
    pub out: Option<File>,
    /// `--verify`, checked before anything is scanned (where keys may be sent, the proxy).
    pub verify: Option<verify::Settings>,
}

impl<'a> RunContext<'a> {
    /// Loads the config found from `root` up (or `--config`), reads the baseline and opens the
    /// output, so every mistake in the settings is reported before the scan.
    pub fn new(
        common: &'a Common,
        root: &Path,
        frame: Frame,
        color: ColorChoice,
        started: Instant,
    ) -> Result<RunContext<'a>, Error> {
        let verify = verify::Settings::new(&common.verify, common.quiet)?;
        let config = config::load(common.config.as_deref(), root)?;
        let baseline = load_baseline(common.baseline.as_deref(), &config)?;
        let out = crate::report::open_output(common.output.as_deref())?;
        if common.show_secrets && matches!(common.format, Format::Sarif | Format::Github) {
            let _ = writeln!(
                std::io::stderr(),
                "stripe-scan: --show-secrets does not apply to --format {}: that output is published, so it never holds a key",
                match common.format {
                    Format::Sarif => "sarif",
                    _ => "github",
                }
            );
        }
        Ok(RunContext {
            common,
            config,
            baseline,
            frame,
            color,
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

/// The baseline file in effect and who named it: `--baseline FILE`, else `baseline = …` in the
/// config, else `.stripe-scan-baseline.json` found beside or above the scan root.
pub(crate) fn baseline_file(flag: Option<&Path>, config: &Config) -> Option<NamedFile> {
    match flag {
        Some(p) => Some(NamedFile {
            path: p.to_path_buf(),
            named_by: "named by --baseline".into(),
        }),
        None => config.baseline.clone(),
    }
}

/// Baseline paths start at the repository's top, or outside one at the baseline file's folder.
pub(crate) fn baseline_base(file: &Path, config: &Config) -> std::path::PathBuf {
    match paths::repo_top(&config.base) {
        Some(top) => top,
        None => paths::absolute(file.parent().unwrap_or(Path::new("."))),
    }
}

fn load_baseline(flag: Option<&Path>, config: &Config) -> Result<Option<Baseline>, Error> {
    match baseline_file(flag, config) {
        Some(f) => Baseline::load(&f.path, &f.named_by, &baseline_base(&f.path, config)).map(Some),
        None => Ok(None),
    }
}
