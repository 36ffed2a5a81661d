//! `stripe-scan merge REPORT.json...`: shard reports of a multi-repository run as one report.

use crate::cli::MergeArgs;
use crate::error::{describe_io, Error};
use crate::org::{self, report};
use std::io::{self, Write};

pub(crate) fn run(args: MergeArgs) -> Result<i32, Error> {
    let out =
        match &args.output {
            Some(p) => Some(std::fs::File::create(p).map_err(|e| {
                Error::Fatal(format!("--output {}: {}", p.display(), describe_io(&e)))
            })?),
            None => None,
        };
    let mut reports = Vec::new();
    let mut unreadable = 0;
    for path in &args.reports {
        match report::RunReport::load(path) {
            Ok(r) => reports.push(r),
            Err(e) => {
                // One bad report is one line; the others still merge, and the run is not clean.
                let _ = writeln!(io::stderr(), "stripe-scan: {e}");
                unreadable += 1;
            }
        }
    }
    let mut notes = Vec::new();
    let mut merged = report::merge(reports, args.fail_on, &mut notes);
    for n in &notes {
        let _ = writeln!(io::stderr(), "stripe-scan: merge: {n}");
    }
    merged.run_errors += unreadable;
    if !args.show_secrets {
        for f in &mut merged.findings {
            if let Some(m) = f.as_object_mut() {
                m.remove("secret");
            }
        }
    }
    Ok(org::finish(&merged, args.format, args.quiet, out))
}
