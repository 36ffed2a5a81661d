//! `--verify` against a stand-in for Stripe's API on 127.0.0.1: a real HTTP server (std
//! `TcpListener`, a thread per connection) that answers as Stripe does, records every request's
//! bytes and counts connections. The real binary is pointed at it through `STRIPE_SCAN_API_BASE`,
//! the only way to point it anywhere but api.stripe.com. Nothing here touches the network.

use crate::reports::{corpus, public_example, validate_sarif};
use crate::util::{commit, git, key, random_from, repo, run_env, tempdir, write, Run, ALNUM};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the stand-in answers one request.
#[derive(Clone)]
enum Reply {
    /// Status, extra headers, body.
    Http(u16, Vec<(&'static str, String)>, String),
    /// Reads the request and never answers (until the test is long over).
    Hang,
}

type Behaviour = dyn Fn(&str, usize) -> Reply + Send + Sync;

/// Stripe on 127.0.0.1. `behaviour(key, nth)` decides each answer from the Bearer key and how
/// many requests that key has had before (0 for the first).
struct Stripe {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Stripe {
    fn start(behaviour: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) -> Stripe {
        Stripe::start_with_delay(Duration::ZERO, behaviour)
    }

    /// Every answer waits `delay` first, so that requests overlap and concurrency shows.
    fn start_with_delay(
        delay: Duration,
        behaviour: impl Fn(&str, usize) -> Reply + Send + Sync + 'static,
    ) -> Stripe {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let behaviour: Arc<Behaviour> = Arc::new(behaviour);
        let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let now = Arc::new(AtomicUsize::new(0));
        {
            let (requests, connections, peak, stop) = (
                requests.clone(),
                connections.clone(),
                peak.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let stream = match listener.accept() {
                        Ok((s, _)) => s,
                        Err(_) => {
                            std::thread::sleep(Duration::from_millis(2));
                            continue;
                        }
                    };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    let (requests, behaviour, seen, now, stop) = (
                        requests.clone(),
                        behaviour.clone(),
                        seen.clone(),
                        now.clone(),
                        stop.clone(),
                    );
                    std::thread::spawn(move || {
                        // Out of flight before the answer is written: the client can only open
                        // its next connection once it has read this answer.
                        let done = || {
                            now.fetch_sub(1, Ordering::SeqCst);
                        };
                        serve(stream, delay, &requests, &*behaviour, &seen, &stop, done);
                    });
                }
            });
        }
        Stripe {
            port,
            requests,
            connections,
            peak,
            stop,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }

    /// The Bearer keys received, in order.
    fn keys(&self) -> Vec<String> {
        self.requests().iter().filter_map(|r| bearer(r)).collect()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Stripe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(
    mut stream: TcpStream,
    delay: Duration,
    requests: &Mutex<Vec<String>>,
    behaviour: &Behaviour,
    seen: &Mutex<HashMap<String, usize>>,
    stop: &AtomicBool,
    done: impl FnOnce(),
) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    requests.lock().expect("lock").push(text.clone());
    let key = bearer(&text).unwrap_or_default();
    let nth = {
        let mut seen = seen.lock().expect("lock");
        let n = seen.entry(key.clone()).or_insert(0);
        *n += 1;
        *n - 1
    };
    std::thread::sleep(delay);
    match behaviour(&key, nth) {
        Reply::Hang => {
            let until = Instant::now() + Duration::from_secs(30);
            while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            done();
        }
        Reply::Http(code, headers, body) => {
            done();
            let mut out = format!("HTTP/1.1 {code} {}\r\n", reason(code));
            out.push_str("Content-Type: application/json\r\n");
            out.push_str(&format!("Content-Length: {}\r\n", body.len()));
            out.push_str("Connection: close\r\n");
            out.push_str("Request-Id: req_stand_in\r\n");
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            let _ = stream.write_all(out.as_bytes());
            let _ = stream.flush();
        }
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Other",
    }
}

fn bearer(request: &str) -> Option<String> {
    request.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        let value = value.trim();
        (name.eq_ignore_ascii_case("authorization"))
            .then(|| value.strip_prefix("Bearer ").map(str::to_string))
            .flatten()
    })
}

// ---- Stripe's answers, as its API writes them ----

fn balance() -> Reply {
    Reply::Http(
        200,
        vec![],
        r#"{"object":"balance","available":[{"amount":0,"currency":"usd","source_types":{"card":0}}],"livemode":false,"pending":[{"amount":0,"currency":"usd","source_types":{"card":0}}]}"#.into(),
    )
}

/// What Stripe's error messages show of a key: the prefix, stars, the last four characters.
fn masked(key: &str) -> String {
    let prefix_len = key.match_indices('_').nth(1).map_or(3, |(i, _)| i + 1);
    format!(
        "{}{}{}",
        &key[..prefix_len],
        "*".repeat(key.len() - prefix_len - 4),
        &key[key.len() - 4..]
    )
}

/// Stripe's 401 for a key it does not accept: an invalid_request_error that quotes the key.
fn invalid(key: &str) -> Reply {
    Reply::Http(
        401,
        vec![("WWW-Authenticate", r#"Basic realm="Stripe""#.into())],
        format!(
            r#"{{"error":{{"message":"Invalid API Key provided: {}","type":"invalid_request_error"}}}}"#,
            masked(key)
        ),
    )
}

fn expired(key: &str) -> Reply {
    Reply::Http(
        401,
        vec![],
        format!(
            r#"{{"error":{{"code":"api_key_expired","doc_url":"https://stripe.com/docs/error-codes/api-key-expired","message":"Expired API Key provided: {}","type":"invalid_request_error"}}}}"#,
            masked(key)
        ),
    )
}

/// Stripe's 403 for a restricted key without the permission for the endpoint.
fn no_permission(key: &str) -> Reply {
    Reply::Http(
        403,
        vec![],
        format!(
            r#"{{"error":{{"message":"The provided key '{}' does not have the required permissions for this endpoint on account 'acct_1StandIn'. Having the 'rak_balance_read' permission would allow this request to continue.","type":"invalid_request_error"}}}}"#,
            masked(key)
        ),
    )
}

fn rate_limited(retry_after: &str) -> Reply {
    Reply::Http(
        429,
        vec![("Retry-After", retry_after.into())],
        r#"{"error":{"code":"rate_limit","message":"Too many requests hit the API too quickly.","type":"invalid_request_error"}}"#.into(),
    )
}

fn server_error() -> Reply {
    Reply::Http(
        500,
        vec![],
        r#"{"error":{"message":"An unknown error occurred","type":"api_error"}}"#.into(),
    )
}

/// Words from Stripe's bodies that our output must never repeat.
const BODY_WORDS: [&str; 4] = [
    "Invalid API Key provided",
    "Expired API Key provided",
    "does not have the required permissions",
    "acct_1StandIn",
];

// ---- running the binary against it ----

/// What HTTP clients commonly take a proxy from.
const PROXY_VARS: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

fn verify_run(dir: &Path, base: &str, args: &[&str]) -> Run {
    verify_run_env(dir, base, args, &[])
}

fn verify_run_env(dir: &Path, base: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec![("STRIPE_SCAN_API_BASE", base)];
    all.extend_from_slice(env);
    // A proxy in the test environment must not change what these tests see.
    for k in PROXY_VARS {
        if !env.iter().any(|(e, _)| *e == k) {
            all.push((k, ""));
        }
    }
    run_env(dir, args, &all)
}

/// `scan . --verify -f json` and `extra`.
fn verify_json(dir: &Path, base: &str, extra: &[&str]) -> Run {
    let mut args = vec!["scan", ".", "--verify", "-f", "json"];
    args.extend_from_slice(extra);
    verify_run(dir, base, &args)
}

fn show(run: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// The finding for `key` (its first occurrence) in a JSON run.
fn finding_of(run: &Run, key: &str) -> Value {
    let fp = fingerprint(key);
    run.findings()
        .into_iter()
        .find(|f| f["fingerprint"] == fp.as_str())
        .unwrap_or_else(|| panic!("no finding for the key\n{}", show(run)))
}

fn fingerprint(key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn status_of(run: &Run, key: &str) -> (String, String) {
    let v = &finding_of(run, key)["verification"];
    (
        v["status"].as_str().unwrap_or("?").to_string(),
        v["reason"].as_str().unwrap_or("?").to_string(),
    )
}

/// Everything a run printed must be free of the key's body and of Stripe's response text.
fn assert_nothing_leaks(what: &str, text: &str, keys: &[&str]) {
    for k in keys {
        let body = &k[8..];
        assert!(!text.contains(body), "{what} holds a key:\n{text}");
        assert!(
            !text.contains(&masked(k)),
            "{what} echoes Stripe's body:\n{text}"
        );
    }
    for w in BODY_WORDS {
        assert!(
            !text.contains(w),
            "{what} echoes Stripe's body ({w}):\n{text}"
        );
    }
}

// ---- the tests ----

/// Each answer Stripe can give maps to one status, three-valued and never conflated.
#[test]
fn each_answer_gets_its_status() {
    let live = key("sk_live_", 24);
    let gone = key("sk_test_", 24);
    let rolled = key("sk_live_", 99);
    let narrow = key("rk_live_", 24);
    let secret_403 = key("sk_test_", 32);
    let broken = key("rk_test_", 24);
    let answers: HashMap<String, Reply> = [
        (live.clone(), balance()),
        (gone.clone(), invalid(&gone)),
        (rolled.clone(), expired(&rolled)),
        (narrow.clone(), no_permission(&narrow)),
        (secret_403.clone(), no_permission(&secret_403)),
        (broken.clone(), server_error()),
    ]
    .into_iter()
    .collect();
    let stripe = Stripe::start(move |k, _| {
        answers
            .get(k)
            .cloned()
            .unwrap_or_else(|| Reply::Http(404, vec![], "{}".into()))
    });
    let dir = tempdir();
    let all = [&live, &gone, &rolled, &narrow, &secret_403, &broken];
    let text: String = all
        .iter()
        .enumerate()
        .map(|(i, k)| format!("STRIPE_KEY_{i}={k}\n"))
        .collect();
    write(dir.path(), "keys.env", &text);
    let run = verify_json(dir.path(), &stripe.base(), &[]);
    assert_eq!(run.code, 1, "{}", show(&run));
    let want = [
        (&live, "active", "HTTP 200"),
        (&gone, "inactive", "HTTP 401"),
        (&rolled, "inactive", "api_key_expired"),
        (&narrow, "active", "HTTP 403"),
        (&secret_403, "unknown", "HTTP 403"),
        (&broken, "unknown", "HTTP 500"),
    ];
    for (k, status, why) in want {
        let (got, reason) = status_of(&run, k);
        assert_eq!(got, status, "{k:.8}…: {reason}");
        assert!(reason.contains(why), "{status}: {reason}");
    }
    let f = finding_of(&run, &live);
    let at = f["verification"]["checked_at"]
        .as_str()
        .expect("checked_at");
    assert!(
        at.len() == 20 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
        "{at}"
    );
    assert_eq!(stripe.requests().len(), 6);
    let summary = &run.json()["summary"]["verification"];
    assert_eq!(summary["active"], 2);
    assert_eq!(summary["inactive"], 2);
    assert_eq!(summary["unknown"], 2);
    assert_eq!(summary["not_verifiable"], 0);
    let keys: Vec<&str> = all.iter().map(|k| k.as_str()).collect();
    assert_nothing_leaks("stdout", &run.stdout, &keys);
    assert_nothing_leaks("stderr", &run.stderr, &keys);
}

/// The request is exactly what the README promises, byte for byte: one GET, the key only in the
/// Authorization header, nothing else but Host and User-Agent.
#[test]
fn the_request_holds_the_key_only_in_the_authorization_header() {
    let stripe = Stripe::start(|_, _| balance());
    let dir = tempdir();
    let k = key("rk_test_", 24);
    write(dir.path(), "a.env", format!("K={k}\n"));
    let run = verify_run(dir.path(), &stripe.base(), &["scan", ".", "--verify", "-q"]);
    assert_eq!(run.code, 1, "{}", show(&run));
    let requests = stripe.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let raw = &requests[0];
    let (head, body) = raw.split_once("\r\n\r\n").expect("end of head");
    assert_eq!(body, "", "a GET carries no body");
    let mut lines = head.split("\r\n");
    assert_eq!(lines.next(), Some("GET /v1/balance HTTP/1.1"));
    let mut headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(": ").expect("header line");
            (n.to_ascii_lowercase(), v.to_string())
        })
        .collect();
    headers.sort();
    let mut want = vec![
        ("authorization".to_string(), format!("Bearer {k}")),
        ("host".to_string(), format!("127.0.0.1:{}", stripe.port)),
        (
            "user-agent".to_string(),
            format!(
                "stripe-scan/{} (key verification)",
                env!("CARGO_PKG_VERSION")
            ),
        ),
    ];
    want.sort();
    assert_eq!(headers, want, "raw request:\n{raw}");
    assert_eq!(raw.matches(&k).count(), 1, "the key appears once");
}

/// One request per distinct key however many places hold it; other kinds and Stripe's public
/// example keys are never sent.
#[test]
fn one_request_per_key_and_never_an_example_or_other_kind() {
    let stripe = Stripe::start(|_, _| balance());
    let dir = tempdir();
    let k = key("sk_live_", 24);
    for i in 0..100 {
        write(
            dir.path(),
            &format!("f{i:03}.env"),
            format!("STRIPE_SECRET_KEY={k}\n"),
        );
    }
    let example = public_example();
    let publishable = key("pk_live_", 24);
    let webhook = key("whsec_", 32);
    let org = format!("sk_org_live_{}", random_from(ALNUM, 224));
    write(
        dir.path(),
        "others.env",
        format!(
            "STRIPE_EXAMPLE={example}\nSTRIPE_PK={publishable}\nSTRIPE_WEBHOOK_SECRET={webhook}\nSTRIPE_ORG={org}\n"
        ),
    );
    let run = verify_json(dir.path(), &stripe.base(), &[]);
    assert_eq!(run.code, 1, "{}", show(&run));
    assert_eq!(
        stripe.keys(),
        vec![k.clone()],
        "exactly one request, for the one secret key"
    );
    let fp = fingerprint(&k);
    let same: Vec<Value> = run
        .findings()
        .into_iter()
        .filter(|f| f["fingerprint"] == fp.as_str())
        .collect();
    assert_eq!(same.len(), 100);
    assert!(same.iter().all(|f| f["verification"]["status"] == "active"));
    for (other, why) in [
        (&example, "public example"),
        (&publishable, "publishable"),
        (&webhook, "webhook"),
        (&org, "Stripe-Context"),
    ] {
        let (status, reason) = status_of(&run, other);
        assert_eq!(status, "not_verifiable", "{why}");
        assert!(reason.contains(why), "{reason}");
        assert_eq!(
            finding_of(&run, other)["verification"]["checked_at"],
            Value::Null
        );
    }
    assert_eq!(run.json()["summary"]["verification"]["not_verifiable"], 4);
}

/// One key of every kind the built-in rules know: only secret and restricted keys with
/// Stripe's documented prefixes are sent; each of the others says why it was not.
#[test]
fn only_secret_and_restricted_keys_are_ever_sent() {
    let stripe = Stripe::start(|k, _| invalid(k));
    let dir = tempdir();
    let keys = corpus();
    let text: String = keys
        .iter()
        .enumerate()
        .map(|(i, (_, k))| format!("stripe_{i} = \"{k}\"  # stripe_user_id refresh_token\n\n"))
        .collect();
    write(dir.path(), "all.py", text);
    let run = verify_json(dir.path(), &stripe.base(), &[]);
    assert_eq!(run.code, 1, "{}", show(&run));
    let sendable = ["sk_live_", "sk_test_", "rk_live_", "rk_test_"];
    let mut want: Vec<&str> = keys
        .iter()
        .filter(|(p, _)| sendable.contains(&p.as_str()))
        .map(|(_, k)| k.as_str())
        .collect();
    let mut sent = stripe.keys();
    want.sort();
    sent.sort();
    assert_eq!(sent, want);
    for (prefix, k) in &keys {
        let v = &finding_of(&run, k)["verification"];
        if sendable.contains(&prefix.as_str()) {
            assert_eq!(v["status"], "inactive", "{prefix}");
        } else {
            assert_eq!(v["status"], "not_verifiable", "{prefix}");
            assert_eq!(v["checked_at"], Value::Null, "{prefix}");
            let reason = v["reason"].as_str().unwrap_or_default();
            assert!(
                reason.len() > 20 && reason.contains(' '),
                "{prefix}: {reason}"
            );
        }
    }
    let all: Vec<&str> = keys.iter().map(|(_, k)| k.as_str()).collect();
    assert_nothing_leaks("stdout", &run.stdout, &all);
}

/// At most four requests in flight, and many keys still take about a second, not minutes.
#[test]
fn at_most_four_requests_at_a_time() {
    let stripe = Stripe::start_with_delay(Duration::from_millis(100), |_, _| balance());
    let dir = tempdir();
    let keys: Vec<String> = (0..40).map(|_| key("sk_test_", 24)).collect();
    let text: String = keys.iter().map(|k| format!("STRIPE_KEY={k}\n")).collect();
    write(dir.path(), "many.env", text);
    let started = Instant::now();
    let run = verify_json(dir.path(), &stripe.base(), &[]);
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{}", show(&run));
    assert_eq!(stripe.connections(), 40);
    let peak = stripe.peak.load(Ordering::SeqCst);
    assert!(peak <= 4, "{peak} requests at once");
    assert!(
        peak >= 2,
        "requests never overlapped ({peak}): the pool is not working"
    );
    assert!(took < Duration::from_secs(8), "{took:?}");
    assert!(keys.iter().all(|k| status_of(&run, k).0 == "active"));
}

/// 429 is retried after Retry-After; one that never ends, a hang, a refused connection and a
/// redirect are all unknown, each with its reason, and a redirect is never followed.
#[test]
fn rate_limits_are_retried_and_failures_are_unknown() {
    let patient = key("sk_live_", 24);
    let hopeless = key("sk_live_", 24);
    let slow = key("rk_live_", 24);
    let moved = key("sk_test_", 24);
    let decoy = Stripe::start(|_, _| balance());
    let location = format!("{}/v1/balance", decoy.base());
    let (p, h, s, m) = (
        patient.clone(),
        hopeless.clone(),
        slow.clone(),
        moved.clone(),
    );
    let stripe = Stripe::start(move |k, nth| {
        if k == p {
            if nth == 0 {
                rate_limited("1")
            } else {
                balance()
            }
        } else if k == h {
            rate_limited("0")
        } else if k == s {
            Reply::Hang
        } else if k == m {
            Reply::Http(302, vec![("Location", location.clone())], "{}".into())
        } else {
            server_error()
        }
    });
    let dir = tempdir();
    write(
        dir.path(),
        "k.env",
        format!("A={patient}\nB={hopeless}\nC={slow}\nD={moved}\n"),
    );
    let started = Instant::now();
    let run = verify_json(dir.path(), &stripe.base(), &["--verify-timeout", "0.5"]);
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{}", show(&run));
    assert_eq!(status_of(&run, &patient).0, "active");
    let (status, reason) = status_of(&run, &hopeless);
    assert_eq!(status, "unknown");
    assert!(reason.contains("429"), "{reason}");
    let (status, reason) = status_of(&run, &slow);
    assert_eq!(status, "unknown");
    assert!(reason.contains("no answer within 0.5 s"), "{reason}");
    let (status, reason) = status_of(&run, &moved);
    assert_eq!(status, "unknown");
    assert!(reason.contains("redirect"), "{reason}");
    assert_eq!(decoy.connections(), 0, "a redirect was followed");
    let keys = stripe.keys();
    assert_eq!(keys.iter().filter(|k| **k == patient).count(), 2);
    assert_eq!(keys.iter().filter(|k| **k == hopeless).count(), 3);
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert!(took < Duration::from_secs(6), "{took:?}");
}

/// A test server named over https gets TLS with the certificate checked; one that does not speak
/// TLS is a TLS failure (unknown), and the key never left in the clear.
#[test]
fn a_tls_failure_is_unknown_and_the_key_stays_encrypted() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let got = received.clone();
    std::thread::spawn(move || {
        // One connection: read what the client sends first, answer in plain HTTP, close.
        if let Ok((mut s, _)) = listener.accept() {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            got.lock().expect("lock").extend_from_slice(&buf[..n]);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        }
    });
    let (k, run) = one_unknown_key(&format!("https://127.0.0.1:{port}"), "TLS failure");
    let hello = received.lock().expect("lock").clone();
    assert_eq!(hello.first(), Some(&0x16), "not a TLS handshake: {hello:?}");
    assert!(!String::from_utf8_lossy(&hello).contains(&k[8..]));
    assert_nothing_leaks("stdout", &run.stdout, &[&k]);
}

#[test]
fn a_refused_connection_is_unknown() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    one_unknown_key(&format!("http://127.0.0.1:{port}"), "connection refused");
}

/// A directory holding one live key.
fn one_key() -> (tempfile::TempDir, String) {
    let dir = tempdir();
    let k = key("sk_live_", 24);
    write(dir.path(), "a.env", format!("K={k}\n"));
    (dir, k)
}

/// Scans one live key against `base` and checks that it comes out unknown, for `why`.
fn one_unknown_key(base: &str, why: &str) -> (String, Run) {
    let (dir, k) = one_key();
    let run = verify_json(dir.path(), base, &[]);
    assert_eq!(run.code, 1, "{}", show(&run));
    let (status, reason) = status_of(&run, &k);
    assert_eq!(status, "unknown");
    assert!(reason.contains(why), "{reason}");
    (k, run)
}

/// The budget bounds the whole phase: keys not answered in time are unknown, and the run ends.
#[test]
fn the_budget_bounds_the_whole_verification() {
    let stripe = Stripe::start(|_, _| Reply::Hang);
    let dir = tempdir();
    let keys: Vec<String> = (0..9).map(|_| key("sk_live_", 24)).collect();
    let text: String = keys.iter().map(|k| format!("K={k}\n")).collect();
    write(dir.path(), "k.env", text);
    let started = Instant::now();
    let run = verify_json(dir.path(), &stripe.base(), &["--verify-budget", "1"]);
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{}", show(&run));
    assert!(took < Duration::from_secs(4), "{took:?}");
    let reasons: Vec<String> = keys
        .iter()
        .map(|k| {
            let (status, reason) = status_of(&run, k);
            assert_eq!(status, "unknown");
            reason
        })
        .collect();
    assert_eq!(stripe.connections(), 4, "only the first four were sent");
    assert_eq!(
        reasons.iter().filter(|r| r.contains("budget")).count(),
        5,
        "{reasons:?}"
    );
}

/// A malicious repository cannot point the requests at its own server: the config file has no
/// such setting (it is refused), and only a loopback STRIPE_SCAN_API_BASE is accepted, checked
/// before anything is scanned.
#[test]
fn neither_config_nor_a_foreign_base_can_redirect_the_keys() {
    let stripe = Stripe::start(|_, _| balance());
    let decoy = Stripe::start(|_, _| balance());
    let (dir, k) = one_key();
    for attempt in [
        format!("api_base = \"{}\"\n", decoy.base()),
        format!("[verify]\napi_base = \"{}\"\n", decoy.base()),
        format!("[verify]\nhost = \"127.0.0.1:{}\"\n", decoy.port),
    ] {
        write(dir.path(), ".stripe-scan.toml", &attempt);
        let run = verify_run(dir.path(), &stripe.base(), &["scan", ".", "--verify"]);
        assert_eq!(run.code, 2, "{attempt}\n{}", show(&run));
        assert!(run.stderr.contains(".stripe-scan.toml"), "{}", run.stderr);
        assert!(!run.stdout.contains(&k[8..]) && !run.stderr.contains(&k[8..]));
    }
    assert_eq!(decoy.connections(), 0);
    std::fs::remove_file(dir.path().join(".stripe-scan.toml")).expect("rm");
    for base in [
        format!("http://0.0.0.0:{}", stripe.port),
        format!("http://127.0.0.1:{}/v1", stripe.port),
        format!("http://user@127.0.0.1:{}", stripe.port),
        format!("http://127.0.0.1.nip.io:{}", stripe.port),
        "https://api.stripe.com.evil.example".to_string(),
        "http://api.stripe.com".to_string(),
    ] {
        let run = verify_run(dir.path(), &base, &["scan", ".", "--verify"]);
        assert_eq!(run.code, 2, "{base}\n{}", show(&run));
        assert!(
            run.stderr.contains("STRIPE_SCAN_API_BASE") && run.stderr.contains("refused"),
            "{}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "nothing was scanned: {base}");
    }
    assert_eq!(stripe.connections() + decoy.connections(), 0);
    // Without --verify nothing is ever sent, whatever the environment says.
    let run = verify_run(dir.path(), &stripe.base(), &["scan", ".", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", show(&run));
    assert!(run.findings()[0].get("verification").is_none());
    let run = verify_run(dir.path(), "http://evil.example", &["scan", ".", "-q"]);
    assert_eq!(run.code, 1, "{}", show(&run));
    assert_eq!(stripe.connections(), 0);
}

/// A proxy sees every key: the environment's proxy is ignored unless --verify-proxy asks for it.
#[test]
fn proxies_only_with_verify_proxy() {
    let stripe = Stripe::start(|_, _| balance());
    let proxy = Stripe::start(|_, _| balance());
    let (dir, _) = one_key();
    let via = proxy.base();
    let env: Vec<(&str, &str)> = PROXY_VARS.iter().map(|k| (*k, via.as_str())).collect();
    let run = verify_run_env(
        dir.path(),
        &stripe.base(),
        &["scan", ".", "--verify", "-q"],
        &env,
    );
    assert_eq!(run.code, 1, "{}", show(&run));
    assert_eq!(proxy.connections(), 0, "the environment's proxy was used");
    assert_eq!(stripe.connections(), 1);

    let run = verify_run_env(
        dir.path(),
        &stripe.base(),
        &["scan", ".", "--verify", "--verify-proxy", "-q"],
        &env,
    );
    assert_eq!(run.code, 1, "{}", show(&run));
    assert_eq!(
        proxy.connections(),
        1,
        "--verify-proxy did not use HTTPS_PROXY"
    );
    assert_eq!(stripe.connections(), 1);

    let run = verify_run(
        dir.path(),
        &stripe.base(),
        &["scan", ".", "--verify", "--verify-proxy"],
    );
    assert_eq!(run.code, 2, "{}", show(&run));
    assert!(
        run.stderr.contains("HTTPS_PROXY is not set"),
        "{}",
        run.stderr
    );
}

/// Two live keys and a Stripe that accepts the first and rejects the second.
fn live_and_dead() -> (String, String, Stripe) {
    let live = key("sk_live_", 24);
    let dead = key("sk_live_", 24);
    let l = live.clone();
    let stripe = Stripe::start(move |k, _| if k == l { balance() } else { invalid(k) });
    (live, dead, stripe)
}

/// `--fail-on-verified`: only active keys fail; a key Stripe could not settle makes the run exit
/// 2 rather than pass.
#[test]
fn fail_on_verified_fails_only_for_active_keys() {
    let (live, dead, stripe) = live_and_dead();
    let dir = tempdir();
    write(dir.path(), "dead.env", format!("K={dead}\n"));
    let args = ["scan", ".", "--verify", "--fail-on-verified"];
    let run = verify_run(dir.path(), &stripe.base(), &args);
    assert_eq!(run.code, 0, "an inactive key fails the run\n{}", show(&run));
    // --verify alone leaves --fail-on as it was: an inactive live key still fails.
    let run = verify_run(dir.path(), &stripe.base(), &["scan", ".", "--verify"]);
    assert_eq!(run.code, 1, "{}", show(&run));
    write(dir.path(), "live.env", format!("K={live}\n"));
    let run = verify_run(dir.path(), &stripe.base(), &args);
    assert_eq!(run.code, 1, "{}", show(&run));
    // --fail-on still applies on top: an active key below the threshold passes.
    let with_fail_on = |dir: &Path, base: &str, fail_on: &str| {
        let mut a = args.to_vec();
        a.extend(["--fail-on", fail_on, "-q"]);
        let run = verify_run(dir, base, &a);
        assert!(run.code != 2, "{}", show(&run));
        run.code
    };
    assert_eq!(with_fail_on(dir.path(), &stripe.base(), "critical"), 1);
    let active_restricted = key("rk_live_", 24);
    let r = active_restricted.clone();
    let narrow = Stripe::start(
        move |k, _| {
            if k == r {
                no_permission(k)
            } else {
                invalid(k)
            }
        },
    );
    let high = tempdir();
    write(high.path(), "r.env", format!("K={active_restricted}\n"));
    assert_eq!(with_fail_on(high.path(), &narrow.base(), "high"), 1);
    assert_eq!(with_fail_on(high.path(), &narrow.base(), "critical"), 0);
    // Unreachable: nothing is settled, so the run cannot pass.
    let run = verify_run(dir.path(), "http://127.0.0.1:9", &args);
    assert_eq!(run.code, 2, "{}", show(&run));
    assert!(
        run.stderr.contains("--fail-on-verified: 2 findings")
            && run.stderr.contains("could not be verified"),
        "{}",
        run.stderr
    );
    // Without --verify the flag means nothing, so it is refused.
    let run = run_env(dir.path(), &["scan", ".", "--fail-on-verified"], &[]);
    assert_eq!(run.code, 2, "{}", show(&run));
    assert!(run.stderr.contains("--verify"), "{}", run.stderr);
}

/// Text lists keys that still work first, shows the status under each finding, and the steps
/// follow the answer: roll now for an active key, confirm and purge for an inactive one.
#[test]
fn text_puts_active_keys_first_and_the_steps_follow_the_answer() {
    let (live, dead, stripe) = live_and_dead();
    let dir = tempdir();
    write(dir.path(), "a_first.env", format!("K={dead}\n"));
    write(dir.path(), "z_last.env", format!("K={live}\n"));
    let run = verify_run(dir.path(), &stripe.base(), &["scan", ".", "--verify"]);
    assert_eq!(run.code, 1, "{}", show(&run));
    let out = &run.stdout;
    let z = out.find("z_last.env:1:3").expect("active finding");
    let a = out.find("a_first.env:1:3").expect("inactive finding");
    assert!(z < a, "active key not listed first:\n{out}");
    let active_steps = &out[z..a];
    assert!(
        active_steps.contains("Stripe: active (checked "),
        "{active_steps}"
    );
    assert!(
        active_steps.contains("1. Stripe confirmed that this key works right now: roll it first"),
        "{active_steps}"
    );
    let inactive_steps = &out[a..];
    assert!(
        inactive_steps.contains("Stripe: inactive (checked "),
        "{inactive_steps}"
    );
    assert!(inactive_steps.contains("1. Stripe rejects this key (HTTP 401)"));
    assert!(
        !inactive_steps.contains("Roll the key now"),
        "{inactive_steps}"
    );
    assert!(
        run.stderr.contains("keys per Stripe: 1 active, 1 inactive"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("asking Stripe whether 2 keys still work"),
        "{}",
        run.stderr
    );
    assert_nothing_leaks("text", out, &[&live, &dead]);
    assert_nothing_leaks("stderr", &run.stderr, &[&live, &dead]);
    // JSON lists them in the same order; without --verify, by path as always.
    let json = |extra: &[&str]| {
        let mut args = vec!["scan", ".", "-f", "json"];
        args.extend_from_slice(extra);
        let run = verify_run(dir.path(), &stripe.base(), &args);
        let findings = run.findings();
        let first: Vec<&str> = findings
            .iter()
            .map(|f| f["path"].as_str().unwrap_or("?"))
            .collect();
        first.iter().map(|p| p.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(json(&["--verify"]), ["z_last.env", "a_first.env"]);
    assert_eq!(json(&[]), ["a_first.env", "z_last.env"]);
}

/// SARIF (validated against the official schema), GitHub annotations and the job summary carry
/// the status; an active live key goes under its `/active` rule at 10.0; none holds a key or any
/// text from Stripe's answers.
#[test]
fn sarif_and_github_carry_the_status_and_never_the_key() {
    let live = key("sk_live_", 24);
    let dead = key("sk_live_", 24);
    let narrow = key("rk_live_", 24);
    let (l, n) = (live.clone(), narrow.clone());
    let stripe = Stripe::start(move |k, _| {
        if k == l {
            balance()
        } else if k == n {
            no_permission(k)
        } else {
            invalid(k)
        }
    });
    let dir = tempdir();
    write(
        dir.path(),
        "k.env",
        format!("A={live}\nB={dead}\nC={narrow}\n"),
    );
    let out = tempdir();
    let sarif_path = out.path().join("r.sarif");
    let summary = out.path().join("summary.md");
    let run = verify_run_env(
        dir.path(),
        &stripe.base(),
        &[
            "scan",
            ".",
            "--verify",
            "-f",
            "github",
            "--sarif-output",
            sarif_path.to_str().expect("utf-8"),
        ],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8"))],
    );
    assert_eq!(run.code, 1, "{}", show(&run));
    let sarif_text = std::fs::read_to_string(&sarif_path).expect("sarif");
    let summary_text = std::fs::read_to_string(&summary).expect("summary");
    let keys = [live.as_str(), dead.as_str(), narrow.as_str()];
    for (what, text) in [
        ("github", &run.stdout),
        ("stderr", &run.stderr),
        ("sarif", &sarif_text),
        ("step summary", &summary_text),
    ] {
        assert_nothing_leaks(what, text, &keys);
    }
    validate_sarif(&sarif_path);
    let doc: Value = serde_json::from_str(&sarif_text).expect("json");
    let run0 = &doc["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run0["results"].as_array().expect("results");
    let by_line = |line: u64| {
        results
            .iter()
            .find(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"] == line)
            .expect("result")
    };
    let rule_of = |r: &Value| {
        let i = r["ruleIndex"].as_u64().expect("index") as usize;
        rules[i].clone()
    };
    let active = by_line(1);
    assert_eq!(active["ruleId"], "stripe-secret-key/sk_live/active");
    assert_eq!(rule_of(active)["id"], active["ruleId"]);
    assert_eq!(rule_of(active)["properties"]["security-severity"], "10.0");
    assert_eq!(active["properties"]["verification"]["status"], "active");
    let inactive = by_line(2);
    assert_eq!(inactive["ruleId"], "stripe-secret-key/sk_live");
    assert_eq!(rule_of(inactive)["properties"]["security-severity"], "9.5");
    assert_eq!(inactive["properties"]["verification"]["status"], "inactive");
    let restricted = by_line(3);
    assert_eq!(restricted["ruleId"], "stripe-restricted-key/rk_live/active");
    assert_eq!(
        rule_of(restricted)["properties"]["security-severity"],
        "10.0"
    );
    let msg = active["message"]["text"].as_str().expect("message");
    assert!(msg.contains("Stripe says: active"), "{msg}");

    // Active keys first (lines 1 and 3), then the inactive one.
    let annotations: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(annotations.len(), 3, "{}", run.stdout);
    for (annotation, line, title) in [
        (annotations[0], 1, "(critical%2C active)"),
        (annotations[1], 3, "(high%2C active)"),
        (annotations[2], 2, "(critical%2C inactive)"),
    ] {
        assert!(
            annotation.contains(&format!(",line={line},")) && annotation.contains(title),
            "{annotation}"
        );
    }
    assert!(
        summary_text.contains("**critical**, active"),
        "{summary_text}"
    );
}

/// History and staged scans verify too, once per key across every commit.
#[test]
fn history_and_staged_verify_each_key_once() {
    let k = key("sk_live_", 24);
    let stripe = Stripe::start(|k, _| invalid(k));
    let r = repo();
    let (line, other) = (format!("K={k}\n"), format!("KEY={k}\n"));
    commit(r.path(), &[("a.env", line.as_str())], "one");
    commit(r.path(), &[("b.env", line.as_str())], "two");
    commit(r.path(), &[("c/d.env", other.as_str())], "three");
    let run = verify_run(
        r.path(),
        &stripe.base(),
        &["history", "--verify", "-f", "json"],
    );
    assert_eq!(run.code, 1, "{}", show(&run));
    let findings = run.findings();
    assert_eq!(findings.len(), 3, "{}", show(&run));
    for f in &findings {
        assert_eq!(f["verification"]["status"], "inactive");
        let steps = f["remediation"].as_array().expect("steps");
        assert!(steps[0].as_str().expect("step").contains("HTTP 401"));
        assert!(steps
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.contains("git filter-repo"))));
    }
    assert_eq!(stripe.keys(), vec![k.clone()]);

    let fresh = key("rk_test_", 24);
    write(r.path(), "new.env", format!("K={fresh}\n"));
    git(r.path(), &["add", "new.env"]);
    let run = verify_run(
        r.path(),
        &stripe.base(),
        &["staged", "--verify", "-f", "json"],
    );
    assert_eq!(run.code, 1, "{}", show(&run));
    assert_eq!(status_of(&run, &fresh).0, "inactive");
    assert_eq!(stripe.keys(), vec![k, fresh]);
}

/// A baseline records keys whatever Stripe says, so it refuses --verify rather than ignore it.
#[test]
fn baseline_refuses_verify() {
    let stripe = Stripe::start(|_, _| balance());
    let dir = tempdir();
    write(dir.path(), "a.env", format!("K={}\n", key("sk_live_", 24)));
    let run = verify_run(dir.path(), &stripe.base(), &["baseline", ".", "--verify"]);
    assert_eq!(run.code, 2, "{}", show(&run));
    assert!(run.stderr.contains("--verify"), "{}", run.stderr);
    assert_eq!(stripe.connections(), 0);
    assert!(!dir.path().join(".stripe-scan-baseline.json").exists());
}
