//! `stripe-scan scan`: what a user sees for each key type, each edge case, each encoding, and the
//! exit status. Keys are generated per run.

use crate::util::*;
use serde_json::Value;

fn only(findings: &[Value]) -> &Value {
    assert_eq!(findings.len(), 1, "expected one finding, got {findings:#?}");
    &findings[0]
}

#[test]
fn every_kind_is_found_with_kind_mode_line_and_column() {
    let dir = tempdir();
    // (line text with {k} for the key, prefix, body length, kind, mode, severity)
    let cases: Vec<(String, &str, &str, Option<&str>, &str)> = vec![
        (
            key("sk_live_", 24),
            "secret_key",
            "stripe-secret-key",
            Some("live"),
            "critical",
        ),
        (
            key99("sk_test_"),
            "secret_key",
            "stripe-secret-key",
            Some("test"),
            "medium",
        ),
        (
            key99("sk_prod_"),
            "secret_key",
            "stripe-secret-key",
            None,
            "high",
        ),
        (
            key("rk_live_", 24),
            "restricted_key",
            "stripe-restricted-key",
            Some("live"),
            "high",
        ),
        (
            key99("rk_test_"),
            "restricted_key",
            "stripe-restricted-key",
            Some("test"),
            "medium",
        ),
        (
            key("pk_live_", 24),
            "publishable_key",
            "stripe-publishable-key",
            Some("live"),
            "low",
        ),
        (
            key99("pk_test_"),
            "publishable_key",
            "stripe-publishable-key",
            Some("test"),
            "low",
        ),
        (
            key("sk_org_live_", 224),
            "organization_key",
            "stripe-organization-key",
            Some("live"),
            "critical",
        ),
        (
            key("rkcs_test_", 40),
            "sandbox_key",
            "stripe-sandbox-key",
            Some("test"),
            "low",
        ),
        (
            key("whsec_", 32),
            "webhook_secret",
            "stripe-webhook-secret",
            None,
            "high",
        ),
        (
            format!("whsec_{}", random_from(HEX, 64)),
            "webhook_secret",
            "stripe-webhook-secret",
            None,
            "high",
        ),
        (
            format!(
                "ek_test_{}_{}",
                random_from(ALNUM, 40),
                random_from(ALNUM, 41)
            ),
            "ephemeral_key",
            "stripe-ephemeral-key",
            Some("test"),
            "low",
        ),
        (
            key("pst_live_", 30),
            "terminal_token",
            "stripe-terminal-token",
            Some("live"),
            "low",
        ),
        (
            format!(
                "pi_{}_secret_{}",
                random_from(ALNUM, 24),
                random_from(ALNUM, 25)
            ),
            "client_secret",
            "stripe-payment-intent-client-secret",
            None,
            "low",
        ),
        (
            format!(
                "seti_{}_secret_{}",
                random_from(ALNUM, 24),
                random_from(ALNUM, 25)
            ),
            "client_secret",
            "stripe-payment-intent-client-secret",
            None,
            "low",
        ),
        (
            format!(
                "cs_live_{}_secret_{}",
                random_from(ALNUM, 58),
                random_from(ALNUM, 30)
            ),
            "client_secret",
            "stripe-checkout-client-secret",
            Some("live"),
            "low",
        ),
        (
            key("cuss_secret_", 47),
            "client_secret",
            "stripe-session-client-secret",
            None,
            "low",
        ),
        (key("oak_", 40), "cli_key", "stripe-cli-key", None, "medium"),
        (
            key("absec_", 32),
            "app_secret",
            "stripe-app-secret",
            None,
            "medium",
        ),
    ];
    let mut text = String::new();
    for (i, (k, ..)) in cases.iter().enumerate() {
        // Varying indentation puts keys at different columns.
        text.push_str(&format!("{}value_{i} = \"{k}\"\n", " ".repeat(i % 5)));
    }
    // A refresh token is only reported next to Stripe words.
    let rt = key("rt_", 32);
    text.push_str(&format!(
        "{{\"stripe_user_id\": \"acct_x\", \"refresh_token\": \"{rt}\"}}\n"
    ));
    write(dir.path(), "keys.txt", &text);
    let run = run(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let findings = run.findings();
    assert_eq!(findings.len(), cases.len() + 1, "{findings:#?}");
    for (i, (k, kind, rule, mode, severity)) in cases.iter().enumerate() {
        let f = finding_at(&findings, "keys.txt", i as u64 + 1);
        let col = (i % 5) + format!("value_{i} = \"").len() + 1;
        assert_eq!(f["kind"], *kind, "line {}", i + 1);
        assert_eq!(f["rule"], *rule, "line {}", i + 1);
        assert_eq!(
            f["mode"],
            mode.map_or(Value::Null, Value::from),
            "line {}",
            i + 1
        );
        assert_eq!(f["severity"], *severity, "line {}", i + 1);
        assert_eq!(f["column"], col as u64, "line {}", i + 1);
        assert_eq!(f["fingerprint"], fingerprint(k));
        assert!(f.get("secret").is_none());
    }
    let f = finding_at(&findings, "keys.txt", cases.len() as u64 + 1);
    assert_eq!(f["kind"], "oauth_refresh_token");
    assert_eq!(f["fingerprint"], fingerprint(&rt));
}

pub fn fingerprint(key: &str) -> String {
    stripe_scan::secret::fingerprint_of(key.as_bytes())
}

#[test]
fn keys_end_where_the_body_ends_whatever_follows() {
    let dir = tempdir();
    let k: Vec<String> = (0..7).map(|_| key("sk_live_", 24)).collect();
    let lines = [
        format!("curl https://api.stripe.com/v1/charges -u {}:", k[0]),
        format!("GET /v1/x?k={}&x=1", k[1]),
        format!("<tr><td>{}</td></tr>", k[2]),
        format!(
            "{{\"html\": \"<a href=\\\"/pay?key={}\\u0026next=1\\\">\"}}",
            k[3]
        ),
        format!("id,{},2024-01-01", k[4]),
        format!("\"first line\\n{}\\nthird\"", k[5]),
        format!("Stripe({})", k[6]),
    ];
    write(dir.path(), "edges.txt", lines.join("\n"));
    let run = run(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1);
    let findings = run.findings();
    assert_eq!(findings.len(), 7, "{findings:#?}");
    for (i, key) in k.iter().enumerate() {
        let f = finding_at(&findings, "edges.txt", i as u64 + 1);
        assert_eq!(
            f["fingerprint"],
            fingerprint(key),
            "line {}: {}",
            i + 1,
            lines[i].len()
        );
        let col = lines[i].find(key.as_str()).unwrap() + 1;
        assert_eq!(f["column"], col as u64, "line {}", i + 1);
    }
}

#[test]
fn placeholders_identifiers_and_other_vendors_are_not_findings() {
    let dir = tempdir();
    let text = [
        "task_test_runner = run_all()".to_string(),
        "disk_live_count_for_every_volume_in_the_pool = 3".to_string(),
        "deepseek_live_x_some_long_identifier_name_here = 1".to_string(),
        "sk_live_xxxxxxxxxxxxxxxxxxxxxxxxxxxx".to_string(),
        "sk_test_YOUR_KEY_HERE".to_string(),
        "sk_test_YOUR_SECRET_KEY_HERE".to_string(),
        "rk_live_<redacted>".to_string(),
        "sk_test_****1234".to_string(),
        "SK_LIVE_KEY = os.environ['SK_LIVE_KEY']".to_string(),
        "sk_live_...".to_string(),
        "pk_test_51AbC123...".to_string(),
        "whsec_xxxxxxxx".to_string(),
        "sk_test_abcdefghijklmnopqrstuvwx".to_string(),
        "sk_live_${STRIPE_KEY}".to_string(),
        "pk_live_{{ stripe_key }}".to_string(),
        "sk_test_123".to_string(),
        "pi_3MtwBwLkdIwHu7ix28a3tqPa".to_string(),
        // Highnote/WorkOS keys share the prefix; base64 of "key_" follows it.
        format!("HIGHNOTE_KEY=sk_live_a2V5Xz{}", random_from(ALNUM, 40)),
        format!("SVIX_SECRET=whsec_{}", random_from(B64, 44)),
        format!("const route = \"rt_{}\"", random_from(ALNUM, 32)),
    ]
    .join("\n");
    write(dir.path(), "none.txt", &text);
    let run = run(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(run.findings(), Vec::<Value>::new());
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn encodings_binaries_and_line_endings() {
    let dir = tempdir();
    let k: Vec<String> = (0..8).map(|_| key("rk_live_", 24)).collect();
    write(
        dir.path(),
        "le.txt",
        utf16(&format!("first\r\n  é = {}\r\n", k[0]), false, true),
    );
    write(
        dir.path(),
        "be.txt",
        utf16(&format!("a\nb\nc {}", k[1]), true, true),
    );
    let mut bin = vec![0u8; 4096];
    bin.extend_from_slice(&[0x7f, b'E', b'L', b'F', 0, 0, 1]);
    bin.extend_from_slice(k[2].as_bytes());
    bin.extend_from_slice(&[0, 0, 0, 0xff, 0xfe]);
    write(dir.path(), "bundle.so", &bin);
    write(
        dir.path(),
        "crlf.env",
        format!("A=1\r\nKEY={}\r\nB=2\r\n", k[3]),
    );
    write(dir.path(), "eof.txt", format!("x\n{}", k[4]));
    write(dir.path(), "zero.txt", format!("{}\n", k[5]));
    let mut invalid = b"\xff\xfe\xfd caf\xe9 ".to_vec();
    invalid.extend_from_slice(k[6].as_bytes());
    write(dir.path(), "latin1.txt", &invalid);
    // A 200 KB minified line with the key near its end.
    let long = format!("{}{}{}", "a=1;".repeat(50_000), k[7], ";b=2");
    write(dir.path(), "bundle.min.js", &long);
    let run = run(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let findings = run.findings();
    let expect = [
        ("le.txt", 2, 7, 0),
        ("be.txt", 3, 3, 1),
        ("bundle.so", 1, 4104, 2),
        ("crlf.env", 2, 5, 3),
        ("eof.txt", 2, 1, 4),
        ("zero.txt", 1, 1, 5),
        ("latin1.txt", 1, 10, 6),
        ("bundle.min.js", 1, 200_001, 7),
    ];
    assert_eq!(findings.len(), expect.len(), "{findings:#?}");
    for (path, line, col, ki) in expect {
        let f = finding_at(&findings, path, line);
        assert_eq!(f["column"], col, "{path}");
        assert_eq!(f["fingerprint"], fingerprint(&k[ki]), "{path}");
    }
}

#[test]
fn gitignore_is_honoured_in_a_repository_and_hidden_files_are_scanned() {
    let dir = tempdir();
    git_init(dir.path());
    let ignored = key("sk_live_", 24);
    let hidden = key("sk_live_", 24);
    let workflow = key("whsec_", 32);
    write(dir.path(), ".gitignore", "/build/\n");
    write(dir.path(), "build/out.js", format!("k='{ignored}'"));
    write(dir.path(), ".env", format!("STRIPE_SECRET_KEY={hidden}\n"));
    write(
        dir.path(),
        ".github/workflows/ci.yml",
        format!("env:\n  WH: {workflow}\n"),
    );
    // Whatever sits in .git/ is git's business, not a file of the project.
    write(dir.path(), ".git/stray", key("sk_live_", 24));
    let r = run(dir.path(), &["scan", "--format", "json"]);
    let paths: Vec<String> = r
        .findings()
        .iter()
        .map(|f| f["path"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(paths, vec![".env", ".github/workflows/ci.yml"]);
    assert_eq!(r.code, 1);
    let r = run(dir.path(), &["scan", "--no-ignore", "--format", "json"]);
    let paths: Vec<String> = r
        .findings()
        .iter()
        .map(|f| f["path"].as_str().unwrap_or("").to_string())
        .collect();
    // Most severe first: the two secret keys, then the webhook secret.
    assert_eq!(
        paths,
        vec![".env", "build/out.js", ".github/workflows/ci.yml"]
    );
    assert_eq!(r.json()["summary"]["ignored"], 0);
}

#[test]
fn the_summary_counts_what_gitignore_left_out_and_names_no_ignore() {
    let dir = tempdir();
    git_init(dir.path());
    write(dir.path(), ".gitignore", ".env\n/build/\n");
    write(
        dir.path(),
        ".env",
        format!("STRIPE_SECRET_KEY={}\n", key("sk_live_", 24)),
    );
    write(dir.path(), "build/a.js", "x\n");
    write(dir.path(), "build/b.js", "y\n");
    write(dir.path(), "src/main.py", "print(1)\n");
    // A rule of a nested ignore file, deeper down.
    write(dir.path(), "src/.ignore", "*.log\n");
    write(dir.path(), "src/lib/debug.log", "z\n");
    let r = run(dir.path(), &["scan", "."]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("no findings in 3 files, 0.0 MB, ")
            && r.stderr
                .trim_end()
                .ends_with("; 3 paths ignored by .gitignore or .ignore (--no-ignore scans them)"),
        "the key in the ignored .env is not silently skipped: {}",
        r.stderr
    );
    let r = run(dir.path(), &["scan", "--format", "json", "."]);
    assert_eq!(r.json()["summary"]["ignored"], 3);
    let r = run(dir.path(), &["scan", "--no-ignore", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(".env:1:19: live secret key"),
        "{}",
        r.stdout
    );
    assert!(!r.stderr.contains("ignored"), "{}", r.stderr);
    // A single ignored file, in the singular.
    std::fs::remove_dir_all(dir.path().join("build")).expect("rm build");
    std::fs::remove_dir_all(dir.path().join("src/lib")).expect("rm src/lib");
    let r = run(dir.path(), &["scan", "."]);
    assert!(
        r.stderr.contains("in 3 files, ")
            && r.stderr
                .contains("; 1 path ignored by .gitignore or .ignore (--no-ignore scans it)"),
        "{}",
        r.stderr
    );
}

#[test]
fn exit_status_is_0_clean_1_findings_2_errors() {
    let dir = tempdir();
    write(dir.path(), "clean.txt", "nothing here\n");
    let r = run(dir.path(), &["scan", "."]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("no findings"), "{}", r.stderr);

    // A path that does not exist: one line naming it, exit 2.
    let r = run(dir.path(), &["scan", "clean.txt", "missing.txt"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .lines()
            .any(|l| l == "stripe-scan: missing.txt: No such file or directory"),
        "{}",
        r.stderr
    );

    // Bad arguments.
    let r = run(dir.path(), &["scan", "--format", "yaml"]);
    assert_eq!(r.code, 2);
    let r = run(dir.path(), &["scan", "--max-file-size", "lots"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a size"), "{}", r.stderr);

    // Findings win over errors: 1, with the error still printed.
    write(dir.path(), "k.txt", key("sk_live_", 24));
    let r = run(dir.path(), &["scan", "k.txt", "missing.txt"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("missing.txt: No such file or directory"));
}

#[test]
fn the_full_key_only_appears_with_show_secrets() {
    let dir = tempdir();
    let keys = [key("sk_live_", 24), key99("rk_live_"), key("whsec_", 32)];
    write(
        dir.path(),
        "a.py",
        keys.iter()
            .map(|k| format!("K = '{k}'\n"))
            .collect::<String>(),
    );
    for format in ["text", "json"] {
        let r = run(dir.path(), &["scan", ".", "--format", format]);
        assert_eq!(r.code, 1);
        for k in &keys {
            assert!(
                !r.stdout.contains(k.as_str()) && !r.stderr.contains(k.as_str()),
                "{format} leaked a key"
            );
            // The redacted form: prefix, first and last four of the body.
            let prefix_len = k
                .find('_')
                .map(|i| k[i + 1..].find('_').map_or(i + 1, |j| i + j + 2))
                .unwrap_or(0);
            let body = &k[prefix_len..];
            let redacted = format!(
                "{}{}…{}",
                &k[..prefix_len],
                &body[..4],
                &body[body.len() - 4..]
            );
            assert!(
                r.stdout.contains(&redacted),
                "{format}: {redacted} missing in\n{}",
                r.stdout
            );
        }
    }
    let r = run(
        dir.path(),
        &["scan", ".", "--format", "json", "--show-secrets"],
    );
    let shown: Vec<String> = r
        .findings()
        .iter()
        .map(|f| f["secret"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(shown.len(), 3);
    for k in &keys {
        assert!(shown.contains(k));
    }
}

#[test]
fn text_report_names_location_type_key_and_steps() {
    let dir = tempdir();
    let k = key("rk_live_", 24);
    write(
        dir.path(),
        "config/settings.py",
        format!("import os\nRESTRICTED = \"{k}\"\n"),
    );
    let r = run(dir.path(), &["scan", "."]);
    assert_eq!(r.code, 1);
    let mut lines = r.stdout.lines();
    let header = lines.next().unwrap_or("");
    assert!(
        header.starts_with("config/settings.py:2:15: live restricted key rk_live_"),
        "{header}"
    );
    assert!(header.ends_with("[high]"), "{header}");
    assert!(r.stdout.contains("Restricted keys"), "{}", r.stdout);
    assert!(
        r.stdout.lines().any(|l| l.trim_start().starts_with("1. ")),
        "numbered steps: {}",
        r.stdout
    );
    assert!(!r.stdout.contains('\x1b'), "no colour when piped");
    let summary = r.stderr.lines().last().unwrap_or("");
    assert!(
        summary.starts_with("stripe-scan: 1 key (1 high; 1 occurrence) in 1 file, "),
        "{summary}"
    );
    let q = run(dir.path(), &["scan", ".", "--quiet"]);
    assert_eq!(q.stderr, "");
    assert_eq!(q.stdout, format!("{header}\n"), "one key, one line");
}

#[test]
fn publishable_keys_fail_by_default_and_public_examples_never_do() {
    let dir = tempdir();
    write(
        dir.path(),
        "web/index.html",
        format!("<script>Stripe('{}')</script>", key("pk_live_", 24)),
    );
    let r = run(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(r.code, 1);
    assert_eq!(only(&r.findings())["severity"], "low");
    let r = run(dir.path(), &["scan", ".", "--fail-on", "medium"]);
    assert_eq!(r.code, 0, "a low finding under --fail-on medium passes");
    assert!(r.stdout.contains("live publishable key"));

    let dir = tempdir();
    // Stripe's own documentation key, assembled so this file does not hold it whole.
    let doc_key = ["sk_test_", "4eC39HqLyjWDarjtT1zdp7dc"].concat();
    write(dir.path(), "README.md", format!("curl -u {doc_key}:"));
    let r = run(
        dir.path(),
        &["scan", ".", "--format", "json", "--fail-on", "info"],
    );
    let f = only(&r.findings()).clone();
    assert_eq!(f["severity"], "info");
    assert_eq!(f["public_example"], true);
    assert_eq!(r.code, 0);
}

#[test]
fn stdin_is_scanned_with_dash() {
    let dir = tempdir();
    let k = key("sk_test_", 24);
    let r = run_stdin(
        dir.path(),
        &["scan", "-", "--format", "json"],
        format!("a\nb {k}\n").as_bytes(),
    );
    assert_eq!(r.code, 1);
    let f = only(&r.findings()).clone();
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64(), f["column"].as_u64()),
        (Some("-"), Some(2), Some(3))
    );
}

#[test]
fn files_over_max_file_size_are_skipped_and_reported() {
    let dir = tempdir();
    let k = key("sk_live_", 24);
    write(
        dir.path(),
        "big.log",
        format!("{} {k}\n", "x".repeat(3 << 20)),
    );
    let r = run(dir.path(), &["scan", ".", "--max-file-size", "2M"]);
    assert_eq!(r.code, 2, "a skipped file makes the scan incomplete");
    assert!(
        r.stderr.contains("big.log: skipped:") && r.stderr.contains("--max-file-size"),
        "{}",
        r.stderr
    );
    let r = run(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(r.code, 1);
    assert_eq!(only(&r.findings())["line"], 1);
}

#[test]
fn config_allows_paths_fingerprints_and_inline_markers_and_counts_them() {
    let dir = tempdir();
    let (a, b, c, d) = (
        key("sk_live_", 24),
        key("sk_live_", 24),
        key("sk_live_", 24),
        key("sk_live_", 24),
    );
    write(dir.path(), "docs/example.md", format!("{a}\n"));
    write(
        dir.path(),
        "src/a.py",
        format!("X = '{b}'\nY = '{c}'  # stripe-scan:allow\nZ = '{d}'\n"),
    );
    write(
        dir.path(),
        ".stripe-scan.toml",
        format!(
            "[allow]\npaths = [\"docs/\"]\nfingerprints = [\"{}\"]\n",
            fingerprint(&d)
        ),
    );
    let r = run(dir.path(), &["scan", ".", "--format", "json"]);
    let f = only(&r.findings()).clone();
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("src/a.py"), Some(1))
    );
    assert_eq!(r.json()["summary"]["suppressed"], 3);
    let text = run(dir.path(), &["scan", "."]);
    assert!(text.stderr.contains("3 suppressed"), "{}", text.stderr);
}

#[test]
fn config_errors_name_the_file_and_line_and_nothing_is_scanned() {
    let dir = tempdir();
    write(dir.path(), "k.txt", key("sk_live_", 24));
    write(
        dir.path(),
        ".stripe-scan.toml",
        "fail_on = \"low\"\n[allow]\npath = [\"x\"]\n",
    );
    let r = run(dir.path(), &["scan", "."]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    let line = r.stderr.trim();
    assert!(
        line.starts_with("stripe-scan: .stripe-scan.toml:3: unknown field `path`"),
        "{line}"
    );
    assert_eq!(r.stderr.lines().count(), 1);

    write(
        dir.path(),
        ".stripe-scan.toml",
        "[[rule]]\nid = \"x\"\nkind = \"secret_key\"\ncharset = \"A-Z\"\nmin_len = 3\nmax_len = 9\npattern = \"([a-\"\n[[rule.variant]]\nprefix = \"x_\"\nseverity = \"high\"\nlabel = \"x\"\n",
    );
    let r = run(dir.path(), &["scan", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains(".stripe-scan.toml:7: rule x: pattern is not a valid regex"),
        "{}",
        r.stderr
    );

    write(dir.path(), "other.toml", "fail_on = \"loud\"\n");
    let r = run(dir.path(), &["scan", ".", "--config", "other.toml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("stripe-scan: other.toml:1: unknown variant `loud`"),
        "{}",
        r.stderr
    );
}

#[test]
fn config_adds_rules_and_sets_fail_on() {
    let dir = tempdir();
    let custom = format!("acme_live_{}", random_from(ALNUM, 30));
    write(
        dir.path(),
        "a.txt",
        format!("k = {custom}\npk = {}\n", key("pk_test_", 24)),
    );
    write(
        dir.path(),
        ".stripe-scan.toml",
        "fail_on = \"medium\"\n[[rule]]\nid = \"acme-key\"\nkind = \"secret_key\"\ncharset = \"A-Za-z0-9\"\nmin_len = 20\nmax_len = 64\n[[rule.variant]]\nprefix = \"acme_live_\"\nmode = \"live\"\nseverity = \"high\"\nlabel = \"ACME live key\"\nremediation = [\"Rotate it in the ACME console.\"]\n",
    );
    let r = run(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(r.code, 1);
    let findings = r.findings();
    assert_eq!(finding_at(&findings, "a.txt", 1)["rule"], "acme-key");
    let steps = finding_at(&findings, "a.txt", 1)["remediation"].clone();
    assert!(
        steps
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x == "Rotate it in the ACME console.")),
        "{steps:#?}"
    );
    assert_eq!(finding_at(&findings, "a.txt", 2)["severity"], "low");
    let rules = run(dir.path(), &["rules"]);
    assert!(rules.stdout.contains("acme-key"));
    assert!(rules.stdout.contains("stripe-webhook-secret"));
}

/// Prefixes under 4 bytes are only looked for near their rule's `contains` literals or context
/// words (rules/README.md); a user rule gets the same treatment as the built-in `pi_` and `rt_`.
#[test]
fn short_prefixes_in_config_rules_are_found_near_their_gates_or_everywhere() {
    let dir = tempdir();
    // A digit keeps the body from reading as a snake_case identifier.
    let body = || random_from(ALNUM, 11) + "7";
    let rule = |id: &str, prefix: &str, extra: &str| {
        format!(
            "[[rule]]\nid = \"{id}\"\nkind = \"token\"\ncharset = \"A-Za-z0-9_\"\nmin_len = 20\nmax_len = 64\n{extra}[[rule.variant]]\nprefix = \"{prefix}\"\nseverity = \"high\"\nlabel = \"{id} token\"\n"
        )
    };
    let config = [
        rule("zz", "zz_", "contains = [\"_tok_\"]\n"),
        rule("qq", "qq_", ""),
        rule(
            "rr",
            "rr_",
            "context = [\"acme\"]\ncontext_required = true\n",
        ),
    ]
    .concat();
    write(dir.path(), ".stripe-scan.toml", config);
    let gated = format!("zz_{}_tok_{}", body(), body());
    let ungated = format!("qq_{}{}", body(), body());
    let lines = [
        format!("x = \"{gated}\""),
        format!("zz_{}{} has no _tok_ in it", body(), body()),
        format!("y={ungated}"),
        format!("ACME_TOKEN=rr_{}{}", body(), body()),
        format!("# Acme\nrr_{}{}", body(), body()),
        format!("\n\n\nrr_{}{} alone", body(), body()),
    ];
    write(dir.path(), "a.txt", lines.join("\n") + "\n");
    let r = run(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found: Vec<(String, u64, u64)> = r
        .findings()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let want = [("zz", 1, 6), ("qq", 3, 3), ("rr", 4, 12), ("rr", 6, 1)];
    let want: Vec<(String, u64, u64)> = want
        .iter()
        .map(|&(rule, line, col)| (rule.to_string(), line, col))
        .collect();
    assert_eq!(found, want, "{}", r.stdout);
}

#[test]
fn output_is_sorted_and_the_same_every_run() {
    let dir = tempdir();
    for i in 0..40 {
        write(
            dir.path(),
            &format!("d{}/f{i}.txt", i % 7),
            format!("{}\n{}\n", key("sk_test_", 24), key("rk_test_", 24)),
        );
    }
    let a = run(dir.path(), &["scan", ".", "--format", "json", "-j", "2"]);
    let paths: Vec<(String, u64)> = a
        .findings()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert_eq!(paths.len(), 80);
    let b = run(dir.path(), &["scan", ".", "--format", "json", "-j", "2"]);
    assert_eq!(a.findings(), b.findings());
}
