//! Hostile working trees, configurations and outputs: every input gives at most one clear line,
//! the rest is still scanned, every key elsewhere is found, the exit status is right (1 with
//! findings, else 2 after any error), nothing hangs, memory stays bounded, no panic message and
//! no full key ever reaches the user.

use crate::util::*;
use serde_json::Value;
use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use stripe_scan::secret::fingerprint_of;

/// What the user saw, plus the peak memory of the process.
pub(crate) struct Measured {
    pub(crate) run: Run,
    pub(crate) max_rss_kb: i64,
}

/// Runs `cmd` to the end, failing the test if it is still running after `limit` (a hang), and
/// reads its peak RSS from the kernel when it is reaped.
// Reaped by wait4 (which std's wait cannot do: it drops the rusage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
pub(crate) fn run_bounded(mut cmd: Command, limit: Duration) -> Measured {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.env_remove("NO_COLOR")
        .env_remove("STRIPE_SCAN_BACKTRACE");
    let mut child = cmd.spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            String::from_utf8_lossy(&v).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let started = Instant::now();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value, filled in by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, not yet reaped; the pointers are to live locals.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed");
        if started.elapsed() > limit {
            let _ = child.kill();
            // SAFETY: as above.
            unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            panic!(
                "stripe-scan still running after {limit:?}: it hangs\nstderr: {}",
                err.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Measured {
        run: Run {
            code,
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        },
        max_rss_kb: usage.ru_maxrss,
    }
}

fn scan_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args).current_dir(dir).stdin(Stdio::null());
    cmd
}

/// `stripe-scan <args>` in `dir`, bounded in time.
fn bounded(dir: &Path, args: &[&str], secs: u64) -> Run {
    run_bounded(scan_cmd(dir, args), Duration::from_secs(secs)).run
}

/// What every run must satisfy: no panic, every stderr line one `stripe-scan: ` message, no key.
pub(crate) fn assert_sane(r: &Run, keys: &[&str]) {
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        !all.contains("panicked at") && !all.contains("internal error"),
        "{}",
        r.stderr
    );
    for line in r.stderr.lines() {
        assert!(
            line.starts_with("stripe-scan: "),
            "stray stderr line {line:?}"
        );
    }
    for k in keys {
        assert!(!all.contains(k), "a full key was printed");
    }
}

fn paths(r: &Run) -> Vec<String> {
    let mut v: Vec<String> = r
        .findings()
        .iter()
        .map(|f| f["path"].as_str().unwrap_or("").to_string())
        .collect();
    v.sort();
    v
}

fn err_lines<'a>(r: &'a Run, needle: &str) -> Vec<&'a str> {
    r.stderr.lines().filter(|l| l.contains(needle)).collect()
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("path");
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

#[test]
fn symlink_loops_are_skipped_with_a_note_and_the_rest_is_scanned() {
    let dir = tempdir();
    let d = dir.path();
    let k = key("sk_live_", 24);
    write(d, "src/config.py", format!("KEY = '{k}'\n"));
    symlink("loop", d.join("loop"));
    symlink(".", d.join("self"));
    symlink("..", d.join("src/up"));
    symlink("b", d.join("a"));
    symlink("a", d.join("b"));
    for args in [
        &["scan", ".", "-f", "json"][..],
        &["scan", "-L", ".", "-f", "json"],
    ] {
        let r = bounded(d, args, 60);
        assert_sane(&r, &[&k]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert_eq!(paths(&r), vec!["src/config.py"], "{args:?}");
    }
    let r = bounded(d, &["scan", "-L", "."], 60);
    for name in ["loop", "self", "src/up", "a", "b"] {
        assert!(
            r.stderr
                .lines()
                .any(|l| l == format!("stripe-scan: {name}: symlink loop, skipped")),
            "{name}: {}",
            r.stderr
        );
    }
    // A loop leads back to files the walk reaches anyway: skipping it loses nothing.
    fs::remove_file(d.join("src/config.py")).expect("rm");
    let r = bounded(d, &["scan", "-L", "."], 60);
    assert_sane(&r, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn devices_fifos_and_links_to_them_are_skipped_without_hanging() {
    let dir = tempdir();
    let d = dir.path();
    let k = key("rk_live_", 24);
    write(d, "k.env", format!("RK={k}\n"));
    symlink("/dev/zero", d.join("zero"));
    symlink("/dev/urandom", d.join("random"));
    mkfifo(&d.join("fifo"));
    let special = "not a regular file (FIFO, socket or device), skipped";
    // Unfollowed links are left alone; the FIFO is named.
    let r = bounded(d, &["scan", ".", "-f", "json"], 60);
    assert_sane(&r, &[&k]);
    assert_eq!((r.code, paths(&r)), (1, vec!["k.env".to_string()]));
    assert_eq!(
        err_lines(&r, "fifo"),
        vec![format!("stripe-scan: fifo: {special}")]
    );
    // Followed, the links lead to devices: named and skipped, never read.
    let r = bounded(d, &["scan", "-L", ".", "-f", "json"], 60);
    assert_sane(&r, &[&k]);
    assert_eq!((r.code, paths(&r)), (1, vec!["k.env".to_string()]));
    for name in ["zero", "random", "fifo"] {
        assert_eq!(
            err_lines(&r, name),
            vec![format!("stripe-scan: {name}: {special}")]
        );
    }
    // Named on the command line, directly or through a link.
    let r = bounded(d, &["scan", "zero", "fifo", "/dev/zero", "k.env"], 60);
    assert_sane(&r, &[&k]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    for name in ["zero", "fifo", "/dev/zero"] {
        assert_eq!(
            err_lines(&r, &format!(" {name}:")),
            vec![format!(
                "stripe-scan: {name}: not a regular file or directory, skipped"
            )]
        );
    }
    // Skipped on purpose is not an error: nothing that holds text went unscanned.
    let r = bounded(d, &["scan", "zero", "fifo"], 60);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn ignore_files_that_are_fifos_or_devices_neither_hang_nor_hide_keys() {
    let dir = tempdir();
    let d = dir.path();
    git_init(d);
    let keys = [
        key("sk_live_", 24),
        key("sk_live_", 24),
        key("sk_live_", 24),
    ];
    write(d, "ok/.gitignore", "ignored.txt\n");
    write(d, "ok/ignored.txt", format!("{}\n", keys[0]));
    write(d, "zero/k.txt", format!("{}\n", keys[1]));
    symlink("/dev/zero", d.join("zero/.gitignore"));
    write(d, "fifo/deeper/k.txt", format!("{}\n", keys[2]));
    mkfifo(&d.join("fifo/.ignore"));
    let m = run_bounded(
        scan_cmd(d, &["scan", ".", "-f", "json"]),
        Duration::from_secs(60),
    );
    let r = &m.run;
    assert_sane(r, &keys.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.code, 1, "{}", r.stderr);
    // The good .gitignore still works; the directories with unusable ones are scanned in full.
    assert_eq!(paths(r), vec!["fifo/deeper/k.txt", "zero/k.txt"]);
    assert!(
        r.stderr.lines().any(|l| l
            == "stripe-scan: zero/.gitignore: not a regular file (FIFO, socket or device); zero scanned without ignore rules"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .lines()
            .any(|l| l.starts_with("stripe-scan: fifo/.ignore: not a regular file")),
        "{}",
        r.stderr
    );
    assert!(m.max_rss_kb < 200 * 1024, "peak RSS {} KiB", m.max_rss_kb);
    // The same hazard above the scan root.
    let r = bounded(&d.join("zero"), &["scan", ".", "-f", "json"], 60);
    assert_eq!(
        (r.code, paths(&r)),
        (1, vec!["k.txt".to_string()]),
        "{}",
        r.stderr
    );
}

/// A 3 GB file with a key at its end, nearly all holes: skipped by default (and reported), in
/// bounded memory, in no time.
#[test]
fn sparse_3_gb_file_is_skipped_and_reported_in_bounded_memory() {
    let dir = tempdir();
    let d = dir.path();
    let k = key("sk_live_", 24);
    let f = fs::File::create(d.join("disk.img")).expect("create");
    f.set_len(3 << 30).expect("set_len");
    drop(f);
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(d.join("disk.img"))
        .expect("open");
    writeln!(f, " {k}").expect("append");
    let size = (3u64 << 30) + k.len() as u64 + 2;
    let m = run_bounded(scan_cmd(d, &["scan", "."]), Duration::from_secs(60));
    assert_sane(&m.run, &[&k]);
    assert_eq!(m.run.code, 2, "a skipped file leaves the scan incomplete");
    assert_eq!(
        err_lines(&m.run, "disk.img"),
        vec![format!(
            "stripe-scan: disk.img: skipped: {size} bytes is over --max-file-size (1073741824 bytes); raise it or allow the path"
        )]
    );
    assert!(m.max_rss_kb < 200 * 1024, "peak RSS {} KiB", m.max_rss_kb);
}

/// Streamed instead (no limit): the key at the end of a large sparse file is found at the right
/// column, in bounded memory. 96 MB keeps the unoptimised test binary quick; the buffer is 1 MiB
/// whatever the size.
#[test]
fn large_sparse_file_streams_in_bounded_memory_when_allowed() {
    let dir = tempdir();
    let d = dir.path();
    let k = key("sk_live_", 24);
    let holes = 96u64 << 20;
    let f = fs::File::create(d.join("disk.img")).expect("create");
    f.set_len(holes).expect("set_len");
    drop(f);
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(d.join("disk.img"))
        .expect("open");
    write!(f, "\n{k}").expect("append");
    let m = run_bounded(
        scan_cmd(d, &["scan", ".", "--max-file-size", "0", "-f", "json"]),
        Duration::from_secs(300),
    );
    assert_sane(&m.run, &[&k]);
    assert_eq!(m.run.code, 1, "{}", m.run.stderr);
    let findings = m.run.findings();
    let f = finding_at(&findings, "disk.img", 2);
    assert_eq!(f["column"], 1);
    assert_eq!(
        m.run.json()["summary"]["bytes"],
        holes + 1 + k.len() as u64,
        "every byte was read"
    );
    assert!(m.max_rss_kb < 200 * 1024, "peak RSS {} KiB", m.max_rss_kb);
}

/// Root reads everything, so unreadable inputs are tested as `nobody` (setpriv, util-linux).
fn as_nobody(dir: &Path, args: &[&str]) -> Option<Run> {
    // SAFETY: getuid has no preconditions.
    let root = unsafe { libc::getuid() } == 0;
    let mut cmd = if root {
        if Command::new("setpriv").arg("--version").output().is_err() {
            eprintln!("setpriv is not installed: cannot drop root to test unreadable inputs");
            return None;
        }
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin());
        c
    } else {
        Command::new(bin())
    };
    cmd.args(args).current_dir(dir).stdin(Stdio::null());
    Some(run_bounded(cmd, Duration::from_secs(60)).run)
}

#[test]
fn unreadable_directory_and_file_give_one_line_each_and_exit_2() {
    let dir = tempdir();
    let d = dir.path();
    let k = key("sk_live_", 24);
    let hidden = key("sk_live_", 24);
    write(d, "open/k.txt", format!("{k}\n"));
    write(d, "locked/inside.txt", format!("{hidden}\n"));
    write(d, "secret.txt", format!("{hidden}\n"));
    let mode =
        |p: &Path, m: u32| fs::set_permissions(p, fs::Permissions::from_mode(m)).expect("chmod");
    mode(d, 0o755);
    mode(&d.join("locked"), 0o000);
    mode(&d.join("secret.txt"), 0o000);
    let Some(r) = as_nobody(d, &["scan", "."]) else {
        return;
    };
    mode(&d.join("locked"), 0o755);
    assert_sane(&r, &[&k, &hidden]);
    assert_eq!(r.code, 1, "findings win: {}", r.stderr);
    assert_eq!(
        err_lines(&r, "locked"),
        vec!["stripe-scan: locked: Permission denied"]
    );
    assert_eq!(
        err_lines(&r, "secret.txt"),
        vec!["stripe-scan: secret.txt: Permission denied"]
    );
    assert!(
        r.stderr.contains("2 errors, scan incomplete"),
        "{}",
        r.stderr
    );
    // Without the readable key, the scan is incomplete, never clean.
    fs::remove_file(d.join("open/k.txt")).expect("rm");
    mode(&d.join("locked"), 0o000);
    let r = as_nobody(d, &["scan", "."]).expect("ran before");
    mode(&d.join("locked"), 0o755);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn odd_file_names_are_scanned_and_shown_on_one_line() {
    let dir = tempdir();
    let d = dir.path();
    let keys: Vec<String> = (0..5).map(|_| key("sk_test_", 24)).collect();
    let names: [&[u8]; 5] = [
        b"bad\xff\xfename.txt",
        b"new\nline.txt",
        b"-rf",
        b"--help",
        b"tab\there",
    ];
    for (name, k) in names.iter().zip(&keys) {
        fs::write(d.join(OsStr::from_bytes(name)), format!("{k}\n")).expect("write");
    }
    let r = bounded(d, &["scan", ".", "-f", "json"], 60);
    let ks: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_sane(&r, &ks);
    assert_eq!(r.code, 1);
    assert_eq!(
        paths(&r),
        vec![
            "--help",
            "-rf",
            "bad\u{fffd}\u{fffd}name.txt",
            "new\nline.txt",
            "tab\there"
        ]
    );
    // Text: each finding's location stays on its line, control characters escaped.
    let r = bounded(d, &["scan", "."], 60);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("new\\nline.txt:1:1: ")),
        "{}",
        r.stdout
    );
    assert!(r
        .stdout
        .lines()
        .any(|l| l.trim_start().starts_with("tab\\there:1:1: ")));
    // Leading dashes are names after `--`, and messages name odd paths on one line.
    let r = bounded(
        d,
        &["scan", "-f", "json", "--", "-rf", "--help", "no\nsuch"],
        60,
    );
    assert_eq!(
        (r.code, paths(&r)),
        (1, vec!["--help".to_string(), "-rf".to_string()])
    );
    assert_eq!(
        err_lines(&r, "such"),
        vec!["stripe-scan: no\\nsuch: No such file or directory"]
    );
}

#[test]
fn ten_thousand_levels_of_nesting_find_what_is_reachable_and_report_the_rest() {
    let dir = tempdir();
    let d = dir.path();
    let k = [key("sk_live_", 24), key("sk_live_", 24)];
    fs::create_dir(d.join("deep")).expect("mkdir");
    build_deep(&d.join("deep"), 10_000, &[(500, &k[0]), (1500, &k[1])]);
    let r = bounded(d, &["scan", ".", "-f", "json"], 120);
    // Removed with rm, which walks by descriptor; a path-based removal stops at PATH_MAX.
    let _ = Command::new("rm").arg("-rf").arg(d.join("deep")).status();
    assert_sane(&r, &[&k[0], &k[1]]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut want: Vec<String> = [500, 1500]
        .iter()
        .map(|&n| format!("deep/{}k.txt", "d/".repeat(n)))
        .collect();
    want.sort();
    assert_eq!(paths(&r), want);
    let too_long = err_lines(&r, "File name too long");
    assert_eq!(too_long.len(), 1, "{}", r.stderr.len());
    assert!(too_long[0].starts_with("stripe-scan: deep/d/d/"));
}

/// `levels` nested directories `d/d/…` under `top`, made relative to an open descriptor (no path
/// may exceed PATH_MAX, so neither `mkdir -p` nor `cd` can do it), with `k.txt` holding a key at
/// the given depths.
fn build_deep(top: &Path, levels: usize, keys: &[(usize, &str)]) {
    let c = |s: &[u8]| std::ffi::CString::new(s).expect("c string");
    let (d, k) = (c(b"d"), c(b"k.txt"));
    // SAFETY: every path is a valid C string; every descriptor is checked, used once, closed.
    unsafe {
        let mut fd = libc::open(c(top.as_os_str().as_bytes()).as_ptr(), libc::O_DIRECTORY);
        assert!(fd >= 0, "open {}", top.display());
        for level in 1..=levels {
            assert_eq!(
                libc::mkdirat(fd, d.as_ptr(), 0o755),
                0,
                "mkdirat at {level}"
            );
            let next = libc::openat(fd, d.as_ptr(), libc::O_DIRECTORY);
            assert!(next >= 0, "openat at {level}");
            libc::close(fd);
            fd = next;
            if let Some((_, key)) = keys.iter().find(|(at, _)| *at == level) {
                let f = libc::openat(fd, k.as_ptr(), libc::O_CREAT | libc::O_WRONLY, 0o644);
                assert!(f >= 0);
                let line = format!("{key}\n");
                assert_eq!(
                    libc::write(f, line.as_ptr().cast(), line.len()),
                    line.len() as isize
                );
                libc::close(f);
            }
        }
        libc::close(fd);
    }
}

#[test]
fn utf16_in_every_form_and_binaries_that_only_look_like_it() {
    let dir = tempdir();
    let d = dir.path();
    let mut keys = Vec::new();
    let mut expect = Vec::new();
    for (i, (be, bom)) in [(false, true), (true, true), (false, false), (true, false)]
        .into_iter()
        .enumerate()
    {
        let k = key("rk_live_", 24);
        let name = format!("u16-{}-{}.txt", if be { "be" } else { "le" }, bom);
        write(
            d,
            &name,
            utf16(&format!("line one\r\n\tkey = {k}\r\n"), be, bom),
        );
        expect.push((name, 2, 8, i));
        keys.push(k);
    }
    // Starts like UTF-16 text, then turns into bytes with an ASCII key: found by the raw rescan.
    let ascii = key("sk_live_", 24);
    let mut bin = utf16(&"x".repeat(3000), false, false);
    bin.extend_from_slice(format!("\n{ascii}\n").as_bytes());
    write(d, "looks-utf16.bin", &bin);
    let r = bounded(d, &["scan", ".", "-f", "json"], 60);
    let mut all: Vec<&str> = keys.iter().map(String::as_str).collect();
    all.push(&ascii);
    assert_sane(&r, &all);
    let findings = r.findings();
    assert_eq!(findings.len(), 5, "{findings:#?}");
    for (name, line, col, i) in &expect {
        let f = finding_at(&findings, name, *line);
        assert_eq!(f["column"], *col, "{name}");
        assert_eq!(
            f["fingerprint"],
            fingerprint_of(keys[*i].as_bytes()),
            "{name}"
        );
    }
    let f = finding_at(&findings, "looks-utf16.bin", 2);
    assert_eq!(f["fingerprint"], fingerprint_of(ascii.as_bytes()));
    // stdin reads once, yet gets both views too.
    let r = run_stdin(d, &["scan", "-", "-f", "json"], &bin);
    assert_eq!(r.code, 1);
    assert_eq!(r.findings().len(), 1, "{}", r.stdout);
    let r = run_stdin(
        d,
        &["scan", "-", "-f", "json"],
        &utf16(&format!("a\n {}", keys[3]), true, false),
    );
    let f = finding_at(&r.findings(), "-", 2).clone();
    assert_eq!(f["column"], 2);
}

/// Regression: stdin got no raw rescan, so a binary that looked like UTF-16 at its start hid the
/// ASCII keys after it (`git cat-file blob … | stripe-scan scan -`).
#[test]
fn stdin_utf16_guess_still_finds_ascii_keys() {
    let dir = tempdir();
    let k = key("sk_live_", 24);
    let mut bin = vec![0xFF, 0xFE];
    bin.extend(utf16("pretend text", false, false));
    bin.extend_from_slice(format!(" {k} ").as_bytes());
    let r = run_stdin(dir.path(), &["scan", "-", "-f", "json"], &bin);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.findings()[0]["fingerprint"], fingerprint_of(k.as_bytes()));
}

#[test]
fn a_key_after_a_megabyte_of_nul_bytes() {
    let dir = tempdir();
    let k = key("whsec_", 32);
    let mut bytes = vec![0u8; 1 << 20];
    bytes.extend_from_slice(format!("{k}\n").as_bytes());
    write(dir.path(), "nul.bin", &bytes);
    for r in [
        bounded(dir.path(), &["scan", ".", "-f", "json"], 60),
        run_stdin(dir.path(), &["scan", "-", "-f", "json"], &bytes),
    ] {
        assert_sane(&r, &[&k]);
        assert_eq!(r.code, 1);
        let f = &r.findings()[0];
        assert_eq!(
            (f["line"].as_u64(), f["column"].as_u64()),
            (Some(1), Some((1 << 20) + 1))
        );
    }
}

#[test]
fn a_fifty_megabyte_minified_line() {
    let dir = tempdir();
    let keys: Vec<String> = (0..4).map(|_| key("pk_live_", 24)).collect();
    let size = 50 << 20;
    let mut line = Vec::with_capacity(size + 200);
    let mut cols = Vec::new();
    // At the start, across the first chunk boundary, in the middle, at the very end.
    for (k, at) in keys.iter().zip([0usize, (1 << 20) + 1014, 25 << 20, size]) {
        while line.len() < at {
            line.push(b"var a=1;"[line.len() % 8]);
        }
        if let Some(last) = line.last_mut() {
            *last = b';';
        }
        cols.push(line.len() as u64 + 1);
        line.extend_from_slice(k.as_bytes());
        line.push(b';');
    }
    write(dir.path(), "app.min.js", &line);
    let m = run_bounded(
        scan_cmd(dir.path(), &["scan", ".", "-f", "json"]),
        Duration::from_secs(300),
    );
    let ks: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_sane(&m.run, &ks);
    let got: Vec<(u64, u64)> = m
        .run
        .findings()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap_or(0),
                f["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(got, cols.iter().map(|&c| (1, c)).collect::<Vec<_>>());
    assert!(m.max_rss_kb < 200 * 1024, "peak RSS {} KiB", m.max_rss_kb);
}

#[test]
fn an_empty_file_is_scanned_and_clean() {
    let dir = tempdir();
    write(dir.path(), "empty", "");
    let r = bounded(dir.path(), &["scan", ".", "-f", "json"], 60);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["summary"]["files"], 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

/// Regression: a file that kept growing while it was read kept the scan reading it forever.
#[test]
fn a_file_growing_while_it_is_scanned_ends_and_is_reported() {
    let dir = tempdir();
    let d = dir.path().to_path_buf();
    let k = key("sk_live_", 24);
    write(&d, "other.txt", format!("{k}\n"));
    write(&d, "app.log", "log line\n".repeat(500_000));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, path) = (stop.clone(), d.join("app.log"));
        std::thread::spawn(move || {
            let mut f = fs::OpenOptions::new()
                .append(true)
                .open(path)
                .expect("open");
            let block = vec![b'x'; 1 << 16];
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Bounded, so a scanner that gives up late cannot fill the disk.
                if f.metadata().map_or(true, |m| m.len() > 2 << 30) {
                    break;
                }
                let _ = f.write_all(&block);
            }
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    let r = bounded(&d, &["scan", "app.log", "other.txt", "-f", "json"], 120);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = writer.join();
    assert_sane(&r, &[&k]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines = err_lines(&r, "app.log");
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].starts_with("stripe-scan: app.log: changed while being scanned: grew past "),
        "{}",
        lines[0]
    );
}

#[test]
fn files_vanishing_during_the_walk_are_named_and_the_rest_is_scanned() {
    let dir = tempdir();
    let d = dir.path().to_path_buf();
    let k = key("sk_live_", 24);
    write(&d, "keep/k.txt", format!("{k}\n"));
    for i in 0..3000 {
        write(&d, &format!("tmp/{i}.txt"), "x".repeat(4000));
    }
    let remover = {
        let d = d.clone();
        std::thread::spawn(move || {
            for i in 0..3000 {
                let _ = fs::remove_file(d.join(format!("tmp/{i}.txt")));
            }
        })
    };
    let r = bounded(&d, &["scan", ".", "-f", "json", "-j", "1"], 120);
    let _ = remover.join();
    assert_sane(&r, &[&k]);
    assert_eq!(
        (r.code, paths(&r)),
        (1, vec!["keep/k.txt".to_string()]),
        "{}",
        r.stderr
    );
    for line in r.stderr.lines().filter(|l| l.contains("tmp/")) {
        assert!(line.ends_with(": No such file or directory"), "{line}");
    }
}

#[test]
fn stdin_from_dev_zero_stops_at_max_file_size() {
    let dir = tempdir();
    let mut cmd = Command::new(bin());
    cmd.args(["scan", "-", "--max-file-size", "3M"])
        .current_dir(dir.path())
        .stdin(fs::File::open("/dev/zero").expect("/dev/zero"));
    let r = run_bounded(cmd, Duration::from_secs(60)).run;
    assert_sane(&r, &[]);
    assert_eq!(r.code, 2);
    assert_eq!(
        err_lines(&r, "-: "),
        vec!["stripe-scan: -: only the first 3145728 bytes were scanned: the rest is over --max-file-size"]
    );
}

#[test]
fn config_errors_name_file_and_line_and_stop_before_anything_is_scanned() {
    let dir = tempdir();
    let d = dir.path();
    let k = key("sk_live_", 24);
    write(d, "k.txt", format!("{k}\n"));
    mkfifo(&d.join("fifo"));
    let rule = |extra: &str, prefix: &str| {
        format!(
            "[[rule]]\nid = \"acme\"\nkind = \"secret_key\"\ncharset = \"A-Za-z0-9\"\nmin_len = 20\nmax_len = 40\n{extra}[[rule.variant]]\nprefix = \"{prefix}\"\nseverity = \"high\"\nlabel = \"ACME key\"\n"
        )
    };
    let cases = [
        (
            "fail_on = \n".to_string(),
            ":1: string values must be quoted",
        ),
        (
            "[allow\npaths = []\n".to_string(),
            ":1: unclosed table, expected `]`",
        ),
        (
            "fail_on = \"high\"\ncolour = true\n".to_string(),
            ":2: unknown field `colour`",
        ),
        (
            rule("pattern = \"[a-\"\n", "acme_"),
            ":7: rule acme: pattern is not a valid regex",
        ),
        (rule("", ""), ":8: rule acme: prefix is empty"),
        (
            rule("contains = [\"\"]\n", "acme_"),
            ":2: rule acme: contains has an empty string",
        ),
        (
            rule("strong_shape = \"(\"\n", "acme_"),
            ":7: rule acme: strong_shape is not a valid regex",
        ),
        (
            rule("", "acme_").replace("A-Za-z0-9", "z-a"),
            ":4: rule acme: charset: bad range z-a",
        ),
        (
            rule("", "acme_").replace("min_len = 20", "min_len = 50"),
            ":2: rule acme: min_len (50) must be",
        ),
        (
            rule("", "sk_live_"),
            ":8: rule acme: prefix sk_live_ is already used by rule stripe-secret-key",
        ),
        ("\u{0}\u{1}binary".to_string(), ":1: key with no value"),
    ];
    for (text, want) in cases {
        write(d, ".stripe-scan.toml", &text);
        let r = bounded(d, &["scan", ".", "-o", "report.json", "-f", "json"], 60);
        assert_sane(&r, &[&k]);
        assert_eq!(r.code, 2, "{text}");
        assert_eq!(r.stdout, "");
        // One line, and nothing after it: no FIFO note, no summary, no report file.
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        let line = r.stderr.trim_end();
        assert!(
            line.starts_with("stripe-scan: .stripe-scan.toml:")
                || line.starts_with("stripe-scan: ./.stripe-scan.toml:"),
            "{line}"
        );
        assert!(line.contains(want), "want {want:?} in {line}");
        assert!(!d.join("report.json").exists());
    }
    let mut bad = vec![0xFFu8, 0xFE];
    bad.extend_from_slice(b"fail_on = 1");
    write(d, ".stripe-scan.toml", &bad);
    let r = bounded(d, &["scan", "."], 60);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(".stripe-scan.toml: not valid UTF-8"),
        "{}",
        r.stderr
    );
}

fn many_keys(d: &Path, n: usize) -> Vec<String> {
    let keys: Vec<String> = (0..n).map(|_| key("sk_live_", 24)).collect();
    for (i, k) in keys.iter().enumerate() {
        write(d, &format!("src/f{i:04}.py"), format!("KEY = '{k}'\n"));
    }
    keys
}

/// `stripe-scan scan . | head -1`: no message, no panic, and still exit 1, so `set -o pipefail`
/// fails the pipeline.
#[test]
fn stdout_closed_early_is_quiet_and_still_exits_1() {
    let dir = tempdir();
    let d = dir.path();
    let keys = many_keys(d, 400);
    let ks: Vec<&str> = keys.iter().map(String::as_str).collect();
    for format in ["text", "json"] {
        let mut child = Command::new(bin())
            .args(["scan", ".", "-f", format])
            .current_dir(d)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut first = [0u8; 16];
        child
            .stdout
            .take()
            .expect("stdout")
            .read_exact(&mut first)
            .expect("read");
        // The read end is closed here, long before 400 findings fit in a pipe.
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{format}: {stderr}");
        assert!(
            stderr.starts_with("stripe-scan: 400 keys (400 critical; 400 occurrences)"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked") && !stderr.to_lowercase().contains("broken pipe"));
        assert!(ks.iter().all(|k| !stderr.contains(k)));
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; '{}' scan . -q | head -1 >/dev/null",
            bin().display()
        ))
        .current_dir(d)
        .output()
        .expect("bash");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn output_into_a_missing_directory_fails_before_scanning() {
    let dir = tempdir();
    let d = dir.path();
    let k = key("sk_live_", 24);
    write(d, "k.txt", format!("{k}\n"));
    // Scanning would say something about the FIFO; nothing may be said but the one error.
    mkfifo(&d.join("fifo"));
    let r = bounded(d, &["scan", ".", "--output", "missing/dir/report.json"], 60);
    assert_sane(&r, &[&k]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "stripe-scan: --output missing/dir/report.json: No such file or directory\n"
    );
    let r = bounded(d, &["scan", ".", "--output", "."], 60);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("stripe-scan: --output .: "),
        "{}",
        r.stderr
    );
}

/// Regression: a key starting in the last kilobyte before the 1 MiB chunk boundary panicked in
/// the line bookkeeping (`slice index starts at … but ends at …`) and killed the whole scan.
#[test]
fn a_key_in_the_kilobyte_before_a_chunk_boundary_does_not_panic() {
    let dir = tempdir();
    let k = key("sk_live_", 24);
    let mut bytes = vec![b'x'; (1 << 20) - 500];
    bytes.push(b' ');
    bytes.extend_from_slice(k.as_bytes());
    bytes.push(b'\n');
    bytes.extend(vec![b'y'; 2 << 20]);
    write(dir.path(), "big.txt", &bytes);
    let r = bounded(dir.path(), &["scan", ".", "-f", "json"], 60);
    assert_sane(&r, &[&k]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = &r.findings()[0];
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(1), Some((1 << 20) - 498))
    );
}

/// Regression: after a UTF-8 BOM, columns were off by two (three bytes hidden, one counted).
#[test]
fn a_utf8_bom_does_not_shift_columns() {
    let dir = tempdir();
    let k = key("sk_live_", 24);
    write(dir.path(), "bom.txt", format!("\u{feff}abcd {k}\nnext {k}"));
    let r = bounded(dir.path(), &["scan", ".", "-f", "json"], 60);
    let got: Vec<(Value, Value)> = r
        .findings()
        .iter()
        .map(|f| (f["line"].clone(), f["column"].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Value::from(1), Value::from(6)),
            (Value::from(2), Value::from(6))
        ]
    );
}

/// Regression: `-j 100000` made the walker spawn that many threads: minutes before any scanning,
/// or an abort when the OS refused them.
#[test]
fn an_absurd_thread_count_is_an_error() {
    let dir = tempdir();
    let k = key("sk_live_", 24);
    write(dir.path(), "k.txt", format!("{k}\n"));
    let r = bounded(dir.path(), &["scan", ".", "-j", "100000", "-f", "json"], 60);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .contains("100000 is more than 256, the most threads stripe-scan uses"),
        "{}",
        r.stderr
    );
    let r = bounded(dir.path(), &["scan", ".", "-j", "256", "-f", "json"], 60);
    assert_sane(&r, &[&k]);
    assert_eq!((r.code, paths(&r)), (1, vec!["k.txt".to_string()]));
}

/// Regression (found by the `containers` fuzz target): a zip with no central directory whose only
/// local header says "size after the data" (flag 8, compressed size 0) and whose extra field runs
/// past the end of the file: the reader computed the member's length as `file length - data
/// start`, which underflowed (a panic in debug builds, a wrapped size in release).
#[test]
fn a_truncated_zip_whose_header_runs_past_its_end_is_one_note() {
    let dir = tempdir();
    let k = key("sk_live_", 24);
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend_from_slice(&20u16.to_le_bytes()); // version needed
    zip.extend_from_slice(&8u16.to_le_bytes()); // flags: sizes in a data descriptor
    zip.extend_from_slice(&8u16.to_le_bytes()); // method: deflate
    zip.extend_from_slice(&[0; 8]); // time, date, crc
    zip.extend_from_slice(&0u32.to_le_bytes()); // compressed size: unknown
    zip.extend_from_slice(&0u32.to_le_bytes()); // size: unknown
    zip.extend_from_slice(&5u16.to_le_bytes()); // name length
    zip.extend_from_slice(&288u16.to_le_bytes()); // extra length: past the end of the file
    zip.extend_from_slice(b"a.env");
    write(dir.path(), "cut.zip", &zip);
    write(dir.path(), "k.txt", format!("{k}\n"));
    let r = bounded(dir.path(), &["scan", ".", "-f", "json"], 60);
    assert_sane(&r, &[&k]);
    assert_eq!(
        (r.code, paths(&r)),
        (1, vec!["k.txt".to_string()]),
        "{}",
        r.stderr
    );
    assert!(
        err_lines(&r, "cut.zip")
            .iter()
            .any(|l| l.contains("no central directory")),
        "{}",
        r.stderr
    );
}
