//! Refresh tokens: sealed (not signed), opened and checked here.

use super::{RefreshPayload, Tokens, REFRESH_PURPOSE};
use crate::directory::{Dead, TokenUser};
use crate::AppError;
use signet_core::{AppClient, Query, RefreshFamily, UserPool, UserView};
use signet_store_client::ReadConsistency::Linearizable;

impl Tokens {
    /// What a refresh token says, if this cluster sealed it (nothing checked yet).
    pub(crate) fn unseal_refresh(&self, token: &str) -> Option<RefreshPayload> {
        self.sealer
            .open(REFRESH_PURPOSE, token)
            .and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// Open and check a refresh token presented with `client`.
    pub(crate) fn open_refresh(
        &self,
        client: &AppClient,
        token: &str,
    ) -> Result<RefreshPayload, AppError> {
        let revoked = || AppError::NotAuthorized("Invalid Refresh Token".into());
        let p = self.unseal_refresh(token).ok_or_else(revoked)?;
        if p.client != client.client_id || p.pool != client.pool_id {
            return Err(revoked());
        }
        if self.clock.now_ms() >= p.exp_ms {
            return Err(AppError::NotAuthorized("Refresh Token has expired".into()));
        }
        Ok(p)
    }

    /// The user of an opened refresh token, if the token still stands for them (the one
    /// user check, by the family's sign-in time). Family revocation is checked by the
    /// caller: rotation checks it in the log.
    pub(crate) async fn refresh_user(
        &self,
        pool: &UserPool,
        p: &RefreshPayload,
    ) -> Result<UserView, AppError> {
        let revoked = || AppError::NotAuthorized("Refresh Token has been revoked".into());
        let who = TokenUser {
            username: p.username.clone(),
            sub: p.sub.clone(),
            client_id: p.client.clone(),
            signed_in_ms: crate::ids::family_time_ms(&p.fam).ok_or_else(revoked)?,
        };
        self.dir.live_user(pool, &who).await.map_err(|e| {
            e.or_answer(|d| match d {
                Dead::Disabled => AppError::NotAuthorized("User is disabled.".into()),
                _ => revoked(),
            })
        })
    }

    /// Whether a refresh family was revoked (RevokeToken, a replayed rotation, sign-out of
    /// the family). Linearizable: a revocation that returned is seen here.
    pub(crate) async fn family_revoked(&self, family_id: &str) -> Result<bool, AppError> {
        let family: Option<RefreshFamily> = self
            .store
            .ask(
                Query::GetRefreshFamily {
                    family_id: family_id.into(),
                },
                Linearizable,
            )
            .await?;
        Ok(family.is_some_and(|f| f.revoked))
    }
}
