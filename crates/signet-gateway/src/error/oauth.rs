//! RFC 6749 §5.2 errors of the OAuth endpoints (how each looks: `table`).

use super::AppError;

/// An OAuth error as RFC 6749 §5.2 (and RFC 6750 for `invalid_token`) names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthError {
    /// Malformed request.
    InvalidRequest(String),
    /// Client authentication failed (HTTP 401).
    InvalidClient(String),
    /// Bad or revoked refresh token.
    InvalidGrant(String),
    /// The client may not use this grant.
    UnauthorizedClient(String),
    /// Grant type not supported.
    UnsupportedGrantType(String),
    /// A requested scope is not allowed.
    InvalidScope(String),
    /// A bearer token was refused (userInfo; HTTP 401).
    InvalidToken(String),
    /// Anything else (store unreachable, no usable key yet).
    Server(AppError),
}

impl OAuthError {
    /// The `error_description`.
    pub fn description(&self) -> String {
        match self {
            OAuthError::InvalidRequest(m)
            | OAuthError::InvalidClient(m)
            | OAuthError::InvalidGrant(m)
            | OAuthError::UnauthorizedClient(m)
            | OAuthError::UnsupportedGrantType(m)
            | OAuthError::InvalidScope(m)
            | OAuthError::InvalidToken(m) => m.clone(),
            OAuthError::Server(e) => e.to_string(),
        }
    }
}

impl From<AppError> for OAuthError {
    fn from(e: AppError) -> OAuthError {
        OAuthError::Server(e)
    }
}
