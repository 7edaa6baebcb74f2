//! Resource servers, client secrets for rotation, and access tokens revoked one by one.

use super::{get, put, reject, valid_parts};
use crate::kv::compound;
use crate::{AppClient, ClientSecret, CoreError, KvTxn, Outcome, Rejection, ResourceServer, Table};

/// Most secrets a client holds at once (one current, one being rotated in or out).
pub const MAX_CLIENT_SECRETS: usize = 2;

pub(super) fn put_server(
    txn: &mut impl KvTxn,
    server: &ResourceServer,
    create: bool,
) -> Result<Outcome, CoreError> {
    if !valid_parts(&[&server.pool_id, &server.identifier]) {
        return reject(Rejection::InvalidKey);
    }
    if txn.get(Table::Pools, server.pool_id.as_bytes())?.is_none() {
        return reject(Rejection::PoolNotFound);
    }
    let key = compound(&server.pool_id, &server.identifier);
    let existing = get::<ResourceServer>(txn, Table::ResourceServers, &key)?;
    let mut server = server.clone();
    match (create, existing) {
        (true, Some(_)) => return reject(Rejection::ResourceServerExists),
        (false, None) => return reject(Rejection::ResourceServerNotFound),
        (false, Some(old)) => server.created_at_ms = old.created_at_ms,
        (true, None) => {}
    }
    put(txn, Table::ResourceServers, &key, &server)?;
    Ok(Outcome::Applied)
}

pub(super) fn delete_server(
    txn: &mut impl KvTxn,
    pool_id: &str,
    identifier: &str,
) -> Result<Outcome, CoreError> {
    let key = compound(pool_id, identifier);
    if txn.get(Table::ResourceServers, &key)?.is_none() {
        return reject(Rejection::ResourceServerNotFound);
    }
    txn.delete(Table::ResourceServers, &key)?;
    Ok(Outcome::Applied)
}

fn load_client(
    txn: &impl KvTxn,
    pool_id: &str,
    client_id: &str,
) -> Result<Result<AppClient, Rejection>, CoreError> {
    if txn.get(Table::Pools, pool_id.as_bytes())?.is_none() {
        return Ok(Err(Rejection::PoolNotFound));
    }
    Ok(
        get::<AppClient>(txn, Table::Clients, &compound(pool_id, client_id))?
            .ok_or(Rejection::ClientNotFound),
    )
}

pub(super) fn add_secret(
    txn: &mut impl KvTxn,
    pool_id: &str,
    client_id: &str,
    secret: &ClientSecret,
) -> Result<Outcome, CoreError> {
    let mut client = match load_client(txn, pool_id, client_id)? {
        Ok(c) => c,
        Err(r) => return reject(r),
    };
    if client.secrets.len() >= MAX_CLIENT_SECRETS {
        return reject(Rejection::TooManySecrets);
    }
    if client.secrets.iter().any(|s| s.id == secret.id) {
        return reject(Rejection::InvalidKey);
    }
    client.secrets.push(secret.clone());
    client.updated_at_ms = client.updated_at_ms.max(secret.created_at_ms);
    put(txn, Table::Clients, &compound(pool_id, client_id), &client)?;
    Ok(Outcome::Applied)
}

pub(super) fn delete_secret(
    txn: &mut impl KvTxn,
    pool_id: &str,
    client_id: &str,
    secret_id: &str,
) -> Result<Outcome, CoreError> {
    let mut client = match load_client(txn, pool_id, client_id)? {
        Ok(c) => c,
        Err(r) => return reject(r),
    };
    let before = client.secrets.len();
    client.secrets.retain(|s| s.id != secret_id);
    // A confidential client never silently becomes a public one.
    if client.secrets.len() == before || client.secrets.is_empty() {
        return reject(Rejection::SecretNotDeletable);
    }
    put(txn, Table::Clients, &compound(pool_id, client_id), &client)?;
    Ok(Outcome::Applied)
}

pub(super) fn revoke_access_token(
    txn: &mut impl KvTxn,
    jti: &str,
    expires_at_ms: u64,
) -> Result<Outcome, CoreError> {
    if !valid_parts(&[jti]) {
        return reject(Rejection::InvalidKey);
    }
    put(txn, Table::RevokedTokens, jti.as_bytes(), &expires_at_ms)?;
    Ok(Outcome::Applied)
}
