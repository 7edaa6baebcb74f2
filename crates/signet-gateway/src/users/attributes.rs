//! AdminUpdateUserAttributes and AdminDeleteUserAttributes.

use super::Users;
use crate::validate::{attributes, AttrWrite};
use crate::AppError;
use signet_core::UserPatch;

impl Users {
    /// AdminUpdateUserAttributes (may set `*_verified`; a changed email or phone number
    /// is unverified unless the call sets it verified).
    pub async fn admin_update_attributes(
        &self,
        pool_id: &str,
        username: &str,
        attrs: &[(String, String)],
    ) -> Result<(), AppError> {
        let pool = self.dir.pool(pool_id).await?;
        let user = self.dir.find_user(&pool, username).await?.user;
        let mut set = attributes(&pool.config, attrs, AttrWrite::AdminUpdate)?;
        // A new address is not verified because the old one was (Cognito's rule too),
        // unless the same call says it is: otherwise codes and second factors would go to
        // an address nobody proved.
        for a in ["email", "phone_number"] {
            let verified = format!("{a}_verified");
            let changed = set
                .get(a)
                .is_some_and(|v| user.attributes.get(a) != Some(v));
            if changed && !set.contains_key(&verified) {
                set.insert(verified, "false".into());
            }
        }
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
