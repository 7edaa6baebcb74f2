//! What the framework integrations share: a cache bound to its expectations, the claims
//! newtype they hand to handlers, and the `Authorization: Bearer` parser.

use crate::revocation::RevocationFollower;
use crate::{Expected, JwksCache, VerifyError};
use http::header::AUTHORIZATION;
use http::HeaderMap;
use serde_json::{Map, Value};
use std::ops::Deref;
use std::sync::Arc;

/// The claims of a verified token, as the tower layer puts them in request extensions and
/// the axum extractor hands them to handlers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claims(pub Map<String, Value>);

impl Claims {
    /// The `sub` claim, if it is a string.
    pub fn sub(&self) -> Option<&str> {
        self.0.get("sub").and_then(Value::as_str)
    }

    /// The claims map.
    pub fn into_inner(self) -> Map<String, Value> {
        self.0
    }
}

impl Deref for Claims {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Map<String, Value> {
        &self.0
    }
}

/// A [`JwksCache`] with the [`Expected`] its tokens are checked against; cheap to clone
/// (two `Arc`s), so it can live in framework state.
#[derive(Debug, Clone)]
pub struct Verifier {
    cache: Arc<JwksCache>,
    expected: Arc<Expected>,
    revocations: Option<Arc<RevocationFollower>>,
}

impl Verifier {
    /// Tokens are verified with keys from `cache` against `expected`.
    pub fn new(cache: Arc<JwksCache>, expected: Expected) -> Self {
        Self {
            cache,
            expected: Arc::new(expected),
            revocations: None,
        }
    }

    /// Also refuse tokens the revocation stream `follower` names (opt-in; see
    /// [`crate::revocation`]).
    pub fn with_revocations(mut self, follower: Arc<RevocationFollower>) -> Self {
        self.revocations = Some(follower);
        self
    }

    /// The key cache.
    pub fn cache(&self) -> &Arc<JwksCache> {
        &self.cache
    }

    /// What tokens must say.
    pub fn expected(&self) -> &Expected {
        &self.expected
    }

    /// Verify `token` (see [`JwksCache::verify`]).
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let claims = self.cache.verify(token, &self.expected).await?;
        if let Some(follower) = &self.revocations {
            // The header was decoded (and the token verified) above.
            let kid = crate::token_kid(token);
            follower.check(kid.as_deref(), &claims)?;
        }
        Ok(Claims(claims))
    }
}

/// The token of a single `Authorization: Bearer <token>` header (scheme case-insensitive),
/// for services on other frameworks. `None` when the header is missing, repeated, not text
/// or of another scheme.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn with(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_token(&with(&["Bearer abc"])), Some("abc"));
        assert_eq!(bearer_token(&with(&["bearer  abc "])), Some("abc"));
        assert_eq!(bearer_token(&with(&[])), None);
        assert_eq!(bearer_token(&with(&["Basic abc"])), None);
        assert_eq!(bearer_token(&with(&["Bearer"])), None);
        assert_eq!(bearer_token(&with(&["Bearer "])), None);
        assert_eq!(bearer_token(&with(&["Bearer a", "Bearer b"])), None);
    }
}
