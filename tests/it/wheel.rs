//! The PyPI wheel and the pre-commit hooks that install it instead of compiling. maturin builds the
//! wheel from pypi/pyproject.toml; a fresh virtual environment installs it and its `stripe-scan` entry
//! point finds a key; the real pre-commit framework installs this repository's `stripe-scan-prebuilt`
//! hook with pip pointed at that wheel alone and no Rust on PATH, and the hook blocks a real commit.
#![cfg(unix)]

use crate::util::{
    git, git_cmd, git_init, have_tool, key, release_target_dir, root, tempdir, text, write,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn toml_file(rel: &str) -> toml::Value {
    let text = std::fs::read_to_string(root().join(rel)).expect(rel);
    toml::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The folder holding the wheel maturin built from this tree: built once per test run, in release
/// mode into the target folder pre-commit's `language: rust` test also builds in, so the two share
/// every dependency. None (with a note) when maturin is not installed, outside CI.
fn wheel_dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        if !have_tool("maturin", "python3 -m pip install maturin") {
            return None;
        }
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wheels");
        let _ = std::fs::remove_dir_all(&dir);
        let started = Instant::now();
        let out = Command::new("maturin")
            .args(["build", "--release", "--locked", "--out"])
            .arg(&dir)
            .current_dir(root().join("pypi"))
            .env("CARGO_TARGET_DIR", release_target_dir())
            .output()
            .expect("run maturin");
        assert!(out.status.success(), "maturin build:\n{}", text(&out));
        eprintln!(
            "note: maturin built the wheel in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Some(dir)
    })
    .as_deref()
}

/// The one wheel in `dir`.
fn the_wheel(dir: &Path) -> PathBuf {
    let wheels: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("wheel dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    wheels[0].clone()
}

/// PATH without any folder holding cargo, rustc or rustup: what a machine without Rust has.
fn path_without_rust() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|d| {
            !["cargo", "rustc", "rustup"]
                .iter()
                .any(|t| d.join(t).exists())
        })
        .collect();
    std::env::join_paths(kept)
        .expect("PATH")
        .to_string_lossy()
        .into_owned()
}

/// A tree holding a live key in `config/prod.env`, line 1, column 19, and the key.
fn tree_with_a_key() -> (tempfile::TempDir, String) {
    let d = tempdir();
    let k = key("sk_live_", 32);
    write(
        d.path(),
        "config/prod.env",
        format!("STRIPE_SECRET_KEY={k}\nAPP=1\n"),
    );
    (d, k)
}

#[test]
fn the_package_versions_and_metadata_follow_cargo_toml() {
    let cargo = toml_file("Cargo.toml");
    let package = &cargo["package"];
    assert_eq!(package["version"].as_str(), Some(VERSION));

    // The wheel: maturin takes the version from Cargo.toml; the rest must say the same as the crate.
    let wheel = toml_file("pypi/pyproject.toml");
    let project = &wheel["project"];
    assert_eq!(project["name"].as_str(), Some("stripe-scan"));
    assert!(project.get("version").is_none());
    assert_eq!(
        project["dynamic"],
        toml::Value::Array(vec!["version".into()])
    );
    for field in ["description", "license", "keywords"] {
        assert_eq!(
            project[field], package[field],
            "pypi/pyproject.toml {field}"
        );
    }
    assert_eq!(project["urls"]["Repository"], package["repository"]);
    assert_eq!(project["readme"].as_str(), Some("../README.md"));
    assert_eq!(wheel["tool"]["maturin"]["bindings"].as_str(), Some("bin"));
    assert_eq!(
        wheel["tool"]["maturin"]["manifest-path"].as_str(),
        Some("../Cargo.toml")
    );

    // The pre-commit shim at the root: no compiler in its build, and it pins this exact wheel.
    let shim = toml_file("pyproject.toml");
    assert_eq!(shim["project"]["version"].as_str(), Some(VERSION));
    assert_eq!(
        shim["project"]["dependencies"],
        toml::Value::Array(vec![format!("stripe-scan=={VERSION}").into()])
    );
    assert_eq!(
        shim["build-system"]["build-backend"].as_str(),
        Some("setuptools.build_meta")
    );
    let requires = shim["build-system"]["requires"].to_string();
    assert!(!requires.contains("maturin"), "{requires}");
}

#[test]
fn the_wheel_carries_the_binary_and_complete_metadata() {
    let Some(dir) = wheel_dir() else { return };
    let wheel = the_wheel(dir);
    let name = wheel
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with(&format!("stripe_scan-{VERSION}-py3-none-")),
        "{name}: one wheel for every Python, no Python ABI"
    );
    let metadata = format!("stripe_scan-{VERSION}.dist-info/METADATA");
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint('\\n'.join(z.namelist()))\nprint('=====')\nprint(z.read(sys.argv[2]).decode())",
        ])
        .arg(&wheel)
        .arg(&metadata)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", text(&out));
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    let (names, meta) = listing.split_once("=====\n").expect("separator");
    let names: Vec<&str> = names.lines().collect();
    assert!(
        names.contains(&format!("stripe_scan-{VERSION}.data/scripts/stripe-scan").as_str()),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.ends_with(".py")),
        "bindings = bin: no Python code: {names:?}"
    );

    let package = &toml_file("Cargo.toml")["package"];
    let field = |s: &str| package[s].as_str().expect(s).to_string();
    let (headers, body) = meta.split_once("\n\n").expect("METADATA body");
    for line in [
        "Name: stripe-scan".to_string(),
        format!("Version: {VERSION}"),
        format!("Summary: {}", field("description")),
        format!("License-Expression: {}", field("license")),
        format!("Project-URL: Repository, {}", field("repository")),
    ] {
        assert!(
            headers.lines().any(|l| l == line),
            "no `{line}` in:\n{headers}"
        );
    }
    assert!(
        headers
            .lines()
            .any(|l| l.starts_with("Description-Content-Type: text/markdown")),
        "{headers}"
    );
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let intro: String = readme.lines().take(4).collect::<Vec<_>>().join("\n");
    assert!(
        body.starts_with(&intro),
        "README.md is the long description"
    );
}

#[test]
fn a_fresh_virtual_environment_gets_a_working_stripe_scan_from_the_wheel() {
    let Some(dir) = wheel_dir() else { return };
    let v = tempdir();
    let venv = v.path().join("venv");
    let out = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .expect("python3 -m venv");
    assert!(out.status.success(), "{}", text(&out));
    let out = Command::new(venv.join("bin/python"))
        .args(["-m", "pip", "install", "--no-index", "--find-links"])
        .arg(dir)
        .arg("stripe-scan")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PATH", path_without_rust())
        .output()
        .expect("pip install");
    assert!(out.status.success(), "{}", text(&out));

    // As a user runs it: by name, found on PATH in the environment's bin.
    let path = format!("{}:{}", venv.join("bin").display(), path_without_rust());
    let run = |dir: &Path, args: &[&str]| {
        Command::new("stripe-scan")
            .args(args)
            .current_dir(dir)
            .env("PATH", &path)
            .env_remove("NO_COLOR")
            .output()
            .expect("run the installed stripe-scan")
    };
    let out = run(v.path(), &["-V"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("stripe-scan {VERSION}\n")
    );
    let out = run(v.path(), &["--version"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(&format!("stripe-scan {VERSION} (")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let (tree, k) = tree_with_a_key();
    let out = run(tree.path(), &["scan", "."]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{}", t.replace(&k, "<KEY>"));
    assert!(
        t.contains("config/prod.env:1:19: live secret key sk_live_"),
        "{}",
        t.replace(&k, "<KEY>")
    );
    assert!(!t.contains(&k), "the key is printed only redacted");
}

/// The files git tracks here (and files added with `git add -N`), as they are in the work tree,
/// committed to a new repository at `dest`: this repository as a user's `repo:` entry would see
/// it, with the changes not yet committed. Returns the commit.
fn snapshot_of_this_repository(dest: &Path) -> String {
    let listed = git(root(), &["ls-files", "-z"]);
    for rel in listed.split('\0').filter(|r| !r.is_empty()) {
        let from = root().join(rel);
        if from.is_file() {
            let to = dest.join(rel);
            std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            std::fs::copy(&from, &to).expect("copy");
        }
    }
    git_init(dest);
    git(dest, &["add", "-A"]);
    git(dest, &["commit", "-q", "-m", "snapshot"]);
    git(dest, &["rev-parse", "HEAD"])
}

fn wheelhouse_setuptools() -> Option<PathBuf> {
    let dir = root().join(".ci/wheelhouse");
    let found = std::fs::read_dir(&dir).ok().and_then(|r| {
        r.flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().contains("setuptools-"))
    });
    if found.is_none() {
        let hint = "python3 -m pip download --no-deps --only-binary=:all: --dest .ci/wheelhouse setuptools";
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "no setuptools wheel in .ci/wheelhouse: .ci/run must run `{hint}`"
        );
        eprintln!("note: no setuptools wheel in .ci/wheelhouse ({hint}); this test did not run");
    }
    found.map(|_| dir)
}

#[test]
fn the_prebuilt_pre_commit_hook_installs_without_rust_and_blocks_a_commit() {
    if !have_tool("pre-commit", "python3 -m pip install pre-commit") {
        return;
    }
    let Some(wheels) = wheel_dir() else { return };
    let Some(wheelhouse) = wheelhouse_setuptools() else {
        return;
    };
    let d = tempdir();
    let hook_repo = d.path().join("stripe-scan");
    let rev = snapshot_of_this_repository(&hook_repo);
    let home = d.path().join("pre-commit-home");

    let work = d.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    git_init(&work);
    write(
        &work,
        ".pre-commit-config.yaml",
        format!(
            "repos:\n- repo: {}\n  rev: {rev}\n  hooks:\n  - id: stripe-scan-prebuilt\n",
            hook_repo.display()
        ),
    );
    write(&work, "README.md", "# shop\n");
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "init"]);
    let out = Command::new("pre-commit")
        .args(["install", "--hook-type", "pre-commit"])
        .current_dir(&work)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("PRE_COMMIT_HOME", &home)
        .output()
        .expect("pre-commit install");
    assert!(out.status.success(), "{}", text(&out));

    // The hook's environment is made on the first commit: pip may only use the wheel built here
    // (and the shim's build backend), and nothing on PATH can compile Rust.
    let commit = |args: &[&str]| {
        git_cmd(&work, args)
            .env("PRE_COMMIT_HOME", &home)
            .env("PATH", path_without_rust())
            .env("CARGO_HOME", d.path().join("no-cargo-here"))
            .env("PIP_NO_INDEX", "1")
            .env(
                "PIP_FIND_LINKS",
                format!("{} {}", wheels.display(), wheelhouse.display()),
            )
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PIP_CACHE_DIR", d.path().join("pip-cache"))
            .output()
            .expect("git commit")
    };
    let k = key("sk_live_", 32);
    write(
        &work,
        "billing/charge.py",
        format!("import stripe\nstripe.api_key = \"{k}\"\n"),
    );
    git(&work, &["add", "-A"]);
    let started = Instant::now();
    let out = commit(&["commit", "-m", "add billing"]);
    let t = text(&out).replace(&k, "<KEY>");
    eprintln!(
        "note: the first commit, with the hook's install, took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(!out.status.success(), "the commit must be blocked:\n{t}");
    assert!(
        t.contains("stripe-scan (Stripe keys in the commit)") && t.contains("Failed"),
        "{t}"
    );
    assert!(
        t.contains("billing/charge.py:2:19: live secret key sk_live_"),
        "{t}"
    );
    assert!(!text(&out).contains(&k), "the key is printed only redacted");
    assert_eq!(git(&work, &["rev-list", "--count", "HEAD"]), "1");

    // The hook runs the wheel's binary, installed into pre-commit's environment for this repository.
    let envs: Vec<PathBuf> = std::fs::read_dir(&home)
        .expect("pre-commit home")
        .flatten()
        .flat_map(|repo| {
            std::fs::read_dir(repo.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("py_env-"))
        })
        .collect();
    assert_eq!(envs.len(), 1, "{envs:?}");
    assert!(envs[0].join("bin/stripe-scan").is_file(), "{envs:?}");

    write(
        &work,
        "billing/charge.py",
        "import os, stripe\nstripe.api_key = os.environ[\"STRIPE_SECRET_KEY\"]\n",
    );
    git(&work, &["add", "-A"]);
    let out = commit(&["commit", "-m", "add billing"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("Passed"), "{t}");
    assert_eq!(git(&work, &["rev-list", "--count", "HEAD"]), "2");
}
