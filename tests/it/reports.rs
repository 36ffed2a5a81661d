//! Reports people and machines act on: text, JSON, SARIF validated against the
//! official schema, GitHub annotations and the job summary, baselines, allowlists, and the rule
//! that no report ever holds a key unless `--show-secrets` asks for it (and SARIF/GitHub never).

use crate::util::{
    git, git_init, key, key99, random_from, run, run_env, tempdir, write, Run, WORD,
};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> PathBuf {
    crate::util::bin()
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

/// The redacted form the reports print: prefix, first and last four body characters.
fn redacted(k: &str, prefix: &str) -> String {
    let body = &k[prefix.len()..];
    let n = (body.len() / 4).min(4);
    format!("{prefix}{}…{}", &body[..n], &body[body.len() - n..])
}

/// A Stripe documentation example key, assembled at run time so no file holds it whole.
pub(crate) fn public_example() -> String {
    ["sk_test_", "4eC39HqLyjW", "DarjtT1zdp7dc"].concat()
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

#[test]
fn text_shows_each_finding_most_severe_first_with_its_masked_line_and_steps() {
    let dir = tempdir();
    let live = key("sk_live_", 24);
    let restricted = key("rk_live_", 24);
    let restricted2 = key("rk_live_", 24);
    let test = key("sk_test_", 24);
    // The test key's file sorts first by path; severity puts it last.
    write(dir.path(), "a_fixture.py", format!("KEY = '{test}'\n"));
    write(
        dir.path(),
        "config/app.env",
        format!("A=1\nRK={restricted}\n    STRIPE_SECRET_KEY = \"{live}\"\n"),
    );
    write(
        dir.path(),
        "deploy.sh",
        format!("export RK={restricted2}\n"),
    );
    let r = run(dir.path(), &["scan", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        !r.stdout.contains('\x1b'),
        "colour when piped:\n{}",
        r.stdout
    );
    let out = lines(&r.stdout);
    assert_eq!(
        out[0],
        format!(
            "config/app.env:3:26: live secret key {} [critical]",
            redacted(&live, "sk_live_")
        ),
        "{}",
        r.stdout
    );
    // The line the key is on, indentation dropped, the key redacted.
    assert_eq!(
        out[1],
        format!(
            "    │ STRIPE_SECRET_KEY = \"{}\"",
            redacted(&live, "sk_live_")
        )
    );
    assert!(out[2].trim_start().starts_with("sha256:"), "{}", out[2]);
    assert_eq!(out[3], "    What to do (in the working tree):");
    assert!(
        out[4].starts_with("      1. Remove the key from the file"),
        "{}",
        out[4]
    );
    assert!(
        r.stdout.contains("Roll key…, expiration Now"),
        "the kind's steps are spliced into the place's:\n{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("OAuth"),
        "the Connect OAuth step does not apply to a STRIPE_SECRET_KEY line:\n{}",
        r.stdout
    );
    let headers: Vec<&str> = out
        .iter()
        .copied()
        .filter(|l| !l.starts_with(' ') && l.contains(": "))
        .filter(|l| !l.starts_with("Not a real key"))
        .collect();
    assert_eq!(headers.len(), 4, "{}", r.stdout);
    assert!(headers[1].starts_with("config/app.env:2:4: live restricted key"));
    assert!(headers[2].starts_with("deploy.sh:1:11: live restricted key"));
    assert!(
        headers[3].starts_with("a_fixture.py:1:8: test secret key"),
        "most severe first, then by path: {headers:#?}"
    );
    let second = out
        .iter()
        .position(|l| l.starts_with("deploy.sh:1:11:"))
        .expect("second restricted key");
    assert_eq!(out[second - 1], "", "a blank line between findings");
    assert_eq!(
        out[second + 3],
        "    What to do: the same steps as for config/app.env:2:4 above."
    );
    let hint = out
        .iter()
        .filter(|l| l.starts_with("Not a real key"))
        .count();
    assert_eq!(
        hint, 1,
        "the false-positive hint once per run:\n{}",
        r.stdout
    );
    assert!(
        r.stderr.contains(
            "stripe-scan: 4 keys (1 critical, 2 high, 1 medium; 4 occurrences) in 3 files"
        ),
        "{}",
        r.stderr
    );
    // Every key shape on the line is masked, not only the one reported.
    assert!(!r.stdout.contains(&live[8..]) && !r.stdout.contains(&restricted[8..]));
}

#[test]
fn below_fail_on_findings_say_so() {
    let dir = tempdir();
    let live = key("sk_live_", 24);
    let restricted = key("rk_live_", 24);
    write(
        dir.path(),
        "app.env",
        format!("SK={live}\nRK={restricted}\n"),
    );
    let r = run(dir.path(), &["scan", "--fail-on", "critical", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out = lines(&r.stdout);
    let rk = out
        .iter()
        .find(|l| l.starts_with("app.env:2:4:"))
        .expect("restricted key line");
    assert!(
        rk.ends_with("[high] (reported, does not fail: below --fail-on critical)"),
        "{rk}"
    );
    let sk = out
        .iter()
        .find(|l| l.starts_with("app.env:1:4:"))
        .expect("secret key line");
    assert!(!sk.contains("does not fail"), "{sk}");
    // A run with only findings below --fail-on reports them and passes.
    write(dir.path(), "app.env", format!("RK={restricted}\n"));
    let r = run(dir.path(), &["scan", "--fail-on", "critical", "."]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("[high] (reported, does not fail: below --fail-on critical)"),
        "{}",
        r.stdout
    );
}

#[test]
fn quiet_prints_one_line_per_key() {
    let dir = tempdir();
    write(
        dir.path(),
        "a.env",
        format!("K={}\nR={}\n", key("sk_live_", 24), key("rk_test_", 24)),
    );
    let r = run(dir.path(), &["scan", "--quiet", "."]);
    assert_eq!(r.code, 1);
    let out = lines(&r.stdout);
    assert_eq!(out.len(), 2, "{}", r.stdout);
    assert!(
        out[0].starts_with("a.env:1:3: live secret key sk_live_"),
        "{}",
        out[0]
    );
    assert!(
        out[1].starts_with("a.env:2:3: test restricted key rk_test_"),
        "{}",
        out[1]
    );
    assert_eq!(r.stderr, "", "no summary with --quiet");
}

/// Runs the binary under a pseudo-terminal (util-linux `script`), so stdout is a terminal.
fn run_in_pty(dir: &Path, args: &str, env: &[(&str, &str)]) -> Option<String> {
    if Command::new("script").arg("--version").output().is_err() {
        skip_or_fail("`script` (util-linux) is not installed");
        return None;
    }
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &format!("{} {args}", bin().display()), "/dev/null"])
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .env("TERM", "xterm");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run script");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let dir = tempdir();
    write(
        dir.path(),
        "a.env",
        format!("K={}\nR={}\n", key("sk_live_", 24), key("rk_live_", 24)),
    );
    let Some(tty) = run_in_pty(dir.path(), "scan .", &[]) else {
        return;
    };
    assert!(tty.contains("a.env:1:3"), "{tty}");
    // Critical and high look different.
    assert!(
        tty.contains("\x1b[1;97;41mcritical\x1b[0m"),
        "no colour on a terminal:\n{tty:?}"
    );
    assert!(tty.contains("\x1b[1;31mhigh\x1b[0m"), "{tty:?}");
    for (what, env, args) in [
        ("NO_COLOR", [("NO_COLOR", "1")], "scan ."),
        ("TERM=dumb", [("TERM", "dumb")], "scan ."),
        ("--color never", [("X", "")], "--color never scan ."),
    ] {
        let Some(plain) = run_in_pty(dir.path(), args, &env) else {
            return;
        };
        assert!(plain.contains("a.env:1:3"), "{plain}");
        assert!(!plain.contains('\x1b'), "colour despite {what}:\n{plain:?}");
    }
    // An empty NO_COLOR does not count (no-color.org).
    let Some(empty) = run_in_pty(dir.path(), "scan .", &[("NO_COLOR", "")]) else {
        return;
    };
    assert!(empty.contains('\x1b'), "{empty:?}");
    // --color always colours a pipe; any option position works, as with git.
    let r = run(dir.path(), &["scan", "--color", "always", "."]);
    assert!(r.stdout.contains("\x1b[1;97;41mcritical"), "{}", r.stdout);
    let r = run(dir.path(), &["scan", "--color=sometimes", "."]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("[possible values: auto, always, never]"),
        "{}",
        r.stderr
    );
    // A terminal wraps long steps at its width; a pipe keeps whole lines.
    let Some(narrow) = run_in_pty(dir.path(), "scan .", &[("COLUMNS", "60")]) else {
        return;
    };
    let steps: Vec<&str> = narrow
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.starts_with("      "))
        .collect();
    assert!(steps.len() > 6, "{narrow}");
    assert!(
        steps.iter().all(|l| l.chars().count() <= 60),
        "steps wrap at the terminal's width:\n{narrow}"
    );
    let piped = run_env(dir.path(), &["scan", "."], &[("COLUMNS", "60")]);
    assert!(
        piped.stdout.lines().any(|l| l.chars().count() > 60),
        "{}",
        piped.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

#[test]
fn json_carries_place_remediation_and_suppression_counts() {
    let dir = tempdir();
    write(
        dir.path(),
        "a.env",
        format!(
            "K={}\nOK={} # stripe-scan:allow\n",
            key("rk_live_", 24),
            key("sk_live_", 24)
        ),
    );
    let r = run(dir.path(), &["scan", "--format", "json", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    let f = &doc["findings"][0];
    assert_eq!(f["place"], "working_tree");
    let steps: Vec<&str> = f["remediation"]
        .as_array()
        .expect("remediation")
        .iter()
        .map(|s| s.as_str().expect("step"))
        .collect();
    assert!(
        steps[0].starts_with("Remove the key from the file"),
        "{steps:?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.contains("Restricted keys → ⋯ → Roll key…")),
        "{steps:?}"
    );
    assert_eq!(doc["summary"]["findings"], 1);
    assert_eq!(doc["summary"]["suppressed"], 1);
    assert_eq!(doc["summary"]["suppressed_by"]["inline"], 1);
    assert_eq!(doc["summary"]["suppressed_by"]["baseline"], 0);
}

// ---------------------------------------------------------------------------------------------
// SARIF
// ---------------------------------------------------------------------------------------------

fn skip_or_fail(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}; CI must install it (see .ci/run)");
    }
    eprintln!("skipped: {why} (CI=true makes this a failure)");
}

fn sarif_schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(
        ".ci/node/node_modules/@microsoft/sarif-matcher-utils/lib/schemas/sarif-2.1.0-rtm.5.json",
    )
}

const VALIDATE: &str = r#"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
v = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
errors = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors:
    print("/".join(str(p) for p in e.absolute_path), ":", e.message[:300])
sys.exit(1 if errors else 0)
"#;

/// Validates `sarif` against the official SARIF 2.1.0 schema. False when the tools are missing
/// (and CI is not set).
pub(crate) fn validate_sarif(sarif: &Path) -> bool {
    let schema = sarif_schema();
    if !schema.is_file() {
        skip_or_fail(&format!(
            "SARIF schema not found at {} (npm install --prefix .ci/node @microsoft/sarif-matcher-utils)",
            schema.display()
        ));
        return false;
    }
    let has_jsonschema = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_jsonschema {
        skip_or_fail(
            "python3 with jsonschema is not available (python3 -m pip install jsonschema)",
        );
        return false;
    }
    let out = Command::new("python3")
        .args(["-c", VALIDATE])
        .arg(&schema)
        .arg(sarif)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{} is not valid SARIF 2.1.0:\n{}{}",
        sarif.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex digit"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn sarif_is_valid_and_has_what_code_scanning_needs() {
    let dir = tempdir();
    let live = key("sk_live_", 24);
    let test = key99("sk_test_");
    let hostile = "my dir/a,b:c%d#e.env";
    write(
        dir.path(),
        "app.py",
        format!("import stripe\nstripe.api_key = \"{live}\"\n"),
    );
    write(dir.path(), hostile, format!("  KEY={test}\n"));
    write(
        dir.path(),
        "docs.md",
        format!("Example: {}\n", public_example()),
    );
    let r = run(
        dir.path(),
        &["scan", "--format", "sarif", "--fail-on", "high", "."],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let path = dir.path().join("out.sarif");
    std::fs::write(&path, &r.stdout).expect("write sarif");
    validate_sarif(&path);

    let doc: Value = serde_json::from_str(&r.stdout).expect("SARIF is JSON");
    assert_eq!(doc["version"], "2.1.0");
    let run0 = &doc["runs"][0];
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["name"], "stripe-scan");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().expect("rules");
    for rule in rules {
        let id = rule["id"].as_str().expect("id");
        for field in ["shortDescription", "fullDescription"] {
            assert!(
                rule[field]["text"].as_str().is_some_and(|t| !t.is_empty()),
                "{id} {field}"
            );
        }
        assert!(
            rule["help"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("1. ")),
            "{id}"
        );
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .is_some_and(|t| t.contains("1. ")),
            "{id}"
        );
        let sev: f64 = rule["properties"]["security-severity"]
            .as_str()
            .expect("security-severity is a string")
            .parse()
            .expect("a number");
        assert!((0.0..=10.0).contains(&sev), "{id}");
        let tags = rule["properties"]["tags"].as_array().expect("tags");
        assert!(
            tags.iter().any(|t| t == "security"),
            "{id}: code scanning needs the security tag"
        );
    }
    let rule = |id: &str| {
        rules
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no rule {id}"))
    };
    assert_eq!(
        rule("stripe-secret-key/sk_live")["properties"]["security-severity"],
        "9.5"
    );
    assert_eq!(
        rule("stripe-secret-key/sk_test")["properties"]["security-severity"],
        "5.5"
    );
    assert_eq!(
        rule("stripe-restricted-key/rk_live")["properties"]["security-severity"],
        "8.0"
    );
    assert_eq!(
        rule("stripe-publishable-key/pk_live")["properties"]["security-severity"],
        "3.0"
    );
    assert_eq!(
        rule("stripe-secret-key/sk_test/public-example")["properties"]["security-severity"],
        "0.0"
    );
    let help = rule("stripe-restricted-key/rk_live")["help"]["text"]
        .as_str()
        .expect("help");
    for place in [
        "Staged, not committed yet:",
        "In the working tree:",
        "Committed, not pushed yet:",
        "In git history:",
    ] {
        assert!(help.contains(place), "help lacks {place}:\n{help}");
    }
    assert!(help.contains("git filter-repo --replace-text"), "{help}");

    let results = run0["results"].as_array().expect("results");
    assert_eq!(results.len(), 3, "{results:#?}");
    let by_uri = |uri: &str| {
        results
            .iter()
            .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri)
            .unwrap_or_else(|| panic!("no result at {uri}: {results:#?}"))
    };
    let live_result = by_uri("app.py");
    assert_eq!(live_result["ruleId"], "stripe-secret-key/sk_live");
    assert_eq!(
        rules[live_result["ruleIndex"].as_u64().expect("index") as usize]["id"],
        "stripe-secret-key/sk_live"
    );
    assert_eq!(live_result["level"], "error");
    let loc = &live_result["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["startColumn"], 19);
    assert_eq!(loc["region"]["endColumn"], 19 + live.len() as u64);
    let fp = stripe_scan::secret::fingerprint_of(live.as_bytes());
    assert_eq!(
        live_result["partialFingerprints"]["stripeKeyFingerprint/v1"],
        fp.strip_prefix("sha256:").expect("prefix")
    );
    let msg = live_result["message"]["text"].as_str().expect("message");
    assert!(msg.starts_with("Stripe live secret key sk_live_"), "{msg}");
    assert!(
        msg.contains("in the working tree") && msg.contains("\n1. Remove the key"),
        "{msg}"
    );

    let encoded = "my%20dir/a%2Cb%3Ac%25d%23e.env";
    let test_result = by_uri(encoded);
    assert_eq!(percent_decode(encoded), hostile);
    assert_eq!(
        test_result["level"], "warning",
        "medium is below --fail-on high"
    );
    assert_eq!(
        test_result["locations"][0]["physicalLocation"]["region"]["startColumn"],
        7
    );
    let example = by_uri("docs.md");
    assert_eq!(example["level"], "note");
    assert_eq!(
        example["ruleId"],
        "stripe-secret-key/sk_test/public-example"
    );

    assert_eq!(run0["invocations"][0]["executionSuccessful"], true);
    assert_eq!(run0["properties"]["summary"]["findings"], 3);
    for k in [&live, &test] {
        assert!(
            !r.stdout.contains(k.as_str()),
            "a key is in the SARIF output"
        );
    }
}

#[test]
fn sarif_output_is_written_beside_the_main_format_and_counts_suppressions() {
    let dir = tempdir();
    let k = key("rk_live_", 24);
    write(dir.path(), "a.env", format!("K={k}\n"));
    write(
        dir.path(),
        "vendor/b.env",
        format!("K={}\n", key("sk_live_", 24)),
    );
    write(
        dir.path(),
        ".stripe-scan.toml",
        "[allow]\npaths = [\"vendor/\"]\n",
    );
    let sarif = dir.path().join("x.sarif");
    let r = run(
        dir.path(),
        &[
            "scan",
            "--format",
            "github",
            "--sarif-output",
            sarif.to_str().expect("utf-8"),
            ".",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("::error file=a.env,line=1,col=3,"),
        "{}",
        r.stdout
    );
    validate_sarif(&sarif);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).expect("sarif written"))
        .expect("JSON");
    let run0 = &doc["runs"][0];
    assert_eq!(run0["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(run0["properties"]["summary"]["suppressed"], 1);
    assert_eq!(run0["properties"]["summary"]["suppressed_by"]["path"], 1);
    assert!(
        r.stderr.contains("1 suppressed (1 by path)"),
        "{}",
        r.stderr
    );

    // An unwritable SARIF path is an error of its own: exit 2 when nothing was found.
    write(dir.path(), "a.env", "clean\n");
    let r = run(
        dir.path(),
        &["scan", "--sarif-output", "no/such/dir/x.sarif", "."],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("stripe-scan: --sarif-output no/such/dir/x.sarif: "),
        "{}",
        r.stderr
    );
}

#[test]
fn sarif_for_history_findings_names_the_commit_and_validates() {
    use stripe_scan::finding::{CommitInfo, Finding};
    use stripe_scan::paths::Frame;
    use stripe_scan::report::{sarif, Report, Summary};
    use stripe_scan::rules::{Place, RuleSet};
    use stripe_scan::secret::Secret;
    use stripe_scan::severity::{Confidence, Severity};

    let rules = RuleSet::builtin().expect("rules");
    let (r, v) = rules
        .rules
        .iter()
        .enumerate()
        .find_map(|(r, rule)| {
            rule.variants
                .iter()
                .position(|v| v.prefix == b"whsec_")
                .map(|v| (r, v))
        })
        .expect("whsec_ rule");
    let k = key("whsec_", 32);
    let finding = Finding {
        rule: r,
        variant: v,
        path: "server/hooks.py".into(),
        line: 7,
        column: 5,
        secret: Secret::new(k.clone().into_bytes(), 6),
        excerpt: format!(
            "STRIPE_WEBHOOK_SECRET = \"{}\"",
            Secret::new(k.clone().into_bytes(), 6).redacted()
        ),
        confidence: Confidence::High,
        public_example: false,
        inline_allowed: false,
        place: Place::History,
        commit: Some(CommitInfo {
            id: "0123456789abcdef0123456789abcdef01234567".into(),
            author: "Ada Tester <ada@example.com>".into(),
            date: "2024-01-02T03:04:05Z".into(),
            still_in_head: Some(false),
            tag: None,
        }),
        known_elsewhere: false,
        verification: None,
        encoding: Vec::new(),
        member_at: None,
    };
    // Debug output (logs, panics) shows the redacted key only.
    let debug = format!("{finding:?}");
    assert!(
        !debug.contains(&k[6..]) && debug.contains(&finding.secret.redacted()),
        "Debug leaks the key"
    );
    let summary = Summary {
        findings: 1,
        commits: Some(3),
        ..Summary::default()
    };
    let report = Report {
        findings: std::slice::from_ref(&finding),
        rules: &rules,
        summary: &summary,
        show_secrets: true,
        fail_on: Severity::Low,
        frame: &Frame::default(),
        fail_on_verified: false,
    };
    let doc = sarif::document(&report);
    let text = serde_json::to_string_pretty(&doc).expect("json");
    assert!(
        !text.contains(&k),
        "SARIF holds the key even with show_secrets"
    );
    let dir = tempdir();
    let path = write(dir.path(), "h.sarif", &text);
    validate_sarif(&path);
    let result = &doc["runs"][0]["results"][0];
    let props = &result["properties"];
    assert_eq!(props["commit"], "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(props["author"], "Ada Tester <ada@example.com>");
    assert_eq!(props["date"], "2024-01-02T03:04:05Z");
    assert_eq!(props["still_in_head"], false);
    assert_eq!(props["place"], "history");
    let msg = result["message"]["text"].as_str().expect("message");
    assert!(msg.contains("introduced in commit 0123456789ab"), "{msg}");
    let rotate = msg.find("Rotate the key first").expect("rotate step");
    let purge = msg
        .find("git filter-repo --replace-text")
        .expect("purge step");
    assert!(rotate < purge, "{msg}");
    assert!(msg.contains("re-clone"), "{msg}");
    assert_eq!(doc["runs"][0]["properties"]["summary"]["commits"], 3);
}

#[test]
fn rules_as_sarif_is_valid() {
    let dir = tempdir();
    let r = run(dir.path(), &["rules", "--format", "sarif"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let path = write(dir.path(), "rules.sarif", &r.stdout);
    validate_sarif(&path);
    let doc: Value = serde_json::from_str(&r.stdout).expect("json");
    assert!(doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .is_some_and(|r| r.len() > 20));
}

// ---------------------------------------------------------------------------------------------
// GitHub
// ---------------------------------------------------------------------------------------------

struct Annotation {
    level: String,
    props: HashMap<String, String>,
    message: String,
}

fn unescape(s: &str) -> String {
    s.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

/// Parses `::level k=v,k=v::message` the way the runner does.
fn annotations(stdout: &str) -> Vec<Annotation> {
    stdout
        .lines()
        .map(|l| {
            let rest = l
                .strip_prefix("::")
                .unwrap_or_else(|| panic!("not a workflow command: {l:?}"));
            let (head, message) = rest.split_once("::").expect("two ::");
            let (level, props) = head.split_once(' ').expect("level and properties");
            let props = props
                .split(',')
                .map(|kv| {
                    let (k, v) = kv.split_once('=').expect("k=v");
                    (k.to_string(), unescape(v))
                })
                .collect();
            Annotation {
                level: level.to_string(),
                props,
                message: unescape(message),
            }
        })
        .collect()
}

#[test]
fn github_annotations_escape_hostile_file_names() {
    let dir = tempdir();
    let names = [
        "a,b:c%d.env",
        "new\nline.env",
        "per%0Acent.env",
        "sp ace::x=y.env",
    ];
    for n in names {
        write(dir.path(), n, format!("x\n  K={}\n", key("rk_live_", 24)));
    }
    let r = run(dir.path(), &["scan", "--format", "github", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got = annotations(&r.stdout);
    assert_eq!(
        got.len(),
        names.len(),
        "one line per finding, whatever the name:\n{}",
        r.stdout
    );
    for n in names {
        let a = got
            .iter()
            .find(|a| a.props.get("file").map(String::as_str) == Some(n))
            .unwrap_or_else(|| panic!("no annotation for {n:?} in\n{}", r.stdout));
        assert_eq!(a.level, "error");
        assert_eq!(a.props["line"], "2");
        assert_eq!(a.props["col"], "5");
        assert_eq!(a.props["endColumn"], (5 + 8 + 24).to_string());
        assert_eq!(a.props["title"], "Stripe live restricted key (high)");
        assert!(
            a.message.starts_with("Stripe live restricted key rk_live_"),
            "{}",
            a.message
        );
        assert!(
            a.message
                .contains(&format!("at {n}:2:5, in the working tree")),
            "{}",
            a.message
        );
        assert!(
            a.message.contains("\nWhat to do:\n1. Remove the key"),
            "{}",
            a.message
        );
    }
}

#[test]
fn github_levels_error_for_failing_warning_below_fail_on_notice_for_examples() {
    let dir = tempdir();
    write(
        dir.path(),
        "live.env",
        format!("K={}\n", key("sk_live_", 24)),
    );
    write(
        dir.path(),
        "test.env",
        format!("K={}\n", key("sk_test_", 24)),
    );
    write(
        dir.path(),
        "example.md",
        format!("K={}\n", public_example()),
    );
    let r = run(
        dir.path(),
        &["scan", "--format", "github", "--fail-on", "high", "."],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got = annotations(&r.stdout);
    let level = |file: &str| {
        got.iter()
            .find(|a| a.props["file"] == file)
            .map(|a| a.level.clone())
            .unwrap_or_else(|| panic!("no {file} in {}", r.stdout))
    };
    assert_eq!(level("live.env"), "error");
    assert_eq!(level("test.env"), "warning");
    assert_eq!(level("example.md"), "notice");

    // Below the bar only: warnings, and the run passes.
    std::fs::remove_file(dir.path().join("live.env")).expect("rm");
    let r = run(
        dir.path(),
        &["scan", "--format", "github", "--fail-on", "high", "."],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("::error"), "{}", r.stdout);
}

#[test]
fn github_step_summary_is_a_table_with_steps_and_suppression_counts() {
    let dir = tempdir();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step output\n").expect("seed");
    write(
        dir.path(),
        "src/a|b.env",
        format!("K={}\n", key("sk_live_", 24)),
    );
    write(
        dir.path(),
        "b.env",
        format!("K={} # stripe-scan:allow\n", key("sk_live_", 24)),
    );
    let r = run_env(
        dir.path(),
        &["scan", "--format", "github", "src", "b.env"],
        &[
            ("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8")),
            ("GITHUB_SERVER_URL", "https://github.example"),
            ("GITHUB_REPOSITORY", "acme/shop"),
            ("GITHUB_SHA", "feedface"),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        md.starts_with("earlier step output\n\n## stripe-scan: 1 finding (1 critical)\n"),
        "appended:\n{md}"
    );
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 2, "header and one row:\n{md}");
    assert!(
        rows[1].contains(
            "[src/a\\|b.env:1:3](https://github.example/acme/shop/blob/feedface/src/a%7Cb.env#L1)"
        ),
        "a linked location, and a pipe in a path would split the row:\n{md}"
    );
    assert!(rows[1].contains("**critical**"), "{md}");
    assert!(
        md.contains(
            "<details><summary>What to do: Stripe live secret key, in the working tree</summary>"
        ),
        "{md}"
    );
    assert!(md.contains("1. Remove the key from the file"), "{md}");
    assert!(md.contains("1 suppressed (1 inline)"), "{md}");

    // Without the variable nothing is written anywhere, and other formats never write it.
    let before = std::fs::read_to_string(&summary).expect("summary");
    let r = run_env(
        dir.path(),
        &["scan", "--format", "json", "src"],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8"))],
    );
    assert_eq!(r.code, 1);
    assert_eq!(std::fs::read_to_string(&summary).expect("summary"), before);
}

#[test]
fn github_step_summary_stays_under_one_mebibyte() {
    let dir = tempdir();
    let summary = dir.path().join("summary.md");
    // Another step already used most of the budget.
    std::fs::write(&summary, "x".repeat((1 << 20) - 40_000)).expect("seed");
    let mut body = String::new();
    for _ in 0..600 {
        body.push_str(&format!("K={}\n", key("rk_live_", 24)));
    }
    for i in 0..4 {
        write(
            dir.path(),
            &format!("d/{}/file{i}.env", "long-directory-name".repeat(4)),
            &body,
        );
    }
    let r = run_env(
        dir.path(),
        &["scan", "--format", "github", "--quiet", "d"],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8"))],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(annotations(&r.stdout).len(), 2400);
    let len = std::fs::metadata(&summary).expect("summary").len();
    assert!(len < 1 << 20, "summary is {len} bytes");
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        md.contains("more findings, not shown"),
        "{}",
        md.get(md.len() - 2000..).unwrap_or("")
    );
    assert!(md.contains("## stripe-scan: 2400 findings"), "heading kept");
}

// ---------------------------------------------------------------------------------------------
// Baselines
// ---------------------------------------------------------------------------------------------

const BASELINE: &str = ".stripe-scan-baseline.json";

#[test]
fn baseline_round_trip_survives_moved_lines_and_catches_new_keys() {
    let dir = tempdir();
    let root = dir.path();
    git_init(root);
    let live = key("sk_live_", 24);
    let wh = key("whsec_", 32);
    write(
        root,
        "app/settings.py",
        format!("import stripe\nSTRIPE_KEY = \"{live}\"\n"),
    );
    write(
        root,
        "hooks.py",
        format!("stripe_endpoint_secret = \"{wh}\"\n"),
    );
    let r = run(root, &["baseline"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("wrote .stripe-scan-baseline.json: 2 occurrences of 2 keys (2 new"),
        "{}",
        r.stderr
    );
    let text = std::fs::read_to_string(root.join(BASELINE)).expect("baseline written at the root");
    assert!(
        !text.contains(&live) && !text.contains(&wh),
        "the baseline holds a key"
    );
    assert!(!text.contains("\"line\""), "no line numbers:\n{text}");
    let doc: Value = serde_json::from_str(&text).expect("JSON");
    let keys = doc["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 2);
    assert_eq!(
        keys[0]["path"], "app/settings.py",
        "sorted by path:\n{text}"
    );
    assert_eq!(keys[0]["kind"], "secret_key");
    assert_eq!(
        keys[0]["fingerprint"],
        stripe_scan::secret::fingerprint_of(live.as_bytes())
    );
    assert_eq!(keys[1]["path"], "hooks.py");
    let entry_lines = text
        .lines()
        .filter(|l| l.trim_start().starts_with("{\"fingerprint\""))
        .count();
    assert_eq!(entry_lines, 2, "one entry per line:\n{text}");

    let r = run(root, &["scan", "--baseline", BASELINE, "."]);
    assert_eq!(
        r.code, 0,
        "baselined keys are not reported: {}{}",
        r.stdout, r.stderr
    );
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains("no findings") && r.stderr.contains("2 suppressed (2 by baseline)"),
        "{}",
        r.stderr
    );

    // Reformat and move: lines above the key, the key moved into another file.
    write(
        root,
        "app/settings.py",
        format!("import os\n\nimport stripe\n\n\n    STRIPE_KEY = \"{live}\"\n"),
    );
    std::fs::remove_file(root.join("hooks.py")).expect("rm");
    write(
        root,
        "web/handlers/hooks.py",
        format!("# moved\nstripe_endpoint_secret = \"{wh}\"\n"),
    );
    let r = run(root, &["scan", "--baseline", BASELINE, "."]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let out = lines(&r.stdout);
    assert_eq!(
        out[0],
        format!(
            "web/handlers/hooks.py:2:27: webhook signing secret {} [high] (known key, new location: the baseline has it at another path only)",
            redacted(&wh, "whsec_")
        ),
        "a baselined key in a new file is reported, the reformatted one is not:\n{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("app/settings.py"),
        "moved lines stay accepted:\n{}",
        r.stdout
    );
    // Accepting it there too is one more `baseline` run.
    let r = run(root, &["baseline"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(root, &["scan", "--baseline", BASELINE, "."]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // A new key fails, and is the only one reported.
    let fresh = key("rk_live_", 24);
    write(
        root,
        "web/handlers/hooks.py",
        format!("# moved\nstripe_endpoint_secret = \"{wh}\"\nRK = \"{fresh}\"\n"),
    );
    let r = run(
        root,
        &["scan", "--baseline", BASELINE, "--format", "json", "."],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let findings = r.findings();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["path"], "web/handlers/hooks.py");
    assert_eq!(findings[0]["line"], 3);
    assert_eq!(r.json()["summary"]["suppressed_by"]["baseline"], 2);

    // Running `baseline` again adds the new key, keeps entries no longer found, and changes
    // nothing else.
    let r = run(root, &["baseline"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("4 occurrences of 3 keys (1 new, 2 already recorded, 0 pruned)"),
        "{}",
        r.stderr
    );
    let again = std::fs::read_to_string(root.join(BASELINE)).expect("baseline");
    assert!(
        again.contains("\"hooks.py\""),
        "entries no longer found are kept without --prune:\n{again}"
    );
    let r = run(root, &["baseline"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        std::fs::read_to_string(root.join(BASELINE)).expect("baseline"),
        again,
        "stable output"
    );

    // Committed and merged like any file: git sees one added line per new key.
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "baseline"]);
    let r = run(root, &["scan", "--baseline", BASELINE, "."]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn baseline_prune_drops_and_lists_keys_no_longer_found() {
    let dir = tempdir();
    let root = dir.path();
    let gone = key("rk_live_", 24);
    let kept = key("sk_live_", 24);
    write(root, "a.env", format!("A={gone}\n"));
    write(root, "b.env", format!("B={kept}\n"));
    assert_eq!(run(root, &["baseline"]).code, 0);
    std::fs::remove_file(root.join("a.env")).expect("rm");
    let gone_fp = stripe_scan::secret::fingerprint_of(gone.as_bytes());

    let r = run(root, &["baseline"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("1 baseline entry no longer found"),
        "{}",
        r.stderr
    );
    assert!(
        std::fs::read_to_string(root.join(BASELINE))
            .expect("b")
            .contains(&gone_fp),
        "kept without --prune"
    );

    let r = run(root, &["baseline", "--prune"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "stripe-scan: pruned {gone_fp} in a.env (restricted_key): no longer found"
        )),
        "{}",
        r.stderr
    );
    let text = std::fs::read_to_string(root.join(BASELINE)).expect("b");
    assert!(!text.contains(&gone_fp), "{text}");
    assert!(
        text.contains(&stripe_scan::secret::fingerprint_of(kept.as_bytes())),
        "{text}"
    );
}

#[test]
fn a_bad_baseline_is_an_error_with_file_and_line() {
    let dir = tempdir();
    let root = dir.path();
    write(root, "a.env", format!("A={}\n", key("sk_live_", 24)));
    write(
        root,
        "bad.json",
        "{\n  \"version\": 1,\n  \"keys\": [\n    {\"fingerprint\": \"sha256:12\"}\n  ]\n}\n",
    );
    let r = run(root, &["scan", "--baseline", "bad.json", "."]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "", "nothing is scanned after a bad baseline");
    assert_eq!(
        r.stderr.trim(),
        "stripe-scan: bad.json:4: fingerprint is not sha256: followed by 64 hex digits; regenerate it with `stripe-scan baseline`"
    );
    write(root, "notjson.json", "version = 1\n");
    let r = run(root, &["scan", "--baseline", "notjson.json", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("stripe-scan: notjson.json:1: not a baseline (not JSON: expected value"),
        "{}",
        r.stderr
    );
    let r = run(root, &["scan", "--baseline", "missing.json", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("stripe-scan: missing.json: No such file"),
        "{}",
        r.stderr
    );
    // `baseline` refuses to overwrite a file it cannot read rather than lose its entries.
    let r = run(root, &["baseline", "--output", "notjson.json"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        std::fs::read_to_string(root.join("notjson.json")).expect("kept"),
        "version = 1\n"
    );
}

#[test]
fn a_baseline_named_in_the_config_applies_to_every_run() {
    let dir = tempdir();
    let root = dir.path();
    write(root, "a.env", format!("A={}\n", key("sk_live_", 24)));
    write(
        root,
        ".stripe-scan.toml",
        "baseline = \"ci/known-keys.json\"\n",
    );
    std::fs::create_dir_all(root.join("ci")).expect("mkdir");
    let r = run(root, &["baseline"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(root.join("ci/known-keys.json").is_file(), "{}", r.stderr);
    let r = run(root, &["scan", "."]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("1 suppressed (1 by baseline)"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Allowlists
// ---------------------------------------------------------------------------------------------

#[test]
fn allowlists_suppress_and_every_report_counts_them() {
    let dir = tempdir();
    let root = dir.path();
    let by_fp = key("rk_live_", 24);
    write(
        root,
        "docs/setup.md",
        format!("K={}\n", key("sk_live_", 24)),
    );
    write(root, "snap/x.snap", format!("K={}\n", key("sk_test_", 24)));
    write(
        root,
        "a.env",
        format!(
            "K={by_fp}\nL={} # stripe-scan:allow (test fixture)\n",
            key("sk_live_", 24)
        ),
    );
    let live = key("sk_live_", 24);
    write(root, "b.env", format!("K={live}\n"));
    write(
        root,
        ".stripe-scan.toml",
        format!(
            "[allow]\npaths = [\"docs/\", \"*.snap\"]\nfingerprints = [\"{}\"]\n",
            stripe_scan::secret::fingerprint_of(by_fp.as_bytes())
        ),
    );
    let r = run(root, &["scan", "--format", "json", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(1), "{doc:#}");
    assert_eq!(doc["findings"][0]["path"], "b.env");
    let by = &doc["summary"]["suppressed_by"];
    assert_eq!(
        (
            by["inline"].as_u64(),
            by["path"].as_u64(),
            by["fingerprint"].as_u64()
        ),
        (Some(1), Some(2), Some(1))
    );
    assert_eq!(doc["summary"]["suppressed"], 4);
    assert!(
        r.stderr
            .contains("4 suppressed (1 inline, 2 by path, 1 by fingerprint)"),
        "{}",
        r.stderr
    );
    // Only the unsuppressed key left: removing it makes the run clean.
    write(root, "b.env", "clean\n");
    let r = run(root, &["scan", "."]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("no findings") && r.stderr.contains("4 suppressed"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_key_pasted_into_the_allowlist_is_not_echoed() {
    let dir = tempdir();
    let k = key("sk_live_", 24);
    write(
        dir.path(),
        ".stripe-scan.toml",
        format!("[allow]\nfingerprints = [\"{k}\"]\n"),
    );
    let r = run(dir.path(), &["scan", "."]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("allow.fingerprints: entry 1 is not sha256:"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(&k), "the error message holds the key");
}

// ---------------------------------------------------------------------------------------------
// No report leaks a key
// ---------------------------------------------------------------------------------------------

/// One generated key of every kind, each on a line that gives it the context its rule needs.
pub(crate) fn corpus() -> Vec<(String, String)> {
    let a = |n| random_from(crate::util::ALNUM, n);
    let keys = vec![
        ("sk_live_", key("sk_live_", 24)),
        ("sk_live_", key99("sk_live_")),
        ("sk_test_", key("sk_test_", 32)),
        ("sk_prod_", key99("sk_prod_")),
        ("rk_live_", key99("rk_live_")),
        ("rk_test_", key("rk_test_", 24)),
        ("rk_prod_", key99("rk_prod_")),
        ("pk_live_", key("pk_live_", 24)),
        ("pk_test_", key99("pk_test_")),
        ("sk_org_live_", key("sk_org_live_", 224)),
        ("rkcs_test_", key("rkcs_test_", 40)),
        ("whsec_", key("whsec_", 32)),
        ("ek_test_", format!("ek_test_{}", random_from(WORD, 82))),
        ("pst_live_", format!("pst_live_{}", random_from(WORD, 60))),
        ("pi_", format!("pi_{}_secret_{}", a(24), a(25))),
        ("seti_", format!("seti_{}_secret_{}", a(24), a(25))),
        ("cs_test_", format!("cs_test_{}_secret_{}", a(58), a(30))),
        ("cuss_secret_", key("cuss_secret_", 47)),
        ("accs_secret__", key("accs_secret__", 48)),
        ("rt_", key("rt_", 32)),
        ("oak_", key("oak_", 40)),
        ("absec_", key("absec_", 32)),
    ];
    keys.into_iter().map(|(p, k)| (p.to_string(), k)).collect()
}

#[test]
fn no_format_prints_a_key_unless_show_secrets_and_sarif_github_never() {
    let dir = tempdir();
    let root = dir.path();
    let keys = corpus();
    let mut text = String::from("# stripe settings\n");
    for (i, (_, k)) in keys.iter().enumerate() {
        text.push_str(&format!(
            "stripe_{i} = \"{k}\"  # stripe_user_id refresh_token\n\n"
        ));
    }
    write(root, "settings.py", &text);
    write(root, "we,ird:na%me.env", format!("K={}\n", keys[0].1));
    let summary = root.join("step-summary.md");
    let sarif = root.join("side.sarif");
    let env = [("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8"))];

    let json = run(root, &["scan", "--format", "json", "settings.py"]);
    assert_eq!(json.code, 1);
    let found: Vec<Value> = json.findings();
    assert_eq!(
        found.len(),
        keys.len(),
        "every generated key must be found, or this test proves nothing: {found:#?}"
    );

    let mut outputs: Vec<(String, Run)> = Vec::new();
    for format in ["text", "json", "sarif", "github"] {
        for extra in [&[][..], &["--quiet"][..]] {
            let mut args = vec!["scan", "--format", format, "--sarif-output", "side.sarif"];
            args.extend_from_slice(extra);
            args.push(".");
            let r = run_env(root, &args, &env);
            assert_eq!(r.code, 1, "{format}: {}", r.stderr);
            let side = std::fs::read_to_string(&sarif).expect("side SARIF");
            outputs.push((format!("{format} {extra:?} stdout"), r));
            outputs.push((
                format!("{format} {extra:?} --sarif-output"),
                Run {
                    code: 1,
                    stdout: side,
                    stderr: String::new(),
                },
            ));
        }
    }
    for format in ["sarif", "github"] {
        let r = run_env(
            root,
            &["scan", "--format", format, "--show-secrets", "."],
            &env,
        );
        outputs.push((format!("{format} --show-secrets"), r));
    }
    let r = run(root, &["baseline", "--output", "b.json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    outputs.push(("baseline".into(), r));
    outputs.push((
        "baseline file".into(),
        Run {
            code: 0,
            stdout: std::fs::read_to_string(root.join("b.json")).expect("b"),
            stderr: String::new(),
        },
    ));
    outputs.push((
        "step summary".into(),
        Run {
            code: 0,
            stdout: std::fs::read_to_string(&summary).expect("summary"),
            stderr: String::new(),
        },
    ));
    // A key pasted into a baseline where a fingerprint belongs.
    write(
        root,
        "pasted.json",
        format!(
            "{{\"version\": 1, \"keys\": [{{\"fingerprint\": \"{}\"}}]}}",
            keys[0].1
        ),
    );
    let r = run(root, &["scan", "--baseline", "pasted.json", "."]);
    assert_eq!(r.code, 2);
    outputs.push(("pasted baseline".into(), r));

    for (what, r) in &outputs {
        for (prefix, k) in &keys {
            let body = &k[prefix.len()..];
            for (stream, s) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
                assert!(
                    !s.contains(body),
                    "{what} {stream} holds the {prefix}… key (fingerprint {})",
                    stripe_scan::secret::fingerprint_of(k.as_bytes())
                );
            }
        }
    }

    // The check can fail: --show-secrets does print every key in text and JSON.
    for format in ["text", "json"] {
        let r = run(
            root,
            &["scan", "--format", format, "--show-secrets", "settings.py"],
        );
        for (_, k) in &keys {
            assert!(
                r.stdout.contains(k.as_str()),
                "{format} --show-secrets lacks a key"
            );
        }
    }
}

#[test]
fn sarif_for_keys_in_commit_and_tag_messages_validates_and_names_the_message() {
    let t = crate::util::repo();
    let d = t.path();
    crate::util::commit(d, &[("README.md", "hello\n")], "start");
    let id = crate::util::commit(d, &[], &format!("debug {}", key("sk_live_", 24)));
    crate::util::git(d, &["tag", "-a", "v1", "-m", &key("rk_live_", 24)]);
    let out = d.join("out.sarif");
    let r = run(
        d,
        &[
            "history",
            "--format",
            "sarif",
            "--output",
            out.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("sarif")).expect("json");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "{results:#?}");
    let names: Vec<&str> = results
        .iter()
        .filter_map(|r| r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].as_str())
        .collect();
    assert!(
        names.contains(&format!("commit/{id}/message").as_str()),
        "{names:?}"
    );
    assert!(names.contains(&"tag/v1/message"), "{names:?}");
    validate_sarif(&out);
}
