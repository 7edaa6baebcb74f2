//! [`RequireToken`]: a tower layer that lets through only requests with a valid bearer token,
//! answering the others the way a tonic server answers errors.

use crate::verifier::bearer_token;
use crate::{Expected, JwksCache, Verifier, VerifyError};
use http::{Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::Status;
use tower::{Layer, Service};

/// A tower layer for tonic servers: every request needs `authorization: Bearer <token>`
/// that verifies against a [`Verifier`]; its [`Claims`](crate::Claims) are inserted into
/// the request extensions (tonic handlers read `request.extensions().get::<Claims>()`).
///
/// A missing or invalid token is answered with gRPC `UNAUTHENTICATED` (HTTP 200,
/// `grpc-status: 16`) without calling the inner service; when the key set cannot be
/// fetched the answer is `UNAVAILABLE` (14), which clients may retry.
#[derive(Debug, Clone)]
pub struct RequireToken {
    verifier: Verifier,
}

impl RequireToken {
    /// Require tokens that verify with keys from `cache` against `expected`.
    pub fn new(cache: Arc<JwksCache>, expected: Expected) -> Self {
        Self::from_verifier(Verifier::new(cache, expected))
    }

    /// Require tokens that `verifier` accepts.
    pub fn from_verifier(verifier: Verifier) -> Self {
        Self { verifier }
    }
}

impl<S> Layer<S> for RequireToken {
    type Service = RequireTokenService<S>;

    fn layer(&self, inner: S) -> RequireTokenService<S> {
        RequireTokenService {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

/// The service [`RequireToken`] wraps around an inner service.
#[derive(Debug, Clone)]
pub struct RequireTokenService<S> {
    inner: S,
    verifier: Verifier,
}

/// The gRPC error answer for a refused request.
fn refusal<B: Default>(error: Option<VerifyError>) -> Response<B> {
    let status = match error {
        None => Status::unauthenticated("missing bearer token"),
        // The cause (URL, network error) is the operator's business, logged by the cache.
        Some(VerifyError::KeysUnavailable(_)) => {
            Status::unavailable("token signing keys unavailable")
        }
        Some(e) => Status::unauthenticated(format!("invalid token: {e}")),
    };
    status.into_http()
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireTokenService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The clone that was polled ready goes into the future; `self` keeps a fresh one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let Some(token) = bearer_token(req.headers()).map(str::to_owned) else {
                return Ok(refusal(None));
            };
            match verifier.verify(&token).await {
                Ok(claims) => {
                    req.extensions_mut().insert(claims);
                    inner.call(req).await
                }
                Err(e) => Ok(refusal(Some(e))),
            }
        })
    }
}
