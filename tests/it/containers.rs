//! Keys inside archives and compressed files: zip (by its bytes, whatever the name), tar, gzip,
//! bzip2, xz, zstd and containers inside containers, in `scan`, `staged` and `history`, named
//! `OUTER!MEMBER` with the line and column in the innermost member. Hostile archives (bombs,
//! overlapping entries, too many members, nesting past the limit, encryption, damage, hostile
//! names) each give one note and never a crash or a hang. Every archive is built at run time.

use crate::pack::{self, assert_at, finding_of, scan_as, Entry, Mode, MODES};
use crate::util::{key, run, tempdir, write};
use std::time::{Duration, Instant};

/// `props` with the key on line 3 at column 14 (after `stripe.key = `).
fn props(k: &str) -> String {
    format!("# built\nserver.port=8080\nstripe.key = {k}\nlogging=info\n")
}

#[test]
fn members_of_jars_office_files_and_zips_without_a_zip_name() {
    let sk = key("sk_live_", 24);
    let rk = key("rk_live_", 24);
    let pk = key("sk_test_", 24);
    let jar = pack::zip(&[
        Entry::file("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"),
        Entry::file("BOOT-INF/classes/application.properties", props(&sk)),
    ]);
    let docx = pack::zip(&[
        Entry::file("[Content_Types].xml", "<Types/>"),
        Entry::file(
            "word/document.xml",
            format!("<w:document><w:body><w:p><w:t>key: {rk}</w:t></w:p></w:body></w:document>"),
        ),
    ]);
    // A stored member: its key is in the archive's raw bytes too, and is reported once.
    let blob = pack::zip(&[Entry::stored("settings/env", format!("\nKEY={pk}\n"))]);
    for mode in MODES {
        let (_t, r) = scan_as(
            mode,
            &[
                ("dist/app.jar", &jar),
                ("docs/report.docx", &docx),
                ("backup.bin", &blob),
            ],
            &[],
        );
        assert_eq!(r.code, 1, "{mode:?}: {}", r.stderr);
        let found = r.findings();
        assert_eq!(found.len(), 3, "{mode:?}: {found:#?}");
        assert_at(
            finding_of(&found, &sk, mode),
            "dist/app.jar!BOOT-INF/classes/application.properties",
            3,
            14,
            &[],
        );
        let f = finding_of(&found, &rk, mode);
        assert_at(f, "docs/report.docx!word/document.xml", 1, 36, &[]);
        let steps = f["remediation"].to_string();
        assert!(steps.contains("rebuild it without the key"), "{steps}");
        assert_at(
            finding_of(&found, &pk, mode),
            "backup.bin!settings/env",
            2,
            5,
            &[],
        );
    }
}

#[test]
fn a_zip_inside_a_tarball_inside_gzip() {
    let k = key("rk_live_", 24);
    let zip = pack::zip(&[Entry::file(
        "env.js",
        format!("// env\nconst k = \"{k}\";\n"),
    )]);
    let tgz = pack::gzip(&pack::tar(&[
        ("b/readme.txt", b"nothing here\n", b'0'),
        ("b/c.zip", &zip, b'0'),
    ]));
    let plain_tar = pack::tar(&[("conf/.env", format!("A=1\nSTRIPE={k}\n").as_bytes(), b'0')]);
    for mode in MODES {
        let (_t, r) = scan_as(
            mode,
            &[("release/a.tgz", &tgz), ("backup.tar", &plain_tar)],
            &[],
        );
        assert_eq!(r.code, 1, "{mode:?}: {}", r.stderr);
        let found = r.findings();
        assert_eq!(found.len(), 2, "{mode:?}: {found:#?}");
        let mut paths: Vec<&str> = found.iter().filter_map(|f| f["path"].as_str()).collect();
        paths.sort();
        assert_eq!(
            paths,
            ["backup.tar!conf/.env", "release/a.tgz!b/c.zip!env.js"]
        );
        let nested = found
            .iter()
            .find(|f| f["path"] == "release/a.tgz!b/c.zip!env.js")
            .expect("nested");
        assert_eq!(
            (&nested["line"], &nested["column"]),
            (&2.into(), &12.into())
        );
        assert_eq!(nested["fingerprint"], found[0]["fingerprint"]);
    }
}

/// A single compressed file has no members: it keeps its own path, with the line and column in
/// its decompressed content, and its compression in `encoding`.
#[test]
fn rotated_logs_in_every_compression_keep_their_own_path() {
    let k = key("sk_test_", 24);
    let mut log = String::new();
    for i in 0..40 {
        log.push_str(&format!("2026-01-01T00:00:{i:02} GET /health 200\n"));
    }
    log.push_str(&format!("2026-01-01T00:01:00 POST /v1/charges auth={k}\n"));
    let data = log.as_bytes();
    let files: [(&str, Vec<u8>, &str); 5] = [
        ("logs/app.log.2.gz", pack::gzip(data), "gzip"),
        ("cache/app.log.z", pack::zlib(data), "zlib"),
        ("logs/app.log.bz2", pack::bzip2(data), "bzip2"),
        ("logs/app.log.xz", pack::xz(data), "xz"),
        ("logs/app.log.zst", pack::zstd(data), "zstd"),
    ];
    let inputs: Vec<(&str, &[u8])> = files.iter().map(|(p, d, _)| (*p, d.as_slice())).collect();
    for mode in MODES {
        let (_t, r) = scan_as(mode, &inputs, &[]);
        assert_eq!(r.code, 1, "{mode:?}: {}", r.stderr);
        let found = r.findings();
        for (path, _, how) in &files {
            let mine: Vec<_> = found.iter().filter(|f| f["path"] == *path).collect();
            assert_eq!(mine.len(), 1, "{mode:?} {path}: {found:#?}");
            assert_at(mine[0], path, 41, 43, &[how]);
        }
    }
}

/// zlib's header is two bytes, and one of them is `x^`: a text file starting so is scanned as
/// text, with no note about a damaged stream; a real zlib file cut short still gives the key in
/// what it held.
#[test]
fn text_that_starts_like_zlib_is_text_and_a_cut_zlib_file_is_read_to_the_cut() {
    let (k, k2) = (key("sk_live_", 24), key("rk_live_", 24));
    let text = format!("x^2 + y^2 = r^2\nstripe_key = {k2}\n");
    let mut log = String::new();
    for i in 0..200 {
        log.push_str(&format!(
            "2026-01-01T00:00:{:02} GET /health/{i} 200\n",
            i % 60
        ));
    }
    log.insert_str(0, &format!("auth={k}\n"));
    let z = pack::zlib(log.as_bytes());
    let cut = &z[..z.len() / 2];
    let inputs: [(&str, &[u8]); 2] = [("notes/math.md", text.as_bytes()), ("cache/log.z", cut)];
    for mode in MODES {
        let (_t, r) = scan_as(mode, &inputs, &[]);
        assert_eq!(r.code, 1, "{mode:?}: {}", r.stderr);
        let found = r.findings();
        assert_eq!(found.len(), 2, "{mode:?}: {found:#?}");
        assert_at(finding_of(&found, &k2, mode), "notes/math.md", 2, 14, &[]);
        assert_at(finding_of(&found, &k, mode), "cache/log.z", 1, 6, &["zlib"]);
        assert!(!r.stderr.contains("math.md"), "{mode:?}: {}", r.stderr);
    }
}

#[test]
fn sarif_points_at_the_archive_and_names_the_member() {
    let k = key("sk_live_", 24);
    let jar = pack::zip(&[Entry::file(
        "BOOT-INF/classes/application.properties",
        props(&k),
    )]);
    let (r, doc) = pack::sarif_of_history(&[("dist/app.jar", &jar)]);
    let result = &doc["runs"][0]["results"][0];
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "dist/app.jar");
    assert_eq!(loc["region"]["startLine"], 1);
    let message = result["message"]["text"].as_str().expect("message");
    assert!(
        message.contains("in member BOOT-INF/classes/application.properties at line 3, column 14"),
        "{message}"
    );
    let props = &result["properties"];
    assert_eq!(props["member"], "BOOT-INF/classes/application.properties");
    assert_eq!(props["member_line"], 3);
    assert_eq!(
        props["path"],
        "dist/app.jar!BOOT-INF/classes/application.properties"
    );
    assert!(!r.stdout.contains(&k[8..]));
}

/// Archives nested one past the depth limit give a note naming the limit; raising the limit in
/// `.stripe-scan.toml` reads them.
#[test]
fn nesting_past_the_depth_limit_is_a_note_until_raised() {
    let k = key("sk_live_", 24);
    let mut inner = pack::zip(&[Entry::file("env", format!("K={k}\n"))]);
    for name in ["d.zip", "c.zip", "b.zip"] {
        inner = pack::zip(&[Entry::file(name, &inner)]);
    }
    let d = tempdir();
    write(d.path(), "a.zip", &inner);
    let r = run(d.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("a.zip!b.zip!c.zip!d.zip: zip archive nested deeper")
            && r.stderr.contains("raise [limits] depth (now 3)"),
        "{}",
        r.stderr
    );
    write(d.path(), ".stripe-scan.toml", "[limits]\ndepth = 4\n");
    let r = run(d.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_at(
        finding_of(&r.findings(), &k, Mode::Scan),
        "a.zip!b.zip!c.zip!d.zip!env",
        1,
        3,
        &[],
    );
}

/// Bombs are stopped by a limit, with a note, quickly and without a crash; a key before the
/// point where a limit stopped reading is still found.
#[test]
fn bombs_are_bounded_and_said() {
    let k = key("sk_live_", 24);
    let d = tempdir();
    // 16 MB of zeros in about 16 KB: past the ratio limit.
    let mut zeros = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let block = vec![0u8; 1 << 20];
    for _ in 0..16 {
        std::io::Write::write_all(&mut zeros, &block).expect("gzip");
    }
    write(d.path(), "zeros.gz", zeros.finish().expect("gzip"));
    // One compressed block listed 5,000 times: overlapping entries.
    let mut body = format!("K={k}\n").into_bytes();
    body.resize(100_000, b' ');
    write(
        d.path(),
        "overlap.zip",
        pack::zip_overlapping("x.txt", &body, 5_000),
    );
    // 30,000 members, the key in the first: past the member limit.
    let mut many = vec![Entry::stored("first.env", format!("K={k}\n"))];
    for i in 0..30_000 {
        many.push(Entry::stored(&format!("m/{i}"), "x"));
    }
    write(d.path(), "many.zip", pack::zip(&many));
    let started = Instant::now();
    let r = run(d.path(), &["scan", ".", "--format", "json"]);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let paths: Vec<String> = r
        .findings()
        .iter()
        .map(|f| f["path"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        paths.contains(&"many.zip!first.env".to_string()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"overlap.zip!x.txt".to_string()),
        "{paths:?}"
    );
    for (file, words) in [
        ("zeros.gz", "raise [limits] ratio"),
        ("overlap.zip", "overlap"),
        ("many.zip", "more than 20000 members"),
    ] {
        let line = r
            .stderr
            .lines()
            .find(|l| l.contains(&format!("{file}: ")))
            .unwrap_or_else(|| panic!("no note for {file}: {}", r.stderr));
        assert!(line.contains(words), "{line}");
    }
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

/// Encrypted, damaged and truncated archives, symlinks and hostile member names: one line each
/// (`path: cause`), exit by what was found, and the raw bytes still scanned.
#[test]
fn hostile_and_damaged_archives_are_one_line_each() {
    let k = key("sk_live_", 24);
    let k2 = key("rk_live_", 24);
    let d = tempdir();
    let mut locked = Entry::stored("secret.txt", "encrypted bytes");
    locked.encrypted = true;
    write(d.path(), "locked.zip", pack::zip(&[locked]));
    let mut link = Entry::stored("link", "/etc/passwd");
    link.symlink = true;
    write(d.path(), "links.zip", pack::zip(&[link]));
    let odd = pack::zip(&[Entry::file("../../escape\n.env", format!("K={k2}\n"))]);
    write(d.path(), "odd.zip", &odd);
    // A stored member whose archive lost its end: the raw bytes still hold the key.
    let whole = pack::zip(&[Entry::stored("a.env", format!("K={k}\n"))]);
    write(d.path(), "cut.zip", &whole[..whole.len() - 30]);
    let noise = crate::util::random_from(crate::util::ALNUM, 4000);
    let tgz = pack::gzip(&pack::tar(&[("x", noise.as_bytes(), b'0')]));
    write(d.path(), "cut.tgz", &tgz[..tgz.len() / 2]);
    let r = run(d.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let found = r.findings();
    assert_eq!(
        finding_of(&found, &k2, Mode::Scan)["path"],
        "odd.zip!../../escape\\n.env"
    );
    assert!(finding_of(&found, &k, Mode::Scan)["path"]
        .as_str()
        .is_some_and(|p| p.starts_with("cut.zip")));
    for (file, words) in [
        ("locked.zip", "encrypted"),
        ("links.zip", "symbolic link"),
        ("odd.zip", "`..`"),
        ("cut.tgz", "truncated"),
    ] {
        assert!(
            r.stderr
                .lines()
                .any(|l| l.contains(&format!("{file}: ")) && l.contains(words)),
            "{file}: {}",
            r.stderr
        );
    }
}
