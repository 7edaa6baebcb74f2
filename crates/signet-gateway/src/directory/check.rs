//! The one user check and the one client check (DESIGN §8).
//!
//! Every path that accepts a user-pool token (access, ID or refresh token: GetUser and the
//! other self-service calls, refresh, identity-pool logins, AssumeRoleWithWebIdentity)
//! asks [`super::Directory::live_user`] whether the token still stands for someone; every path that
//! names an app client gets it through [`super::Directory::active_client`]. A new path must do the
//! same: a per-call-site copy is how the review found disabled users still buying
//! credentials.

use crate::AppError;
use serde_json::{Map, Value};

/// Who a verified user-pool token says it stands for.
#[derive(Debug, Clone)]
pub(crate) struct TokenUser {
    /// Canonical username (`username` of an access token, `cognito:username` of an ID
    /// token, the refresh token's own field).
    pub username: String,
    /// The user's `sub` when the token was issued: a user deleted and made again under
    /// the same name is someone else.
    pub sub: String,
    /// The app client the token was issued to.
    pub client_id: String,
    /// When the sign-in that began the token's refresh family happened (Unix ms). Every
    /// token of a family carries it, however often the family was refreshed: sign-out
    /// ends the family, not only the tokens issued before it.
    pub signed_in_ms: u64,
}

impl TokenUser {
    /// From a verified access token's claims.
    pub fn from_access(claims: &Map<String, Value>) -> Option<TokenUser> {
        Self::from_claims(claims, "username", "client_id")
    }

    /// From a verified ID token's claims.
    pub fn from_id(claims: &Map<String, Value>) -> Option<TokenUser> {
        Self::from_claims(claims, "cognito:username", "aud")
    }

    fn from_claims(claims: &Map<String, Value>, user: &str, client: &str) -> Option<TokenUser> {
        let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_string);
        Some(TokenUser {
            username: text(user)?,
            sub: text("sub")?,
            client_id: text(client)?,
            signed_in_ms: text("origin_jti")
                .as_deref()
                .and_then(crate::ids::family_time_ms)?,
        })
    }
}

/// Why a token no longer stands for its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dead {
    /// The user is gone (or is another user of the same name now).
    NoUser,
    /// The user is disabled.
    Disabled,
    /// The user signed out everywhere (or the password was reset or changed, or the user
    /// was disabled) after the token's family began.
    SignedOut,
    /// The app client the token was issued to is disabled or gone.
    Client,
}

/// A refused token, or a failure to decide (the store is unreachable: never "revoked").
#[derive(Debug)]
pub(crate) enum UserCheckError {
    /// The token no longer stands for anyone.
    Dead(Dead),
    /// Could not check.
    Other(AppError),
}

impl UserCheckError {
    /// Map a refusal to the caller's answer; anything else passes through.
    pub fn or_answer(self, answer: impl FnOnce(Dead) -> AppError) -> AppError {
        match self {
            UserCheckError::Dead(d) => answer(d),
            UserCheckError::Other(e) => e,
        }
    }
}
