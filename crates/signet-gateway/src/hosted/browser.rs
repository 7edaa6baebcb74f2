//! What the hosted pages keep in the browser: a sign-in session per pool (sealed: only this
//! cluster reads or makes one) and the anti-CSRF pair (a random cookie, and a sealed copy
//! of it in every form).
//!
//! Cookies are `HttpOnly`, `SameSite=Lax`, `Path=/`, and under an `https` public URL
//! `Secure` with the `__Host-` prefix, so no other site, sub-domain or script can set or
//! read them. A form is accepted only when its `_csrf` field opens, under this cluster's
//! key, to the value of the browser's own CSRF cookie: a page on another origin can make a
//! browser post, but can neither read the cookie nor make the sealed copy.

use serde::{Deserialize, Serialize};
use signet_crypto::Sealer;

/// Seal purposes of the hosted pages.
const SESSION_PURPOSE: &str = "hosted-session";
const CSRF_PURPOSE: &str = "hosted-csrf";

/// How long a hosted sign-in lasts in the browser (Cognito's hosted UI: one hour). While it
/// lasts, `/oauth2/authorize` signs the user in again without a password (unless
/// `prompt=login`); every use checks the user again.
pub(crate) const SESSION_TTL_MS: u64 = 60 * 60 * 1000;

/// The browser's sign-in on the hosted pages of one pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BrowserSession {
    pub v: u8,
    pub pool: String,
    pub sub: String,
    pub username: String,
    /// When the user signed in (Unix ms): a sign-out, reset or disable after it voids it.
    pub iat_ms: u64,
    pub exp_ms: u64,
}

/// Cookie names and attributes, decided once by whether the public URL is https.
#[derive(Debug, Clone)]
pub(crate) struct Cookies {
    secure: bool,
}

impl Cookies {
    pub(crate) fn new(public_url: &str) -> Cookies {
        Cookies {
            secure: public_url.starts_with("https://"),
        }
    }

    fn prefix(&self) -> &'static str {
        if self.secure {
            "__Host-"
        } else {
            ""
        }
    }

    /// The session cookie's name for a pool (one per pool: pools are isolated).
    pub(crate) fn session_name(&self, pool_id: &str) -> String {
        format!("{}signet-session-{pool_id}", self.prefix())
    }

    /// The CSRF cookie's name.
    pub(crate) fn csrf_name(&self) -> String {
        format!("{}signet-csrf", self.prefix())
    }

    /// A `Set-Cookie` value; `max_age_s == 0` deletes the cookie.
    pub(crate) fn set(&self, name: &str, value: &str, max_age_s: u64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}")
    }
}

/// Seal a session for the cookie.
pub(crate) fn seal_session(sealer: &Sealer, s: &BrowserSession) -> String {
    sealer.seal(
        SESSION_PURPOSE,
        &serde_json::to_vec(s).expect("session serialises"),
    )
}

/// Open a session cookie of `pool_id`, unexpired at `now_ms` (the user is checked by the
/// caller).
pub(crate) fn open_session(
    sealer: &Sealer,
    value: &str,
    pool_id: &str,
    now_ms: u64,
) -> Option<BrowserSession> {
    let s: BrowserSession = serde_json::from_slice(&sealer.open(SESSION_PURPOSE, value)?).ok()?;
    (s.pool == pool_id && now_ms < s.exp_ms).then_some(s)
}

/// A fresh CSRF cookie value (128 random bits).
pub(crate) fn new_csrf_cookie() -> String {
    signet_crypto::random_hex_id()
}

/// The form field that goes with a CSRF cookie value.
pub(crate) fn csrf_field(sealer: &Sealer, cookie: &str) -> String {
    sealer.seal(CSRF_PURPOSE, cookie.as_bytes())
}

/// Whether a posted form's `_csrf` field belongs to the browser's CSRF cookie.
pub(crate) fn csrf_ok(sealer: &Sealer, cookie: Option<&str>, field: Option<&str>) -> bool {
    match (cookie, field) {
        (Some(c), Some(f)) if !c.is_empty() => sealer
            .open(CSRF_PURPOSE, f)
            .is_some_and(|v| signet_crypto::constant_time_eq(&v, c.as_bytes())),
        _ => false,
    }
}

/// The value of cookie `name` in a `Cookie` request header (the first one, if repeated).
pub(crate) fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(&signet_crypto::Secret::new(vec![7; 32]).unwrap())
    }

    #[test]
    fn csrf_fields_open_only_to_their_own_cookie() {
        let s = sealer();
        let cookie = new_csrf_cookie();
        let field = csrf_field(&s, &cookie);
        assert!(csrf_ok(&s, Some(&cookie), Some(&field)));
        assert!(!csrf_ok(&s, Some(&new_csrf_cookie()), Some(&field)));
        assert!(!csrf_ok(&s, None, Some(&field)));
        assert!(!csrf_ok(&s, Some(&cookie), None));
        assert!(!csrf_ok(&s, Some(&cookie), Some(&cookie)));
        // Sealed with another cluster's key: refused.
        let other = Sealer::new(&signet_crypto::Secret::new(vec![8; 32]).unwrap());
        assert!(!csrf_ok(
            &s,
            Some(&cookie),
            Some(&csrf_field(&other, &cookie))
        ));
    }

    #[test]
    fn sessions_are_bound_to_their_pool_and_expire() {
        let s = sealer();
        let session = BrowserSession {
            v: 1,
            pool: "p1".into(),
            sub: "sub".into(),
            username: "ann".into(),
            iat_ms: 1_000,
            exp_ms: 2_000,
        };
        let sealed = seal_session(&s, &session);
        assert_eq!(open_session(&s, &sealed, "p1", 1_999), Some(session));
        assert_eq!(open_session(&s, &sealed, "p2", 1_500), None);
        assert_eq!(open_session(&s, &sealed, "p1", 2_000), None);
        // A CSRF field is not a session.
        assert_eq!(open_session(&s, &csrf_field(&s, "x"), "p1", 1_500), None);
    }

    #[test]
    fn cookies_are_host_only_and_secure_under_https() {
        let c = Cookies::new("https://id.example.com");
        assert_eq!(c.csrf_name(), "__Host-signet-csrf");
        assert!(c.set("n", "v", 60).contains("; Secure"));
        assert!(c.set("n", "v", 60).contains("HttpOnly; SameSite=Lax"));
        let d = Cookies::new("http://127.0.0.1:7411");
        assert_eq!(d.session_name("p"), "signet-session-p");
        assert!(!d.set("n", "v", 60).contains("Secure"));
        assert_eq!(
            cookie_value("a=1; signet-csrf=xyz; b=2", "signet-csrf"),
            Some("xyz")
        );
        assert_eq!(cookie_value("a=1", "signet-csrf"), None);
    }
}
