//! REFRESH_TOKEN_AUTH (and the token endpoint's refresh grant): with rotation, one
//! compare-and-set write per generation; a replayed older token revokes the family.

use super::{Auth, AuthResult, SecretProof};
use crate::hooks::Trigger;
use crate::tokens::Continuation;
use crate::AppError;
use signet_core::{AdvanceRefreshFamily, AppClient, Command, UserPool};

impl Auth {
    /// GetTokensFromRefreshToken: a refresh authenticated with the client's secret itself
    /// (when it has one) instead of SECRET_HASH.
    pub async fn get_tokens_from_refresh_token(
        &self,
        client_id: &str,
        token: &str,
        client_secret: Option<&str>,
    ) -> Result<AuthResult, AppError> {
        let client = self.dir.active_client(client_id).await?;
        if !client.allows(signet_core::AuthFlow::AllowRefreshTokenAuth) {
            return Err(AppError::invalid(
                "REFRESH_TOKEN_AUTH flow not enabled for this client",
            ));
        }
        if !client.secrets.is_empty()
            && !client_secret.is_some_and(|s| self.secrets.matches(&client, s))
        {
            return Err(AppError::NotAuthorized(
                "Client secret is missing or does not match the client.".into(),
            ));
        }
        let pool = self.dir.pool(&client.pool_id).await?;
        self.refresh_auth(&pool, &client, token, SecretProof::Authenticated)
            .await
    }

    /// REFRESH_TOKEN_AUTH, and the token endpoint's `grant_type=refresh_token`.
    pub(crate) async fn refresh_auth(
        &self,
        pool: &UserPool,
        client: &AppClient,
        token: &str,
        proof: SecretProof<'_>,
    ) -> Result<AuthResult, AppError> {
        let p = self.tokens.open_refresh(client, token)?;
        if let (false, SecretProof::Hash(secret_hash)) = (client.secrets.is_empty(), proof) {
            // Cognito computes the SECRET_HASH of a refresh with the username or the sub.
            self.secrets
                .check_secret_hash(client, &p.username, secret_hash)
                .or_else(|_| self.secrets.check_secret_hash(client, &p.sub, secret_hash))?;
        }
        let view = if client.refresh_token_rotation {
            let view = self.tokens.refresh_user(pool, &p).await?;
            let grace_ms = u64::from(client.refresh_retry_grace_s) * 1000;
            // Once per generation, cluster-wide; a replayed older token revokes the family.
            // Only for a user who may still refresh: a refused refresh spends no generation.
            self.store
                .write(Command::AdvanceRefreshFamily(AdvanceRefreshFamily {
                    family_id: p.fam.clone(),
                    presented_generation: p.gen,
                    expires_at_ms: p.exp_ms,
                    // The clock decides only the grace; without one the entry carries none
                    // (and stays what it was before the grace existed).
                    at_ms: if grace_ms > 0 { self.clock.now_ms() } else { 0 },
                    grace_ms,
                }))
                .await?;
            view
        } else {
            // The two checks read at once (one leadership round can serve both); the
            // user's answer is given first, as when they ran one after the other.
            let (view, revoked) = tokio::join!(
                self.tokens.refresh_user(pool, &p),
                self.tokens.family_revoked(&p.fam)
            );
            let view = view?;
            if revoked? {
                return Err(AppError::NotAuthorized(
                    "Refresh Token has been revoked".into(),
                ));
            }
            view
        };
        let user = &view.user;
        self.tokens
            .issue(
                pool,
                client,
                user,
                &view.groups,
                Some(Continuation {
                    family: p.fam,
                    generation: p.gen + 1,
                    expires_at_ms: p.exp_ms,
                    auth_time: p.auth_time,
                    rotate: client.refresh_token_rotation,
                    scope: p.scope,
                    nonce: None,
                }),
                Trigger::RefreshTokens,
                None,
            )
            .await
    }
}
