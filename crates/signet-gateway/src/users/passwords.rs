//! AdminSetUserPassword and AdminResetUserPassword.

use super::{temporary_expiry, Users};
use crate::validate::check_password;
use crate::AppError;
use signet_core::{UserPatch, UserStatus};

impl Users {
    /// AdminSetUserPassword: permanent (CONFIRMED) or temporary (FORCE_CHANGE_PASSWORD).
    pub async fn admin_set_password(
        &self,
        pool_id: &str,
        username: &str,
        password: &str,
        permanent: bool,
    ) -> Result<(), AppError> {
        let pool = self.dir.pool(pool_id).await?;
        let user = self.dir.find_user(&pool, username).await?.user;
        check_password(&pool.config.password_policy, password)?;
        let (hash, srp) = self
            .passwords
            .hash_new(pool_id, &user.username, password)
            .await?;
        let now = self.clock.now_ms();
        let (status, expires) = if permanent {
            (UserStatus::Confirmed, None)
        } else {
            (
                UserStatus::ForceChangePassword,
                Some(temporary_expiry(&pool, now)),
            )
        };
        self.dir
            .patch_user(
                pool_id,
                &user.username,
                UserPatch {
                    status: Some(status),
                    password: Some((hash, expires)),
                    srp: Some(srp),
                    // A password set by an admin ends every session of the user.
                    tokens_valid_after_ms: Some(now),
                    at_ms: now,
                    ..Default::default()
                },
            )
            .await
    }

    /// AdminResetUserPassword: the password stops working, every session of the user ends
    /// (tokens, refresh tokens and pending challenges issued before now), and the user gets
    /// a reset code. A user with nowhere to receive the code is refused before anything
    /// changes: an error must leave the user as it was.
    pub async fn admin_reset_password(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<(), AppError> {
        let pool = self.dir.pool(pool_id).await?;
        let user = self.dir.find_user(&pool, username).await?.user;
        let purpose = signet_core::CodePurpose::ResetPassword;
        if crate::codes::destination(&pool, &user, &purpose).is_none() {
            return Err(AppError::invalid(
                "Cannot reset the password: the user has no verified email or phone_number",
            ));
        }
        self.dir
            .patch_user(
                pool_id,
                &user.username,
                UserPatch {
                    status: Some(UserStatus::ResetRequired),
                    tokens_valid_after_ms: Some(self.clock.now_ms()),
                    at_ms: self.clock.now_ms(),
                    ..Default::default()
                },
            )
            .await?;
        self.codes.send(&pool, &user, purpose).await?;
        Ok(())
    }
}
