//! `stripe-scan --version` names the commit it was built from and the version of its rule file.
//! The commit comes from git when the crate is built in its own checkout; a build from a crate
//! tarball (`cargo install stripe-scan`, `cargo publish`'s verification) has no `.git` and simply
//! leaves it out. Nothing here may fail the build.

use std::path::Path;
use std::process::Command;

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = Path::new(&dir);
    println!("cargo:rerun-if-changed=rules/stripe.toml");
    let rules = rules_version(dir);
    let commit = commit(dir);
    let mut parts = Vec::new();
    if let Some(c) = &commit {
        parts.push(format!("commit {c}"));
    }
    parts.push(format!("rules {}", rules.as_deref().unwrap_or("unknown")));
    println!(
        "cargo:rustc-env=STRIPE_SCAN_LONG_VERSION={} ({})",
        std::env::var("CARGO_PKG_VERSION").unwrap_or_default(),
        parts.join(", ")
    );
}

/// `version = "…"` at the top of the rule file.
fn rules_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("rules/stripe.toml")).ok()?;
    text.lines()
        .take_while(|l| !l.trim_start().starts_with('['))
        .find_map(|l| {
            let v = l.trim().strip_prefix("version")?.trim_start();
            let v = v.strip_prefix('=')?.trim();
            Some(v.trim_matches('"').to_string())
        })
}

/// The short commit id, only when this crate is the top of its own git checkout: a crate
/// unpacked inside some other repository must not borrow that repository's commit.
fn commit(dir: &Path) -> Option<String> {
    if !dir.join(".git").exists() {
        return None;
    }
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()?;
        let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !s.is_empty()).then_some(s)
    };
    let id = git(&["rev-parse", "--short", "HEAD"])?;
    // Rebuild when HEAD moves: HEAD itself, the branch it names, and packed refs.
    // A path that does not exist would make cargo rerun this every build.
    let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
    watch.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watch {
        if let Some(p) = git(&["rev-parse", "--git-path", &name]) {
            let p = dir.join(p);
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
    Some(id)
}
