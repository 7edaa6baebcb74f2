//! USER_PASSWORD_AUTH and ADMIN_USER_PASSWORD_AUTH: one linearizable read, one reserved
//! guess (see `passwords`) and the signatures; a temporary password leads to the
//! NEW_PASSWORD_REQUIRED challenge.

use super::mfa::{next_factor, Next};
use super::{wrong_credentials, Auth, AuthOutcome};
use crate::hooks::Trigger;
use crate::names::Challenge;
use crate::passwords::Guess;
use crate::validate::canonical_username;
use crate::AppError;
use signet_core::{AppClient, Query, UserPool, UserStatus, UserView};
use signet_store_client::ReadConsistency::Linearizable;
use std::collections::BTreeMap;

impl Auth {
    pub(super) async fn password_auth(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        password: &str,
    ) -> Result<AuthOutcome, AppError> {
        // Overloaded: refuse before the store read. Every attempt needs a hash, so the
        // answer is the same for every user (no enumeration), and a refusal then costs a
        // few microseconds instead of a linearizable read (under a flood of retries the
        // reads took half the CPU the hashes needed).
        if self.passwords.hasher().saturated() {
            return Err(signet_crypto::PasswordError::Saturated.into());
        }
        let login = canonical_username(username, &pool.config).ok();
        let view: Option<UserView> = match &login {
            Some(login) => {
                self.store
                    .ask(
                        Query::GetUserForLogin {
                            pool_id: pool.id.clone(),
                            login: login.clone(),
                        },
                        Linearizable,
                    )
                    .await?
            }
            None => None,
        };
        // Imported users arrive RESET_REQUIRED without a password: they exist for sign-in
        // (and are told to reset), as in Cognito.
        let view = view.filter(|v| {
            v.user.password_hash.is_some() || v.user.status == UserStatus::ResetRequired
        });
        let hidden = pool.config.prevent_user_existence_errors;
        // Unknown users go through the same reservation (refused by the store) and the same
        // hashing work, so neither the answer nor its timing nor the traffic tells them apart.
        let target = match &view {
            Some(v) => v.user.username.clone(),
            None => login.unwrap_or_default(),
        };
        let hash = view.as_ref().and_then(|v| v.user.password_hash.as_deref());
        let has_password = hash.is_some();
        // A right password clears the failure count only when no second factor follows.
        let clear = view
            .as_ref()
            .is_none_or(|v| next_factor(pool, v) == Next::Tokens);
        let guess = self
            .passwords
            .guess(pool, &target, hash, password, clear)
            .await?;
        let Some(view) = view else {
            return Err(if hidden {
                wrong_credentials()
            } else {
                AppError::UserNotFound
            });
        };
        match guess {
            Guess::Right => {}
            // A lockout exists only for existing users: with user existence hidden, naming
            // it would reveal the user.
            Guess::Locked if !hidden => {
                return Err(AppError::NotAuthorized("Password attempts exceeded".into()))
            }
            // RESET_REQUIRED without a password (an import): nothing to check.
            _ if !has_password => return Err(AppError::PasswordResetRequired),
            _ => return Err(wrong_credentials()),
        }
        let user = view.user;
        if !user.enabled {
            return Err(AppError::NotAuthorized("User is disabled.".into()));
        }
        match user.status {
            UserStatus::Unconfirmed => Err(AppError::UserNotConfirmed),
            UserStatus::ResetRequired => Err(AppError::PasswordResetRequired),
            UserStatus::ForceChangePassword => {
                if user
                    .password_expires_at_ms
                    .is_some_and(|t| self.clock.now_ms() >= t)
                {
                    return Err(AppError::NotAuthorized(
                        "Temporary password has expired and must be reset by an administrator."
                            .into(),
                    ));
                }
                let session =
                    self.new_session(pool, client, &user, Challenge::NewPasswordRequired.name())?;
                let mut parameters = BTreeMap::new();
                parameters.insert("USER_ID_FOR_SRP".into(), user.username.clone());
                parameters.insert(
                    "userAttributes".into(),
                    serde_json::to_string(&user.attributes).unwrap_or_default(),
                );
                parameters.insert("requiredAttributes".into(), "[]".into());
                Ok(AuthOutcome::Challenge {
                    name: Challenge::NewPasswordRequired,
                    session,
                    parameters,
                })
            }
            UserStatus::Confirmed => {
                let view = UserView { user, ..view };
                self.second_factor(pool, client, view, Trigger::Authentication)
                    .await
            }
        }
    }
}
