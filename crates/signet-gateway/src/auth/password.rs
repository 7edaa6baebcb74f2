//! USER_PASSWORD_AUTH and ADMIN_USER_PASSWORD_AUTH: one linearizable read, one reserved
//! guess (see `passwords`) and the signatures; a temporary password leads to the
//! NEW_PASSWORD_REQUIRED challenge.

use super::mfa::{next_factor, Next};
use super::{wrong_credentials, Auth, AuthOutcome};
use crate::hooks::{Hooks, MigrationSource, Trigger};
use crate::names::Challenge;
use crate::passwords::Guess;
use crate::validate::{canonical_username, check_password};
use crate::AppError;
use signet_core::{AppClient, Command, CreateUser, Query, UserPool, UserStatus, UserView};
use signet_store_client::ReadConsistency::Linearizable;
use std::collections::BTreeMap;

/// What a UserMigration attempt led to.
enum Migrated {
    /// This sign-in created the user.
    Created(UserView),
    /// Another sign-in created it first (or it exists after all): check the password.
    Raced(Option<UserView>),
    /// The hook knows no such user (or failed open).
    Unknown,
}

/// The answer to a first factor that was not right; `None` when it was.
pub(super) fn refusal(guess: Guess, hidden: bool, has_password: bool) -> Option<AppError> {
    if guess == Guess::Locked {
        crate::audit::note("locked");
    }
    match guess {
        Guess::Right => None,
        // A lockout exists only for existing users: with user existence hidden, naming it
        // would reveal the user.
        Guess::Locked if !hidden => {
            Some(AppError::NotAuthorized("Password attempts exceeded".into()))
        }
        // RESET_REQUIRED without a password (an import): nothing to check.
        _ if !has_password => Some(AppError::PasswordResetRequired),
        _ => Some(wrong_credentials()),
    }
}

impl Auth {
    /// Username and password on a hosted sign-in page (inside `for_hosted_page`): the
    /// same checks as USER_PASSWORD_AUTH (hooks, lockout, migration, challenges), without
    /// the client's flow list or SECRET_HASH — the page is the gateway's own, and the client
    /// proves its secret at the token endpoint.
    pub(crate) async fn password_on_hosted_page(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        password: &str,
    ) -> Result<AuthOutcome, AppError> {
        self.password_auth(pool, client, username, password, None)
            .await
    }

    pub(super) async fn password_auth(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        password: &str,
        device: Option<&str>,
    ) -> Result<AuthOutcome, AppError> {
        // Overloaded: refuse before the store read. Every attempt needs a hash, so the
        // answer is the same for every user (no enumeration), and a refusal then costs a
        // few microseconds instead of a linearizable read (under a flood of retries the
        // reads took half the CPU the hashes needed).
        if self.passwords.hasher().saturated() {
            return Err(signet_crypto::PasswordError::Saturated.into());
        }
        let (login, view) = self.user_for_login(pool, username).await?;
        let view = match (view, &login) {
            (None, Some(login)) if Hooks::migrates(pool) => {
                match self
                    .migrate(pool, client, login, username, password)
                    .await?
                {
                    // The hook vouched for this password: no guess to check.
                    Migrated::Created(view) => {
                        self.pre_authentication(pool, client, username, Some(&view))
                            .await?;
                        return self.after_password(pool, client, view, device).await;
                    }
                    Migrated::Raced(view) => view,
                    Migrated::Unknown => None,
                }
            }
            (view, _) => view,
        };
        let hidden = pool.config.prevent_user_existence_errors;
        self.pre_authentication(pool, client, username, view.as_ref())
            .await?;
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
        if let Some(e) = refusal(guess, hidden, has_password) {
            return Err(e);
        }
        self.lazy_srp_verifier(pool, &view.user, password).await;
        self.after_password(pool, client, view, device).await
    }

    /// PreAuthentication, if the pool sets it: for a known user, and for an unknown one
    /// when the pool hides which users exist (told `userNotFound`), so that the hook's
    /// presence does not tell them apart.
    pub(super) async fn pre_authentication(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        view: Option<&UserView>,
    ) -> Result<(), AppError> {
        if view.is_none() && !pool.config.prevent_user_existence_errors {
            return Ok(());
        }
        self.hooks
            .pre_authentication(pool, username, view.map(|v| &v.user), &client.client_id)
            .await
    }

    /// A sign-in names a user the pool does not have: the UserMigration hook may vouch for
    /// the user and this password. The user is created through the log, once: when two
    /// sign-ins race, the log refuses the second CreateUser and the loser goes on with
    /// the winner's user (its password checked as any other sign-in's).
    async fn migrate(
        &self,
        pool: &UserPool,
        client: &AppClient,
        login: &str,
        username: &str,
        password: &str,
    ) -> Result<Migrated, AppError> {
        let source = MigrationSource::Authentication { password };
        let Some(m) = self
            .hooks
            .user_migration(pool, source, username, &client.client_id)
            .await?
        else {
            return Ok(Migrated::Unknown);
        };
        let mut user = crate::users::migrated_user(pool, username, &m, self.clock.now_ms())?;
        if m.status == UserStatus::Confirmed {
            // The password must meet this pool's policy like any password set here.
            check_password(&pool.config.password_policy, password)
                .map_err(crate::users::invalid_migration)?;
            let (hash, srp) = self
                .passwords
                .hash_new(&pool.id, &user.username, password)
                .await?;
            user.password_hash = Some(hash);
            user.srp = Some(srp);
        }
        let created = self
            .store
            .write(Command::CreateUser(CreateUser {
                pool_id: pool.id.clone(),
                user,
            }))
            .await;
        match created {
            Ok(_) | Err(AppError::UsernameExists) => {}
            Err(e) => return Err(e),
        }
        // Read back what the log holds: ours, or the user a racing sign-in created.
        let (_, view) = self.user_for_login(pool, login).await?;
        Ok(match (created, view) {
            (Ok(_), Some(v)) => Migrated::Created(v),
            (_, v) => Migrated::Raced(v),
        })
    }

    /// The user a sign-in names (by username or an alias), read linearizably. Imported
    /// users arrive RESET_REQUIRED without a password: they exist for sign-in (and are told
    /// to reset), as in Cognito. Also the canonical login (None if it is not a valid name).
    pub(super) async fn user_for_login(
        &self,
        pool: &UserPool,
        username: &str,
    ) -> Result<(Option<String>, Option<UserView>), AppError> {
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
        Ok((login, view))
    }

    /// After the right password (or SRP proof): a disabled or unconfirmed user is refused, a
    /// temporary password leads to NEW_PASSWORD_REQUIRED, else the second factor or tokens.
    pub(super) async fn after_password(
        &self,
        pool: &UserPool,
        client: &AppClient,
        view: UserView,
        device: Option<&str>,
    ) -> Result<AuthOutcome, AppError> {
        let user = view.user;
        if !user.enabled {
            return Err(AppError::NotAuthorized("User is disabled.".into()));
        }
        match user.status {
            UserStatus::Unconfirmed => Err(AppError::UserNotConfirmed),
            UserStatus::ResetRequired => Err(AppError::PasswordResetRequired),
            // Its identity provider vouches for it; it has no password to sign in with.
            UserStatus::ExternalProvider => Err(wrong_credentials()),
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
                self.second_factor(pool, client, view, Trigger::Authentication, device)
                    .await
            }
        }
    }

    /// A user whose password predates SRP (or came with an import) gets a verifier at the
    /// first sign-in that shows the password, so that USER_SRP_AUTH works from then on.
    /// Best effort: bound to the current password hash, and a failure changes nothing.
    async fn lazy_srp_verifier(&self, pool: &UserPool, user: &signet_core::User, password: &str) {
        let Some(hash) = user.password_hash.clone().filter(|_| user.srp.is_none()) else {
            return;
        };
        let Ok(srp) = self
            .passwords
            .srp_verifier(&pool.id, &user.username, password)
            .await
        else {
            return;
        };
        let patch = signet_core::UserPatch {
            expect_password_hash: Some(hash),
            srp: Some(srp),
            at_ms: self.clock.now_ms(),
            ..Default::default()
        };
        if let Err(e) = self.dir.patch_user(&pool.id, &user.username, patch).await {
            tracing::debug!("no SRP verifier for a user signing in: {e}");
        }
    }
}
