//! Sign-up, confirmation and password recovery: the flows driven by one-time codes.

use crate::clock::SharedClock;
use crate::codes::{CodeDelivery, Codes};
use crate::directory::Directory;
use crate::secrets::ClientSecrets;
use crate::store::Store;
use crate::validate::{check_password, AttrWrite};
use crate::AppError;
use signet_core::{
    AppClient, CodePurpose, Command, CreateUser, User, UserPatch, UserPool, UserStatus,
};
use std::sync::Arc;

/// Result of SignUp.
#[derive(Debug, Clone)]
pub struct SignUpResult {
    /// Confirmed at once (never, without a pre-sign-up hook).
    pub confirmed: bool,
    /// The new user's sub.
    pub sub: String,
    /// Where the confirmation code went, if anywhere.
    pub delivery: Option<CodeDelivery>,
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
    ) -> Signup {
        Signup {
            store,
            dir,
            clock,
            passwords,
            secrets,
            codes,
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
    ) -> Result<SignUpResult, AppError> {
        let (client, pool) = self.public_client(client_id, username, secret_hash).await?;
        crate::validate::check_writable(&client, attrs)?;
        check_password(&pool.config.password_policy, password)?;
        let mut user = crate::users::new_user(
            &pool,
            username,
            attrs,
            AttrWrite::SignUp,
            UserStatus::Unconfirmed,
            self.clock.now_ms(),
        )?;
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
        let delivery = match crate::codes::destination(&pool, &user, &CodePurpose::ConfirmSignUp) {
            Some(_) => Some(
                self.codes
                    .send(&pool, &user, CodePurpose::ConfirmSignUp)
                    .await?,
            ),
            None => None,
        };
        Ok(SignUpResult {
            confirmed: false,
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
        self.codes
            .redeem(&pool, &user, CodePurpose::ConfirmSignUp, code, patch)
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
            Err(decoy) => return Ok(decoy),
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
            .await
    }
}
