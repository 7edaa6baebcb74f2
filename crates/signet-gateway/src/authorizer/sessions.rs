//! STS credentials at the edge: a request signed with temporary credentials (AWS Signature
//! Version 4 or SIGNET4), or, where a route allows it, a bare session token. The session's
//! own permission policies decide (action `http:<METHOD>`, resource the path), then the
//! route's policy if it has one; the session token's key is checked against the
//! revocation stream like any token's.
//!
//! The body: a proxy that sends it (Envoy with `with_request_body`) has it hashed here. A
//! forward-auth proxy never sends it; then the hash the caller declared in
//! `x-amz-content-sha256` (`x-signet-content-sha256`) is what the signature is checked
//! against, and the allowed request carries it in `x-signet-content-sha256` for the
//! upstream to compare with the body it receives. With neither, the body is taken to be
//! empty, so a signed body the authorizer cannot see fails the signature (closed).

use super::{forbidden, header_safe, unauthorized, Ask, Authorizer, Verdict};
use crate::authorizer::config::Route;
use serde_json::{Map, Value};
use signet_verify::session::Session;
use signet_verify::sigv4::{SignableRequest, AWS4, SIGNET4};

/// Temporary credentials as the authorizer checks them. The gateway's STS implements it;
/// the authorizer does not reach `sts` itself (which reaches the configuration that
/// names the authorizer).
pub(crate) trait Sessions: Send + Sync {
    /// The issuer of session tokens (to tell them from user-pool tokens).
    fn issuer(&self) -> String;
    /// A verified session token's session, or why not.
    fn open(&self, session_token: &str) -> Result<Opened, String>;
    /// The session of a request signed with temporary credentials, or why it is refused.
    fn signed(&self, req: &SignableRequest<'_>) -> Result<Opened, String>;
    /// Now, Unix seconds.
    fn now_s(&self) -> u64;
}

/// A verified session.
pub(crate) struct Opened {
    /// The session token's claims.
    pub claims: Map<String, Value>,
    /// What they say.
    pub session: Session,
    /// The key the session token was signed with (for the revocation check).
    pub kid: Option<String>,
}

/// Whether an `Authorization` value is a request signature (not a bearer token).
pub(super) fn is_signature(authorization: &str) -> bool {
    let scheme = authorization
        .trim_start()
        .split(' ')
        .next()
        .unwrap_or_default();
    scheme == AWS4.algorithm || scheme == SIGNET4.algorithm
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The declared payload hashes' headers (AWS's, then Signet's).
const CONTENT_HASH_HEADERS: [&str; 2] = ["x-amz-content-sha256", "x-signet-content-sha256"];

impl Authorizer {
    /// A bare session token, if the route takes them and the request carries one.
    pub(super) fn session_token<'a>(&self, route: &Route, ask: &Ask<'a>) -> Option<&'a str> {
        if !route.session_tokens {
            return None;
        }
        match ask.authorization {
            Some(a) => super::bearer(a)
                .filter(|t| crate::ids::peek_issuer(t).as_deref() == Some(&self.sts_issuer)),
            None => [AWS4.token_header, SIGNET4.token_header]
                .iter()
                .find_map(|h| header(ask.headers, h)),
        }
    }

    /// A request signed with temporary credentials.
    pub(super) fn decide_signed(
        &self,
        route: &Route,
        ask: &Ask<'_>,
        method: &str,
        path: &str,
    ) -> Verdict {
        if route.roles.is_empty() {
            return unauthorized(
                Some("invalid_request"),
                "this route takes no signed requests",
            );
        }
        let query = ask
            .path
            .split('#')
            .next()
            .and_then(|t| t.split_once('?'))
            .map(|(_, q)| q)
            .unwrap_or_default();
        let declared = CONTENT_HASH_HEADERS
            .iter()
            .find_map(|h| header(ask.headers, h));
        let (payload, unchecked) = match (ask.body, declared) {
            (Some(body), _) => (SignableRequest::payload_hash(body), None),
            (None, Some(h)) => {
                let h = h.trim().to_ascii_lowercase();
                if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return unauthorized(
                        Some("invalid_request"),
                        "the declared payload hash is not a SHA-256 (unsigned payloads are not taken)",
                    );
                }
                (h.clone(), Some(h))
            }
            (None, None) => (SignableRequest::payload_hash(b""), None),
        };
        let req = SignableRequest {
            method: ask.method,
            path,
            query,
            headers: ask.headers,
            payload_sha256_hex: payload,
        };
        match self.sessions.signed(&req) {
            Ok(o) => self.decide_session(route, &o, method, path, unchecked),
            Err(why) => unauthorized(Some("invalid_token"), why),
        }
    }

    /// A bare session token (the route allows them).
    pub(super) fn decide_session_token(
        &self,
        route: &Route,
        token: &str,
        method: &str,
        path: &str,
    ) -> Verdict {
        match self.sessions.open(token) {
            Ok(o) => self.decide_session(route, &o, method, path, None),
            Err(why) => unauthorized(Some("invalid_token"), why),
        }
    }

    /// The role, the revocations, the session's policies, the route's policy.
    fn decide_session(
        &self,
        route: &Route,
        opened: &Opened,
        method: &str,
        path: &str,
        unchecked_body: Option<String>,
    ) -> Verdict {
        let session = &opened.session;
        if !route
            .roles
            .iter()
            .any(|r| r == "*" || *r == session.role_arn)
        {
            return unauthorized(Some("invalid_token"), "not a session of this route's roles");
        }
        if let Err(why) = self
            .revocations
            .check(opened.kid.as_deref(), &opened.claims)
        {
            return unauthorized(
                Some("invalid_token"),
                format!("the session was revoked ({})", why.as_str()),
            );
        }
        let now_s = self.sessions.now_s();
        let action = format!("http:{method}");
        let decision = match session.authorize(&action, path, &[], now_s) {
            Ok(d) => d,
            Err(e) => return forbidden(e.to_string()),
        };
        let by = super::statement(&decision, true);
        if !decision.allowed {
            return forbidden(format!(
                "the role's policies do not allow {action} on {path}: {}",
                by.unwrap_or_else(|| "no statement allows it".into())
            ));
        }
        let mut why = format!(
            "route {}, role policy {}",
            route.prefix_or_root(),
            by.unwrap_or_default()
        );
        if let Some(policy) = &route.policy {
            let ctx = session.context(&[], now_s);
            match super::route_policy(policy, method, path, &ctx) {
                Ok(by) => why = format!("{why}, route policy {by}"),
                Err(deny) => return deny,
            }
        }
        let mut headers = super::no_identity();
        for (name, value) in [
            ("x-signet-sub", header_safe(&session.subject, false)),
            ("x-signet-role", header_safe(&session.role_arn, false)),
            (
                "x-signet-access-key-id",
                header_safe(&session.access_key_id, false),
            ),
            ("x-signet-token-use", "sts".to_string()),
            (
                "x-signet-content-sha256",
                unchecked_body.unwrap_or_default(),
            ),
        ] {
            super::set(&mut headers, name, value);
        }
        Verdict::Allow { headers, why }
    }
}
