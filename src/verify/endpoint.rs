//! Where keys may be sent: Stripe's API host over TLS, and nowhere else. The one exception is a
//! test server on this machine (a loopback address, over HTTP or HTTPS), named by the environment
//! variable `STRIPE_SCAN_API_BASE`; no file (not `.stripe-scan.toml`, nothing in the scanned
//! repository) can name a host, so a malicious repository cannot make stripe-scan post the keys it
//! finds to its own server.

use crate::error::printable;

pub const STRIPE_API: &str = "https://api.stripe.com";
pub const ENV: &str = "STRIPE_SCAN_API_BASE";

/// The read-only endpoint every check calls.
pub const PATH: &str = "/v1/balance";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://api.stripe.com`, or `http(s)://127.0.0.1:PORT` / `http(s)://[::1]:PORT`.
    base: String,
}

impl Endpoint {
    pub fn stripe() -> Endpoint {
        Endpoint {
            base: STRIPE_API.to_string(),
        }
    }

    /// Stripe's API unless `STRIPE_SCAN_API_BASE` names a loopback test server; any other value
    /// is an error, so a typo or an attack never silently sends keys somewhere else.
    pub fn from_env() -> Result<Endpoint, String> {
        match std::env::var_os(ENV) {
            None => Ok(Endpoint::stripe()),
            Some(v) => Endpoint::parse(&v.to_string_lossy()).ok_or_else(|| {
                format!(
                    "{ENV}={:?} is refused: it may only name {STRIPE_API} or a test server on this \
                     machine (http://127.0.0.1:PORT, http://[::1]:PORT or http://localhost:PORT, or \
                     the same over https); keys are never sent anywhere else",
                    printable(&v.to_string_lossy())
                )
            }),
        }
    }

    /// An empty value or Stripe's own base (an optional final `/`) is Stripe; otherwise only a
    /// loopback base.
    fn parse(value: &str) -> Option<Endpoint> {
        if value.is_empty() || value.strip_suffix('/').unwrap_or(value) == STRIPE_API {
            return Some(Endpoint::stripe());
        }
        loopback(value)
    }

    /// Whether requests go over TLS: always for Stripe, and for a test server named `https://`.
    pub fn tls(&self) -> bool {
        self.base.starts_with("https://")
    }

    pub fn url(&self) -> String {
        format!("{}{PATH}", self.base)
    }
}

/// `http://` or `https://` + a loopback literal + an optional port + an optional `/`, nothing
/// more: no user info, no path, no query, no other address. `localhost` becomes `127.0.0.1`, since
/// a hosts file may map the name anywhere.
fn loopback(value: &str) -> Option<Endpoint> {
    let (scheme, rest) = ["http://", "https://"]
        .into_iter()
        .find_map(|s| value.strip_prefix(s).map(|rest| (s, rest)))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = if let Some(after) = rest.strip_prefix("[::1]") {
        ("[::1]", after)
    } else if let Some(after) = rest.strip_prefix("127.0.0.1") {
        ("127.0.0.1", after)
    } else if let Some(after) = rest.strip_prefix("localhost") {
        ("127.0.0.1", after)
    } else {
        return None;
    };
    let base = match port {
        "" => format!("{scheme}{host}"),
        p => {
            let digits = p.strip_prefix(':')?;
            let valid = !digits.is_empty()
                && digits.len() <= 5
                && digits.bytes().all(|b| b.is_ascii_digit())
                && digits
                    .parse::<u32>()
                    .is_ok_and(|n| (1..=65535).contains(&n));
            if !valid {
                return None;
            }
            format!("{scheme}{host}:{digits}")
        }
    };
    Some(Endpoint { base })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stripe_or_loopback_is_accepted() {
        let ok = |s: &str| Endpoint::parse(s).map(|e| e.url());
        let stripe = "https://api.stripe.com/v1/balance";
        for (good, url) in [
            ("", stripe),
            ("https://api.stripe.com", stripe),
            ("https://api.stripe.com/", stripe),
            (
                "https://127.0.0.1:8443",
                "https://127.0.0.1:8443/v1/balance",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/balance"),
            ("http://[::1]:9/", "http://[::1]:9/v1/balance"),
            ("http://localhost:1234", "http://127.0.0.1:1234/v1/balance"),
            ("http://127.0.0.1", "http://127.0.0.1/v1/balance"),
        ] {
            assert_eq!(ok(good).as_deref(), Some(url), "{good}");
        }
        for bad in [
            "http://api.stripe.com",
            "https://api.stripe.com:443",
            "https://api.stripe.com/v1",
            "https://api.stripe.com.evil.example",
            "https://user@api.stripe.com",
            "https://API.STRIPE.COM",
            "http://127.0.0.1.evil.example:80",
            "http://127.0.0.1:80@evil.example",
            "http://user@127.0.0.1:80",
            "http://127.0.0.1:80/v1",
            "http://127.0.0.1:0",
            "http://127.0.0.1:65536",
            "http://127.0.0.1:",
            "http://127.0.0.2:80",
            "http://localhost.evil.example",
            "http://[::1]x",
            "http://10.0.0.1:80",
            "http://127.0.0.1:80?x",
            "http://127.0.0.1:80#x",
            "127.0.0.1:80",
            "HTTP://127.0.0.1:80",
            "ftp://127.0.0.1:80",
            "https://10.0.0.1:443",
            " http://127.0.0.1:80",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
    }

    #[test]
    fn stripe_is_tls() {
        let e = Endpoint::stripe();
        assert_eq!(e.url(), "https://api.stripe.com/v1/balance");
        assert!(e.tls());
    }
}
