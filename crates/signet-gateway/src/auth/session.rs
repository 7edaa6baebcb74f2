//! Challenge sessions: sealed, bound to the pool, the app client, the user (`sub`) and the
//! challenge (or a stage of one), short-lived. Opening one checks all of that; its holder
//! then goes through the one user check (DESIGN §8) like a token's.

use super::Auth;
use crate::directory::{Dead, TokenUser, UserCheckError};
use crate::tokens::{CustomState, SessionPayload, SESSION_PURPOSE};
use crate::AppError;
use signet_core::{AppClient, User, UserPool, UserView};
use std::sync::Arc;

pub(super) fn invalid_session() -> AppError {
    AppError::NotAuthorized("Invalid session for the user.".into())
}

impl Auth {
    /// Seal a session for `user` to answer `stage` (a challenge name, or a stage of one).
    pub(super) fn new_session(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        stage: &str,
    ) -> Result<String, AppError> {
        self.new_session_with(pool, client, user, stage, None)
    }

    /// [`Auth::new_session`] carrying the DEVICE_KEY the sign-in named.
    pub(super) fn new_session_device(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        stage: &str,
        device: Option<&str>,
    ) -> Result<String, AppError> {
        let mut session = self.session_payload(pool, client, user, stage, None);
        session.device = device.map(str::to_string);
        self.seal_session(&session)
    }

    /// The payload of a new session.
    pub(super) fn session_payload(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        stage: &str,
        custom: Option<CustomState>,
    ) -> SessionPayload {
        let now = self.clock.now_ms();
        SessionPayload {
            v: 1,
            pool: pool.id.clone(),
            client: client.client_id.clone(),
            username: user.username.clone(),
            challenge: stage.into(),
            exp_ms: now + self.settings.session_ttl.as_millis() as u64,
            sub: user.sub.clone(),
            iat_ms: now,
            custom,
            device: None,
        }
    }

    fn seal_session(&self, session: &SessionPayload) -> Result<String, AppError> {
        let bytes = serde_json::to_vec(session).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(self.sealer.seal(SESSION_PURPOSE, &bytes))
    }

    /// [`Auth::new_session`] carrying CUSTOM_AUTH's state.
    pub(super) fn new_session_with(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        stage: &str,
        custom: Option<CustomState>,
    ) -> Result<String, AppError> {
        let session = self.session_payload(pool, client, user, stage, custom);
        self.seal_session(&session)
    }

    /// Open a session that must be at `stage`, unexpired; its pool and client.
    pub(super) async fn open_session(
        &self,
        session: &str,
        stage: &str,
    ) -> Result<(SessionPayload, Arc<UserPool>, Arc<AppClient>), AppError> {
        let s: SessionPayload = self
            .sealer
            .open(SESSION_PURPOSE, session)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(invalid_session)?;
        if s.challenge != stage {
            return Err(invalid_session());
        }
        if self.clock.now_ms() >= s.exp_ms {
            return Err(AppError::NotAuthorized(
                "Invalid session for the user, session is expired.".into(),
            ));
        }
        let client = self.dir.active_client(&s.client).await?;
        let pool = self.dir.pool(&client.pool_id).await?;
        if pool.id != s.pool {
            return Err(invalid_session());
        }
        Ok((s, pool, client))
    }

    /// The one user check for a session's holder: the same user (sub), enabled, not
    /// signed out, disabled or given another password since the session was issued.
    pub(super) async fn session_user(
        &self,
        pool: &UserPool,
        s: &SessionPayload,
    ) -> Result<UserView, AppError> {
        let holder = TokenUser {
            username: s.username.clone(),
            sub: s.sub.clone(),
            client_id: s.client.clone(),
            signed_in_ms: s.iat_ms,
        };
        self.dir
            .live_user(pool, &holder)
            .await
            .map_err(|e: UserCheckError| {
                e.or_answer(|dead| match dead {
                    Dead::Disabled => AppError::NotAuthorized("User is disabled.".into()),
                    _ => invalid_session(),
                })
            })
    }
}
