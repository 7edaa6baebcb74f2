//! The edge authorizer: what an API gateway, a proxy or a mesh asks before it forwards a
//! request ("may this request through, and as whom?"), like Cognito's API Gateway and ALB
//! authorizers. Two faces ask the same [`Authorizer::decide`]: HTTP forward-auth
//! (`/authorize`, for nginx `auth_request`, Caddy `forward_auth`, Traefik ForwardAuth) and
//! Envoy's `ext_authz`.
//!
//! A decision needs no store round trip: the token is verified with the published keys,
//! the user check is the revocation stream's set (a signed-out, disabled or deleted user,
//! a revoked sign-in, token, client, pool or key), and the route's scopes, groups and
//! policy are in memory.

mod config;
mod sessions;
mod verified;

pub use config::{AuthorizerConfig, AuthorizerRoute};
pub(crate) use sessions::{Opened, Sessions};

use crate::keys::Published;
use crate::revocations::Feed;
use config::Route;
use serde_json::{Map, Value};
use signet_verify::policy::{evaluate, Context, Request};
use signet_verify::{Expected, TokenUse, VerifyError};
use std::sync::Arc;

/// Headers an allowed request is forwarded with (each one, empty where it does not
/// apply); proxies must drop incoming copies.
pub const TRUSTED_HEADERS: [&str; 10] = [
    "x-signet-sub",
    "x-signet-username",
    "x-signet-client-id",
    "x-signet-scopes",
    "x-signet-groups",
    "x-signet-pool",
    "x-signet-token-use",
    "x-signet-role",
    "x-signet-access-key-id",
    "x-signet-content-sha256",
];

/// Every trusted header, empty.
fn no_identity() -> Vec<(&'static str, String)> {
    TRUSTED_HEADERS
        .iter()
        .map(|h| (*h, String::new()))
        .collect()
}

/// Set one of [`TRUSTED_HEADERS`] in `headers`.
fn set(headers: &mut [(&'static str, String)], name: &str, value: String) {
    if let Some(slot) = headers.iter_mut().find(|(n, _)| *n == name) {
        slot.1 = value;
    }
}

/// The debugging header (`debug_headers = true`): why the decision went as it did.
pub const DECISION_HEADER: &str = "x-signet-decision";

/// What is asked: the original request's method, target (path and query), its one
/// `Authorization` header, all its headers (a signed request signs some of them) and its
/// body when the proxy sends it.
pub(crate) struct Ask<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub authorization: Option<&'a str>,
    pub headers: &'a [(String, String)],
    pub body: Option<&'a [u8]>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Forward, with these headers.
    Allow {
        headers: Vec<(&'static str, String)>,
        why: String,
    },
    /// 401 (no or bad token) or 403 (a good token without the right), with the
    /// `WWW-Authenticate` challenge for the caller.
    Deny {
        status: u16,
        challenge: String,
        why: String,
    },
}

/// See the module doc.
pub(crate) struct Authorizer {
    routes: Vec<Route>,
    pub(crate) debug: bool,
    public_url: String,
    published: Arc<Published>,
    revocations: Arc<Feed>,
    sessions: Arc<dyn Sessions>,
    sts_issuer: String,
    verified: verified::VerifiedTokens,
    clock: crate::clock::SharedClock,
}

fn unauthorized(error: Option<&str>, why: impl Into<String>) -> Verdict {
    let why = why.into();
    let challenge = match error {
        None => "Bearer realm=\"signet\"".to_string(),
        Some(e) => format!(
            "Bearer realm=\"signet\", error=\"{e}\", error_description=\"{}\"",
            why.replace('"', "'")
        ),
    };
    Verdict::Deny {
        status: 401,
        challenge,
        why,
    }
}

fn forbidden(why: impl Into<String>) -> Verdict {
    let why = why.into();
    Verdict::Deny {
        status: 403,
        challenge: format!(
            "Bearer realm=\"signet\", error=\"insufficient_scope\", error_description=\"{}\"",
            why.replace('"', "'")
        ),
        why,
    }
}

impl Authorizer {
    pub(crate) fn new(
        cfg: &AuthorizerConfig,
        public_url: &str,
        published: Arc<Published>,
        revocations: Arc<Feed>,
        sessions: Arc<dyn Sessions>,
        clock: crate::clock::SharedClock,
    ) -> Result<Authorizer, String> {
        Ok(Authorizer {
            routes: cfg.checked()?,
            debug: cfg.debug_headers,
            public_url: public_url.trim_end_matches('/').to_string(),
            published,
            revocations,
            sts_issuer: sessions.issuer(),
            sessions,
            verified: Default::default(),
            clock,
        })
    }

    /// Decide on one request.
    pub(crate) fn decide(&self, ask: &Ask<'_>) -> Verdict {
        let Some(path) = plain_path(ask.path) else {
            return forbidden(format!("ambiguous path {:?}", ask.path));
        };
        let method = ask.method.to_ascii_uppercase();
        let Some((route_index, route)) = self.route(&method, path) else {
            return forbidden(format!("no route for {method} {path}"));
        };
        if ask.authorization.is_some_and(sessions::is_signature) {
            return self.decide_signed(route, ask, &method, path);
        }
        if let Some(token) = self.session_token(route, ask) {
            return self.decide_session_token(route, token, &method, path);
        }
        if route.pools.is_empty() {
            return Verdict::Deny {
                status: 401,
                challenge: "AWS4-HMAC-SHA256 realm=\"signet\"".into(),
                why: "no request signature".into(),
            };
        }
        let Some(token) = ask.authorization.and_then(bearer) else {
            return unauthorized(None, "no bearer token");
        };
        let keys = self.published.get();
        let cache_key = verified::key(token, route_index);
        // The gateway's clock, as everywhere in the gateway.
        let now_s = self.clock.now_ms() / 1000;
        let v = match self.verified.get(&cache_key, &keys, now_s) {
            Some(v) => v,
            None => match self.verify(route, token, &keys, now_s) {
                Ok(v) => {
                    // Verified with no leeway (see `Authorizer::verify`).
                    self.verified.put(cache_key, keys, &v.claims, 0, v.clone());
                    v
                }
                Err(deny) => return deny,
            },
        };
        let (claims, pool) = (&*v.claims, &*v.pool);
        if let Err(why) = self.revocations.check(v.kid.as_deref(), claims) {
            return unauthorized(
                Some("invalid_token"),
                format!("the token was revoked ({})", why.as_str()),
            );
        }
        let scopes: Vec<&str> = text(claims, "scope")
            .map(|s| s.split(' ').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        if !route.scopes.is_empty() && !route.scopes.iter().any(|s| scopes.contains(&s.as_str())) {
            return forbidden(format!(
                "needs one of the scopes {}",
                route.scopes.join(" ")
            ));
        }
        let groups: Vec<&str> = claims
            .get("cognito:groups")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !route.groups.is_empty() && !route.groups.iter().any(|g| groups.contains(&g.as_str())) {
            return forbidden(format!(
                "needs one of the groups {}",
                route.groups.join(", ")
            ));
        }
        let username = text(claims, "username")
            .or_else(|| text(claims, "cognito:username"))
            .unwrap_or_default();
        let client = match route.token_use {
            TokenUse::Id => text(claims, "aud"),
            _ => text(claims, "client_id"),
        }
        .unwrap_or_default();
        let sub = text(claims, "sub").unwrap_or_default();
        let mut why = format!("route {}", route.prefix_or_root());
        if let Some(policy) = &route.policy {
            let mut ctx = Context::new();
            ctx.insert("signet:sub", sub);
            ctx.insert("signet:username", username);
            ctx.insert("signet:client_id", client);
            ctx.insert("signet:pool", pool);
            ctx.set(
                "signet:scope",
                scopes.iter().map(|s| s.to_string()).collect(),
            );
            ctx.set(
                "cognito:groups",
                groups.iter().map(|g| g.to_string()).collect(),
            );
            match route_policy(policy, method.as_str(), path, &ctx) {
                Ok(by) => why = format!("{why}, policy {by}"),
                Err(deny) => return deny,
            }
        }
        let use_name = match route.token_use {
            TokenUse::Id => "id",
            _ => "access",
        };
        let list = |items: &[&str]| {
            items
                .iter()
                .map(|i| header_safe(i, true))
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut headers = no_identity();
        for (name, value) in [
            ("x-signet-sub", header_safe(sub, false)),
            ("x-signet-username", header_safe(username, false)),
            ("x-signet-client-id", header_safe(client, false)),
            ("x-signet-scopes", list(&scopes).replace(',', " ")),
            ("x-signet-groups", list(&groups)),
            ("x-signet-pool", header_safe(pool, false)),
            ("x-signet-token-use", use_name.to_string()),
        ] {
            set(&mut headers, name, value);
        }
        Verdict::Allow { headers, why }
    }

    /// Verify a user-pool token for `route` (signature, issuer among the route's pools,
    /// token use, clients, expiry).
    fn verify(
        &self,
        route: &Route,
        token: &str,
        keys: &crate::keys::PublishedKeys,
        now_s: u64,
    ) -> Result<verified::Verified, Verdict> {
        let Some(pool) = unverified_pool(token, &self.public_url, &route.pools) else {
            return Err(unauthorized(
                Some("invalid_token"),
                "not a token of this route's pools",
            ));
        };
        let expected = Expected {
            issuer: format!("{}/{pool}", self.public_url),
            token_use: route.token_use,
            clients: (!route.clients.is_empty()).then(|| route.clients.clone()),
            leeway_s: 0,
        };
        match signet_verify::verify_at(token, &keys.set, &expected, now_s) {
            Ok(claims) => Ok(verified::Verified {
                claims: Arc::new(claims),
                pool: pool.into(),
                kid: signet_verify::token_kid(token).map(Into::into),
            }),
            Err(VerifyError::Expired) => {
                Err(unauthorized(Some("invalid_token"), "the token has expired"))
            }
            Err(e) => Err(unauthorized(Some("invalid_token"), e.to_string())),
        }
    }

    /// The longest prefix that covers `path` among the routes that take `method`, with its
    /// index.
    fn route(&self, method: &str, path: &str) -> Option<(usize, &Route)> {
        self.routes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.methods.is_empty() || r.methods.iter().any(|m| m == method))
            .filter(|(_, r)| {
                r.prefix.is_empty()
                    || path == r.prefix
                    || path
                        .strip_prefix(&r.prefix)
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|(_, r)| r.prefix.len())
    }
}

impl Route {
    fn prefix_or_root(&self) -> &str {
        if self.prefix.is_empty() {
            "/"
        } else {
            &self.prefix
        }
    }
}

/// The route's policy on `http:<method>` on `path`: the deciding statement, or the 403.
fn route_policy(
    policy: &signet_verify::PolicyDocument,
    method: &str,
    path: &str,
    ctx: &Context,
) -> Result<String, Verdict> {
    let action = format!("http:{method}");
    let decision = evaluate(
        &[("route", policy)],
        None,
        &Request {
            action: &action,
            resource: path,
            principal: None,
            context: ctx,
        },
    );
    let by = statement(&decision, false);
    if decision.allowed {
        Ok(by.unwrap_or_default())
    } else {
        Err(forbidden(format!(
            "the route's policy does not allow {action} on {path}: {}",
            by.unwrap_or_else(|| "no statement allows it".into())
        )))
    }
}

/// The statement that decided, `statement 1 (Sid)`, prefixed by its policy's name if asked.
fn statement(d: &signet_verify::policy::Decision, with_policy: bool) -> Option<String> {
    d.decided_by.as_ref().map(|s| {
        let policy = if with_policy {
            format!("{} ", s.policy)
        } else {
            String::new()
        };
        match &s.sid {
            Some(sid) => format!("{policy}statement {} ({sid})", s.index),
            None => format!("{policy}statement {}", s.index),
        }
    })
}

/// The path of a request target (query cut off), or `None` when upstreams could read it
/// differently than the routes do: dot segments, empty segments, encoded slashes, dots or
/// backslashes. Refusing those is what keeps `/public/../admin` from passing as public.
fn plain_path(target: &str) -> Option<&str> {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    if !path.starts_with('/') || path.contains('\\') || path.contains("//") {
        return None;
    }
    if path.split('/').any(|seg| seg == "." || seg == "..") {
        return None;
    }
    let lower = path.to_ascii_lowercase();
    if ["%2e", "%2f", "%5c", "%00"]
        .iter()
        .any(|e| lower.contains(e))
    {
        return None;
    }
    if path.bytes().any(|b| b.is_ascii_control()) {
        return None;
    }
    Some(path)
}

/// The token of an `Authorization: Bearer …` value (scheme case-insensitive).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Which of `pools` the token says it is from (not yet verified: it only picks what to
/// verify against, and the verification checks the issuer exactly).
fn unverified_pool(token: &str, public_url: &str, pools: &[String]) -> Option<String> {
    let iss = crate::ids::peek_issuer(token)?;
    let pool = iss.strip_prefix(public_url)?.strip_prefix('/')?;
    let any = pools.iter().any(|p| p == "*") && !pool.is_empty() && !pool.contains('/');
    (any || pools.iter().any(|p| p == pool)).then(|| pool.to_string())
}

fn text<'a>(claims: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    claims.get(key).and_then(Value::as_str)
}

/// A value as a header carries it: bytes outside visible ASCII, `%` (and `,` in list
/// items) percent-encoded, so no value can end a header or add an item to a list.
fn header_safe(value: &str, in_list: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if (0x21..=0x7e).contains(&b) && b != b'%' && !(in_list && b == b',') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
