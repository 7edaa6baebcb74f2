//! Resource servers, client secrets for rotation, and access tokens revoked one by one.

use super::{get, put, reject, valid_parts, Apply};
use crate::kv::compound;
use crate::{AppClient, ClientSecret, CoreError, KvTxn, Outcome, Rejection, ResourceServer, Table};
use serde::{Deserialize, Serialize};

/// Most secrets a client holds at once (one current, one being rotated in or out).
pub const MAX_CLIENT_SECRETS: usize = 2;

/// Create (`create`) or replace a resource server of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutResourceServer {
    /// The resource server.
    pub server: ResourceServer,
    /// Create: refused if it exists. Replace: refused if it does not.
    pub create: bool,
}

impl Apply for PutResourceServer {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (server, create) = (&self.server, self.create);
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
}

/// Delete a resource server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteResourceServer {
    /// Pool id.
    pub pool_id: String,
    /// Identifier.
    pub identifier: String,
}

impl Apply for DeleteResourceServer {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let key = compound(&self.pool_id, &self.identifier);
        if txn.get(Table::ResourceServers, &key)?.is_none() {
            return reject(Rejection::ResourceServerNotFound);
        }
        txn.delete(Table::ResourceServers, &key)?;
        Ok(Outcome::Applied)
    }
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

/// Add a secret to an app client (at most two, for rotation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddClientSecret {
    /// Pool id.
    pub pool_id: String,
    /// Client id.
    pub client_id: String,
    /// The secret (hashed and sealed).
    pub secret: ClientSecret,
}

impl Apply for AddClientSecret {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, client_id) = (self.pool_id.as_str(), self.client_id.as_str());
        let secret = &self.secret;
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
}

/// Remove one secret of an app client (never its last one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteClientSecret {
    /// Pool id.
    pub pool_id: String,
    /// Client id.
    pub client_id: String,
    /// Secret id.
    pub secret_id: String,
}

impl Apply for DeleteClientSecret {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, client_id) = (self.pool_id.as_str(), self.client_id.as_str());
        let secret_id = self.secret_id.as_str();
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
}

/// Revoke one access token (by jti) until it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeAccessToken {
    /// The token's jti.
    pub jti: String,
    /// Its expiry, Unix ms (the row may go after it).
    pub expires_at_ms: u64,
}

impl Apply for RevokeAccessToken {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (jti, expires_at_ms) = (self.jti.as_str(), self.expires_at_ms);
        if !valid_parts(&[jti]) {
            return reject(Rejection::InvalidKey);
        }
        put(txn, Table::RevokedTokens, jti.as_bytes(), &expires_at_ms)?;
        let what = super::Revoked::Token {
            jti: jti.to_string(),
        };
        super::revoke(txn, what, expires_at_ms)?;
        Ok(Outcome::Applied)
    }
}
