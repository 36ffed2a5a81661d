//! `.stripe-scan.toml`: extra rules, what to allow, the failing severity and the baseline. Unknown
//! keys are errors, so a typo never silently turns a check off.
//!
//! Found as git finds its own files: in the scan root, then each folder above it up to the top of
//! the repository holding it (never above; outside a repository, only the scan root). `--config`
//! wins. `.stripe-scan-baseline.json` is found the same way.

use crate::engine::limits::Limits;
use crate::engine::matcher::Matcher;
use crate::error::{line_of, Error};
use crate::paths;
use crate::policy::allow::Allow;
use crate::policy::baseline::BASELINE_NAME;
use crate::rules::{parse_toml, RuleSet, RuleSpec};
use crate::severity::Severity;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

pub const CONFIG_NAME: &str = ".stripe-scan.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    fail_on: Option<Severity>,
    /// A baseline file, relative to the config file's folder.
    baseline: Option<Spanned<String>>,
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

/// A baseline file and who named it, so an error about it can say where the name came from.
#[derive(Debug, Clone)]
pub struct NamedFile {
    pub path: PathBuf,
    /// "--baseline", "baseline = … in ./.stripe-scan.toml:3", "found at the repository's top".
    pub named_by: String,
}

/// Rules and policy in effect for one run.
pub struct Config {
    pub rules: Arc<RuleSet>,
    pub allow: Allow,
    pub fail_on: Option<Severity>,
    /// `baseline = "…"` from the config (resolved against the config file's folder), else a
    /// `.stripe-scan-baseline.json` found beside or above the scan root.
    pub baseline: Option<NamedFile>,
    /// The config file read, if any.
    pub file: Option<PathBuf>,
    /// Where allowlisted paths and baseline paths start: the repository's top, else the config
    /// file's folder, else the scan root.
    pub base: PathBuf,
    pub limits: Limits,
}

impl Config {
    /// The matcher for these rules, bounded by these limits: every command scans through one.
    pub fn matcher(&self) -> Result<Matcher, Error> {
        Ok(Matcher::new(self.rules.clone())
            .map_err(Error::Usage)?
            .with_limits(self.limits))
    }
}

/// The folders searched from `start`: itself, then each parent up to the repository's top.
fn search_dirs(start: &Path) -> (Vec<PathBuf>, Option<PathBuf>) {
    let start = paths::absolute(start);
    let top = paths::repo_top(&start);
    let dirs = match &top {
        Some(t) => start
            .ancestors()
            .take_while(|d| d.starts_with(t))
            .map(Path::to_path_buf)
            .collect(),
        None => vec![start],
    };
    (dirs, top)
}

/// Loads `explicit` (which must exist) or the nearest `.stripe-scan.toml` from `start` up.
pub fn load(explicit: Option<&Path>, start: &Path) -> Result<Config, Error> {
    let mut rules = RuleSet::builtin()?;
    let (dirs, top) = search_dirs(start);
    let found = |name: &str| dirs.iter().map(|d| d.join(name)).find(|p| p.is_file());
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => found(CONFIG_NAME),
    };
    let discovered_baseline = found(BASELINE_NAME).map(|p| {
        let p = shown(&p);
        NamedFile {
            named_by: format!("found as {} beside or above the scan root", p.display()),
            path: p,
        }
    });
    let fallback_base = || dirs.first().cloned().unwrap_or_default();
    let Some(path) = path else {
        let base = top.clone().unwrap_or_else(fallback_base);
        return Ok(Config {
            rules: Arc::new(rules),
            allow: Allow::new(&[], &[], "", &base)?,
            fail_on: None,
            baseline: discovered_baseline,
            file: None,
            base,
            limits: Limits::default(),
        });
    };
    let name = shown(&path).display().to_string();
    let text = std::fs::read(&path).map_err(|e| {
        let how = if explicit.is_some() {
            "--config"
        } else {
            "found beside or above the scan root"
        };
        Error::config(
            &name,
            None,
            format!("{} ({how})", crate::error::describe_io(&e)),
        )
    })?;
    let text =
        String::from_utf8(text).map_err(|_| Error::config(&name, None, "not valid UTF-8"))?;
    let file: ConfigFile = parse_toml(&name, &text)?;
    rules.extend(&file.rule, &name, &text)?;
    let folder = paths::absolute(path.parent().unwrap_or(Path::new(".")));
    let base = top.unwrap_or_else(|| folder.clone());
    let allow = Allow::new(&file.allow.paths, &file.allow.fingerprints, &name, &base)?;
    let baseline = match file.baseline {
        Some(b) => Some(NamedFile {
            path: shown(&folder.join(b.get_ref())),
            named_by: format!(
                "named by `baseline = {:?}` in {name}:{}",
                b.get_ref(),
                line_of(&text, b.span().start)
            ),
        }),
        None => discovered_baseline,
    };
    Ok(Config {
        rules: Arc::new(rules),
        allow,
        fail_on: file.fail_on,
        baseline,
        file: Some(path),
        base,
        limits: file.limits,
    })
}

/// A path to show: relative to the current directory when it is below it.
pub fn shown(path: &Path) -> PathBuf {
    let abs = paths::absolute(path);
    match std::env::current_dir()
        .ok()
        .and_then(|cwd| abs.strip_prefix(cwd).ok().map(Path::to_path_buf))
    {
        Some(rel) if !rel.as_os_str().is_empty() => rel,
        _ => abs,
    }
}
