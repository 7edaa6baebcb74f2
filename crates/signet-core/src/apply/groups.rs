//! Groups and memberships. Memberships are keyed by the group's random `group_id` and the
//! user's `sub`, so deleting a group or a user needs no scan: rows of a dead incarnation
//! are simply never matched again.

use super::{get, put, reject, valid_parts};
use crate::kv::{compound, key};
use crate::{CoreError, Group, KvTxn, Outcome, Rejection, Table, User};

pub(super) fn create_group(txn: &mut impl KvTxn, group: &Group) -> Result<Outcome, CoreError> {
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

pub(super) fn update_group(
    txn: &mut impl KvTxn,
    pool_id: &str,
    name: &str,
    description: &str,
    precedence: Option<u32>,
    role_arn: &Option<String>,
    at_ms: u64,
) -> Result<Outcome, CoreError> {
    let k = compound(pool_id, name);
    let Some(mut g) = get::<Group>(txn, Table::Groups, &k)? else {
        return reject(Rejection::GroupNotFound);
    };
    g.description = description.to_string();
    g.precedence = precedence;
    g.role_arn = role_arn.clone();
    g.updated_at_ms = at_ms;
    put(txn, Table::Groups, &k, &g)?;
    Ok(Outcome::Applied)
}

pub(super) fn delete_group(
    txn: &mut impl KvTxn,
    pool_id: &str,
    name: &str,
) -> Result<Outcome, CoreError> {
    let k = compound(pool_id, name);
    if txn.get(Table::Groups, &k)?.is_none() {
        return reject(Rejection::GroupNotFound);
    }
    txn.delete(Table::Groups, &k)?;
    Ok(Outcome::Applied)
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

pub(super) fn add_member(
    txn: &mut impl KvTxn,
    pool_id: &str,
    username: &str,
    group: &str,
) -> Result<Outcome, CoreError> {
    let (user, g) = match load(txn, pool_id, username, group)? {
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

pub(super) fn remove_member(
    txn: &mut impl KvTxn,
    pool_id: &str,
    username: &str,
    group: &str,
) -> Result<Outcome, CoreError> {
    let (user, g) = match load(txn, pool_id, username, group)? {
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
