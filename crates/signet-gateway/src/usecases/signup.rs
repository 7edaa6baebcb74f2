//! Sign-up, confirmation and password recovery: the flows driven by one-time codes.

use crate::notifier::Delivery;
use crate::validate::{check_password, mask, AttrWrite};
use crate::{AppError, Gateway};
use signet_core::{
    AppClient, CodePurpose, CodeRecord, CodeTarget, Command, CreateUser, IssueCode, OutboxMessage,
    RedeemCode, User, UserPatch, UserPool, UserStatus,
};
use std::sync::Arc;

/// Where a code went (masked), Cognito's CodeDeliveryDetails.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodeDelivery {
    /// Masked destination.
    pub destination: String,
    /// `EMAIL` or `SMS`.
    pub medium: String,
    /// The attribute the code verifies.
    pub attribute: String,
}

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

impl Gateway {
    /// The public client named by a request, with its pool; the SECRET_HASH is checked.
    pub(crate) async fn public_client(
        &self,
        client_id: &str,
        username: &str,
        secret_hash: Option<&str>,
    ) -> Result<(Arc<AppClient>, Arc<UserPool>), AppError> {
        let client = self.active_client(client_id).await?;
        let pool = self.pool(&client.pool_id).await?;
        self.check_secret_hash(&client, username, secret_hash)?;
        Ok((client, pool))
    }

    /// The attribute a code for `purpose` goes to, with its value.
    pub(crate) fn code_destination(
        pool: &UserPool,
        user: &User,
        purpose: &CodePurpose,
    ) -> Option<(String, String)> {
        let verified = |a: &str| {
            user.attributes
                .get(&format!("{a}_verified"))
                .is_some_and(|v| v == "true")
        };
        let candidates: Vec<&str> = match purpose {
            CodePurpose::VerifyAttribute(a) => vec![a.as_str()],
            CodePurpose::ConfirmSignUp => pool
                .config
                .auto_verified_attributes
                .iter()
                .map(String::as_str)
                .collect(),
            CodePurpose::ResetPassword => vec!["email", "phone_number"]
                .into_iter()
                .filter(|a| verified(a))
                .collect(),
        };
        candidates
            .into_iter()
            .find_map(|a| user.attributes.get(a).map(|v| (a.to_string(), v.clone())))
    }

    /// Issue a fresh code for `purpose` and deliver it. Fails if the user has nowhere to
    /// receive it.
    pub(crate) async fn send_code(
        &self,
        pool: &UserPool,
        user: &User,
        purpose: CodePurpose,
    ) -> Result<CodeDelivery, AppError> {
        let Some((attribute, destination)) = Self::code_destination(pool, user, &purpose) else {
            return Err(AppError::invalid(
                "Cannot send a code: the user has no registered/verified email or phone_number",
            ));
        };
        let code = signet_crypto::random_code(6);
        let now = self.now_ms();
        let ttl = match purpose {
            CodePurpose::ResetPassword => self.cfg.reset_code_ttl,
            _ => self.cfg.confirm_code_ttl,
        };
        let medium = if attribute == "phone_number" {
            "SMS"
        } else {
            "EMAIL"
        };
        let outbox = self.notifier.is_outbox().then(|| OutboxMessage {
            username: user.username.clone(),
            purpose: purpose.clone(),
            destination: destination.clone(),
            code: code.clone(),
            issued_at_ms: now,
        });
        self.write(Command::IssueCode(IssueCode {
            pool_id: pool.id.clone(),
            username: user.username.clone(),
            purpose: purpose.clone(),
            code: CodeRecord {
                code_hash: self.code_hash(&pool.id, &user.username, &purpose, &code),
                expires_at_ms: now + ttl.as_millis() as u64,
                attempts_left: self.cfg.code_attempts,
                sent_to: Some(CodeTarget {
                    attribute: attribute.clone(),
                    value: destination.clone(),
                }),
            },
            outbox,
            now_ms: now,
            limits: self.cfg.code_limits,
        }))
        .await?;
        self.notifier
            .deliver(
                &Delivery {
                    pool_id: pool.id.clone(),
                    username: user.username.clone(),
                    purpose: purpose.key(),
                    destination: destination.clone(),
                    medium: medium.into(),
                    code,
                },
                self.now_ms(),
            )
            .await;
        Ok(CodeDelivery {
            destination: mask(&destination),
            medium: medium.into(),
            attribute,
        })
    }

    pub(crate) fn code_hash(
        &self,
        pool_id: &str,
        username: &str,
        purpose: &CodePurpose,
        code: &str,
    ) -> String {
        self.keyed.hash(
            "one-time-code",
            &[
                pool_id.as_bytes(),
                username.as_bytes(),
                purpose.key().as_bytes(),
                code.as_bytes(),
            ],
        )
    }

    /// Spend a code; on success apply `patch` atomically.
    pub(crate) async fn redeem(
        &self,
        pool: &UserPool,
        user: &User,
        purpose: CodePurpose,
        code: &str,
        patch: UserPatch,
    ) -> Result<(), AppError> {
        let code = code.trim();
        if code.is_empty() || code.len() > 16 {
            return Err(AppError::CodeMismatch);
        }
        self.write(Command::RedeemCode(RedeemCode {
            pool_id: pool.id.clone(),
            username: user.username.clone(),
            code_hash: self.code_hash(&pool.id, &user.username, &purpose, code),
            purpose,
            now_ms: self.now_ms(),
            patch,
            limits: self.cfg.code_limits,
        }))
        .await
        .map(|_| ())
    }

    /// Fake delivery details for an unknown user, when user existence is hidden.
    fn decoy_delivery(pool: &UserPool) -> CodeDelivery {
        let attribute = pool
            .config
            .auto_verified_attributes
            .first()
            .cloned()
            .unwrap_or_else(|| "email".into());
        CodeDelivery {
            destination: if attribute == "phone_number" {
                "+*******0000".into()
            } else {
                "u***@e***.com".into()
            },
            medium: if attribute == "phone_number" {
                "SMS".into()
            } else {
                "EMAIL".into()
            },
            attribute,
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
        let mut user = self.new_user(
            &pool,
            username,
            attrs,
            AttrWrite::SignUp,
            UserStatus::Unconfirmed,
        )?;
        user.password_hash = Some(self.hasher.hash(password).await?);
        self.write(Command::CreateUser(CreateUser {
            pool_id: pool.id.clone(),
            user: user.clone(),
        }))
        .await?;
        let delivery = match Self::code_destination(&pool, &user, &CodePurpose::ConfirmSignUp) {
            Some(_) => Some(
                self.send_code(&pool, &user, CodePurpose::ConfirmSignUp)
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
        let user = match self.find_user(&pool, username).await {
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
            at_ms: self.now_ms(),
            ..Default::default()
        };
        if let Some((attr, _)) = Self::code_destination(&pool, &user, &CodePurpose::ConfirmSignUp) {
            patch
                .set_attributes
                .insert(format!("{attr}_verified"), "true".into());
        }
        self.redeem(&pool, &user, CodePurpose::ConfirmSignUp, code, patch)
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
        let user = match self.find_user(&pool, username).await {
            Ok(v) => v.user,
            Err(AppError::UserNotFound) if pool.config.prevent_user_existence_errors => {
                return Ok(Self::decoy_delivery(&pool))
            }
            Err(e) => return Err(e),
        };
        if user.status != UserStatus::Unconfirmed {
            return Err(AppError::invalid("User is already confirmed."));
        }
        self.send_code(&pool, &user, CodePurpose::ConfirmSignUp)
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
        let user = match self.find_user(&pool, username).await {
            Ok(v) => v.user,
            Err(AppError::UserNotFound) if pool.config.prevent_user_existence_errors => {
                return Ok(Self::decoy_delivery(&pool))
            }
            Err(e) => return Err(e),
        };
        if !user.enabled {
            return Err(AppError::NotAuthorized("User is disabled.".into()));
        }
        // A user with nowhere to receive a code must look like an unknown user when user
        // existence is hidden.
        if pool.config.prevent_user_existence_errors
            && Self::code_destination(&pool, &user, &CodePurpose::ResetPassword).is_none()
        {
            return Ok(Self::decoy_delivery(&pool));
        }
        self.send_code(&pool, &user, CodePurpose::ResetPassword)
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
        let user = match self.find_user(&pool, username).await {
            Ok(v) => v.user,
            Err(AppError::UserNotFound) if pool.config.prevent_user_existence_errors => {
                // Spend the hashing time a real reset would, then answer like a wrong code.
                self.hasher.verify_dummy(password).await?;
                return Err(AppError::CodeMismatch);
            }
            Err(e) => return Err(e),
        };
        let hash = self.hasher.hash(password).await?;
        let now = self.now_ms();
        // A reset ends every session: whoever made the user forget the password may hold one.
        let patch = UserPatch {
            status: Some(UserStatus::Confirmed),
            password: Some((hash, None)),
            tokens_valid_after_ms: Some(now),
            at_ms: now,
            ..Default::default()
        };
        self.redeem(&pool, &user, CodePurpose::ResetPassword, code, patch)
            .await
    }
}
