//! Git hooks: `stripe-scan install-hook` writes the scripts in `hooks/` into a repository's hooks
//! folder, and `stripe-scan pre-push` works out which commits a push sends and hands them to
//! `stripe-scan history`.
//!
//! A hook stripe-scan did not write is never overwritten silently: without `--force` the install
//! stops and says so; with it, the other hook is kept as `<name>.local` and our script runs it
//! after its own check passes, so nothing the user had stops running. `uninstall-hook` removes
//! only our scripts and puts the kept hooks back.
//!
//! The scripts record the absolute path of the binary that installed them, so a commit from a
//! GUI client whose PATH lacks `~/.cargo/bin` is still checked; `stripe-scan` on PATH is the
//! fallback when that binary is gone, and `STRIPE_SCAN` overrides both.

use crate::cli::{ColorChoice, InstallHookArgs, PrePushArgs};
use crate::error::{describe_io, Error};
use crate::exit;
use crate::git::repo;
use clap::ValueEnum;
use git2::{ObjectType, Oid, Repository};
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every script we write carries this line; a hook without it belongs to someone else.
pub const MARKER: &str = "# stripe-scan-hook";

/// Whether a hook file carries our marker line: ours to replace or remove.
fn written_by_us(hook: &[u8]) -> bool {
    String::from_utf8_lossy(hook)
        .lines()
        .any(|l| l.trim() == MARKER)
}

const COMMIT_HOOK: &str = include_str!("../../hooks/pre-commit");
const PUSH_HOOK: &str = include_str!("../../hooks/pre-push");
/// The line of each script that install-hook fills in with the binary's path.
const INSTALLED_LINE: &str = "installed=''";
/// Every hook name install-hook may write.
const HOOK_NAMES: [&str; 3] = ["pre-commit", "pre-merge-commit", "pre-push"];

enum State {
    Missing,
    Current,
    Outdated,
    Foreign,
}

/// A script with the path of the running binary written into it.
fn render(template: &str, exe: &Path) -> String {
    let quoted = format!(
        "installed='{}'",
        exe.to_string_lossy().replace('\'', "'\\''")
    );
    template
        .lines()
        .map(|l| {
            if l == INSTALLED_LINE {
                quoted.as_str()
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

pub fn install(args: InstallHookArgs) -> Result<i32, Error> {
    let repo = repo::open("install-hook")?;
    let dir = hooks_dir(&repo)?;
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| {
            Error::Fatal(format!(
                "install-hook: cannot find the path of stripe-scan itself to record in the hooks: {}",
                describe_io(&e)
            ))
        })?;
    let commit_hook = render(COMMIT_HOOK, &exe);
    let push_hook = render(PUSH_HOOK, &exe);
    let mut hooks = vec![
        ("pre-commit", commit_hook.as_str()),
        ("pre-merge-commit", commit_hook.as_str()),
    ];
    if args.pre_push {
        hooks.push(("pre-push", push_hook.as_str()));
    }
    let plan: Vec<(&str, &str, State)> = hooks
        .into_iter()
        .map(|(name, text)| {
            let state = match std::fs::read(dir.join(name)) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => State::Missing,
                Err(e) => return Err(Error::io(dir.join(name).display().to_string(), &e)),
                Ok(b) if b == text.as_bytes() => State::Current,
                Ok(b) if written_by_us(&b) => State::Outdated,
                Ok(_) => State::Foreign,
            };
            Ok((name, text, state))
        })
        .collect::<Result<_, _>>()?;
    // Check every hook before writing any, so a refusal leaves the folder as it was.
    for (name, _, state) in &plan {
        if matches!(state, State::Foreign) {
            let path = dir.join(name);
            if !args.force {
                return Err(Error::Usage(format!(
                    "{} exists and was not written by stripe-scan; rerun with --force to keep it as {name}.local \
                     (stripe-scan runs it after its own check), or call `stripe-scan staged` from it yourself",
                    path.display()
                )));
            }
            let keep = dir.join(format!("{name}.local"));
            if keep.exists() {
                return Err(Error::Usage(format!(
                    "{} exists and so does {}; move one of them away first",
                    path.display(),
                    keep.display()
                )));
            }
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display().to_string(), &e))?;
    let mut err = io::stderr().lock();
    for (name, text, state) in plan {
        let path = dir.join(name);
        match state {
            State::Current => {
                let _ = writeln!(err, "stripe-scan: {} is already installed", path.display());
                continue;
            }
            State::Foreign => {
                let keep = dir.join(format!("{name}.local"));
                std::fs::rename(&path, &keep)
                    .map_err(|e| Error::io(path.display().to_string(), &e))?;
                let _ = writeln!(
                    err,
                    "stripe-scan: kept the existing hook as {}; it runs after stripe-scan's check",
                    keep.display()
                );
            }
            State::Missing | State::Outdated => {}
        }
        write_hook(&path, text)?;
        let _ = writeln!(err, "stripe-scan: installed {}", path.display());
    }
    let _ = writeln!(
        err,
        "stripe-scan: the hooks run {} (then stripe-scan on PATH if it is gone); `stripe-scan uninstall-hook` removes them",
        exe.display()
    );
    Ok(exit::CLEAN)
}

/// Removes the scripts install-hook wrote and puts back the hooks it had kept as `<name>.local`.
/// Hooks stripe-scan did not write are left alone, and said so.
pub fn uninstall() -> Result<i32, Error> {
    let repo = repo::open("uninstall-hook")?;
    let dir = hooks_dir(&repo)?;
    let mut err = io::stderr().lock();
    let mut removed = 0;
    for name in HOOK_NAMES {
        let path = dir.join(name);
        let bytes = match std::fs::read(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(path.display().to_string(), &e)),
            Ok(b) => b,
        };
        if !written_by_us(&bytes) {
            let _ = writeln!(
                err,
                "stripe-scan: left {} alone: stripe-scan did not write it",
                path.display()
            );
            continue;
        }
        std::fs::remove_file(&path).map_err(|e| Error::io(path.display().to_string(), &e))?;
        removed += 1;
        let kept = dir.join(format!("{name}.local"));
        if kept.exists() {
            std::fs::rename(&kept, &path).map_err(|e| Error::io(kept.display().to_string(), &e))?;
            let _ = writeln!(
                err,
                "stripe-scan: removed {0}; the hook it ran after its check is back as {0}",
                path.display()
            );
        } else {
            let _ = writeln!(err, "stripe-scan: removed {}", path.display());
        }
    }
    if removed == 0 {
        let _ = writeln!(
            err,
            "stripe-scan: no stripe-scan hook to remove in {}",
            dir.display()
        );
    }
    Ok(exit::CLEAN)
}

/// Written beside the target and renamed over it, so git never runs half a hook.
fn write_hook(path: &Path, text: &str) -> Result<(), Error> {
    let tmp = path.with_extension("stripe-scan-tmp");
    let shown = path.display().to_string();
    std::fs::write(&tmp, text).map_err(|e| Error::io(&shown, &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io(&shown, &e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(&shown, &e)
    })
}

/// Where git looks for hooks: `core.hooksPath` if set (relative to the top of the working tree),
/// else the hooks folder of the main repository, shared by every worktree. git itself answers,
/// so config includes, worktree config and `~` all mean what they mean to git.
fn hooks_dir(repo: &Repository) -> Result<PathBuf, Error> {
    let base = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let out = Command::new("git")
        .args(["rev-parse", "--git-path", "hooks"])
        .current_dir(&base)
        .output()
        .map_err(|e| {
            Error::Usage(format!(
                "cannot run git to find the hooks folder: {}",
                describe_io(&e)
            ))
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.trim_end_matches(['\n', '\r']);
    if !out.status.success() || line.is_empty() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Usage(format!(
            "git cannot say where this repository's hooks go: {}",
            why.lines().next().unwrap_or("no message")
        )));
    }
    Ok(base.join(line))
}

/// `stripe-scan pre-push [REMOTE URL]`: the revisions a push sends, then `stripe-scan history`
/// on them. Under the pre-commit framework they come from `PRE_COMMIT_FROM_REF`/`TO_REF`;
/// as a plain git hook, from the lines git writes on stdin.
pub fn pre_push(args: PrePushArgs, color: ColorChoice) -> Result<i32, Error> {
    let repo = repo::open("pre-push")?;
    let revs = if std::env::var_os("PRE_COMMIT").is_some_and(|v| v == "1") {
        framework_revs(&repo)?
    } else {
        let stdin = io::stdin();
        if stdin.is_terminal() {
            return Err(Error::Usage(
                "pre-push reads the refs being pushed on stdin, as git passes them to a pre-push hook".into(),
            ));
        }
        let lines = stdin
            .lock()
            .lines()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::io("stdin", &e))?;
        push_revs(&repo, args.remote.as_deref(), &lines)?
    };
    if args.print_revs {
        let mut out = io::stdout().lock();
        for r in &revs {
            let _ = writeln!(out, "{r}");
        }
        return Ok(exit::CLEAN);
    }
    if !revs.iter().any(|r| !r.starts_with('^')) {
        if !args.quiet_if_clean {
            let _ = writeln!(io::stderr(), "stripe-scan: this push sends no new commits");
        }
        return Ok(exit::CLEAN);
    }
    let exe = std::env::current_exe().map_err(|e| {
        Error::Usage(format!(
            "cannot find stripe-scan itself: {}",
            describe_io(&e)
        ))
    })?;
    let mut cmd = Command::new(exe);
    if let Some(c) = color.to_possible_value() {
        cmd.arg(format!("--color={}", c.get_name()));
    }
    cmd.arg("history");
    if let Some(c) = &args.config {
        cmd.arg("--config").arg(c);
    }
    if let Some(b) = &args.baseline {
        cmd.arg("--baseline").arg(b);
    }
    if let Some(f) = args.fail_on {
        cmd.arg(format!("--fail-on={f}"));
    }
    if args.quiet_if_clean {
        cmd.arg("--quiet-if-clean");
    }
    // Revisions after `--`, so none can pass for an option.
    let status = cmd.arg("--").args(&revs).status().map_err(|e| {
        Error::Usage(format!(
            "cannot run stripe-scan history: {}",
            describe_io(&e)
        ))
    })?;
    Ok(match status.code() {
        Some(c @ 0..=2) => c,
        _ => exit::ERROR,
    })
}

fn framework_revs(repo: &Repository) -> Result<Vec<String>, Error> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(from), Some(to)) = (var("PRE_COMMIT_FROM_REF"), var("PRE_COMMIT_TO_REF")) {
        let to = commit_of(repo, &to)?;
        // The framework passes the parent of the first new commit as FROM: it exists.
        let from = commit_of(repo, &from)?;
        return Ok(vec![to.to_string(), format!("^{from}")]);
    }
    // The framework leaves both unset when the push includes a root commit: all of it is new.
    let branch = var("PRE_COMMIT_LOCAL_BRANCH").unwrap_or_else(|| "HEAD".into());
    Ok(vec![commit_of(repo, &branch)?.to_string()])
}

fn commit_of(repo: &Repository, rev: &str) -> Result<Oid, Error> {
    repo.revparse_single(rev)
        .and_then(|o| o.peel(ObjectType::Commit))
        .map(|c| c.id())
        .map_err(|e| Error::input(rev, e.message()))
}

/// Lines `<local ref> <local oid> <remote ref> <remote oid>`. A deleted ref sends nothing; an
/// updated one sends what its old remote tip lacks; a new one (or one whose old tip we do not
/// have) what no ref of that remote has. Everything goes to one history run: positives minus
/// anything the remote already has.
fn push_revs(
    repo: &Repository,
    remote: Option<&str>,
    lines: &[String],
) -> Result<Vec<String>, Error> {
    let mut revs: Vec<String> = Vec::new();
    let mut add = |r: String| {
        if !revs.contains(&r) {
            revs.push(r);
        }
    };
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [_, local, _, remote_oid] = parts.as_slice() else {
            return Err(Error::input(
                "stdin",
                format!("not a pre-push line: {line:?}"),
            ));
        };
        let local = Oid::from_str(local)
            .map_err(|_| Error::input("stdin", format!("not an object id: {local}")))?;
        if local.is_zero() {
            continue;
        }
        let Ok(obj) = repo.find_object(local, None) else {
            continue;
        };
        let is_tag = obj.kind() == Some(ObjectType::Tag);
        // A pushed tag may name a tree or blob: no commits behind it, but its message is sent.
        let Ok(commit) = obj.peel(ObjectType::Commit) else {
            if is_tag {
                add(local.to_string());
            }
            continue;
        };
        // An annotated tag is named itself, so that `history` scans its message too.
        add(if is_tag { local } else { commit.id() }.to_string());
        let old = Oid::from_str(remote_oid)
            .ok()
            .filter(|o| !o.is_zero())
            .and_then(|o| {
                repo.find_object(o, None)
                    .and_then(|o| o.peel(ObjectType::Commit))
                    .ok()
            });
        match old {
            Some(old) => add(format!("^{}", old.id())),
            None => {
                for id in remote_tips(repo, remote) {
                    add(format!("^{id}"));
                }
            }
        }
    }
    Ok(revs)
}

/// The commits of `refs/remotes/<remote>/*`: what that remote is known to have.
fn remote_tips(repo: &Repository, remote: Option<&str>) -> Vec<Oid> {
    let Some(remote) = remote.filter(|r| repo.find_remote(r).is_ok()) else {
        return Vec::new();
    };
    let Ok(refs) = repo.references_glob(&format!("refs/remotes/{remote}/*")) else {
        return Vec::new();
    };
    let mut tips: Vec<Oid> = refs
        .flatten()
        .filter_map(|r| r.peel_to_commit().ok().map(|c| c.id()))
        .collect();
    tips.sort();
    tips.dedup();
    tips
}
