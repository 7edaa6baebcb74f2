//! Admin user management and groups.

use super::ids;
use crate::notifier::Delivery;
use crate::validate::{attributes, canonical_username, check_deletable, check_password, AttrWrite};
use crate::{AppError, Gateway};
use signet_core::Page;
use signet_core::UserSearchPage;
use signet_core::{
    Command, CreateUser, DeleteUser, FilterOp, OutboxMessage, Query, UpdateUser, User, UserFilter,
    UserPatch, UserPool, UserStatus, UserView,
};
use signet_store::ReadConsistency::Linearizable;

/// Input of AdminCreateUser.
#[derive(Debug, Clone, Default)]
pub struct AdminCreateUser {
    /// Username (or e-mail/phone when the pool signs in with those).
    pub username: String,
    /// Attributes.
    pub attributes: Vec<(String, String)>,
    /// Temporary password; generated when empty.
    pub temporary_password: String,
    /// Send nothing.
    pub suppress: bool,
}

/// Parse Cognito's ListUsers filter: `attr = "value"` or `attr ^= "value"`.
pub fn parse_filter(s: &str) -> Result<Option<UserFilter>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad =
        || AppError::invalid("filter must be attribute = \"value\" or attribute ^= \"value\"");
    let (attr, op, rest) = if let Some((a, r)) = s.split_once("^=") {
        (a, FilterOp::Prefix, r)
    } else if let Some((a, r)) = s.split_once('=') {
        (a, FilterOp::Equals, r)
    } else {
        return Err(bad());
    };
    let attr = attr.trim();
    let value = rest
        .trim()
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or_else(bad)?;
    if !UserFilter::SEARCHABLE.contains(&attr) {
        return Err(AppError::invalid(format!("cannot filter on {attr}")));
    }
    Ok(Some(UserFilter {
        attribute: attr.to_string(),
        op,
        value: value.to_string(),
    }))
}

/// When a temporary password set now stops working, under the pool's policy.
fn temporary_expiry(pool: &UserPool, now_ms: u64) -> u64 {
    now_ms + u64::from(pool.config.password_policy.temporary_password_validity_days) * 86_400_000
}

impl Gateway {
    /// Resolve a username or sign-in alias to the user and its groups.
    pub(crate) async fn find_user(
        &self,
        pool: &UserPool,
        login: &str,
    ) -> Result<UserView, AppError> {
        let login = canonical_username(login, &pool.config)?;
        self.ask::<Option<_>>(
            Query::GetUserForLogin {
                pool_id: pool.id.clone(),
                login,
            },
            Linearizable,
        )
        .await?
        .ok_or(AppError::UserNotFound)
    }

    pub(crate) async fn patch_user(
        &self,
        pool_id: &str,
        username: &str,
        patch: UserPatch,
    ) -> Result<(), AppError> {
        self.write(Command::UpdateUser(UpdateUser {
            pool_id: pool_id.into(),
            username: username.into(),
            patch,
        }))
        .await
        .map(|_| ())
    }

    /// Build a new user from a sign-up-like request: canonical username (the sub when the
    /// pool signs in with e-mail or phone), validated attributes.
    pub(crate) fn new_user(
        &self,
        pool: &UserPool,
        username: &str,
        attrs: &[(String, String)],
        how: AttrWrite,
        status: UserStatus,
    ) -> Result<User, AppError> {
        let mut attributes = attributes(&pool.config, attrs, how)?;
        let sub = ids::uuid();
        let name = if let Some(attr) = pool.config.username_attributes.first().cloned() {
            // The given "username" is an e-mail or phone number; the username is the sub.
            let looks_like = |a: &str| match a {
                "email" => username.contains('@'),
                _ => username.starts_with('+'),
            };
            let attr = pool
                .config
                .username_attributes
                .iter()
                .find(|a| looks_like(a))
                .cloned()
                .unwrap_or(attr);
            let value = crate::validate::attributes(
                &pool.config,
                &[(attr.clone(), username.to_string())],
                AttrWrite::AdminCreate,
            )?;
            attributes.extend(value);
            sub.clone()
        } else {
            canonical_username(username, &pool.config)?
        };
        for a in pool.config.schema.iter().filter(|a| a.required) {
            if !attributes.contains_key(&a.name) {
                return Err(AppError::invalid(format!(
                    "The attribute {} is required",
                    a.name
                )));
            }
        }
        let mut user = User::new(sub, name, status, self.now_ms());
        user.attributes = attributes;
        user.attributes.insert("sub".into(), user.sub.clone());
        Ok(user)
    }

    /// AdminCreateUser: the user must set a new password at first sign-in.
    pub async fn admin_create_user(
        &self,
        pool_id: &str,
        input: AdminCreateUser,
    ) -> Result<User, AppError> {
        let pool = self.pool(pool_id).await?;
        let mut user = self.new_user(
            &pool,
            &input.username,
            &input.attributes,
            AttrWrite::AdminCreate,
            UserStatus::ForceChangePassword,
        )?;
        let temporary = if input.temporary_password.is_empty() {
            ids::temporary_password()
        } else {
            input.temporary_password.clone()
        };
        check_password(&pool.config.password_policy, &temporary)?;
        user.password_hash = Some(self.hasher.hash(&temporary).await?);
        user.password_expires_at_ms = Some(temporary_expiry(&pool, self.now_ms()));
        self.write(Command::CreateUser(CreateUser {
            pool_id: pool.id.clone(),
            user: user.clone(),
        }))
        .await?;
        if !input.suppress {
            if let Some(email) = user.attributes.get("email") {
                self.notifier
                    .deliver(
                        &Delivery {
                            pool_id: pool.id.clone(),
                            username: user.username.clone(),
                            purpose: "temporary_password".into(),
                            destination: email.clone(),
                            medium: "EMAIL".into(),
                            code: temporary,
                        },
                        self.now_ms(),
                    )
                    .await;
            }
        }
        Ok(user)
    }

    /// AdminGetUser.
    pub async fn admin_get_user(&self, pool_id: &str, username: &str) -> Result<User, AppError> {
        let pool = self.pool(pool_id).await?;
        Ok(self.find_user(&pool, username).await?.user)
    }

    /// AdminDeleteUser.
    pub async fn admin_delete_user(&self, pool_id: &str, username: &str) -> Result<(), AppError> {
        let user = self.admin_get_user(pool_id, username).await?;
        self.write(Command::DeleteUser(DeleteUser {
            pool_id: pool_id.into(),
            username: user.username,
        }))
        .await
        .map(|_| ())
    }

    /// AdminDisableUser / AdminEnableUser. A disabled user can neither sign in nor refresh,
    /// and its tokens are refused by every Signet API.
    pub async fn admin_set_enabled(
        &self,
        pool_id: &str,
        username: &str,
        enabled: bool,
    ) -> Result<(), AppError> {
        let user = self.admin_get_user(pool_id, username).await?;
        let now = self.now_ms();
        self.patch_user(
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

    /// AdminSetUserPassword: permanent (CONFIRMED) or temporary (FORCE_CHANGE_PASSWORD).
    pub async fn admin_set_password(
        &self,
        pool_id: &str,
        username: &str,
        password: &str,
        permanent: bool,
    ) -> Result<(), AppError> {
        let pool = self.pool(pool_id).await?;
        let user = self.find_user(&pool, username).await?.user;
        check_password(&pool.config.password_policy, password)?;
        let hash = self.hasher.hash(password).await?;
        let now = self.now_ms();
        let (status, expires) = if permanent {
            (UserStatus::Confirmed, None)
        } else {
            (
                UserStatus::ForceChangePassword,
                Some(temporary_expiry(&pool, now)),
            )
        };
        self.patch_user(
            pool_id,
            &user.username,
            UserPatch {
                status: Some(status),
                password: Some((hash, expires)),
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
        let pool = self.pool(pool_id).await?;
        let user = self.find_user(&pool, username).await?.user;
        let purpose = signet_core::CodePurpose::ResetPassword;
        if Self::code_destination(&pool, &user, &purpose).is_none() {
            return Err(AppError::invalid(
                "Cannot reset the password: the user has no verified email or phone_number",
            ));
        }
        self.patch_user(
            pool_id,
            &user.username,
            UserPatch {
                status: Some(UserStatus::ResetRequired),
                tokens_valid_after_ms: Some(self.now_ms()),
                at_ms: self.now_ms(),
                ..Default::default()
            },
        )
        .await?;
        self.send_code(&pool, &user, purpose).await?;
        Ok(())
    }

    /// AdminUpdateUserAttributes (may set `*_verified`).
    pub async fn admin_update_attributes(
        &self,
        pool_id: &str,
        username: &str,
        attrs: &[(String, String)],
    ) -> Result<(), AppError> {
        let pool = self.pool(pool_id).await?;
        let user = self.find_user(&pool, username).await?.user;
        let set = attributes(&pool.config, attrs, AttrWrite::AdminUpdate)?;
        self.patch_user(
            pool_id,
            &user.username,
            UserPatch {
                set_attributes: set,
                at_ms: self.now_ms(),
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
        let pool = self.pool(pool_id).await?;
        let user = self.find_user(&pool, username).await?.user;
        self.remove_attributes(&pool, &user.username, names, AttrWrite::AdminUpdate)
            .await
    }

    /// Remove attributes of a user; `sub`, required and immutable schema attributes stay.
    pub(crate) async fn remove_attributes(
        &self,
        pool: &UserPool,
        username: &str,
        names: &[String],
        how: AttrWrite,
    ) -> Result<(), AppError> {
        check_deletable(&pool.config, names, how)?;
        self.patch_user(
            &pool.id,
            username,
            UserPatch {
                delete_attributes: names.to_vec(),
                at_ms: self.now_ms(),
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
        let user = self.admin_get_user(pool_id, username).await?;
        self.patch_user(
            pool_id,
            &user.username,
            UserPatch {
                expect_status: Some(UserStatus::Unconfirmed),
                status: Some(UserStatus::Confirmed),
                at_ms: self.now_ms(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| match e {
            AppError::NotAuthorized(_) => AppError::NotAuthorized(
                "User cannot be confirmed. Current status is not UNCONFIRMED".into(),
            ),
            other => other,
        })
    }

    /// AdminUserGlobalSignOut: every token issued before now stops working.
    pub async fn admin_global_sign_out(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<(), AppError> {
        let user = self.admin_get_user(pool_id, username).await?;
        self.sign_out_everywhere(pool_id, &user.username).await
    }

    pub(crate) async fn sign_out_everywhere(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<(), AppError> {
        let now = self.now_ms();
        self.patch_user(
            pool_id,
            username,
            UserPatch {
                tokens_valid_after_ms: Some(now),
                at_ms: now,
                ..Default::default()
            },
        )
        .await
    }

    /// ListUsers with an optional filter; returns the page and the next token.
    pub async fn list_users(
        &self,
        pool_id: &str,
        filter: &str,
        limit: usize,
        after: Option<String>,
    ) -> Result<(Vec<User>, Option<String>), AppError> {
        self.pool(pool_id).await?;
        let limit = super::page_size(limit);
        match parse_filter(filter)? {
            None => {
                let Page { items: u, more } = self
                    .ask(
                        Query::ListUsers {
                            pool_id: pool_id.into(),
                            after,
                            limit,
                        },
                        Linearizable,
                    )
                    .await?;
                Ok(super::page(u, limit, more, |u| u.username.clone()))
            }
            Some(filter) => {
                let UserSearchPage { users, next } = self
                    .ask(
                        Query::SearchUsers {
                            pool_id: pool_id.into(),
                            filter,
                            after,
                            limit,
                        },
                        Linearizable,
                    )
                    .await?;
                Ok((users, next))
            }
        }
    }

    /// The dev outbox of a pool.
    pub async fn outbox(&self, pool_id: &str) -> Result<Vec<OutboxMessage>, AppError> {
        self.pool(pool_id).await?;
        self.ask(
            Query::ListOutbox {
                pool_id: pool_id.into(),
            },
            Linearizable,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let f = parse_filter(r#"email ^= "ann""#).unwrap().unwrap();
        assert_eq!(
            (f.attribute.as_str(), f.op, f.value.as_str()),
            ("email", FilterOp::Prefix, "ann")
        );
        let f = parse_filter(r#"username = "bob""#).unwrap().unwrap();
        assert_eq!(f.op, FilterOp::Equals);
        assert!(parse_filter("").unwrap().is_none());
        assert!(parse_filter(r#"password = "x""#).is_err());
        assert!(parse_filter("email = bob").is_err());
    }
}
