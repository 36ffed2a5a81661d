//! `--verify`: asks Stripe whether each key found still works, after the filters and before the
//! reports. Which keys may be sent is decided here, from the key's own bytes as well as its rule,
//! so a config rule can never make stripe-scan send something that is not a Stripe secret or
//! restricted key. Each distinct key (by fingerprint) is sent once, whatever the number of places
//! it was found in, with at most `MAX_IN_FLIGHT` requests at a time and a total budget.

mod client;
pub(crate) mod endpoint;
mod pool;

use crate::cli::VerifyArgs;
use crate::error::Error;
use crate::finding::Finding;
use crate::report::progress::Progress;
use crate::rules::RuleSet;
use crate::secret::Secret;
use crate::verification::{Status, Verification};
use client::{Answer, Client};
use endpoint::Endpoint;
use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant, SystemTime};

/// Requests in flight at once: enough for 500 keys in well under a minute, few enough that Stripe
/// never sees a burst from one machine.
pub const MAX_IN_FLIGHT: usize = 4;
/// Attempts per key when Stripe answers 429.
const ATTEMPTS: usize = 3;
/// Longest wait between attempts, whatever `Retry-After` asks for.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Everything `--verify` needs, checked before the scan, so a refused `STRIPE_SCAN_API_BASE` or
/// a missing proxy stops the run before any key is found, let alone sent.
pub(crate) struct Settings {
    endpoint: Endpoint,
    proxy: Option<ureq::Proxy>,
    timeout: Duration,
    budget: Duration,
    quiet: bool,
}

impl Settings {
    /// `None` without `--verify`.
    pub fn new(args: &VerifyArgs, quiet: bool) -> Result<Option<Settings>, Error> {
        if !args.verify {
            return Ok(None);
        }
        let endpoint = Endpoint::from_env().map_err(Error::Usage)?;
        let proxy = if args.verify_proxy {
            Some(proxy_from_env()?)
        } else {
            None
        };
        Ok(Some(Settings {
            endpoint,
            proxy,
            timeout: args.verify_timeout,
            budget: args.verify_budget,
            quiet,
        }))
    }
}

/// `--verify-proxy`: HTTPS_PROXY (or https_proxy), and nothing else: NO_PROXY does not apply to
/// the one host we call. The value is never printed, since a proxy URL may hold a password.
fn proxy_from_env() -> Result<ureq::Proxy, Error> {
    let value = ["HTTPS_PROXY", "https_proxy"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .ok_or_else(|| {
            Error::Usage(
                "--verify-proxy: HTTPS_PROXY is not set; without it, leave the flag out".into(),
            )
        })?;
    ureq::Proxy::new(value.trim())
        .map_err(|_| Error::Usage("--verify-proxy: HTTPS_PROXY is not a proxy URL".into()))
}

/// Why a finding is not sent, or how to send it.
enum Plan {
    Send { restricted: bool },
    Skip(&'static str),
}

/// Sets `verification` on every finding, asking Stripe once per distinct verifiable key.
pub(crate) fn verify(findings: &mut [Finding], rules: &RuleSet, settings: &Settings) {
    let mut jobs: Vec<(Secret, bool)> = Vec::new();
    let mut job_of: HashMap<String, usize> = HashMap::new();
    let mut plans = Vec::with_capacity(findings.len());
    for f in findings.iter() {
        let plan = plan(f, rules);
        if let Plan::Send { restricted } = plan {
            job_of.entry(f.secret.fingerprint()).or_insert_with(|| {
                jobs.push((f.secret.clone(), restricted));
                jobs.len() - 1
            });
        }
        plans.push(plan);
    }
    let answers = ask_all(&jobs, settings);
    for (f, plan) in findings.iter_mut().zip(plans) {
        f.verification = Some(match plan {
            Plan::Skip(why) => Verification {
                status: Status::NotVerifiable,
                checked_at: None,
                reason: why.to_string(),
            },
            Plan::Send { .. } => {
                let at = job_of.get(&f.secret.fingerprint()).copied();
                match at.and_then(|i| answers.get(i)) {
                    Some(v) => v.clone(),
                    None => Verification {
                        status: Status::Unknown,
                        checked_at: None,
                        reason: "not checked".into(),
                    },
                }
            }
        });
    }
}

fn ask_all(jobs: &[(Secret, bool)], settings: &Settings) -> Vec<Verification> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let client = Client::new(&settings.endpoint, settings.proxy.clone());
    let show = !settings.quiet;
    if show {
        let _ = writeln!(
            io::stderr().lock(),
            "stripe-scan: asking Stripe whether {} key{} still work{} (GET {}, at most {MAX_IN_FLIGHT} at a time)",
            jobs.len(),
            if jobs.len() == 1 { "" } else { "s" },
            if jobs.len() == 1 { "s" } else { "" },
            settings.endpoint.url()
        );
    }
    let deadline = Instant::now() + settings.budget;
    let budget = settings.budget.as_secs_f64();
    Progress::run(show && io::stderr().is_terminal(), |progress| {
        progress.phase("verifying keys", jobs.len() as u64);
        pool::run(
            jobs,
            MAX_IN_FLIGHT,
            deadline,
            progress,
            |(key, restricted), deadline| {
                ask(&client, key, *restricted, settings.timeout, deadline)
            },
            |_| {
                Verification {
                status: Status::Unknown,
                checked_at: None,
                reason: format!("not checked: the verification budget ({budget:.0} s, --verify-budget) ran out first"),
            }
            },
        )
    })
}

/// One key, with the 429 retries, never past `deadline`.
fn ask(
    client: &Client,
    key: &Secret,
    restricted: bool,
    timeout: Duration,
    deadline: Instant,
) -> Verification {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        let answer = client.ask(
            key,
            restricted,
            timeout.min(left).max(Duration::from_millis(1)),
        );
        let settled = |status, reason| Verification {
            status,
            checked_at: Some(now()),
            reason,
        };
        match answer {
            Answer::Settled(status, reason) => return settled(status, reason),
            Answer::RateLimited(wait) => {
                let wait = wait.unwrap_or(Duration::from_secs(1)).min(MAX_WAIT);
                if attempt >= ATTEMPTS {
                    return settled(
                        Status::Unknown,
                        format!("HTTP 429: rate limited by Stripe, {ATTEMPTS} times"),
                    );
                }
                if Instant::now() + wait >= deadline {
                    return settled(
                        Status::Unknown,
                        "HTTP 429: rate limited by Stripe, and waiting would pass the verification budget".into(),
                    );
                }
                std::thread::sleep(wait);
            }
        }
    }
}

/// The time of an answer, RFC 3339 in UTC.
fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    crate::git::meta::rfc3339(secs, 0)
}

/// The kinds that may be sent: secret and restricted keys, live and test, and only when the key
/// itself has one of their prefixes and a plain alphanumeric body.
const SENDABLE: [(&[u8], bool); 4] = [
    (b"sk_live_", false),
    (b"sk_test_", false),
    (b"rk_live_", true),
    (b"rk_test_", true),
];

fn plan(f: &Finding, rules: &RuleSet) -> Plan {
    if f.public_example || rules.public_examples.contains(&f.secret.fingerprint()) {
        return Plan::Skip("a public example key from Stripe's documentation: never sent");
    }
    let bytes = f.secret.as_bytes();
    let kind = f.rule_of(rules).kind.as_str();
    if bytes.starts_with(b"sk_org_") || kind == "organization_key" {
        return Plan::Skip(
            "organization keys need a Stripe-Context header naming one of the organization's accounts; \
             Stripe documents no request that checks one without it",
        );
    }
    if bytes.starts_with(b"sk_prod_") || bytes.starts_with(b"rk_prod_") {
        return Plan::Skip(
            "a prefix Stripe does not document (seen only in other scanners' rules): it may be another service's key",
        );
    }
    let sendable = SENDABLE.iter().find(|(p, _)| bytes.starts_with(p));
    match (kind, sendable) {
        ("secret_key" | "restricted_key", Some((prefix, restricted))) => {
            let body = &bytes[prefix.len()..];
            if (20..=255).contains(&body.len()) && body.iter().all(u8::is_ascii_alphanumeric) {
                Plan::Send {
                    restricted: *restricted,
                }
            } else {
                Plan::Skip(
                    "not shaped like a Stripe key (an alphanumeric body of 20 to 255 characters)",
                )
            }
        }
        ("publishable_key", _) => {
            Plan::Skip("publishable keys are public by design: there is nothing secret to check")
        }
        ("webhook_secret", _) => Plan::Skip(
            "webhook secrets sign events sent to you; Stripe has no request that accepts one",
        ),
        ("client_secret", _) => Plan::Skip(
            "client secrets belong to one intent or session and are used by Stripe.js, not the API",
        ),
        ("ephemeral_key" | "terminal_token", _) => {
            Plan::Skip("short-lived and scoped: it expires on its own")
        }
        ("oauth_refresh_token", _) => {
            Plan::Skip("using a refresh token would mint a new access token: never sent")
        }
        ("cli_key", _) => Plan::Skip("Stripe CLI keys are not API keys: never sent"),
        ("app_secret", _) => Plan::Skip(
            "Stripe App secrets sign requests between Stripe and an app; the API accepts none",
        ),
        ("sandbox_key", _) => {
            Plan::Skip("claimable sandbox keys are short-lived test keys (7 days): not sent")
        }
        _ => Plan::Skip("not a Stripe secret or restricted key: never sent"),
    }
}
