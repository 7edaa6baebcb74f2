//! AdminUpdateUserAttributes and AdminDeleteUserAttributes.

use super::Users;
use crate::validate::{attributes, AttrWrite};
use crate::AppError;
use signet_core::UserPatch;

impl Users {
    /// AdminUpdateUserAttributes (may set `*_verified`).
    pub async fn admin_update_attributes(
        &self,
        pool_id: &str,
        username: &str,
        attrs: &[(String, String)],
    ) -> Result<(), AppError> {
        let pool = self.dir.pool(pool_id).await?;
        let user = self.dir.find_user(&pool, username).await?.user;
        let set = attributes(&pool.config, attrs, AttrWrite::AdminUpdate)?;
        self.dir
            .patch_user(
                pool_id,
                &user.username,
                UserPatch {
                    set_attributes: set,
                    at_ms: self.clock.now_ms(),
                    ..Default::default()
                },
            )
            .await
    }

    /// AdminDeleteUserAttributes.
    pub async fn admin_delete_attributes(
        &self,
        pool_id: &str,
        username: &str,
        names: &[String],
    ) -> Result<(), AppError> {
        let pool = self.dir.pool(pool_id).await?;
        let user = self.dir.find_user(&pool, username).await?.user;
        self.dir
            .remove_attributes(&pool, &user.username, names, AttrWrite::AdminUpdate)
            .await
    }
}
