//! Checks of the tokens this cluster signed, when they are shown back: access tokens of the
//! self-service calls, ID tokens of identity pools and STS.

use super::{revoked, Tokens, LEEWAY_S};
use crate::directory::{Dead, TokenUser, UserCheckError};
use crate::AppError;
use base64::Engine;
use serde_json::{Map, Value};
use signet_core::{Query, UserPool, UserView};
use signet_store_client::ReadConsistency::Linearizable;
use signet_verify::{Expected, TokenUse, VerifyError};
use std::sync::Arc;

impl Tokens {
    /// Verify an access token strictly (through signet-verify) and load its user: the user
    /// must still exist with the same sub, be enabled, not be signed out since the token was
    /// issued, and the token's refresh family must not be revoked.
    pub(crate) async fn authenticate(
        &self,
        token: &str,
    ) -> Result<(Arc<UserPool>, UserView, String), AppError> {
        let (pool, view, claims) = self.authenticate_claims(token).await?;
        let client_id = claims["client_id"].as_str().unwrap_or_default().to_string();
        Ok((pool, view, client_id))
    }

    /// [`Tokens::authenticate`], with the token's claims.
    pub(crate) async fn authenticate_claims(
        &self,
        token: &str,
    ) -> Result<(Arc<UserPool>, UserView, Map<String, Value>), AppError> {
        self.authenticate_scoped(token, &[crate::tokens::USER_ADMIN_SCOPE])
            .await
    }

    /// [`Tokens::authenticate_claims`] for a token that must carry one of `any_of` (the
    /// user-pool APIs need the admin scope; userInfo takes `openid` too).
    pub(crate) async fn authenticate_scoped(
        &self,
        token: &str,
        any_of: &[&str],
    ) -> Result<(Arc<UserPool>, UserView, Map<String, Value>), AppError> {
        let invalid = || AppError::NotAuthorized("Invalid Access Token".into());
        // Route by the unverified issuer, then verify against exactly that issuer.
        if token.len() > signet_verify::MAX_TOKEN_BYTES {
            return Err(invalid());
        }
        let payload = token.split('.').nth(1).ok_or_else(invalid)?;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| invalid())?;
        let iss: serde_json::Value = serde_json::from_slice(&payload).map_err(|_| invalid())?;
        let pool_id = iss["iss"]
            .as_str()
            .and_then(|i| i.strip_prefix(&format!("{}/", self.urls.public_url())))
            .ok_or_else(invalid)?
            .to_string();
        // A store outage must surface as such, not as a bad token.
        let pool = self.dir.pool(&pool_id).await.map_err(|e| match e {
            AppError::ResourceNotFound(_) => invalid(),
            other => other,
        })?;
        let expected = Expected {
            issuer: self.urls.issuer(&pool.id),
            token_use: TokenUse::Access,
            clients: None,
            leeway_s: LEEWAY_S,
        };
        let claims = self.verify_own(token, &expected).map_err(|e| {
            AppError::NotAuthorized(match e {
                signet_verify::VerifyError::Expired => "Access Token has expired".into(),
                other => format!("Invalid Access Token: {other}"),
            })
        })?;
        let scope_ok = claims["scope"]
            .as_str()
            .is_some_and(|s| s.split(' ').any(|s| any_of.contains(&s)));
        if !scope_ok {
            return Err(AppError::NotAuthorized(
                "Access Token does not have required scopes".into(),
            ));
        }
        let who = TokenUser::from_access(&claims).ok_or_else(invalid)?;
        let view = self.dir.live_user(&pool, &who).await.map_err(|e| {
            e.or_answer(|d| match d {
                Dead::Disabled => AppError::NotAuthorized("User is disabled.".into()),
                _ => revoked(),
            })
        })?;
        // Revoked one by one (RFC 7009)?
        let jti = claims["jti"].as_str().unwrap_or_default().to_string();
        let jti_revoked: Vec<bool> = self
            .store
            .ask(Query::RevokedTokens { jtis: vec![jti] }, Linearizable)
            .await?;
        if jti_revoked.first() != Some(&false) {
            return Err(revoked());
        }
        if let Some(fam) = claims["origin_jti"].as_str() {
            if self.family_revoked(fam).await? {
                return Err(revoked());
            }
        }
        debug_assert_eq!(claims["client_id"].as_str(), Some(who.client_id.as_str()));
        Ok((pool, view, claims))
    }

    /// Verify a token signed by this cluster against the published key set.
    pub(crate) fn verify_own(
        &self,
        token: &str,
        expected: &Expected,
    ) -> Result<Map<String, Value>, VerifyError> {
        // A verification of the same token against the same expectations and keys is
        // remembered (`keys::OwnTokens`); judged by the system clock, as relying parties do.
        let now_s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.own
            .verify(self.published.get(), token, expected, now_s)
            .map(Arc::unwrap_or_clone)
    }

    /// The one user check for a verified user-pool ID token (identity-pool logins and
    /// AssumeRoleWithWebIdentity).
    pub(crate) async fn check_id_token_user(
        &self,
        pool: &signet_core::UserPool,
        claims: &Map<String, Value>,
    ) -> Result<(), UserCheckError> {
        let who = TokenUser::from_id(claims).ok_or(UserCheckError::Dead(Dead::NoUser))?;
        self.dir.live_user(pool, &who).await.map(|_| ())
    }
}
