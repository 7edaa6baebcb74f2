//! The edge of the OAuth endpoints: what axum would otherwise answer by itself (405 with
//! an empty body, 413 in text/plain, …) becomes an RFC 6749 §5.2 JSON error, and a
//! request that names its credentials or its body type twice is refused rather than read
//! by its first header (a proxy may have read the other one).

use crate::api::http::oauth::error_response;
use crate::oauth::OAuthError;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Headers a request may carry once at most.
const SINGLE_HEADERS: [header::HeaderName; 2] = [header::AUTHORIZATION, header::CONTENT_TYPE];

/// Middleware of the OAuth routes (see the module doc).
pub(crate) async fn oauth_edge(req: Request, next: Next) -> Response {
    for name in &SINGLE_HEADERS {
        if req.headers().get_all(name).iter().nth(1).is_some() {
            return error_response(
                &OAuthError::InvalidRequest(format!("the {name} header is given more than once")),
                false,
            );
        }
    }
    let res = next.run(req).await;
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json || !(res.status().is_client_error() || res.status().is_server_error()) {
        return res;
    }
    // An answer of the framework, not of a handler: same status, RFC 6749 body.
    let status = res.status();
    let description = match status.as_u16() {
        405 => "this endpoint does not accept that method".to_string(),
        413 => "request body too large".to_string(),
        415 => "the body must be application/x-www-form-urlencoded".to_string(),
        _ => status
            .canonical_reason()
            .unwrap_or("the request was refused")
            .to_string(),
    };
    let mut out = error_response(&OAuthError::InvalidRequest(description), false);
    *out.status_mut() = status;
    if let Some(allow) = res.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    out
}
