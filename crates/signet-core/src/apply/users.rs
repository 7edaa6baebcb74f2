//! Users and their sign-in aliases.

use super::{after_last_token, get, put, reject, revoke, valid_parts, Apply, Revoked};
use crate::kv::{compound, key};
use crate::{CodePurpose, CoreError, KvTxn, Outcome, Rejection, Table, User, UserPatch, UserPool};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The sign-in aliases `attrs` claim, with their values: a username attribute always (it is
/// the identifier the user signs up with), an alias attribute only once verified, so that
/// an unverified address can never take a victim's address away from them.
fn login_values(pool: &UserPool, attrs: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let verified = |a: &str| {
        attrs
            .get(&format!("{a}_verified"))
            .is_some_and(|v| v == "true")
    };
    pool.config
        .login_attributes()
        .filter(|a| pool.config.username_attributes.iter().any(|u| u == a) || verified(a))
        .filter_map(|a| attrs.get(a).map(|v| (a.to_string(), v.clone())))
        .collect()
}

/// Every login attribute value of `attrs`, claimed or not: what may have to be released.
fn all_login_values(pool: &UserPool, attrs: &BTreeMap<String, String>) -> Vec<(String, String)> {
    pool.config
        .login_attributes()
        .filter_map(|a| attrs.get(a).map(|v| (a.to_string(), v.clone())))
        .collect()
}

/// Remove the alias entries of `values` that `username` holds (and no one else's).
fn release_aliases(
    txn: &mut impl KvTxn,
    pool_id: &str,
    username: &str,
    values: &[(String, String)],
) -> Result<(), CoreError> {
    for (attr, value) in values {
        let k = alias_key(pool_id, attr, value);
        if txn.get(Table::Aliases, &k)?.as_deref() == Some(username.as_bytes()) {
            txn.delete(Table::Aliases, &k)?;
        }
    }
    Ok(())
}

fn alias_key(pool_id: &str, attr: &str, value: &str) -> Vec<u8> {
    key(&[pool_id, attr, value])
}

/// The first alias among `values` held by someone other than `username`.
fn alias_conflict(
    txn: &impl KvTxn,
    pool_id: &str,
    username: &str,
    values: &[(String, String)],
) -> Result<Option<String>, CoreError> {
    for (attr, value) in values {
        if let Some(owner) = txn.get(Table::Aliases, &alias_key(pool_id, attr, value))? {
            if owner != username.as_bytes() {
                return Ok(Some(attr.clone()));
            }
        }
    }
    Ok(None)
}

/// Create a user; rejected if the username, sub or a sign-in alias is taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateUser {
    /// Pool to create the user in.
    pub pool_id: String,
    /// The user record.
    pub user: User,
}

impl Apply for CreateUser {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        create_user(txn, &self.pool_id, &self.user)
    }
}

/// [`CreateUser`], also used for each user of an import.
pub(super) fn create_user(
    txn: &mut impl KvTxn,
    pool_id: &str,
    user: &User,
) -> Result<Outcome, CoreError> {
    if !valid_parts(&[pool_id, &user.username, &user.sub]) {
        return reject(Rejection::InvalidKey);
    }
    let Some(pool) = get::<UserPool>(txn, Table::Pools, pool_id.as_bytes())? else {
        return reject(Rejection::PoolNotFound);
    };
    let user_key = compound(pool_id, &user.username);
    let sub_key = compound(pool_id, &user.sub);
    if txn.get(Table::Users, &user_key)?.is_some()
        || txn.get(Table::UsersBySub, &sub_key)?.is_some()
    {
        return reject(Rejection::UsernameExists);
    }
    let aliases = login_values(&pool, &user.attributes);
    if let Some(attribute) = alias_conflict(txn, pool_id, &user.username, &aliases)? {
        return reject(Rejection::AliasExists { attribute });
    }
    put(txn, Table::Users, &user_key, user)?;
    txn.put(
        Table::UsersBySub,
        &sub_key,
        user.username.as_bytes().to_vec(),
    )?;
    for (attr, value) in &aliases {
        txn.put(
            Table::Aliases,
            &alias_key(pool_id, attr, value),
            user.username.as_bytes().to_vec(),
        )?;
    }
    crate::search::index_user(txn, pool_id, None, Some(user))?;
    Ok(Outcome::Applied)
}

/// Check a patch's preconditions and compute the user after it, without writing.
pub(super) fn patched(user: &User, patch: &UserPatch) -> Option<User> {
    if patch.expect_status.is_some_and(|s| s != user.status) {
        return None;
    }
    if patch.expect_sub.as_ref().is_some_and(|s| *s != user.sub) {
        return None;
    }
    if let Some(h) = &patch.expect_password_hash {
        if user.password_hash.as_ref() != Some(h) {
            return None;
        }
    }
    let mut u = user.clone();
    if let Some(s) = patch.status {
        u.status = s;
    }
    if let Some(e) = patch.enabled {
        u.enabled = e;
    }
    if let Some((hash, expires)) = &patch.password {
        u.password_hash = Some(hash.clone());
        u.password_expires_at_ms = *expires;
        // A verifier of the old password must not outlive it.
        u.srp = patch.srp.clone();
    } else if patch.srp.is_some() {
        // Derived from the current password at a sign-in (with expect_password_hash).
        u.srp = patch.srp.clone();
    }
    for (k, v) in &patch.set_attributes {
        u.attributes.insert(k.clone(), v.clone());
    }
    for k in &patch.delete_attributes {
        u.attributes.remove(k);
    }
    if patch.clear_sign_in_failures {
        u.failed_sign_ins = 0;
        u.locked_until_ms = 0;
    }
    if let Some(t) = patch.tokens_valid_after_ms {
        u.tokens_valid_after_ms = u.tokens_valid_after_ms.max(t);
    }
    u.updated_at_ms = patch.at_ms.max(u.updated_at_ms);
    Some(u)
}

/// Write `new` over `old`, keeping the alias index in step. Fails (without writing) if a
/// changed sign-in attribute is taken by someone else.
pub(super) fn store_user(
    txn: &mut impl KvTxn,
    pool: &UserPool,
    old: &User,
    new: &User,
) -> Result<Outcome, CoreError> {
    let before = login_values(pool, &old.attributes);
    let after = login_values(pool, &new.attributes);
    let added: Vec<(String, String)> = after
        .iter()
        .filter(|a| !before.contains(a))
        .cloned()
        .collect();
    if let Some(attribute) = alias_conflict(txn, &pool.id, &new.username, &added)? {
        return reject(Rejection::AliasExists { attribute });
    }
    let released: Vec<(String, String)> = all_login_values(pool, &old.attributes)
        .into_iter()
        .filter(|b| !after.contains(b))
        .collect();
    release_aliases(txn, &pool.id, &new.username, &released)?;
    for (attr, value) in &added {
        txn.put(
            Table::Aliases,
            &alias_key(&pool.id, attr, value),
            new.username.as_bytes().to_vec(),
        )?;
    }
    put(txn, Table::Users, &compound(&pool.id, &new.username), new)?;
    crate::search::index_user(txn, &pool.id, Some(old), Some(new))?;
    Ok(Outcome::Applied)
}

/// The pool and user, or the rejection to answer.
pub(super) fn load(
    txn: &impl KvTxn,
    pool_id: &str,
    username: &str,
) -> Result<Result<(UserPool, User), Rejection>, CoreError> {
    let Some(pool) = get::<UserPool>(txn, Table::Pools, pool_id.as_bytes())? else {
        return Ok(Err(Rejection::PoolNotFound));
    };
    match get::<User>(txn, Table::Users, &compound(pool_id, username))? {
        Some(u) => Ok(Ok((pool, u))),
        None => Ok(Err(Rejection::UserNotFound)),
    }
}

/// Change a user, optionally only from an expected state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateUser {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// The change.
    pub patch: UserPatch,
}

impl Apply for UpdateUser {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool, user) = match load(txn, &self.pool_id, &self.username)? {
            Ok(v) => v,
            Err(r) => return reject(r),
        };
        let Some(new) = patched(&user, &self.patch) else {
            return reject(Rejection::PreconditionFailed);
        };
        let outcome = store_user(txn, &pool, &user, &new)?;
        if outcome == Outcome::Applied && new.tokens_valid_after_ms > user.tokens_valid_after_ms {
            let before_ms = new.tokens_valid_after_ms;
            let what = Revoked::User {
                pool_id: self.pool_id.clone(),
                sub: user.sub.clone(),
                before_ms,
            };
            revoke(txn, what, after_last_token(before_ms))?;
        }
        Ok(outcome)
    }
}

/// Delete a user, its indexes and pending codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteUser {
    /// Pool of the user.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// The proposer's clock, Unix ms: from then on every token of the user is revoked
    /// (logs from before it carry 0, and record no revocation).
    #[serde(default, skip_serializing_if = "crate::model::is_zero")]
    pub at_ms: u64,
}

impl Apply for DeleteUser {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, username) = (self.pool_id.as_str(), self.username.as_str());
        let (pool, user) = match load(txn, pool_id, username)? {
            Ok(v) => v,
            Err(r) => return reject(r),
        };
        txn.delete(Table::Users, &compound(pool_id, username))?;
        txn.delete(Table::UsersBySub, &compound(pool_id, &user.sub))?;
        release_aliases(
            txn,
            pool_id,
            username,
            &all_login_values(&pool, &user.attributes),
        )?;
        crate::search::index_user(txn, pool_id, Some(&user), None)?;
        // Pending codes would otherwise greet a new user of the same name. Group memberships
        // are keyed by sub, which a new user never shares, so they need no cleanup here.
        for purpose in [
            CodePurpose::ConfirmSignUp,
            CodePurpose::ResetPassword,
            CodePurpose::VerifyAttribute("email".into()),
            CodePurpose::VerifyAttribute("phone_number".into()),
            CodePurpose::SignInMfa("email".into()),
            CodePurpose::SignInMfa("phone_number".into()),
        ] {
            let k = key(&[pool_id, username, &purpose.key()]);
            txn.delete(Table::Codes, &k)?;
            txn.delete(Table::Outbox, &k)?;
            txn.delete(Table::CodeBudgets, &k)?;
        }
        if self.at_ms > 0 {
            let what = Revoked::User {
                pool_id: pool_id.to_string(),
                sub: user.sub.clone(),
                before_ms: u64::MAX,
            };
            revoke(txn, what, after_last_token(self.at_ms))?;
        }
        Ok(Outcome::Applied)
    }
}

/// Count a failed password sign-in; from `threshold` failures on, lock password sign-in
/// for `base_ms` doubled per further failure, at most `max_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSignInFailure {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// Time of the failure, Unix ms.
    pub at_ms: u64,
    /// Failures before the first lockout.
    pub threshold: u32,
    /// First lockout length, ms.
    pub base_ms: u64,
    /// Longest lockout, ms.
    pub max_ms: u64,
}

impl Apply for RecordSignInFailure {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, username) = (self.pool_id.as_str(), self.username.as_str());
        let (at_ms, threshold, base_ms, max_ms) =
            (self.at_ms, self.threshold, self.base_ms, self.max_ms);
        let (_, mut user) = match load(txn, pool_id, username)? {
            Ok(v) => v,
            Err(r) => return reject(r),
        };
        if at_ms < user.locked_until_ms {
            // Attempts during a lockout are refused unchecked: they do not count.
            return reject(Rejection::PreconditionFailed);
        }
        count_failure(&mut user, at_ms, threshold, base_ms, max_ms);
        put(txn, Table::Users, &compound(pool_id, username), &user)?;
        Ok(Outcome::Applied)
    }
}

/// One more failed sign-in (a wrong password or second factor): from `threshold` on, the
/// user is locked out for `base_ms`, doubled per further failure, at most `max_ms`.
pub(super) fn count_failure(
    user: &mut User,
    at_ms: u64,
    threshold: u32,
    base_ms: u64,
    max_ms: u64,
) {
    user.failed_sign_ins = user.failed_sign_ins.saturating_add(1);
    if user.failed_sign_ins >= threshold.max(1) {
        let doublings = (user.failed_sign_ins - threshold.max(1)).min(30);
        let lock = base_ms.saturating_mul(1u64 << doublings).min(max_ms);
        user.locked_until_ms = user.locked_until_ms.max(at_ms.saturating_add(lock));
    }
}

/// Forget failed sign-ins after a successful one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearSignInFailures {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
}

impl Apply for ClearSignInFailures {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, username) = (self.pool_id.as_str(), self.username.as_str());
        let (_, mut user) = match load(txn, pool_id, username)? {
            Ok(v) => v,
            Err(r) => return reject(r),
        };
        if user.failed_sign_ins != 0 || user.locked_until_ms != 0 {
            user.failed_sign_ins = 0;
            user.locked_until_ms = 0;
            put(txn, Table::Users, &compound(pool_id, username), &user)?;
        }
        Ok(Outcome::Applied)
    }
}
