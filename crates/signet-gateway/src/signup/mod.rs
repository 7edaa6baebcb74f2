//! Sign-up, confirmation and password recovery: the flows driven by one-time codes.

use crate::clock::SharedClock;
use crate::codes::{CodeDelivery, Codes};
use crate::directory::Directory;
use crate::hooks::{ConfirmSource, Hooks, MigrationSource, SignUpSource};
use crate::secrets::ClientSecrets;
use crate::store::Store;
use crate::validate::{check_password, AttrWrite};
use crate::AppError;
use signet_core::{
    AppClient, CodePurpose, Command, CreateUser, User, UserPatch, UserPool, UserStatus,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Result of SignUp.
#[derive(Debug, Clone)]
pub struct SignUpResult {
    /// Confirmed at once (only by a PreSignUp hook).
    pub confirmed: bool,
    /// The new user's sub.
    pub sub: String,
    /// Where the confirmation code went, if anywhere.
    pub delivery: Option<CodeDelivery>,
}

/// What a caller passes to a trigger only (Cognito's `ValidationData` and
/// `ClientMetadata`): never stored, bounded in size.
#[derive(Debug, Clone, Default)]
pub struct TriggerInput {
    /// Name → value, for PreSignUp's `validationData`.
    pub validation_data: BTreeMap<String, String>,
    /// Name → value, for the triggers' `clientMetadata`.
    pub client_metadata: BTreeMap<String, String>,
}

/// Most bytes of names and values a [`TriggerInput`] may carry.
const MAX_TRIGGER_INPUT_BYTES: usize = 16 * 1024;

impl TriggerInput {
    fn check(&self) -> Result<(), AppError> {
        let bytes: usize = self
            .validation_data
            .iter()
            .chain(self.client_metadata.iter())
            .map(|(k, v)| k.len() + v.len())
            .sum();
        if bytes > MAX_TRIGGER_INPUT_BYTES {
            return Err(AppError::invalid(format!(
                "ValidationData and ClientMetadata may carry at most {MAX_TRIGGER_INPUT_BYTES} bytes"
            )));
        }
        Ok(())
    }
}

/// The sign-up and recovery feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct Signup {
    store: Store,
    dir: Directory,
    clock: SharedClock,
    passwords: crate::passwords::Passwords,
    secrets: ClientSecrets,
    codes: Codes,
    hooks: Hooks,
}

impl Signup {
    /// Built by the composition root.
    pub(crate) fn new(
        store: Store,
        dir: Directory,
        clock: SharedClock,
        passwords: crate::passwords::Passwords,
        secrets: ClientSecrets,
        codes: Codes,
        hooks: Hooks,
    ) -> Signup {
        Signup {
            store,
            dir,
            clock,
            passwords,
            secrets,
            codes,
            hooks,
        }
    }
}

impl Signup {
    /// The public client named by a request, with its pool; the SECRET_HASH is checked.
    pub(crate) async fn public_client(
        &self,
        client_id: &str,
        username: &str,
        secret_hash: Option<&str>,
    ) -> Result<(Arc<AppClient>, Arc<UserPool>), AppError> {
        let client = self.dir.active_client(client_id).await?;
        let pool = self.dir.pool(&client.pool_id).await?;
        self.secrets
            .check_secret_hash(&client, username, secret_hash)?;
        Ok((client, pool))
    }

    /// The user a code is asked for. When the pool hides which users exist, an unknown
    /// user gets decoy delivery details (`Err`), as if a code had gone out.
    async fn user_for_code(
        &self,
        pool: &UserPool,
        username: &str,
    ) -> Result<Result<User, CodeDelivery>, AppError> {
        match self.dir.find_user(pool, username).await {
            Ok(v) => Ok(Ok(v.user)),
            Err(AppError::UserNotFound) if pool.config.prevent_user_existence_errors => {
                Ok(Err(crate::codes::decoy_delivery(pool)))
            }
            Err(e) => Err(e),
        }
    }

    /// SignUp.
    pub async fn sign_up(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
        password: &str,
        attrs: &[(String, String)],
        extra: &TriggerInput,
    ) -> Result<SignUpResult, AppError> {
        let (client, pool) = self.public_client(client_id, username, secret_hash).await?;
        // Every sign-up path (gRPC, AWS JSON, the hosted pages) comes through here.
        if pool.config.admin_create_user_only {
            return Err(AppError::NotAuthorized(
                "SignUp is not permitted for this user pool".into(),
            ));
        }
        crate::validate::check_writable(&client, attrs)?;
        check_password(&pool.config.password_policy, password)?;
        extra.check()?;
        let mut user = crate::users::new_user(
            &pool,
            username,
            attrs,
            AttrWrite::SignUp,
            UserStatus::Unconfirmed,
            self.clock.now_ms(),
        )?;
        // The hook sees the user as validated, before any hashing work or write.
        let verdict = self
            .hooks
            .pre_sign_up(
                &pool,
                SignUpSource::SignUp,
                &user,
                Some(client_id),
                &extra.validation_data,
                &extra.client_metadata,
            )
            .await?;
        crate::hooks::apply_verdict(&mut user, verdict);
        let (hash, srp) = self
            .passwords
            .hash_new(&pool.id, &user.username, password)
            .await?;
        user.password_hash = Some(hash);
        user.srp = Some(srp);
        self.store
            .write(Command::CreateUser(CreateUser {
                pool_id: pool.id.clone(),
                user: user.clone(),
            }))
            .await?;
        let confirmed = user.status == UserStatus::Confirmed;
        let delivery = match crate::codes::destination(&pool, &user, &CodePurpose::ConfirmSignUp) {
            Some(_) if !confirmed => Some(
                self.codes
                    .send(&pool, &user, CodePurpose::ConfirmSignUp)
                    .await?,
            ),
            _ => None,
        };
        Ok(SignUpResult {
            confirmed,
            sub: user.sub,
            delivery,
        })
    }

    /// ConfirmSignUp: the code confirms the user and verifies the attribute it went to.
    pub async fn confirm_sign_up(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
        code: &str,
    ) -> Result<(), AppError> {
        let (_client, pool) = self.public_client(client_id, username, secret_hash).await?;
        let user = match self.dir.find_user(&pool, username).await {
            Ok(v) => v.user,
            Err(AppError::UserNotFound) if pool.config.prevent_user_existence_errors => {
                return Err(AppError::CodeMismatch)
            }
            Err(e) => return Err(e),
        };
        if user.status != UserStatus::Unconfirmed {
            return Err(AppError::NotAuthorized(
                "User cannot be confirmed. Current status is CONFIRMED".into(),
            ));
        }
        let mut patch = UserPatch {
            expect_status: Some(UserStatus::Unconfirmed),
            status: Some(UserStatus::Confirmed),
            at_ms: self.clock.now_ms(),
            ..Default::default()
        };
        if let Some((attr, _)) =
            crate::codes::destination(&pool, &user, &CodePurpose::ConfirmSignUp)
        {
            patch
                .set_attributes
                .insert(format!("{attr}_verified"), "true".into());
        }
        let mut confirmed = user.clone();
        confirmed.status = UserStatus::Confirmed;
        confirmed.attributes.extend(patch.set_attributes.clone());
        self.codes
            .redeem(&pool, &user, CodePurpose::ConfirmSignUp, code, patch)
            .await?;
        // Told after the confirmation is durable: a hook that fails (closed) makes the call
        // fail, but the user stays confirmed, as in Cognito.
        self.hooks
            .post_confirmation(&pool, ConfirmSource::SignUp, &confirmed, Some(client_id))
            .await
    }

    /// ResendConfirmationCode.
    pub async fn resend_confirmation_code(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
    ) -> Result<CodeDelivery, AppError> {
        let (_client, pool) = self.public_client(client_id, username, secret_hash).await?;
        let user = match self.user_for_code(&pool, username).await? {
            Ok(user) => user,
            Err(decoy) => return Ok(decoy),
        };
        if user.status != UserStatus::Unconfirmed {
            return Err(AppError::invalid("User is already confirmed."));
        }
        self.codes
            .send(&pool, &user, CodePurpose::ConfirmSignUp)
            .await
    }

    /// ForgotPassword: a reset code to the user's verified e-mail or phone.
    pub async fn forgot_password(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
    ) -> Result<CodeDelivery, AppError> {
        let (_client, pool) = self.public_client(client_id, username, secret_hash).await?;
        let user = match self.user_for_code(&pool, username).await? {
            Ok(user) => user,
            Err(decoy) => match self.migrate_for_reset(&pool, client_id, username).await? {
                Some(user) => user,
                None => return Ok(decoy),
            },
        };
        if !user.enabled {
            return Err(AppError::NotAuthorized("User is disabled.".into()));
        }
        // A user with nowhere to receive a code must look like an unknown user when user
        // existence is hidden.
        if pool.config.prevent_user_existence_errors
            && crate::codes::destination(&pool, &user, &CodePurpose::ResetPassword).is_none()
        {
            return Ok(crate::codes::decoy_delivery(&pool));
        }
        self.codes
            .send(&pool, &user, CodePurpose::ResetPassword)
            .await
    }

    /// ForgotPassword for a user the pool does not have: the UserMigration hook may vouch
    /// for it, and it is created RESET_REQUIRED (without a password) so that the code sent
    /// next sets one. Created once under races: the log refuses a second CreateUser, and
    /// the loser reads the winner's user.
    async fn migrate_for_reset(
        &self,
        pool: &UserPool,
        client_id: &str,
        username: &str,
    ) -> Result<Option<User>, AppError> {
        if !Hooks::migrates(pool) {
            return Ok(None);
        }
        let Some(m) = self
            .hooks
            .user_migration(pool, MigrationSource::ForgotPassword, username, client_id)
            .await?
        else {
            return Ok(None);
        };
        let user = crate::users::migrated_user(pool, username, &m, self.clock.now_ms())?;
        let w = self
            .store
            .write(Command::CreateUser(CreateUser {
                pool_id: pool.id.clone(),
                user: user.clone(),
            }))
            .await;
        match w {
            Ok(_) => Ok(Some(user)),
            Err(AppError::UsernameExists) => self
                .dir
                .find_user(pool, username)
                .await
                .map(|v| Some(v.user)),
            Err(e) => Err(e),
        }
    }

    /// ConfirmForgotPassword: the code sets a new password.
    pub async fn confirm_forgot_password(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
        code: &str,
        password: &str,
    ) -> Result<(), AppError> {
        let (_client, pool) = self.public_client(client_id, username, secret_hash).await?;
        check_password(&pool.config.password_policy, password)?;
        let user = match self.dir.find_user(&pool, username).await {
            Ok(v) => v.user,
            Err(AppError::UserNotFound) if pool.config.prevent_user_existence_errors => {
                // Spend the hashing time a real reset would, then answer like a wrong code.
                self.passwords.hasher().verify_dummy(password).await?;
                return Err(AppError::CodeMismatch);
            }
            Err(e) => return Err(e),
        };
        let (hash, srp) = self
            .passwords
            .hash_new(&pool.id, &user.username, password)
            .await?;
        let now = self.clock.now_ms();
        // A reset ends every session: whoever made the user forget the password may hold one.
        let patch = UserPatch {
            status: Some(UserStatus::Confirmed),
            password: Some((hash, None)),
            srp: Some(srp),
            tokens_valid_after_ms: Some(now),
            at_ms: now,
            ..Default::default()
        };
        self.codes
            .redeem(&pool, &user, CodePurpose::ResetPassword, code, patch)
            .await?;
        let mut reset = user;
        reset.status = UserStatus::Confirmed;
        self.hooks
            .post_confirmation(
                &pool,
                ConfirmSource::ForgotPassword,
                &reset,
                Some(client_id),
            )
            .await
    }
}
