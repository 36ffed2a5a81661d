//! `.stripe-scan.toml`: extra rules, what to allow, and the failing severity. Unknown keys are
//! errors, so a typo never silently turns a check off.

use crate::engine::limits::Limits;
use crate::error::Error;
use crate::policy::allow::Allow;
use crate::rules::{parse_toml, RuleSet, RuleSpec};
use crate::severity::Severity;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const CONFIG_NAME: &str = ".stripe-scan.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    fail_on: Option<Severity>,
    /// A baseline file, relative to the config file's folder.
    baseline: Option<String>,
    #[serde(default)]
    allow: AllowSpec,
    #[serde(default)]
    rule: Vec<RuleSpec>,
    /// How far archives, compressed files and encodings may expand (see `engine::limits`).
    #[serde(default)]
    limits: Limits,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowSpec {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    fingerprints: Vec<String>,
}

/// Rules and policy in effect for one run.
pub struct Config {
    pub rules: Arc<RuleSet>,
    pub allow: Allow,
    pub fail_on: Option<Severity>,
    /// `baseline = "…"` from the config, resolved against the config file's folder.
    pub baseline: Option<PathBuf>,
    pub limits: Limits,
}

/// Loads `explicit` (which must exist) or `<root>/.stripe-scan.toml` (if it exists).
pub fn load(explicit: Option<&Path>, root: &Path) -> Result<Config, Error> {
    let mut rules = RuleSet::builtin()?;
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => {
            let p = root.join(CONFIG_NAME);
            p.is_file().then_some(p)
        }
    };
    let Some(path) = path else {
        return Ok(Config {
            rules: Arc::new(rules),
            allow: Allow::default(),
            fail_on: None,
            baseline: None,
            limits: Limits::default(),
        });
    };
    let name = path.display().to_string();
    let text = std::fs::read(&path)
        .map_err(|e| Error::config(&name, None, crate::error::describe_io(&e)))?;
    let text =
        String::from_utf8(text).map_err(|_| Error::config(&name, None, "not valid UTF-8"))?;
    let file: ConfigFile = parse_toml(&name, &text)?;
    rules.extend(&file.rule, &name, &text)?;
    let allow = Allow::new(&file.allow.paths, &file.allow.fingerprints, &name)?;
    let baseline = file
        .baseline
        .map(|b| path.parent().unwrap_or(Path::new(".")).join(b));
    Ok(Config {
        rules: Arc::new(rules),
        allow,
        fail_on: file.fail_on,
        baseline,
        limits: file.limits,
    })
}
