//! Groups and memberships. Memberships are keyed by the group's random `group_id` and the
//! user's `sub`, so deleting a group or a user needs no scan: rows of a dead incarnation
//! are simply never matched again.

use super::{get, put, reject, valid_parts, Apply};
use crate::kv::{compound, key};
use crate::{CoreError, Group, KvTxn, Outcome, Rejection, Table, User};
use serde::{Deserialize, Serialize};

/// Create a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGroup {
    /// The group.
    pub group: Group,
}

impl Apply for CreateGroup {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let group = &self.group;
        if !valid_parts(&[&group.pool_id, &group.name, &group.group_id]) {
            return reject(Rejection::InvalidKey);
        }
        if txn.get(Table::Pools, group.pool_id.as_bytes())?.is_none() {
            return reject(Rejection::PoolNotFound);
        }
        let k = compound(&group.pool_id, &group.name);
        if txn.get(Table::Groups, &k)?.is_some() {
            return reject(Rejection::GroupExists);
        }
        put(txn, Table::Groups, &k, group)?;
        Ok(Outcome::Applied)
    }
}

/// Change a group's description, precedence and role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateGroup {
    /// Pool id.
    pub pool_id: String,
    /// Group name.
    pub name: String,
    /// New description.
    pub description: String,
    /// New precedence.
    pub precedence: Option<u32>,
    /// New role.
    pub role_arn: Option<String>,
    /// Time of the change, Unix ms.
    pub at_ms: u64,
}

impl Apply for UpdateGroup {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let k = compound(&self.pool_id, &self.name);
        let Some(mut g) = get::<Group>(txn, Table::Groups, &k)? else {
            return reject(Rejection::GroupNotFound);
        };
        g.description = self.description.clone();
        g.precedence = self.precedence;
        g.role_arn = self.role_arn.clone();
        g.updated_at_ms = self.at_ms;
        put(txn, Table::Groups, &k, &g)?;
        Ok(Outcome::Applied)
    }
}

/// Delete a group (its memberships die with its group id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteGroup {
    /// Pool id.
    pub pool_id: String,
    /// Group name.
    pub name: String,
}

impl Apply for DeleteGroup {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let k = compound(&self.pool_id, &self.name);
        if txn.get(Table::Groups, &k)?.is_none() {
            return reject(Rejection::GroupNotFound);
        }
        txn.delete(Table::Groups, &k)?;
        Ok(Outcome::Applied)
    }
}

fn load(
    txn: &impl KvTxn,
    pool_id: &str,
    username: &str,
    group: &str,
) -> Result<Result<(User, Group), Rejection>, CoreError> {
    let Some(user) = get::<User>(txn, Table::Users, &compound(pool_id, username))? else {
        return Ok(Err(Rejection::UserNotFound));
    };
    let Some(g) = get::<Group>(txn, Table::Groups, &compound(pool_id, group))? else {
        return Ok(Err(Rejection::GroupNotFound));
    };
    Ok(Ok((user, g)))
}

/// Add a user to a group (idempotent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddUserToGroup {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// Group name.
    pub group: String,
}

impl Apply for AddUserToGroup {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, username) = (self.pool_id.as_str(), self.username.as_str());
        let (user, g) = match load(txn, pool_id, username, &self.group)? {
            Ok(v) => v,
            Err(r) => return reject(r),
        };
        txn.put(
            Table::GroupMembers,
            &key(&[pool_id, &g.group_id, &user.sub]),
            username.as_bytes().to_vec(),
        )?;
        txn.put(
            Table::UserGroups,
            &key(&[pool_id, &user.sub, &g.name]),
            g.group_id.as_bytes().to_vec(),
        )?;
        Ok(Outcome::Applied)
    }
}

/// Remove a user from a group (idempotent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveUserFromGroup {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// Group name.
    pub group: String,
}

impl Apply for RemoveUserFromGroup {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let pool_id = self.pool_id.as_str();
        let (user, g) = match load(txn, pool_id, &self.username, &self.group)? {
            Ok(v) => v,
            Err(r) => return reject(r),
        };
        txn.delete(
            Table::GroupMembers,
            &key(&[pool_id, &g.group_id, &user.sub]),
        )?;
        txn.delete(Table::UserGroups, &key(&[pool_id, &user.sub, &g.name]))?;
        Ok(Outcome::Applied)
    }
}
