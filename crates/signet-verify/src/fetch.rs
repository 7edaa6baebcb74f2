//! One JWKS GET: conditional on the cached ETag, body size capped, freshness from
//! `Cache-Control`.

use crate::KeySet;
use bytes::Bytes;
use http::header::{ACCEPT, CACHE_CONTROL, CONTENT_LENGTH, ETAG, IF_NONE_MATCH};
use http::{HeaderMap, HeaderValue, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::ResponseFuture;
use std::error::Error;
use std::time::Duration;

/// Sends one request; wraps a hyper-util legacy client of any connector.
pub(crate) type SendFn = dyn Fn(Request<Empty<Bytes>>) -> ResponseFuture + Send + Sync;

/// The outcome of a successful fetch.
pub(crate) enum Fetched {
    /// A new document (200).
    Modified {
        keys: KeySet,
        etag: Option<HeaderValue>,
        max_age: Option<Duration>,
    },
    /// The cached document is still current (304).
    NotModified { max_age: Option<Duration> },
}

/// GET `url`, conditional on `etag`; errors are described for [`crate::VerifyError::KeysUnavailable`].
pub(crate) async fn fetch(
    send: &SendFn,
    url: &Uri,
    etag: Option<&HeaderValue>,
    max_bytes: usize,
) -> Result<Fetched, String> {
    let mut req = Request::get(url.clone()).header(
        ACCEPT,
        HeaderValue::from_static("application/jwk-set+json, application/json"),
    );
    if let Some(etag) = etag {
        req = req.header(IF_NONE_MATCH, etag.clone());
    }
    let req = req.body(Empty::new()).map_err(|e| e.to_string())?;
    let resp = send(req)
        .await
        .map_err(|e| format!("GET {url}: {}", chain(&e)))?;
    let max_age = max_age(resp.headers());
    match resp.status() {
        StatusCode::OK => {}
        StatusCode::NOT_MODIFIED => return Ok(Fetched::NotModified { max_age }),
        other => return Err(format!("GET {url}: status {other}")),
    }
    let declared = resp
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes as u64) {
        return Err(format!("GET {url}: body over {max_bytes} bytes"));
    }
    let etag = resp.headers().get(ETAG).cloned();
    // The declared length may be absent (chunked) or lie: the limit holds while reading.
    let body = Limited::new(resp.into_body(), max_bytes)
        .collect()
        .await
        .map_err(|e| format!("GET {url}: reading body: {e}"))?
        .to_bytes();
    let keys = KeySet::from_jwks(&body).map_err(|e| format!("GET {url}: {e}"))?;
    Ok(Fetched::Modified {
        keys,
        etag,
        max_age,
    })
}

/// The freshness a response grants: `max-age`, or zero for `no-cache` / `no-store`;
/// `None` when it says nothing (the caller's default applies).
pub(crate) fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let mut found = None;
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',').map(str::trim) {
            if directive.eq_ignore_ascii_case("no-cache")
                || directive.eq_ignore_ascii_case("no-store")
            {
                return Some(Duration::ZERO);
            }
            if let Some((name, secs)) = directive.split_once('=') {
                if name.trim().eq_ignore_ascii_case("max-age") {
                    if let Ok(secs) = secs.trim().trim_matches('"').parse::<u64>() {
                        found = Some(Duration::from_secs(secs));
                    }
                }
            }
        }
    }
    found
}

/// An error and its sources, `: `-separated (hyper-util's own message is only the kind).
fn chain(e: &dyn Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(values: &[&str]) -> Option<Duration> {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(CACHE_CONTROL, HeaderValue::from_str(v).unwrap());
        }
        max_age(&h)
    }

    #[test]
    fn cache_control_parsing() {
        assert_eq!(cc(&[]), None);
        assert_eq!(cc(&["public"]), None);
        assert_eq!(cc(&["max-age=300"]), Some(Duration::from_secs(300)));
        assert_eq!(
            cc(&["public, Max-Age = 42 , must-revalidate"]),
            Some(Duration::from_secs(42))
        );
        assert_eq!(cc(&["public", "max-age=7"]), Some(Duration::from_secs(7)));
        assert_eq!(cc(&["max-age=\"9\""]), Some(Duration::from_secs(9)));
        assert_eq!(cc(&["max-age=soon"]), None);
        assert_eq!(cc(&["max-age=-1"]), None);
        assert_eq!(cc(&["max-age=600, no-cache"]), Some(Duration::ZERO));
        assert_eq!(cc(&["no-store"]), Some(Duration::ZERO));
    }
}
