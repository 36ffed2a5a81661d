//! The fast path, proved: `history` reads packs with its own reader, and the same scan with
//! `STRIPE_SCAN_OBJECT_READER=libgit2` (libgit2 reads every object) must report exactly the same
//! findings, on repositories real git lays out in every way it does: several packs, loose
//! objects, kept fetch packs (REF_DELTA), alternates, multi-pack indexes, deep delta chains, and
//! a pack that does not match its index (and the git binary, a third reader, agrees with both). `STRIPE_SCAN_STATS=1` prints how often the fast path
//! gave up; on a `git gc`'d repository that is never.

use crate::hostile::run_bounded;
use crate::util::{bin, commit, git, git_init, key, repo, tempdir, write, Run};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use stripe_scan::secret::fingerprint_of;

fn history_with(dir: &Path, reader: Option<&str>) -> Run {
    let mut c = Command::new(bin());
    c.args(["history", "--format", "json"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("STRIPE_SCAN_STATS", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES");
    match reader {
        Some(r) => c.env("STRIPE_SCAN_OBJECT_READER", r),
        None => c.env_remove("STRIPE_SCAN_OBJECT_READER"),
    };
    run_bounded(c, Duration::from_secs(120)).run
}

/// The fast-path fallback count the run printed.
fn fallbacks(r: &Run) -> u64 {
    let line = r
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("stripe-scan: fast-path fallbacks: "))
        .unwrap_or_else(|| panic!("no fallback count:\n{}", r.stderr));
    line.split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a count: {line}"))
}

fn has(r: &Run, secret: &str) -> bool {
    let fp = fingerprint_of(secret.as_bytes());
    r.findings().iter().any(|f| f["fingerprint"] == fp.as_str())
}

/// `fast_and_libgit2_agree`, and the git binary, which shares no reading code with either,
/// agrees too.
fn same_findings(dir: &Path, keys: &[&str]) -> Run {
    let fast = fast_and_libgit2_agree(dir, keys);
    let git = history_with(dir, Some("git"));
    assert_eq!(git.code, fast.code, "git reader:\n{}", git.stderr);
    assert_eq!(
        git.findings(),
        fast.findings(),
        "git reader:\n{}",
        git.stderr
    );
    fast
}

/// Runs both readers on `dir`; their findings (the whole JSON of each) and exit codes must be
/// the same, and every key in `keys` found. Returns the fast run.
fn fast_and_libgit2_agree(dir: &Path, keys: &[&str]) -> Run {
    let fast = history_with(dir, None);
    let slow = history_with(dir, Some("libgit2"));
    assert!(
        slow.stderr.contains("fast path off"),
        "the switch is visible:\n{}",
        slow.stderr
    );
    assert_eq!(
        fast.code, slow.code,
        "exit codes differ\nfast:\n{}\nlibgit2:\n{}",
        fast.stderr, slow.stderr
    );
    let (f, s) = (fast.findings(), slow.findings());
    assert!(!f.is_empty(), "nothing found:\n{}", fast.stderr);
    assert_eq!(
        f, s,
        "findings differ\nfast stderr:\n{}\nlibgit2 stderr:\n{}",
        fast.stderr, slow.stderr
    );
    for k in keys {
        assert!(has(&fast, k), "key missing:\n{}", fast.stdout);
    }
    fast
}

/// A text file that changes a little in every commit (so packs hold it as deltas), with a key
/// on line `i + 1` of version `i` for each `i` in `keyed`.
fn edits(dir: &Path, file: &str, versions: usize, keyed: &[(usize, &str)]) {
    let mut lines: Vec<String> = (0..200).map(|j| format!("line {j} of {file}")).collect();
    for i in 0..versions {
        lines[(i * 7) % 200] = format!("line edited in version {i}");
        if let Some((_, k)) = keyed.iter().find(|(v, _)| *v == i) {
            lines[i % 200] = format!("KEY = \"{k}\"");
        }
        write(dir, file, lines.join("\n") + "\n");
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", &format!("{file} v{i}")]);
    }
}

fn pack_files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join(".git/objects/pack"))
        .expect("pack dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

fn loose_count(dir: &Path) -> usize {
    std::fs::read_dir(dir.join(".git/objects"))
        .expect("objects")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().len() == 2)
        .map(|e| std::fs::read_dir(e.path()).map_or(0, |d| d.count()))
        .sum()
}

#[test]
fn several_packs_and_loose_objects_read_alike_and_gc_leaves_no_fallback() {
    let t = repo();
    let d = t.path();
    let keys: Vec<String> = (0..4).map(|_| key("sk_live_", 24)).collect();
    edits(d, "a.py", 30, &[(3, &keys[0])]);
    git(d, &["repack", "-dq"]);
    edits(d, "b.py", 30, &[(10, &keys[1])]);
    git(d, &["repack", "-dq"]);
    edits(d, "a.py", 10, &[(5, &keys[2])]);
    git(d, &["repack", "-dq"]);
    // Loose, on top of three packs.
    edits(d, "c.py", 5, &[(2, &keys[3])]);
    assert!(pack_files(d, "pack").len() >= 3);
    assert!(loose_count(d) > 0);
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let r = same_findings(d, &refs);
    assert!(fallbacks(&r) > 0, "loose objects are read by libgit2");

    git(d, &["gc", "-q"]);
    assert_eq!(loose_count(d), 0);
    let r = same_findings(d, &refs);
    assert_eq!(r.code, 1);
    assert_eq!(fallbacks(&r), 0, "{}", r.stderr);
}

#[test]
fn deep_delta_chains_read_alike_without_fallback() {
    let t = repo();
    let d = t.path();
    let early = key("sk_live_", 24);
    let late = key("rk_live_", 24);
    edits(d, "deep.txt", 300, &[(1, &early), (290, &late)]);
    git(d, &["repack", "-adfq", "--depth=250", "--window=250"]);
    let stats = git(
        d,
        &[
            "verify-pack",
            "-s",
            pack_files(d, "idx")[0].to_str().expect("utf-8"),
        ],
    );
    assert!(
        stats.lines().any(|l| l.starts_with("chain length = 2")),
        "chains are deep: {stats}"
    );
    let r = same_findings(d, &[&early, &late]);
    assert_eq!(fallbacks(&r), 0, "{}", r.stderr);
}

#[test]
fn kept_fetch_packs_with_ref_deltas_alternates_and_a_midx_read_alike() {
    let up = repo();
    let u = up.path();
    let first = key("sk_live_", 24);
    edits(u, "app.py", 20, &[(4, &first)]);
    let work = tempdir();
    let w = work.path().join("clone");
    let url = format!("file://{}", u.display());
    git(
        work.path(),
        &["clone", "-q", &url, w.to_str().expect("utf-8")],
    );
    // More edits upstream, fetched as a thin pack: index-pack completes it with REF_DELTA bases.
    let fetched = key("sk_live_", 24);
    edits(u, "app.py", 20, &[(7, &fetched)]);
    git(&w, &["-c", "fetch.unpackLimit=1", "fetch", "-q", "origin"]);
    git(&w, &["merge", "-q", "--ff-only", "origin/main"]);
    // And a small fetch left loose.
    let loose = key("rk_live_", 24);
    edits(u, "app.py", 2, &[(1, &loose)]);
    git(
        &w,
        &["-c", "fetch.unpackLimit=1000", "fetch", "-q", "origin"],
    );
    git(&w, &["merge", "-q", "--ff-only", "origin/main"]);
    assert!(pack_files(&w, "pack").len() >= 2);

    // A clone borrowing those objects through alternates, with its own commits and packs.
    let shared = work.path().join("shared");
    git(
        work.path(),
        &[
            "clone",
            "-q",
            "--shared",
            w.to_str().expect("utf-8"),
            shared.to_str().expect("utf-8"),
        ],
    );
    assert!(shared.join(".git/objects/info/alternates").is_file());
    let own = key("sk_live_", 24);
    edits(&shared, "app.py", 10, &[(3, &own)]);
    git(&shared, &["repack", "-dq"]);
    edits(&shared, "mine.py", 3, &[]);
    git(&shared, &["repack", "-dq", "--write-midx"]);
    assert!(shared.join(".git/objects/pack/multi-pack-index").is_file());

    same_findings(&w, &[&first, &fetched, &loose]);
    same_findings(&shared, &[&first, &fetched, &loose, &own]);
    git(&w, &["repack", "-adq", "--write-midx"]);
    let r = same_findings(&w, &[&first, &fetched, &loose]);
    assert_eq!(fallbacks(&r), 0, "{}", r.stderr);
}

#[test]
fn a_pack_whose_trailer_does_not_match_its_index_is_named_and_read_by_neither() {
    let t = repo();
    let d = t.path();
    let packed = key("sk_live_", 24);
    edits(d, "a.py", 10, &[(2, &packed)]);
    git(d, &["repack", "-adq"]);
    let loose = key("rk_live_", 24);
    edits(d, "b.py", 3, &[(1, &loose)]);
    let pack = pack_files(d, "pack").remove(0);
    let mut bytes = std::fs::read(&pack).expect("read pack");
    let n = bytes.len();
    bytes[n - 1] ^= 0xff;
    std::fs::remove_file(&pack).expect("rm pack");
    std::fs::write(&pack, bytes).expect("write pack");

    // git itself refuses the pack, and with it the commits it holds: it cannot walk the history.
    let r = fast_and_libgit2_agree(d, &[&loose]);
    // Findings decide the exit code; the summary counts the errors.
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.json()["summary"]["errors"].as_u64() > Some(0),
        "{}",
        r.stdout
    );
    assert!(!has(&r, &packed));
    let name = pack.file_name().and_then(|n| n.to_str()).expect("name");
    let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains(name)).collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].contains("does not match its index"),
        "{}",
        lines[0]
    );
}

/// A FIFO at `path`.
fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().expect("utf-8")).expect("no NUL");
    // SAFETY: a valid NUL-terminated path.
    let r = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(r, 0, "mkfifo {}", path.display());
}

#[test]
fn a_fifo_or_an_orphan_named_like_a_pack_index_never_hangs_the_scan() {
    let t = repo();
    let d = t.path();
    let k = key("sk_live_", 24);
    edits(d, "a.py", 5, &[(1, &k)]);
    git(d, &["gc", "-q"]);
    let dir = d.join(".git/objects/pack");
    let real_idx = pack_files(d, "idx").remove(0);

    // Alone, as git sees them: no `.pack` beside them, so they are passed over in silence.
    mkfifo(&dir.join("pack-1111111111111111111111111111111111111111.idx"));
    std::fs::copy(
        &real_idx,
        dir.join("pack-2222222222222222222222222222222222222222.idx"),
    )
    .expect("copy idx");
    let r = history_with(d, None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(has(&r, &k));
    assert!(!r.stderr.contains("pack-1111"), "{}", r.stderr);
    assert!(!r.stderr.contains("pack-2222"), "{}", r.stderr);
    assert_eq!(fallbacks(&r), 0, "{}", r.stderr);

    // Beside a real pack, a FIFO index would block git itself: one line, exit 2, no hang.
    let fifo = dir.join("pack-3333333333333333333333333333333333333333.idx");
    mkfifo(&fifo);
    std::fs::copy(real_idx.with_extension("pack"), fifo.with_extension("pack")).expect("copy");
    let r = history_with(d, None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let lines: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("pack-3333"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].contains("a FIFO where a pack index belongs"),
        "{}",
        lines[0]
    );
}

#[test]
fn a_damaged_index_is_named_as_the_index_not_its_pack() {
    let t = repo();
    let d = t.path();
    let k = key("sk_live_", 24);
    edits(d, "a.py", 5, &[(1, &k)]);
    git(d, &["gc", "-q"]);
    let idx = pack_files(d, "idx").remove(0);
    let bytes = std::fs::read(&idx).expect("read idx");
    std::fs::remove_file(&idx).expect("rm idx");
    std::fs::write(&idx, &bytes[..bytes.len() / 3]).expect("write idx");

    let r = history_with(d, None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let idx_name = idx.file_name().and_then(|n| n.to_str()).expect("name");
    let pack_name = idx
        .with_extension("pack")
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name")
        .to_string();
    let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains(idx_name)).collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(lines[0].contains("truncated pack index"), "{}", lines[0]);
    assert!(!r.stderr.contains(&pack_name), "{}", r.stderr);
}

#[test]
fn an_unknown_reader_is_a_usage_error() {
    let t = repo();
    let d = t.path();
    commit(d, &[("a.txt", "a\n")], "c1");
    let r = history_with(d, Some("fast-ish"));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("STRIPE_SCAN_OBJECT_READER=\"fast-ish\""),
        "{}",
        r.stderr
    );
}

#[test]
fn an_aggressively_packed_repository_reads_alike_without_fallback() {
    let t = tempdir();
    let d = t.path();
    git_init(d);
    let k = key("sk_live_", 24);
    edits(d, "x.py", 40, &[(20, &k)]);
    git(d, &["gc", "-q", "--aggressive"]);
    let r = same_findings(d, &[&k]);
    assert_eq!(fallbacks(&r), 0, "{}", r.stderr);
}

#[test]
fn a_fifo_in_place_of_the_index_never_hangs_staged() {
    let t = repo();
    let d = t.path();
    commit(d, &[("a.txt", "a\n")], "c1");
    let index = d.join(".git/index");
    std::fs::remove_file(&index).expect("rm index");
    mkfifo(&index);
    let mut c = Command::new(bin());
    c.args(["staged", "--format", "json"])
        .current_dir(d)
        .stdin(Stdio::null())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE");
    let r = run_bounded(c, Duration::from_secs(60)).run;
    assert_eq!(r.code, 2, "{}", r.stderr);
    let lines: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains(".git/index"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].contains("a FIFO where the index belongs"),
        "{}",
        lines[0]
    );
}
