//! A user's standing: AdminEnableUser/AdminDisableUser, AdminConfirmSignUp and
//! AdminUserGlobalSignOut.

use super::Users;
use crate::AppError;
use signet_core::{UserPatch, UserStatus};

impl Users {
    /// AdminDisableUser / AdminEnableUser. A disabled user can neither sign in nor refresh,
    /// and its tokens are refused by every Signet API.
    pub async fn admin_set_enabled(
        &self,
        pool_id: &str,
        username: &str,
        enabled: bool,
    ) -> Result<(), AppError> {
        let user = self.admin_get_user(pool_id, username).await?;
        let now = self.clock.now_ms();
        self.dir
            .patch_user(
                pool_id,
                &user.username,
                UserPatch {
                    enabled: Some(enabled),
                    // As in Cognito, disabling revokes every token issued so far: they stay dead
                    // after the user is enabled again.
                    tokens_valid_after_ms: (!enabled).then_some(now),
                    at_ms: now,
                    ..Default::default()
                },
            )
            .await
    }

    /// AdminConfirmSignUp.
    pub async fn admin_confirm_sign_up(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<(), AppError> {
        let mut user = self.admin_get_user(pool_id, username).await?;
        self.dir
            .patch_user(
                pool_id,
                &user.username,
                UserPatch {
                    expect_status: Some(UserStatus::Unconfirmed),
                    status: Some(UserStatus::Confirmed),
                    at_ms: self.clock.now_ms(),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| match e {
                AppError::NotAuthorized(_) => AppError::NotAuthorized(
                    "User cannot be confirmed. Current status is not UNCONFIRMED".into(),
                ),
                other => other,
            })?;
        user.status = UserStatus::Confirmed;
        let pool = self.dir.pool(pool_id).await?;
        self.hooks
            .post_confirmation(&pool, crate::hooks::ConfirmSource::SignUp, &user, None)
            .await
    }

    /// AdminUserGlobalSignOut: every token issued before now stops working.
    pub async fn admin_global_sign_out(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<(), AppError> {
        let user = self.admin_get_user(pool_id, username).await?;
        self.dir.sign_out_everywhere(pool_id, &user.username).await
    }
}
