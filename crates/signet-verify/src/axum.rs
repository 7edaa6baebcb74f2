//! [`VerifiedToken`]: an axum extractor for the claims of a valid bearer token.

use crate::verifier::bearer_token;
use crate::{Claims, Verifier, VerifyError};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The claims of the request's `Authorization: Bearer` token, verified by the
/// [`Verifier`] the router state provides (the state is a `Verifier`, or implements
/// `FromRef` for one). Requests without a valid token are rejected with [`TokenRejection`].
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken(pub Claims);

impl<S> FromRequestParts<S> for VerifiedToken
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = TokenRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, TokenRejection> {
        let verifier = Verifier::from_ref(state);
        let token = bearer_token(&parts.headers).ok_or(TokenRejection::Missing)?;
        verifier
            .verify(token)
            .await
            .map(VerifiedToken)
            .map_err(TokenRejection::Invalid)
    }
}

/// Why [`VerifiedToken`] refused a request. As a response: 401 with
/// `WWW-Authenticate: Bearer` (RFC 6750) and a JSON body
/// `{"error": ..., "error_description": ...}`; 503 when the key set cannot be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRejection {
    /// No single `Authorization: Bearer` header.
    Missing,
    /// The token did not verify.
    Invalid(VerifyError),
}

impl IntoResponse for TokenRejection {
    fn into_response(self) -> Response {
        let (status, challenge, error, description) = match self {
            TokenRejection::Missing => (
                StatusCode::UNAUTHORIZED,
                Some("Bearer"),
                "missing_token",
                "missing bearer token".to_owned(),
            ),
            // The cause (URL, network error) is the operator's business, logged by the cache.
            TokenRejection::Invalid(VerifyError::KeysUnavailable(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "temporarily_unavailable",
                "token signing keys unavailable".to_owned(),
            ),
            TokenRejection::Invalid(e) => (
                StatusCode::UNAUTHORIZED,
                Some(r#"Bearer error="invalid_token""#),
                "invalid_token",
                e.to_string(),
            ),
        };
        let body = Json(serde_json::json!({
            "error": error,
            "error_description": description,
        }));
        let mut response = (status, body).into_response();
        if let Some(challenge) = challenge {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}
