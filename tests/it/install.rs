//! hooks/action-install.sh, the Action's download of a release binary: a stand-in for GitHub's release
//! downloads on 127.0.0.1 serves a real archive of this build; the script installs it only when its
//! SHA-256 matches the list committed in the action's source (written by the script's own `manifest`
//! mode, as the release workflow writes it), refuses anything else with one line, and leaves every
//! other case (no release, another source, another runner, a failed download) to the source build.
#![cfg(unix)]

use crate::util::{bin, key, root, tempdir, write, Run};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const LINUX_X64: &str = "x86_64-unknown-linux-musl";

fn show(r: &Run) -> String {
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        r.code, r.stdout, r.stderr
    )
}

fn archive_name(target: &str, ext: &str) -> String {
    format!("stripe-scan-{VERSION}-{target}.{ext}")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// GitHub's release downloads, stood in for on 127.0.0.1: GET /download/NAME serves `files[NAME]`,
/// anything else is a 404, and every path asked for is recorded.
struct Server {
    url: String,
    files: Files,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("addr").port();
        let files: Files = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let (f, r) = (files.clone(), requests.clone());
        // Lives as long as the test process; it only ever answers this test's script.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serve(stream, &f, &r);
            }
        });
        Server {
            url: format!("http://127.0.0.1:{port}/download"),
            files,
            requests,
        }
    }

    fn put(&self, name: &str, bytes: Vec<u8>) {
        self.files.lock().expect("files").insert(name.into(), bytes);
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

fn serve(mut stream: TcpStream, files: &Files, requests: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(read) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
    requests.lock().expect("requests").push(path.clone());
    let body = path
        .strip_prefix("/download/")
        .and_then(|name| files.lock().expect("files").get(name).cloned());
    let response = match body {
        Some(body) => [
            format!("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).into_bytes(),
            body,
        ]
        .concat(),
        None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    };
    let _ = stream.write_all(&response);
}

/// Release archives of this build, made once per test run the way the release workflow makes them:
/// the binary with the README and licences, a .tar.gz for Linux and a .zip holding `stripe-scan.exe`.
fn archives() -> &'static (Vec<u8>, Vec<u8>) {
    static ARCHIVES: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    ARCHIVES.get_or_init(|| {
        let dir = tempdir();
        let stage = dir.path().join("stage");
        std::fs::create_dir(&stage).expect("mkdir");
        for f in ["README.md", "LICENSE-MIT", "LICENSE-APACHE"] {
            std::fs::copy(root().join(f), stage.join(f)).expect(f);
        }
        std::fs::copy(bin(), stage.join("stripe-scan")).expect("copy the binary");
        let tgz = dir.path().join("a.tar.gz");
        let out = Command::new("tar")
            .arg("-czf")
            .arg(&tgz)
            .args(["-C"])
            .arg(&stage)
            .arg(".")
            .output()
            .expect("tar");
        assert!(out.status.success(), "{out:?}");
        std::fs::rename(stage.join("stripe-scan"), stage.join("stripe-scan.exe")).expect("mv");
        let zip = dir.path().join("a.zip");
        let out = Command::new("python3")
            .args(["-m", "zipfile", "-c"])
            .arg(&zip)
            .args(["stripe-scan.exe", "README.md", "LICENSE-MIT"])
            .current_dir(&stage)
            .output()
            .expect("python3 -m zipfile");
        assert!(out.status.success(), "{out:?}");
        (
            std::fs::read(&tgz).expect("tgz"),
            std::fs::read(&zip).expect("zip"),
        )
    })
}

/// A checkout of the action: the install script under hooks/, and build inputs for it to hash.
struct Action {
    dir: tempfile::TempDir,
}

impl Action {
    fn new() -> Action {
        let dir = tempdir();
        let a = dir.path().join("action");
        std::fs::create_dir_all(a.join("hooks")).expect("mkdir");
        std::fs::copy(
            root().join("hooks/action-install.sh"),
            a.join("hooks/action-install.sh"),
        )
        .expect("copy the script");
        for (path, text) in [
            ("Cargo.toml", "[package]\nname = \"stripe-scan\"\n"),
            ("Cargo.lock", "version = 4\n"),
            ("src/main.rs", "fn main() {}\n"),
            ("src/matcher/mod.rs", "// matcher\n"),
            ("rules/stripe.toml", "# rules\n"),
            ("hooks/pre-commit", "#!/bin/sh\n"),
            ("hooks/pre-push", "#!/bin/sh\n"),
            ("README.md", "# stripe-scan\n"),
        ] {
            write(&a, path, text);
        }
        Action { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("action")
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("installed")
    }

    /// Runs the script with `args` in a bare environment plus `env`.
    fn script(&self, args: &[&str], env: &[(&str, &str)]) -> (Run, Vec<String>) {
        let outputs = self.dir.path().join("github_output");
        let _ = std::fs::remove_file(&outputs);
        let mut c = Command::new("sh");
        c.arg(self.path().join("hooks/action-install.sh"))
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("GITHUB_OUTPUT", &outputs)
            .env("ROOT", self.root())
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("run sh");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        let outputs = std::fs::read_to_string(&outputs)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect();
        (run, outputs)
    }

    fn source_hash(&self) -> String {
        let (r, _) = self.script(&["source-hash"], &[]);
        assert_eq!(r.code, 0, "{}", show(&r));
        r.stdout.trim().to_string()
    }

    /// dist/checksums.txt for a release of `files`, written by the script's `manifest` mode from
    /// a SHA256SUMS made here.
    fn release(&self, files: &[(&str, &[u8])]) {
        let sums: String = files
            .iter()
            .map(|(name, bytes)| format!("{}  {name}\n", sha256_hex(bytes)))
            .collect();
        let sums_file = self.dir.path().join("SHA256SUMS");
        std::fs::write(&sums_file, sums).expect("SHA256SUMS");
        let url = format!("https://github.com/OWNER/stripe-scan/releases/download/v{VERSION}");
        let (r, _) = self.script(
            &[
                "manifest",
                VERSION,
                &url,
                sums_file.to_str().expect("utf-8"),
            ],
            &[],
        );
        assert_eq!(r.code, 0, "{}", show(&r));
        write(&self.path(), "dist/checksums.txt", &r.stdout);
    }

    /// The install step, downloading from `server`.
    fn install(&self, server: &Server, env: &[(&str, &str)]) -> (Run, Vec<String>) {
        let mut all = vec![("STRIPE_SCAN_RELEASE_URL", server.url.as_str())];
        all.extend_from_slice(env);
        self.script(&[], &all)
    }

    fn key_output(&self, arch: &str) -> String {
        format!("key=stripe-scan-Linux-{arch}-{}", self.source_hash())
    }
}

/// The one line a step prints, or a panic showing all of them.
#[track_caller]
fn one_line(r: &Run) -> String {
    let all = format!("{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = all.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{}", show(r));
    lines[0].to_string()
}

#[track_caller]
fn assert_built_from_source(a: &Action, r: &Run, outputs: &[String], why: &str) {
    assert_eq!(r.code, 0, "{}", show(r));
    assert!(
        r.stdout.contains("::notice title=stripe-scan::") && r.stdout.contains(why),
        "{}",
        show(r)
    );
    assert!(
        r.stdout
            .contains("building stripe-scan from the action's source"),
        "{}",
        show(r)
    );
    assert_eq!(outputs, [a.key_output("X64"), "installed=false".into()]);
    assert!(!a.root().exists(), "nothing is installed");
}

#[test]
fn a_release_download_that_matches_its_checksum_is_installed_and_runs() {
    let (tgz, _) = archives();
    let a = Action::new();
    let name = archive_name(LINUX_X64, "tar.gz");
    let other = archive_name("aarch64-apple-darwin", "tar.gz");
    a.release(&[(&name, tgz), (&other, b"another platform's archive")]);
    let server = Server::start();
    server.put(&name, tgz.clone());

    let (r, outputs) = a.install(&server, &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let line = one_line(&r);
    assert!(
        line.starts_with("::notice title=stripe-scan::installed stripe-scan")
            && line.contains("SHA-256 verified"),
        "{line}"
    );
    assert_eq!(outputs, [a.key_output("X64"), "installed=true".into()]);
    assert_eq!(server.requests(), [format!("/download/{name}")]);
    let installed = a.root().join("bin/stripe-scan");
    assert_eq!(
        std::fs::read(&installed).expect("installed"),
        std::fs::read(bin()).expect("built"),
        "the binary from the archive, and nothing else"
    );
    let entries: Vec<_> = std::fs::read_dir(a.root().join("bin"))
        .expect("bin")
        .collect();
    assert_eq!(entries.len(), 1, "only the binary: {entries:?}");

    // The action's scan step then runs it.
    let tree = tempdir();
    let k = key("rk_live_", 30);
    write(tree.path(), "deploy.sh", format!("export STRIPE={k}\n"));
    let out = Command::new(&installed)
        .args(["scan", "--quiet", "."])
        .current_dir(tree.path())
        .output()
        .expect("run the installed binary");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("deploy.sh:1:15: live restricted key"));
}

#[test]
fn a_tampered_download_is_refused_with_one_line_and_nothing_installed() {
    let (tgz, _) = archives();
    let name = archive_name(LINUX_X64, "tar.gz");
    let mut flipped = tgz.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    // A working archive of another build is refused just the same: only the checksum decides.
    let mut other_build = Vec::new();
    other_build.extend_from_slice(tgz);
    other_build.extend_from_slice(&[0u8; 512]);
    for served in [flipped, other_build, b"<html>not found</html>".to_vec()] {
        let a = Action::new();
        a.release(&[(&name, tgz)]);
        let server = Server::start();
        server.put(&name, served.clone());
        let (r, outputs) = a.install(&server, &[]);
        assert_eq!(r.code, 2, "{}", show(&r));
        let line = one_line(&r);
        assert!(
            line.starts_with("::error title=stripe-scan::")
                && line.contains(&name)
                && line.contains("does not match the SHA-256")
                && line.contains(&sha256_hex(tgz))
                && line.contains(&sha256_hex(&served)),
            "{line}"
        );
        assert!(!a.root().exists(), "nothing is installed");
        assert!(!outputs.iter().any(|o| o.starts_with("installed=")));
    }
}

#[test]
fn a_missing_release_falls_back_to_the_source_build() {
    let (tgz, _) = archives();
    let a = Action::new();
    let name = archive_name(LINUX_X64, "tar.gz");
    a.release(&[(&name, tgz)]);
    let server = Server::start(); // serves nothing: every download is a 404
    let (r, outputs) = a.install(&server, &[]);
    assert_built_from_source(&a, &r, &outputs, "could not download");
    assert_eq!(server.requests(), [format!("/download/{name}")]);
    assert!(r.stderr.contains("404"), "curl says why: {}", show(&r));

    // Nothing listening at all: the same.
    let gone = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = gone.local_addr().expect("addr").port();
    drop(gone);
    let url = format!("http://127.0.0.1:{port}/download");
    let (r, outputs) = a.script(&[], &[("STRIPE_SCAN_RELEASE_URL", &url)]);
    assert_built_from_source(&a, &r, &outputs, "could not download");
}

#[test]
fn a_source_that_is_not_the_release_builds_without_downloading() {
    let (tgz, _) = archives();
    let name = archive_name(LINUX_X64, "tar.gz");

    // `uses: ./`, a branch, a fork: no dist/checksums.txt.
    let a = Action::new();
    let server = Server::start();
    server.put(&name, tgz.clone());
    let (r, outputs) = a.install(&server, &[]);
    assert_built_from_source(&a, &r, &outputs, "not a stripe-scan release");

    // A release's checksums, but sources changed since (a fork or branch that kept the file).
    for changed in [
        "src/matcher/mod.rs",
        "Cargo.lock",
        "rules/stripe.toml",
        "hooks/pre-commit",
    ] {
        let a = Action::new();
        a.release(&[(&name, tgz)]);
        write(&a.path(), changed, "// changed\n");
        let (r, outputs) = a.install(&server, &[]);
        assert_built_from_source(&a, &r, &outputs, "is not stripe-scan");
    }
    assert_eq!(
        server.requests(),
        Vec::<String>::new(),
        "no download at all"
    );
}

#[test]
fn a_runner_without_a_release_binary_builds_from_source() {
    let (tgz, _) = archives();
    let name = archive_name(LINUX_X64, "tar.gz");
    let a = Action::new();
    a.release(&[(&name, tgz)]);
    let server = Server::start();
    server.put(&name, tgz.clone());
    let (r, outputs) = a.install(&server, &[("RUNNER_ARCH", "ARM")]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.stdout.contains("no release binary for Linux ARM"),
        "{}",
        show(&r)
    );
    assert_eq!(outputs, [a.key_output("ARM"), "installed=false".into()]);
    // A release that lists no file for this runner.
    let (r, outputs) = a.install(&server, &[("RUNNER_ARCH", "ARM64")]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.stdout.contains(&format!(
            "lists no {}",
            archive_name("aarch64-unknown-linux-musl", "tar.gz")
        )),
        "{}",
        show(&r)
    );
    assert_eq!(outputs, [a.key_output("ARM64"), "installed=false".into()]);
    assert_eq!(server.requests(), Vec::<String>::new());
}

#[test]
fn windows_gets_the_zip_and_stripe_scan_exe() {
    if Command::new("unzip").arg("-v").output().is_err() {
        // The script then tries tar, which unpacks zip only where tar is bsdtar (as on Windows).
        eprintln!("note: unzip is not installed; the zip path was not tested");
        return;
    }
    let (_, zip) = archives();
    let name = archive_name("x86_64-pc-windows-msvc", "zip");
    let a = Action::new();
    a.release(&[(&name, zip)]);
    let server = Server::start();
    server.put(&name, zip.clone());
    let (r, outputs) = a.install(&server, &[("RUNNER_OS", "Windows")]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(outputs.last().map(String::as_str), Some("installed=true"));
    assert!(a.root().join("bin/stripe-scan.exe").is_file());
    assert_eq!(server.requests(), [format!("/download/{name}")]);
}

#[test]
fn the_download_url_can_be_replaced_only_by_a_loopback_one() {
    let (tgz, _) = archives();
    let name = archive_name(LINUX_X64, "tar.gz");
    let a = Action::new();
    a.release(&[(&name, tgz)]);
    for url in [
        "https://example.com/download",
        "http://127.0.0.1.example.com/download",
        "http://127.0.0.1:80@example.com/download",
        "http://127.0.0.1:8080/../@example.com",
        "http://127.0.0.1:/download",
        "http://localhost:8080/download",
        "file:///etc/passwd",
    ] {
        let (r, outputs) = a.script(&[], &[("STRIPE_SCAN_RELEASE_URL", url)]);
        assert_eq!(r.code, 2, "{url}: {}", show(&r));
        let line = one_line(&r);
        assert!(
            line.contains("STRIPE_SCAN_RELEASE_URL is for tests"),
            "{url}: {line}"
        );
        assert!(!outputs.iter().any(|o| o.starts_with("installed=")));
        assert!(!a.root().exists());
    }

    // Without it, the release's own URL must be https.
    write(
        &a.path(),
        "dist/checksums.txt",
        std::fs::read_to_string(a.path().join("dist/checksums.txt"))
            .expect("manifest")
            .replace("url https://github.com/", "url http://github.com/"),
    );
    let (r, _) = a.script(&[], &[]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(one_line(&r).contains("must be https://"), "{}", show(&r));
}

#[test]
fn the_manifest_is_written_only_from_well_formed_checksums() {
    let a = Action::new();
    let sums = a.dir.path().join("SHA256SUMS");
    let url = "https://github.com/OWNER/stripe-scan/releases/download/v1";
    let good = format!("{}  stripe-scan-1-x.tar.gz\n", "ab".repeat(32));
    for (sums_text, url, why) in [
        (good.replace("  ", " *"), url, "not a 'sha256  name' line"),
        (good.replace("ab", "AB"), url, "not a 'sha256  name' line"),
        (
            good.replace("stripe-scan-1", "../x"),
            url,
            "not a 'sha256  name' line",
        ),
        (String::new(), url, "missing or empty"),
        (good.clone(), "http://github.com/x", "must be https://"),
    ] {
        std::fs::write(&sums, &sums_text).expect("write");
        let (r, _) = a.script(&["manifest", "1", url, sums.to_str().expect("utf-8")], &[]);
        assert_eq!(r.code, 2, "{sums_text:?}: {}", show(&r));
        assert!(one_line(&r).contains(why), "{}", show(&r));
    }
    std::fs::write(&sums, &good).expect("write");
    let (r, _) = a.script(&["manifest", "1", url, sums.to_str().expect("utf-8")], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let lines: Vec<&str> = r.stdout.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines,
        [
            "version 1".to_string(),
            format!("url {url}"),
            format!("source {}", a.source_hash()),
            good.trim_end().to_string()
        ]
    );
}

#[test]
fn the_source_hash_covers_what_the_binary_is_built_from_and_nothing_else() {
    let a = Action::new();
    let before = a.source_hash();
    assert!(
        before.len() == 40 && before.bytes().all(|b| b.is_ascii_hexdigit()),
        "{before}"
    );
    for (path, changes) in [
        ("src/main.rs", true),
        ("src/new_module.rs", true),
        ("Cargo.toml", true),
        ("Cargo.lock", true),
        ("build.rs", true),
        ("rules/extra.toml", true),
        ("hooks/pre-push", true),
        ("README.md", false),
        ("tests/it/new.rs", false),
        ("hooks/action-run.sh", false),
        ("dist/checksums.txt", false),
        (".github/workflows/release.yml", false),
    ] {
        let a = Action::new();
        write(&a.path(), path, "// something else\n");
        assert_eq!(a.source_hash() != before, changes, "{path}");
    }

    // Every file the real binary embeds is among the inputs the script hashes.
    let script = std::fs::read_to_string(root().join("hooks/action-install.sh")).expect("script");
    let inputs: Vec<&str> = script
        .lines()
        .find_map(|l| l.strip_prefix("inputs='"))
        .and_then(|l| l.strip_suffix('\''))
        .expect("the inputs= line")
        .split(' ')
        .collect();
    let mut embedded = Vec::new();
    let mut stack = vec![root().join("src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("src").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            for macro_call in ["include_str!(\"", "include_bytes!(\""] {
                for part in text.split(macro_call).skip(1) {
                    let rel = part.split('"').next().unwrap_or_default();
                    embedded.push(p.parent().expect("dir").join(rel));
                }
            }
        }
    }
    assert!(!embedded.is_empty());
    // And in the crate's package, or `cargo install stripe-scan` and the sdist would not build.
    let cargo: toml::Value =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml"))
            .expect("Cargo.toml parses");
    let mut packaged = globset::GlobSetBuilder::new();
    for pattern in cargo["package"]["include"].as_array().expect("include") {
        let pattern = pattern.as_str().expect("a pattern");
        packaged.add(globset::Glob::new(pattern.trim_start_matches('/')).expect("glob"));
    }
    let packaged = packaged.build().expect("globs");
    for file in embedded {
        let file = file.canonicalize().expect("embedded file exists");
        let rel = file
            .strip_prefix(root().canonicalize().expect("root"))
            .expect("in the repo");
        assert!(
            inputs.iter().any(|i| rel.starts_with(i)),
            "{} is embedded in the binary but not hashed by hooks/action-install.sh",
            rel.display()
        );
        assert!(
            packaged.is_match(rel),
            "{} is embedded in the binary but not in Cargo.toml's package include",
            rel.display()
        );
    }
}

#[test]
fn action_yml_installs_before_it_restores_builds_or_saves() {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in action.yml"))
    };
    let install = at("run: sh \"$GITHUB_ACTION_PATH/hooks/action-install.sh\"");
    assert!(install < at("uses: actions/cache/restore@"));
    assert!(at("uses: actions/cache/restore@") < at("cargo install --locked"));
    assert!(at("cargo install --locked") < at("uses: actions/cache/save@"));
    // The download and the source build fill the same place, which the scan step runs.
    let root_dir = "${{ runner.temp }}/stripe-scan-action";
    assert_eq!(text.matches(&format!("ROOT: {root_dir}\n")).count(), 2);
    assert!(text.contains(&format!("STRIPE_SCAN: {root_dir}/bin/stripe-scan\n")));
    assert_eq!(
        text.matches("key: ${{ steps.install.outputs.key }}")
            .count(),
        2
    );
    assert_eq!(
        text.matches("if: steps.install.outputs.installed != 'true'")
            .count(),
        3,
        "restore, build and save are skipped once the release binary is installed"
    );
}
