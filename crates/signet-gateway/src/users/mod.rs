//! Users: admin user management (here), groups (`groups`) and the calls a user makes
//! with their own access token (`self_service`).

mod attributes;
pub(crate) mod groups;
mod listing;
mod passwords;
pub(crate) mod self_service;
mod status;

use crate::clock::SharedClock;
use crate::codes::Codes;
use crate::directory::Directory;
use crate::ids;
use crate::notifier::Delivery;
use crate::store::Store;
use crate::validate::{attributes, canonical_username, check_password, AttrWrite};
use crate::AppError;
use signet_core::{
    Command, CreateUser, DeleteUser, FilterOp, User, UserFilter, UserPool, UserStatus,
};

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

/// Build a new user from a sign-up-like request: canonical username (the sub when the
/// pool signs in with e-mail or phone), validated attributes.
/// The user a UserMigration hook vouched for, as it is to be created: its attributes are
/// checked like an administrator's, and an answer that fails the checks is an invalid
/// answer of the hook, not the caller's mistake.
pub(crate) fn migrated_user(
    pool: &UserPool,
    username: &str,
    m: &crate::hooks::MigratedUser,
    now_ms: u64,
) -> Result<User, AppError> {
    new_user(
        pool,
        username,
        &m.attributes,
        AttrWrite::AdminCreate,
        m.status,
        now_ms,
    )
    .map_err(invalid_migration)
}

/// A UserMigration answer the pool cannot take.
pub(crate) fn invalid_migration(e: AppError) -> AppError {
    AppError::InvalidLambdaResponse(format!("Invalid UserMigration response: {e}"))
}

pub(crate) fn new_user(
    pool: &UserPool,
    username: &str,
    attrs: &[(String, String)],
    how: AttrWrite,
    status: UserStatus,
    now_ms: u64,
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
    let mut user = User::new(sub, name, status, now_ms);
    user.attributes = attributes;
    user.attributes.insert("sub".into(), user.sub.clone());
    Ok(user)
}

/// The admin user management feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct Users {
    store: Store,
    dir: Directory,
    clock: SharedClock,
    passwords: crate::passwords::Passwords,
    codes: Codes,
    hooks: crate::hooks::Hooks,
}

impl Users {
    /// Built by the composition root.
    pub(crate) fn new(
        store: Store,
        dir: Directory,
        clock: SharedClock,
        passwords: crate::passwords::Passwords,
        codes: Codes,
        hooks: crate::hooks::Hooks,
    ) -> Users {
        Users {
            store,
            dir,
            clock,
            passwords,
            codes,
            hooks,
        }
    }
}

impl Users {
    /// AdminCreateUser: the user must set a new password at first sign-in.
    pub async fn admin_create_user(
        &self,
        pool_id: &str,
        input: AdminCreateUser,
    ) -> Result<User, AppError> {
        let pool = self.dir.pool(pool_id).await?;
        let mut user = crate::users::new_user(
            &pool,
            &input.username,
            &input.attributes,
            AttrWrite::AdminCreate,
            UserStatus::ForceChangePassword,
            self.clock.now_ms(),
        )?;
        let verdict = self
            .hooks
            .pre_sign_up(
                &pool,
                crate::hooks::SignUpSource::AdminCreateUser,
                &user,
                None,
                &Default::default(),
                &Default::default(),
            )
            .await?;
        crate::hooks::apply_verdict(&mut user, verdict);
        let temporary = if input.temporary_password.is_empty() {
            ids::temporary_password()
        } else {
            input.temporary_password.clone()
        };
        check_password(&pool.config.password_policy, &temporary)?;
        let (hash, srp) = self
            .passwords
            .hash_new(&pool.id, &user.username, &temporary)
            .await?;
        user.password_hash = Some(hash);
        user.srp = Some(srp);
        user.password_expires_at_ms = Some(temporary_expiry(&pool, self.clock.now_ms()));
        // The invitation's message is written before the user: a refusing hook creates
        // no one.
        let invitation = match user.attributes.get("email").filter(|_| !input.suppress) {
            Some(email) => {
                let (message, subject) = self
                    .codes
                    .compose(
                        &pool,
                        crate::hooks::MessageSource::AdminCreateUser,
                        &user,
                        "EMAIL",
                        &temporary,
                    )
                    .await?;
                Some((email.clone(), message, subject))
            }
            None => None,
        };
        self.store
            .write(Command::CreateUser(CreateUser {
                pool_id: pool.id.clone(),
                user: user.clone(),
            }))
            .await?;
        if let Some((email, message, subject)) = invitation {
            self.codes
                .deliver(&Delivery {
                    pool_id: pool.id.clone(),
                    username: user.username.clone(),
                    purpose: "temporary_password".into(),
                    destination: email,
                    medium: "EMAIL".into(),
                    code: temporary,
                    message,
                    subject,
                })
                .await;
        }
        Ok(user)
    }

    /// AdminGetUser.
    pub async fn admin_get_user(&self, pool_id: &str, username: &str) -> Result<User, AppError> {
        self.dir.pool_user(pool_id, username).await
    }

    /// AdminListUserAuthEvents: the user's audit trail, newest first, `max` at most (1 to
    /// 60, default 10), continuing before `next` (a token of the previous page). Events of
    /// an earlier user of the same name (deleted since) are not shown.
    pub async fn admin_list_user_auth_events(
        &self,
        pool_id: &str,
        username: &str,
        max: usize,
        next: Option<&str>,
    ) -> Result<(Vec<signet_core::AuditEvent>, Option<String>), AppError> {
        let user = self.admin_get_user(pool_id, username).await?;
        let limit = if max == 0 { 10 } else { max.min(60) };
        let before = match next {
            Some(t) => Some(
                t.parse::<u64>()
                    .map_err(|_| AppError::invalid("NextToken is not valid"))?,
            ),
            None => None,
        };
        let events: Vec<(u64, signet_core::AuditEvent)> = self
            .store
            .ask(
                signet_core::Query::ListAuditEvents {
                    pool_id: pool_id.into(),
                    username: user.username.clone(),
                    before,
                    limit,
                },
                signet_store_client::ReadConsistency::Linearizable,
            )
            .await?;
        let full = events.len() == limit;
        let next = events
            .last()
            .filter(|(seq, _)| full && *seq > 0)
            .map(|(seq, _)| seq.to_string());
        let events = events
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| e.at_ms >= user.created_at_ms)
            .collect();
        Ok((events, next))
    }

    /// AdminDeleteUser.
    pub async fn admin_delete_user(&self, pool_id: &str, username: &str) -> Result<(), AppError> {
        let user = self.admin_get_user(pool_id, username).await?;
        self.store
            .write(Command::DeleteUser(DeleteUser {
                pool_id: pool_id.into(),
                username: user.username,
                at_ms: self.clock.now_ms(),
            }))
            .await
            .map(|_| ())
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
