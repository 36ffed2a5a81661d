//! `stripe-scan merge REPORT.json...`: shard reports of a multi-repository run as one report.

use crate::cli::{ColorChoice, MergeArgs};
use crate::error::Error;
use crate::org::report;
use std::io::{self, Write};

pub(crate) fn run(args: MergeArgs, color: ColorChoice) -> Result<i32, Error> {
    if args.format == crate::report::Format::Sarif {
        return Err(Error::Usage(
            "merge: SARIF points into one repository's files; use --format json, text or github"
                .into(),
        ));
    }
    let out = crate::report::open_output(args.output.as_deref())?;
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
    Ok(super::finish::many(
        &merged,
        args.format,
        args.quiet,
        color,
        out,
    ))
}
