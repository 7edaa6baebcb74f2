//! The edge of the OAuth endpoints: what axum would otherwise answer by itself (405 with
//! an empty body, 413 in text/plain, …) becomes an RFC 6749 §5.2 JSON error, and a
//! request that names its credentials or its body type twice is refused rather than read
//! by its first header (a proxy may have read the other one).

use crate::api::http::oauth::error_response;
use crate::oauth::OAuthError;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Headers a request may carry once at most.
const SINGLE_HEADERS: [header::HeaderName; 2] = [header::AUTHORIZATION, header::CONTENT_TYPE];

/// Layer of the OAuth routes (see the module doc). A plain layer, not axum's `from_fn`
/// middleware: that one clones and boxes the whole inner route service for every request
/// (2.4 % of a client_credentials token's CPU in `benches/profiles/`).
#[derive(Clone, Copy)]
pub(crate) struct OAuthEdgeLayer;

impl<S> tower::Layer<S> for OAuthEdgeLayer {
    type Service = OAuthEdge<S>;

    fn layer(&self, inner: S) -> OAuthEdge<S> {
        OAuthEdge { inner }
    }
}

/// See [`OAuthEdgeLayer`].
#[derive(Clone)]
pub(crate) struct OAuthEdge<S> {
    inner: S,
}

impl<S> tower::Service<Request> for OAuthEdge<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if let Some(name) = SINGLE_HEADERS
            .iter()
            .find(|name| req.headers().get_all(*name).iter().nth(1).is_some())
        {
            let refused = error_response(
                &OAuthError::InvalidRequest(format!("the {name} header is given more than once")),
                false,
            );
            return Box::pin(std::future::ready(Ok(refused)));
        }
        let answer = self.inner.call(req);
        Box::pin(async move {
            let Ok(res) = answer.await;
            Ok(as_oauth_error(res))
        })
    }
}

/// A handler's answer as it is; an error answer of the framework (405 with an empty body,
/// 413 in text/plain, …) as an RFC 6749 §5.2 JSON error of the same status.
fn as_oauth_error(res: Response) -> Response {
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json || !(res.status().is_client_error() || res.status().is_server_error()) {
        return res;
    }
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
