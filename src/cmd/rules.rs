//! `stripe-scan rules`: the rules in effect (built-in plus config), as text, JSON or SARIF.

use crate::cli::{RulesArgs, RulesFormat};
use crate::error::{describe_io, Error};
use crate::exit;
use crate::paths::Frame;
use crate::policy::config;
use crate::report::{self, Report, Summary};
use crate::severity::Severity;
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub(crate) fn run(args: RulesArgs) -> Result<i32, Error> {
    let config = config::load(args.config.as_deref(), Path::new("."))?;
    let mut out = BufWriter::new(io::stdout().lock());
    let result = match args.format {
        RulesFormat::Json => {
            let list: Vec<_> = config
                .rules
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "kind": r.kind,
                        "description": r.description,
                        "origin": r.origin,
                        "variants": r.variants.iter().map(|v| serde_json::json!({
                            "prefix": String::from_utf8_lossy(&v.prefix),
                            "mode": v.mode.map(|m| m.as_str()),
                            "severity": v.severity.as_str(),
                            "label": v.label,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &list)
                .map_err(io::Error::from)
                .and_then(|_| writeln!(out))
        }
        RulesFormat::Sarif => {
            let summary = Summary::default();
            let frame = Frame::default();
            let report = Report {
                findings: &[],
                rules: &config.rules,
                summary: &summary,
                show_secrets: false,
                fail_on: config.fail_on.unwrap_or(Severity::Low),
                frame: &frame,
                fail_on_verified: false,
            };
            report::sarif::write(&report, &mut out)
        }
        RulesFormat::Text => (|| {
            for r in &config.rules.rules {
                writeln!(out, "{}  ({}, from {})", r.id, r.kind, r.origin)?;
                for v in &r.variants {
                    writeln!(
                        out,
                        "    {:<16} {:<8} {:<5} {}",
                        String::from_utf8_lossy(&v.prefix),
                        v.severity.as_str(),
                        v.mode.map_or("-", |m| m.as_str()),
                        v.label
                    )?;
                }
            }
            Ok(())
        })(),
    };
    match result.and_then(|_| out.flush()) {
        Ok(()) => Ok(exit::CLEAN),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(exit::CLEAN),
        Err(e) => Err(Error::Fatal(format!("writing: {}", describe_io(&e)))),
    }
}
