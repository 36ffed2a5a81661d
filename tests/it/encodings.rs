//! Keys that are only in a file encoded: base64 (Kubernetes secrets, HTTP Basic auth, a whole
//! `.env`, JWT payloads, wrapped PEM/MIME runs), base64 of gzip (Helm releases), and UTF-16 text
//! inside otherwise single-byte files. Each is found by `scan`, `staged` and `history`, at the
//! line and column where the encoded run starts, with its `encoding` list, and with the
//! fingerprint of the decoded key. Keys and encodings are made at run time.

use crate::pack::{self, assert_at, b64, b64url, finding_of, scan_as, Mode, MODES};
use crate::util::{key, key99, run, tempdir, utf16, write};
use stripe_scan::secret::fingerprint_of;

/// 1-based line and column (in characters) of the first `needle` in `text`.
fn place(text: &str, needle: &str) -> (u64, u64) {
    let at = text.find(needle).expect("needle in text");
    let before = &text[..at];
    let line = before.matches('\n').count() as u64 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() as u64 + 1)
}

#[test]
fn kubernetes_secret_values_are_decoded_everywhere() {
    let sk = key("sk_live_", 24);
    let wh = key("whsec_", 32);
    let rk = key99("rk_live_");
    let (esk, ewh, erk) = (b64(sk.as_bytes()), b64(wh.as_bytes()), b64(rk.as_bytes()));
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  STRIPE_SECRET_KEY: {esk}\n  STRIPE_WEBHOOK_SECRET: {ewh}\n  RESTRICTED: {erk}\n"
    );
    for mode in MODES {
        let (_t, r) = scan_as(mode, &[("k8s/secret.yaml", yaml.as_bytes())], &[]);
        assert_eq!(r.code, 1, "{mode:?}: {}", r.stderr);
        let found = r.findings();
        assert_eq!(found.len(), 3, "{mode:?}: {found:#?}");
        for (secret, encoded) in [(&sk, &esk), (&wh, &ewh), (&rk, &erk)] {
            let (line, col) = place(&yaml, encoded);
            let f = finding_of(&found, secret, mode);
            assert_at(f, "k8s/secret.yaml", line, col, &["base64"]);
            let want_place = match mode {
                Mode::Scan => "working_tree",
                Mode::Staged => "staged",
                Mode::History => "committed",
            };
            assert_eq!(f["place"], want_place);
        }
        // The report never shows the key, encoded or not.
        assert!(!r.stdout.contains(&sk[8..]) && !r.stdout.contains(&esk));
    }
}

#[test]
fn http_basic_auth_with_the_key_as_user_name() {
    let k = key("sk_test_", 24);
    let header = b64(format!("{k}:").as_bytes());
    let log = format!(
        "> GET /v1/charges HTTP/1.1\n> Host: api.stripe.com\n> Authorization: Basic {header}\n> Accept: */*\n"
    );
    let (line, col) = place(&log, &header);
    assert_eq!(line, 3);
    for mode in MODES {
        let (_t, r) = scan_as(mode, &[("requests.http", log.as_bytes())], &[]);
        let found = r.findings();
        assert_at(
            finding_of(&found, &k, mode),
            "requests.http",
            line,
            col,
            &["base64"],
        );
    }
}

#[test]
fn a_whole_env_file_in_base64_with_the_key_at_every_alignment() {
    for pad in 0..6 {
        let k = key("rk_live_", 24);
        let env = format!(
            "APP=web\nDEBUG=0\n{}STRIPE_KEY={k}\nREGION=eu\n",
            "X".repeat(pad)
        );
        let encoded = b64(env.as_bytes());
        let script =
            format!("#!/bin/sh\nENV_B64=\"{encoded}\"\necho \"$ENV_B64\" | base64 -d > .env\n");
        let (line, col) = place(&script, &encoded);
        let (_t, r) = scan_as(Mode::Scan, &[("deploy.sh", script.as_bytes())], &[]);
        assert_eq!(r.code, 1, "pad {pad}: {}", r.stderr);
        assert_at(
            finding_of(&r.findings(), &k, Mode::Scan),
            "deploy.sh",
            line,
            col,
            &["base64"],
        );
    }
}

#[test]
fn jwt_payloads_in_url_safe_base64_without_padding() {
    for pad in 0..3 {
        let k = key("sk_live_", 24);
        let payload = format!(
            "{{\"sub\":\"user{}\",\"stripe_key\":\"{k}\",\"exp\":1735787046}}",
            "7".repeat(pad)
        );
        let token = format!(
            "{}.{}.{}",
            b64url(br#"{"alg":"HS256","typ":"JWT"}"#),
            b64url(payload.as_bytes()),
            crate::util::random_from(crate::util::ALNUM, 43)
        );
        let text = format!("# captured session\nAuthorization: Bearer {token}\n");
        let payload_enc = token.split('.').nth(1).expect("payload");
        let (line, col) = place(&text, payload_enc);
        for mode in MODES {
            let (_t, r) = scan_as(mode, &[("notes/token.txt", text.as_bytes())], &[]);
            assert_at(
                finding_of(&r.findings(), &k, mode),
                "notes/token.txt",
                line,
                col,
                &["base64"],
            );
        }
    }
}

/// A Secret value that was base64 before it went in (`kubectl create secret --from-file` of an
/// encoded `.env`) is base64 of base64: found in a Secret, in YAML as kubectl writes it (`data`
/// before `kind`) and in JSON, beside a value encoded once, which is found once. The same value
/// in a ConfigMap is not looked into: there is nothing fixed to search for (docs/scanning.md).
#[test]
fn secret_values_encoded_twice_are_decoded_twice() {
    let (sk, rk) = (key("sk_live_", 24), key99("rk_live_"));
    let env = format!("APP=payments\nSTRIPE_SECRET_KEY={sk}\nREGION=eu\n");
    let twice = b64(b64(env.as_bytes()).as_bytes());
    let once = b64(rk.as_bytes());
    let yaml = format!(
        "apiVersion: v1\ndata:\n  app.env: {twice}\n  RESTRICTED: {once}\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\n---\napiVersion: v1\nkind: ConfigMap\ndata:\n  copy: {}\n",
        b64(b64(key("sk_live_", 24).as_bytes()).as_bytes())
    );
    let json = format!(
        "{{\"apiVersion\":\"v1\",\"data\":{{\"app.env\":\"{twice}\"}},\"kind\":\"Secret\"}}\n"
    );
    for mode in MODES {
        let files: [(&str, &[u8]); 2] = [
            ("k8s/app.yaml", yaml.as_bytes()),
            ("k8s/app.json", json.as_bytes()),
        ];
        let (_t, r) = scan_as(mode, &files, &[]);
        assert_eq!(r.code, 1, "{mode:?}: {}", r.stderr);
        let found = r.findings();
        assert_eq!(found.len(), 3, "{mode:?}: {found:#?}");
        let (line, col) = place(&yaml, &twice);
        let sk_found: Vec<_> = found
            .iter()
            .filter(|f| f["fingerprint"] == fingerprint_of(sk.as_bytes()).as_str())
            .collect();
        assert_eq!(sk_found.len(), 2, "{mode:?}: {found:#?}");
        for f in sk_found {
            if f["path"] == "k8s/app.yaml" {
                assert_at(f, "k8s/app.yaml", line, col, &["base64", "base64"]);
            } else {
                let (line, col) = place(&json, &twice);
                assert_at(f, "k8s/app.json", line, col, &["base64", "base64"]);
            }
        }
        let (line, col) = place(&yaml, &once);
        assert_at(
            finding_of(&found, &rk, mode),
            "k8s/app.yaml",
            line,
            col,
            &["base64"],
        );
    }
}

/// Helm keeps a release as a Secret whose `release` value is base64 (Kubernetes) of base64 of
/// gzip of the release JSON, chart values included.
#[test]
fn helm_release_secrets_are_base64_of_base64_of_gzip() {
    let k = key99("sk_live_");
    let filler: Vec<String> = (0..300).map(|i| format!("note line {i}")).collect();
    let release = serde_json::json!({
        "name": "payments",
        "info": {"notes": filler},
        "config": {"stripe": {"secretKey": k}},
    });
    let inner = b64(&pack::gzip(release.to_string().as_bytes()));
    let outer = b64(inner.as_bytes());
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sh.helm.release.v1.payments.v3\ntype: helm.sh/release.v1\ndata:\n  release: {outer}\n"
    );
    let (line, col) = place(&yaml, &outer);
    for mode in MODES {
        let (_t, r) = scan_as(mode, &[("helm/release.yaml", yaml.as_bytes())], &[]);
        assert_eq!(r.code, 1, "{mode:?}: {}", r.stderr);
        let found = r.findings();
        let f = finding_of(&found, &k, mode);
        assert_at(
            f,
            "helm/release.yaml",
            line,
            col,
            &["base64", "base64", "gzip"],
        );
        assert_eq!(f["fingerprint"], fingerprint_of(k.as_bytes()));
    }
}

#[test]
fn wrapped_base64_at_64_and_76_columns_indented_or_not() {
    for (width, indent) in [(64, ""), (76, ""), (76, "    "), (64, "  ")] {
        let k = key("pk_live_", 24);
        let mut body = String::new();
        for i in 0..40 {
            body.push_str(&format!("line {i} of a config file that is long enough\n"));
        }
        body.push_str(&format!("stripe_publishable_key = {k}\n"));
        let wrapped = pack::wrap(&b64(body.as_bytes()), width, indent);
        let text = format!("config: |\n{wrapped}other: 1\n");
        let first = &wrapped[indent.len()..indent.len() + 20];
        let (line, col) = place(&text, first);
        let (_t, r) = scan_as(Mode::Scan, &[("values.yaml", text.as_bytes())], &[]);
        assert_at(
            finding_of(&r.findings(), &k, Mode::Scan),
            "values.yaml",
            line,
            col,
            &["base64"],
        );
    }
}

#[test]
fn placeholders_and_identifiers_stay_quiet_when_encoded() {
    let text = format!(
        "a: {}\nb: {}\nc: {}\n",
        b64(b"sk_test_xxxxxxxxxxxxxxxxxxxxxxxx"),
        b64(b"pk_live_YOUR_KEY_HERE"),
        b64(b"task_test_runner_with_a_long_suffix_for_length"),
    );
    let d = tempdir();
    write(d.path(), "placeholders.yaml", &text);
    let r = run(d.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.findings().is_empty());
}

#[test]
fn utf16_after_a_utf8_byte_order_mark_and_inside_utf8_text() {
    let k = key("sk_live_", 24);
    // A UTF-16LE file that starts with a UTF-8 BOM (a tool that wrote one, then the text).
    let mut bom_file = vec![0xEF, 0xBB, 0xBF];
    bom_file.extend(utf16(
        &format!("# settings\r\n$key = '{k}'\r\n"),
        false,
        false,
    ));
    // A PowerShell export pasted into a UTF-8 file, in both byte orders.
    let k2 = key("rk_live_", 24);
    let mut mixed = b"first line in utf-8\nsecond: ".to_vec();
    mixed.extend(utf16(&format!("PS> $env:STRIPE='{k2}'\n"), false, false));
    mixed.extend_from_slice(b"back in utf-8\n");
    let k3 = key("sk_test_", 24);
    let mut big = b"# header\n".to_vec();
    big.extend(utf16(&format!("x={k3}\n"), true, false));
    for mode in MODES {
        let (_t, r) = scan_as(
            mode,
            &[
                ("bom.ps1", &bom_file),
                ("mixed.txt", &mixed),
                ("big.txt", &big),
            ],
            &[],
        );
        assert_eq!(r.code, 1, "{mode:?}: {}", r.stderr);
        let found = r.findings();
        assert_at(finding_of(&found, &k, mode), "bom.ps1", 2, 9, &["utf-16le"]);
        // "second: " then "PS> $env:STRIPE='" before the key.
        assert_at(
            finding_of(&found, &k2, mode),
            "mixed.txt",
            2,
            26,
            &["utf-16le"],
        );
        let f3 = finding_of(&found, &k3, mode);
        assert_eq!(
            (&f3["path"], &f3["line"], &f3["column"]),
            (&"big.txt".into(), &2.into(), &3.into())
        );
    }
}

#[test]
fn an_allowed_fingerprint_matches_the_key_however_it_is_written() {
    let k = key("sk_live_", 24);
    let d = tempdir();
    write(d.path(), "plain.env", format!("KEY={k}\n"));
    write(
        d.path(),
        "secret.yaml",
        format!("data:\n  KEY: {}\n", b64(k.as_bytes())),
    );
    let r = run(d.path(), &["scan", ".", "--format", "json"]);
    let found = r.findings();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0]["fingerprint"], found[1]["fingerprint"]);
    write(
        d.path(),
        ".stripe-scan.toml",
        format!(
            "[allow]\nfingerprints = [\"{}\"]\n",
            fingerprint_of(k.as_bytes())
        ),
    );
    let r = run(d.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json()["summary"]["suppressed_by"]["fingerprint"], 2);
}

#[test]
fn sarif_points_at_the_encoded_run_and_names_the_encoding() {
    let k = key("sk_live_", 24);
    let enc = b64(k.as_bytes());
    let yaml = format!("kind: Secret\ndata:\n  KEY: {enc}\n");
    let (line, col) = place(&yaml, &enc);
    let (r, doc) = pack::sarif_of_history(&[("deploy/secret.yaml", yaml.as_bytes())]);
    let result = &doc["runs"][0]["results"][0];
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "deploy/secret.yaml");
    assert_eq!(loc["region"]["startLine"], line);
    assert_eq!(loc["region"]["startColumn"], col);
    let message = result["message"]["text"].as_str().expect("message");
    assert!(message.contains("encoded as base64"), "{message}");
    assert_eq!(
        result["properties"]["encoding"],
        serde_json::json!(["base64"])
    );
    assert!(!r.stdout.contains(&k[8..]) && !r.stdout.contains(&enc));
}

#[test]
fn text_report_shows_the_decoding_chain() {
    let k = key("sk_live_", 24);
    let d = tempdir();
    write(
        d.path(),
        "s.yaml",
        format!("data:\n  KEY: {}\n", b64(k.as_bytes())),
    );
    let r = run(d.path(), &["scan", "."]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("s.yaml:2:8"), "{}", r.stdout);
    assert!(r.stdout.contains("encoded as base64"), "{}", r.stdout);
}

/// Base64 of base64 of gzip of a file holding the key in base64 is four layers: one past the
/// default limit, so a note names the limit; raising it finds the key.
#[test]
fn layers_past_the_limit_are_a_note_until_the_limit_is_raised() {
    let k = key("sk_live_", 24);
    let inner = format!("STRIPE_KEY_B64={}\n", b64(k.as_bytes()));
    let enc = b64(b64(&pack::gzip(inner.as_bytes())).as_bytes());
    let d = tempdir();
    write(d.path(), "deep.txt", format!("blob: {enc}\n"));
    let r = run(d.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stderr.contains("deep.txt: ") && r.stderr.contains("raise [limits] layers"),
        "{}",
        r.stderr
    );
    write(d.path(), ".stripe-scan.toml", "[limits]\nlayers = 4\n");
    let r = run(d.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_at(
        finding_of(&r.findings(), &k, Mode::Scan),
        "deep.txt",
        1,
        7,
        &["base64", "base64", "gzip", "base64"],
    );
}

/// A file larger than one read buffer is streamed: encoded keys on every side of the buffer's
/// edges are found once, at their run.
#[test]
fn encoded_keys_across_the_streaming_buffer_are_found_once() {
    let mut text = String::new();
    let mut keys = Vec::new();
    let mut n = 0;
    while text.len() < 3 << 20 {
        n += 1;
        if n % 997 == 0 {
            let k = key("sk_live_", 24);
            text.push_str(&format!("k{n}: {}\n", b64(k.as_bytes())));
            keys.push((k, text.lines().count() as u64));
        } else {
            text.push_str(&format!("filler line number {n} with some words in it\n"));
        }
    }
    let d = tempdir();
    write(d.path(), "big.yaml", &text);
    let r = run(d.path(), &["scan", ".", "--format", "json"]);
    let found = r.findings();
    assert_eq!(found.len(), keys.len(), "{}", r.stderr);
    for (k, line) in &keys {
        let f = finding_of(&found, k, Mode::Scan);
        assert_eq!(f["line"], *line);
    }
}
