//! RespondToAuthChallenge and AdminRespondToAuthChallenge (NEW_PASSWORD_REQUIRED).

use super::{Auth, AuthOutcome};
use crate::directory::{Dead, TokenUser, UserCheckError};
use crate::hooks::Trigger;
use crate::names::Challenge;
use crate::tokens::{SessionPayload, SESSION_PURPOSE};
use crate::validate::{attributes, check_password, AttrWrite};
use crate::AppError;
use signet_core::{UserPatch, UserStatus};
use std::collections::BTreeMap;

impl Auth {
    /// RespondToAuthChallenge / AdminRespondToAuthChallenge (NEW_PASSWORD_REQUIRED).
    pub async fn respond_to_challenge(
        &self,
        client_id: &str,
        challenge: Challenge,
        session: &str,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthOutcome, AppError> {
        let client = self.dir.active_client(client_id).await?;
        let pool = self.dir.pool(&client.pool_id).await?;
        // NEW_PASSWORD_REQUIRED is the only challenge so far: nothing to dispatch on.
        let Challenge::NewPasswordRequired = challenge;
        let invalid_session = || AppError::NotAuthorized("Invalid session for the user.".into());
        let s: SessionPayload = self
            .sealer
            .open(SESSION_PURPOSE, session)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(invalid_session)?;
        if s.client != client.client_id || s.pool != pool.id || s.challenge != challenge.name() {
            return Err(invalid_session());
        }
        if self.clock.now_ms() >= s.exp_ms {
            return Err(AppError::NotAuthorized(
                "Invalid session for the user, session is expired.".into(),
            ));
        }
        let given_user = responses
            .get("USERNAME")
            .cloned()
            .unwrap_or_else(|| s.username.clone());
        self.secrets.check_secret_hash(
            &client,
            &given_user,
            responses.get("SECRET_HASH").map(String::as_str),
        )?;
        let new_password = responses
            .get("NEW_PASSWORD")
            .ok_or_else(|| AppError::invalid("Missing required parameter NEW_PASSWORD"))?;
        check_password(&pool.config.password_policy, new_password)?;
        let attrs: Vec<(String, String)> = responses
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("userAttributes.")
                    .map(|n| (n.to_string(), v.clone()))
            })
            .collect();
        let set_attributes = attributes(&pool.config, &attrs, AttrWrite::UserUpdate)?;
        // The one user check (DESIGN §8), for the session as for a token: the same user
        // (sub), enabled, not signed out, disabled or given another password since the
        // session was issued. Without it a disabled user got a password set and tokens
        // signed, a session from a replaced temporary password still set the password, and
        // a session of a deleted user set the password of a new user of the same name.
        let holder = TokenUser {
            username: s.username.clone(),
            sub: s.sub.clone(),
            client_id: s.client.clone(),
            signed_in_ms: s.iat_ms,
        };
        let session_refused = |e: UserCheckError| {
            e.or_answer(|dead| match dead {
                Dead::Disabled => AppError::NotAuthorized("User is disabled.".into()),
                _ => invalid_session(),
            })
        };
        let current = self
            .dir
            .live_user(&pool, &holder)
            .await
            .map_err(session_refused)?
            .user;
        let hash = self.passwords.hasher().hash(new_password).await?;
        // Compare-and-set on the status: a session is good for one password change; and on
        // the password hash checked above: a password set meanwhile voids the session.
        self.dir
            .patch_user(
                &pool.id,
                &s.username,
                UserPatch {
                    expect_status: Some(UserStatus::ForceChangePassword),
                    expect_password_hash: current.password_hash.clone(),
                    status: Some(UserStatus::Confirmed),
                    password: Some((hash, None)),
                    set_attributes,
                    at_ms: self.clock.now_ms(),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| match e {
                AppError::NotAuthorized(_) => invalid_session(),
                other => other,
            })?;
        // Disabled (or signed out) between the check and the write: no tokens.
        let view = self
            .dir
            .live_user(&pool, &holder)
            .await
            .map_err(session_refused)?;
        self.tokens
            .issue(
                &pool,
                &client,
                &view.user,
                &view.groups,
                None,
                Trigger::NewPasswordChallenge,
            )
            .await
            .map(AuthOutcome::Tokens)
    }
}
