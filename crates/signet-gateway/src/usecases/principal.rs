//! The one user check and the one client check (DESIGN §8).
//!
//! Every path that accepts a user-pool token (access, ID or refresh token: GetUser and the
//! other self-service calls, refresh, identity-pool logins, AssumeRoleWithWebIdentity)
//! asks [`Gateway::live_user`] whether the token still stands for someone; every path that
//! names an app client gets it through [`Gateway::active_client`]. A new path must do the
//! same: a per-call-site copy is how the review found disabled users still buying
//! credentials.

use crate::{AppError, Gateway};
use serde_json::{Map, Value};
use signet_core::{AppClient, UserPool, UserView};
use std::sync::Arc;

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
                .and_then(super::family_time_ms)?,
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

impl Gateway {
    /// The one client check: the app client exists and is enabled. Every public call that
    /// names a client goes through here (each flow then asks [`AppClient::allows`]); the
    /// admin API uses [`Gateway::client`] to see disabled clients too.
    pub(crate) async fn active_client(&self, client_id: &str) -> Result<Arc<AppClient>, AppError> {
        let client = self.client(client_id).await?;
        if client.disabled {
            return Err(AppError::NotAuthorized("Client is disabled.".into()));
        }
        Ok(client)
    }

    /// The one user check: the token's user exists with the same sub, is enabled, has not
    /// signed out (nor had the password reset or changed) since the token's family began,
    /// and the token's client is still enabled. Linearizable: a sign-out that returned is
    /// seen by every later check on every gateway.
    pub(crate) async fn live_user(
        &self,
        pool: &UserPool,
        t: &TokenUser,
    ) -> Result<UserView, UserCheckError> {
        match self.client(&t.client_id).await {
            Ok(c) if !c.disabled && c.pool_id == pool.id => {}
            Ok(_) | Err(AppError::ResourceNotFound(_)) => {
                return Err(UserCheckError::Dead(Dead::Client))
            }
            Err(e) => return Err(UserCheckError::Other(e)),
        }
        let view = match self.find_user(pool, &t.username).await {
            Ok(v) => v,
            Err(AppError::UserNotFound | AppError::InvalidParameter(_)) => {
                return Err(UserCheckError::Dead(Dead::NoUser))
            }
            Err(e) => return Err(UserCheckError::Other(e)),
        };
        if view.user.sub != t.sub || view.user.username != t.username {
            return Err(UserCheckError::Dead(Dead::NoUser));
        }
        if t.signed_in_ms < view.user.tokens_valid_after_ms {
            return Err(UserCheckError::Dead(Dead::SignedOut));
        }
        if !view.user.enabled {
            return Err(UserCheckError::Dead(Dead::Disabled));
        }
        Ok(view)
    }
}
