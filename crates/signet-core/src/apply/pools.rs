//! Pools, app clients and signing keys.

use super::{get, put, reject, valid_parts};
use crate::kv::compound;
use crate::{AppClient, CoreError, KvTxn, Outcome, PoolConfig, Rejection, Table, UserPool};

pub(super) fn create_pool(txn: &mut impl KvTxn, pool: &UserPool) -> Result<Outcome, CoreError> {
    if !valid_parts(&[&pool.id]) {
        return reject(Rejection::InvalidKey);
    }
    let id = pool.id.as_bytes();
    if txn.get(Table::Pools, id)?.is_some() || txn.get(Table::DeletedPools, id)?.is_some() {
        return reject(Rejection::PoolExists);
    }
    put(txn, Table::Pools, id, pool)?;
    Ok(Outcome::Applied)
}

pub(super) fn update_pool(
    txn: &mut impl KvTxn,
    pool_id: &str,
    name: &str,
    config: &PoolConfig,
    at_ms: u64,
) -> Result<Outcome, CoreError> {
    let Some(mut pool) = get::<UserPool>(txn, Table::Pools, pool_id.as_bytes())? else {
        return reject(Rejection::PoolNotFound);
    };
    pool.name = name.to_string();
    pool.config = config.clone();
    pool.updated_at_ms = at_ms;
    put(txn, Table::Pools, pool_id.as_bytes(), &pool)?;
    Ok(Outcome::Applied)
}

pub(super) fn delete_pool(
    txn: &mut impl KvTxn,
    pool_id: &str,
    at_ms: u64,
) -> Result<Outcome, CoreError> {
    let Some(pool) = get::<UserPool>(txn, Table::Pools, pool_id.as_bytes())? else {
        return reject(Rejection::PoolNotFound);
    };
    if pool.config.deletion_protection {
        return reject(Rejection::DeletionProtected);
    }
    // The pool's users, clients and groups stay as unreachable rows: every lookup goes
    // through the pool id, which is never reused (the tombstone below).
    txn.delete(Table::Pools, pool_id.as_bytes())?;
    put(txn, Table::DeletedPools, pool_id.as_bytes(), &at_ms)?;
    Ok(Outcome::Applied)
}

fn pool_exists(txn: &impl KvTxn, pool_id: &str) -> Result<bool, CoreError> {
    Ok(txn.get(Table::Pools, pool_id.as_bytes())?.is_some())
}

pub(super) fn create_client(
    txn: &mut impl KvTxn,
    client: &AppClient,
) -> Result<Outcome, CoreError> {
    if !valid_parts(&[&client.pool_id, &client.client_id]) {
        return reject(Rejection::InvalidKey);
    }
    if !pool_exists(txn, &client.pool_id)? {
        return reject(Rejection::PoolNotFound);
    }
    let key = compound(&client.pool_id, &client.client_id);
    let by_id = client.client_id.as_bytes();
    if txn.get(Table::Clients, &key)?.is_some() || txn.get(Table::ClientsById, by_id)?.is_some() {
        return reject(Rejection::ClientExists);
    }
    put(txn, Table::Clients, &key, client)?;
    txn.put(
        Table::ClientsById,
        by_id,
        client.pool_id.as_bytes().to_vec(),
    )?;
    Ok(Outcome::Applied)
}

pub(super) fn update_client(
    txn: &mut impl KvTxn,
    client: &AppClient,
) -> Result<Outcome, CoreError> {
    let key = compound(&client.pool_id, &client.client_id);
    if !pool_exists(txn, &client.pool_id)? || txn.get(Table::Clients, &key)?.is_none() {
        return reject(Rejection::ClientNotFound);
    }
    put(txn, Table::Clients, &key, client)?;
    Ok(Outcome::Applied)
}

pub(super) fn delete_client(
    txn: &mut impl KvTxn,
    pool_id: &str,
    client_id: &str,
) -> Result<Outcome, CoreError> {
    let key = compound(pool_id, client_id);
    if txn.get(Table::Clients, &key)?.is_none() {
        return reject(Rejection::ClientNotFound);
    }
    txn.delete(Table::Clients, &key)?;
    txn.delete(Table::ClientsById, client_id.as_bytes())?;
    Ok(Outcome::Applied)
}
