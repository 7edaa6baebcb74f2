//! What a service may ask about a token it was given: introspection (RFC 7662),
//! revocation (RFC 7009) and OIDC userInfo.

use super::{peek_issuer, ClientAuth, OAuth, OAuthError};
use crate::AppError;
use serde_json::{json, Map, Value};
use signet_core::{AppClient, Command, Query, RevokeAccessToken, RevokeRefreshFamily};
use signet_store_client::ReadConsistency::Linearizable;
use signet_verify::{Expected, TokenUse};
use std::sync::Arc;

impl OAuth {
    /// The claims of `token` if it is an access token of `pool_id` that this gateway's keys
    /// verify (any client, no leeway); revocation is not checked.
    fn access_claims(&self, pool_id: &str, token: &str) -> Option<Map<String, Value>> {
        let expected = Expected {
            issuer: self.urls.issuer(pool_id),
            token_use: TokenUse::Access,
            clients: None,
            leeway_s: 0,
        };
        self.tokens.verify_own(token, &expected).ok()
    }

    /// Verify an access token of `pool_id` and check it was not revoked: its own jti, its
    /// refresh family, a sign-out of its user. Returns the claims, or `None` if inactive.
    async fn active_access_token(
        &self,
        pool_id: &str,
        token: &str,
    ) -> Result<Option<Map<String, Value>>, AppError> {
        let Some(claims) = self.access_claims(pool_id, token) else {
            return Ok(None);
        };
        let jti = claims.get("jti").and_then(Value::as_str).unwrap_or("");
        let revoked: Vec<bool> = self
            .store
            .ask(
                Query::RevokedTokens {
                    jtis: vec![jti.to_string()],
                },
                Linearizable,
            )
            .await?;
        let revoked = revoked.first().copied().unwrap_or(true);
        if revoked {
            return Ok(None);
        }
        if claims.contains_key("username") {
            // A user's token: the same checks as every self-service call.
            return match self.tokens.authenticate(token).await {
                Ok(_) => Ok(Some(claims)),
                Err(AppError::NotAuthorized(_)) => Ok(None),
                Err(e) => Err(e),
            };
        }
        // A machine token: its client must still be enabled (the one client check).
        let client_id = claims
            .get("client_id")
            .and_then(Value::as_str)
            .unwrap_or("");
        match self.dir.active_client(client_id).await {
            Ok(_) => Ok(Some(claims)),
            Err(AppError::NotAuthorized(_) | AppError::ResourceNotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// RFC 7662 introspection by an authenticated client of the pool.
    pub async fn introspect(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
        token: &str,
    ) -> Result<Value, OAuthError> {
        let caller = self.authenticate_client(pool_id, auth).await?;
        if caller.secrets.is_empty() {
            return Err(OAuthError::InvalidClient(
                "Only confidential clients may introspect tokens.".into(),
            ));
        }
        let inactive = json!({ "active": false });
        if peek_issuer(token).is_some() {
            let Some(c) = self.active_access_token(pool_id, token).await? else {
                return Ok(inactive);
            };
            // RFC 7662 §4: a client learns about the tokens issued to it, nothing about
            // another client's (not even that they are active).
            if c.get("client_id").and_then(Value::as_str) != Some(caller.client_id.as_str()) {
                return Ok(inactive);
            }
            let mut out = json!({
                "active": true,
                "token_type": "access_token",
                "scope": c.get("scope").cloned().unwrap_or(Value::Null),
                "client_id": c.get("client_id").cloned().unwrap_or(Value::Null),
                "sub": c.get("sub").cloned().unwrap_or(Value::Null),
                "iss": c.get("iss").cloned().unwrap_or(Value::Null),
                "exp": c.get("exp").cloned().unwrap_or(Value::Null),
                "iat": c.get("iat").cloned().unwrap_or(Value::Null),
                "jti": c.get("jti").cloned().unwrap_or(Value::Null),
                "token_use": "access",
            });
            if let Some(u) = c.get("username") {
                out["username"] = u.clone();
            }
            return Ok(out);
        }
        // A refresh token: sealed; only its own client may see it active.
        let Ok(client) = self.client_of_refresh(token).await else {
            return Ok(inactive);
        };
        // Only its own client may learn that (and whose) a refresh token is.
        if client.pool_id != pool_id || client.client_id != caller.client_id {
            return Ok(inactive);
        }
        let Ok(p) = self.tokens.open_refresh(&client, token) else {
            return Ok(inactive);
        };
        // The same checks as the token endpoint's refresh grant.
        let pool = self.dir.pool(pool_id).await?;
        match self.tokens.refresh_user(&pool, &p).await {
            Ok(_) => {}
            Err(AppError::NotAuthorized(_)) => return Ok(inactive),
            Err(e) => return Err(e.into()),
        }
        if self.tokens.family_revoked(&p.fam).await? {
            return Ok(inactive);
        }
        Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "client_id": p.client,
            "sub": p.sub,
            "username": p.username,
            "exp": p.exp_ms / 1000,
            "iat": p.iat_ms / 1000,
            "iss": self.urls.issuer(&p.pool),
        }))
    }

    /// The client a sealed refresh token names (not yet checked).
    async fn client_of_refresh(&self, token: &str) -> Result<Arc<AppClient>, AppError> {
        let p = self
            .tokens
            .unseal_refresh(token)
            .ok_or_else(|| AppError::NotAuthorized("not a refresh token".into()))?;
        self.dir.client(&p.client).await
    }

    /// RFC 7009 revocation: a refresh token (its whole family) or an access token (by
    /// jti) issued to the calling client. Unknown or invalid tokens are not an error.
    /// Returns only once the revocation is committed.
    pub async fn revoke(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
        token: &str,
    ) -> Result<(), OAuthError> {
        let client = self.authenticate_client(pool_id, auth).await?;
        if peek_issuer(token).is_some() {
            let Some(claims) = self.access_claims(pool_id, token) else {
                return Ok(());
            };
            if claims.get("client_id").and_then(Value::as_str) != Some(&client.client_id) {
                return Err(OAuthError::UnauthorizedClient(
                    "The token was not issued to this client.".into(),
                ));
            }
            let jti = claims.get("jti").and_then(Value::as_str).unwrap_or("");
            let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
            self.store
                .write(Command::RevokeAccessToken(RevokeAccessToken {
                    jti: jti.to_string(),
                    expires_at_ms: exp * 1000,
                }))
                .await?;
            return Ok(());
        }
        match self.client_of_refresh(token).await {
            Ok(owner) if owner.client_id != client.client_id => {
                return Err(OAuthError::UnauthorizedClient(
                    "The token was not issued to this client.".into(),
                ))
            }
            Ok(_) => {}
            Err(_) => return Ok(()),
        }
        let Ok(p) = self.tokens.open_refresh(&client, token) else {
            return Ok(());
        };
        self.store
            .write(Command::RevokeRefreshFamily(RevokeRefreshFamily {
                family_id: p.fam,
                expires_at_ms: p.exp_ms,
            }))
            .await?;
        Ok(())
    }

    /// OIDC userInfo: the attributes of the user an access token of `pool_id` belongs to.
    pub async fn user_info(&self, pool_id: &str, token: &str) -> Result<Value, OAuthError> {
        let invalid = |m: &str| OAuthError::InvalidToken(m.to_string());
        if peek_issuer(token).as_deref() != Some(self.urls.issuer(pool_id).as_str()) {
            return Err(invalid("The access token was not issued by this pool."));
        }
        let user = match self.self_service.user_info_user(token).await {
            Ok(u) => u,
            Err(AppError::NotAuthorized(m)) => return Err(invalid(&m)),
            Err(e) => return Err(e.into()),
        };
        let mut out = Map::new();
        for (k, v) in &user.attributes {
            out.insert(k.clone(), Value::String(v.clone()));
        }
        out.insert("sub".into(), user.sub.clone().into());
        out.insert("username".into(), user.username.clone().into());
        Ok(Value::Object(out))
    }
}
