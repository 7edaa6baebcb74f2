//! `/authorize`: the edge authorizer's HTTP forward-auth face (nginx `auth_request`, Caddy
//! `forward_auth`, Traefik ForwardAuth, HAProxy). The proxy sends the original request's
//! method and URI in `X-Forwarded-Method` / `X-Forwarded-Uri` (Caddy, Traefik) or
//! `X-Original-Method` / `X-Original-URI` (the nginx configuration in the README) and its
//! `Authorization` header; 200 means forward it with the `x-signet-*` headers of the
//! answer, 401 and 403 are the caller's answer (with `WWW-Authenticate`).
//!
//! Served outside the shared stack: every request through the proxy comes from the proxy's
//! address, which per-address rate limits would throttle as one caller; a decision is a
//! few microseconds of CPU with no store round trip.

use crate::authorizer::{Ask, Verdict, DECISION_HEADER};
use crate::Gateway;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<Gateway>> {
    Router::new().route("/authorize", any(forward_auth))
}

fn first<'a>(headers: &'a HeaderMap, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| headers.get(*n).and_then(|v| v.to_str().ok()))
}

async fn forward_auth(
    State(gw): State<Arc<Gateway>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let method =
        first(&headers, &["x-forwarded-method", "x-original-method"]).unwrap_or(method.as_str());
    let path = first(&headers, &["x-forwarded-uri", "x-original-uri"]).unwrap_or(uri.path());
    // One Authorization header: two would let the proxy and the upstream read different ones.
    let mut auth = headers.get_all(header::AUTHORIZATION).iter();
    let authorization = match (auth.next(), auth.next()) {
        (Some(v), None) => v.to_str().ok(),
        _ => None,
    };
    // A signed request signs some of its headers: the proxy passes them on (the body it
    // does not; see the authorizer's sessions module).
    let all: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let verdict = gw.authorizer.decide(&Ask {
        method,
        path,
        authorization,
        headers: &all,
        body: None,
    });
    let mut out = HeaderMap::new();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let (status, why) = match verdict {
        Verdict::Allow { headers, why } => {
            for (name, value) in headers {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    out.insert(HeaderName::from_static(name), v);
                }
            }
            (StatusCode::OK, why)
        }
        Verdict::Deny {
            status,
            challenge,
            why,
        } => {
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                out.insert(header::WWW_AUTHENTICATE, v);
            }
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
            (status, why)
        }
    };
    if gw.authorizer.debug {
        if let Ok(v) = HeaderValue::from_str(&why.replace(['\r', '\n'], " ")) {
            out.insert(HeaderName::from_static(DECISION_HEADER), v);
        }
    }
    (status, out).into_response()
}
