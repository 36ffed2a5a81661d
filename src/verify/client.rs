//! One check, over HTTP: `GET /v1/balance` with the key as the Bearer token, and what the answer
//! means. The key goes only into the Authorization header. Nothing from the response is ever
//! printed: Stripe's 401 body quotes part of the key, so a reason is always our own words, built
//! from the status code and a few recognised fields.
//!
//! Why ureq: one blocking request per key needs no async runtime; with only its `rustls` feature
//! it brings rustls (ring) and the Mozilla roots, and no OpenSSL, no gzip, no cookies.

use super::endpoint::Endpoint;
use crate::secret::Secret;
use crate::verification::Status;
use serde_json::Value;
use std::io;
use std::time::Duration;
use ureq::http::header::{AUTHORIZATION, RETRY_AFTER};
use ureq::http::HeaderValue;
use ureq::{Agent, Proxy};

/// Named so the key owner can tell in their request logs who asked.
pub const USER_AGENT: &str = concat!(
    "stripe-scan/",
    env!("CARGO_PKG_VERSION"),
    " (key verification)"
);

/// Enough for a balance or an error object; anything longer is not Stripe's answer.
const BODY_LIMIT: u64 = 64 << 10;

pub struct Client {
    agent: Agent,
    url: String,
    tls: bool,
}

/// What one request settled.
pub enum Answer {
    Settled(Status, String),
    /// 429: ask again after this long (from `Retry-After`, when it gave a number of seconds).
    RateLimited(Option<Duration>),
}

impl Client {
    /// No proxy unless one is given (ureq would otherwise take one from the environment, and a
    /// proxy sees every key), no redirects (one would carry the header elsewhere), HTTPS only
    /// unless the endpoint is a plain-HTTP loopback test server, certificates always checked
    /// against the Mozilla roots compiled in (a test server over https cannot pass that check).
    pub fn new(endpoint: &Endpoint, proxy: Option<Proxy>) -> Client {
        let agent = Agent::config_builder()
            .https_only(endpoint.tls())
            .proxy(proxy)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .user_agent(USER_AGENT)
            // No Accept header: an empty value means none is sent.
            .accept("")
            .max_idle_connections_per_host(super::MAX_IN_FLIGHT)
            .build()
            .new_agent();
        Client {
            agent,
            url: endpoint.url(),
            tls: endpoint.tls(),
        }
    }

    /// Asks about `key` within `timeout`. `restricted` changes what a 403 means.
    pub fn ask(&self, key: &Secret, restricted: bool, timeout: Duration) -> Answer {
        let Some(auth) = bearer(key) else {
            return Answer::Settled(
                Status::NotVerifiable,
                "not sent: the key has characters a header cannot carry".into(),
            );
        };
        let sent = self
            .agent
            .get(&self.url)
            .header(AUTHORIZATION, auth)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .call();
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => return Answer::Settled(Status::Unknown, failure(&e, timeout, self.tls)),
        };
        let code = response.status().as_u16();
        if code == 429 {
            let wait = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Answer::RateLimited(wait);
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_vec()
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        let (status, reason) = classify(code, restricted, body.as_ref());
        Answer::Settled(status, reason)
    }
}

/// `Bearer <key>`, marked sensitive so that no Debug output of the request can show it. A key is
/// only sent when its body is alphanumeric (checked before), so it can never end the header.
fn bearer(key: &Secret) -> Option<HeaderValue> {
    if !key.as_bytes().iter().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let mut value = Vec::with_capacity(7 + key.as_bytes().len());
    value.extend_from_slice(b"Bearer ");
    value.extend_from_slice(key.as_bytes());
    let mut header = HeaderValue::from_bytes(&value).ok()?;
    header.set_sensitive(true);
    Some(header)
}

/// What a status code (and Stripe's JSON body, when there is one) says about the key.
pub fn classify(code: u16, restricted: bool, body: Option<&Value>) -> (Status, String) {
    let stripe_error = body.and_then(|b| b.get("error")).filter(|e| e.is_object());
    match code {
        200 if body.and_then(|b| b.get("object")).and_then(Value::as_str) == Some("balance") => (
            Status::Active,
            "HTTP 200: the key works (it read the account's balance)".into(),
        ),
        200 => (
            Status::Unknown,
            "HTTP 200 without a balance in the answer: not Stripe's reply".into(),
        ),
        401 => {
            let code = stripe_error
                .and_then(|e| e.get("code"))
                .and_then(Value::as_str);
            let why = if code == Some("api_key_expired") {
                "HTTP 401 (api_key_expired): the key was rolled or has expired"
            } else {
                "HTTP 401: Stripe does not accept the key (invalid, rolled, expired or deleted)"
            };
            (Status::Inactive, why.into())
        }
        403 if restricted && stripe_error.is_some() => (
            Status::Active,
            "HTTP 403: the restricted key works; it only lacks the permission to read the balance"
                .into(),
        ),
        403 if restricted => (
            Status::Unknown,
            "HTTP 403 without Stripe's permission error: not Stripe's reply".into(),
        ),
        403 => (
            Status::Unknown,
            "HTTP 403: Stripe refused the request without saying whether the key works".into(),
        ),
        300..=399 => (
            Status::Unknown,
            format!("HTTP {code}: a redirect, which is never followed (it would carry the key elsewhere)"),
        ),
        500..=599 => (
            Status::Unknown,
            format!("HTTP {code}: Stripe had an error; try again later"),
        ),
        _ => (Status::Unknown, format!("HTTP {code}: an unexpected answer")),
    }
}

/// A failed request in our own words: ureq's and rustls's messages are fine, but nothing that
/// could come from the network (a proxy's reply, a response line) is passed on.
fn failure(e: &ureq::Error, timeout: Duration, tls: bool) -> String {
    let timed_out = || format!("no answer within {:.1} s", timeout.as_secs_f64());
    match e {
        ureq::Error::Timeout(_) => timed_out(),
        ureq::Error::HostNotFound => "the host name did not resolve (DNS)".into(),
        ureq::Error::ConnectionFailed => "could not connect".into(),
        ureq::Error::Io(io) => match io.kind() {
            io::ErrorKind::ConnectionRefused => "connection refused".into(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => timed_out(),
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => "the connection closed before an answer".into(),
            // rustls reports a failed handshake (a bad certificate, a peer that does not speak
            // TLS) as invalid data on the stream.
            io::ErrorKind::InvalidData if tls => match io.get_ref() {
                Some(inner) => format!("TLS failure: {inner}"),
                None => "TLS failure".into(),
            },
            kind => format!("network error ({kind})"),
        },
        ureq::Error::Tls(what) => format!("TLS failure: {what}"),
        ureq::Error::Rustls(e) => format!("TLS failure: {e}"),
        ureq::Error::Protocol(_) => "the answer was not valid HTTP".into(),
        ureq::Error::ConnectProxyFailed(_) => "the proxy would not connect to Stripe".into(),
        ureq::Error::InvalidProxyUrl => "the proxy URL is invalid".into(),
        ureq::Error::LargeResponseHeader(..) | ureq::Error::BodyExceedsLimit(_) => {
            "the answer was too large to be Stripe's".into()
        }
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => {
            "a redirect, which is never followed".into()
        }
        ureq::Error::RequireHttpsOnly(_) | ureq::Error::TlsRequired => {
            "refused to send the key without TLS".into()
        }
        _ => "the request failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_map_to_three_statuses() {
        let balance = json!({"object": "balance", "available": []});
        let error = json!({"error": {"type": "invalid_request_error", "message": "…"}});
        let expired =
            json!({"error": {"code": "api_key_expired", "type": "invalid_request_error"}});
        let s = |code, restricted, body: Option<&Value>| classify(code, restricted, body).0;
        assert_eq!(s(200, false, Some(&balance)), Status::Active);
        assert_eq!(s(200, false, Some(&error)), Status::Unknown);
        assert_eq!(s(200, false, None), Status::Unknown);
        assert_eq!(s(401, false, Some(&error)), Status::Inactive);
        assert_eq!(s(401, true, None), Status::Inactive);
        assert!(classify(401, false, Some(&expired))
            .1
            .contains("api_key_expired"));
        assert_eq!(s(403, true, Some(&error)), Status::Active);
        assert_eq!(s(403, true, None), Status::Unknown);
        assert_eq!(s(403, false, Some(&error)), Status::Unknown);
        for code in [301, 302, 307, 400, 404, 500, 502, 503] {
            assert_eq!(s(code, false, Some(&error)), Status::Unknown, "{code}");
        }
    }

    #[test]
    fn the_header_is_sensitive_and_never_debug_printed() {
        let body = "Ab3dEf6hIj9kLm2nOp5qRs8tUv";
        let key = Secret::new(format!("rk_test_{body}").into_bytes(), 8);
        let h = bearer(&key).expect("header");
        assert!(h.is_sensitive());
        assert!(!format!("{h:?}").contains(body));
        assert!(bearer(&Secret::new(b"sk_test_a\r\nb".to_vec(), 8)).is_none());
    }
}
