//! User pools and app clients.

use super::{get, put, reject, valid_parts, Apply};
use crate::kv::compound;
use crate::{AppClient, CoreError, KvTxn, Outcome, PoolConfig, Rejection, Table, UserPool};
use serde::{Deserialize, Serialize};

/// Create a user pool; rejected if the id exists or existed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateUserPool {
    /// The pool.
    pub pool: UserPool,
}

impl Apply for CreateUserPool {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let pool = &self.pool;
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
}

/// Replace a pool's name and configuration (all but its MFA configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateUserPool {
    /// Pool id.
    pub pool_id: String,
    /// New display name.
    pub name: String,
    /// New configuration.
    pub config: PoolConfig,
    /// Time of the change, Unix ms.
    pub at_ms: u64,
}

impl Apply for UpdateUserPool {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let pool_id = &self.pool_id;
        let Some(mut pool) = get::<UserPool>(txn, Table::Pools, pool_id.as_bytes())? else {
            return reject(Rejection::PoolNotFound);
        };
        pool.name = self.name.clone();
        // MFA is set on its own (SetUserPoolMfa), as Cognito's SetUserPoolMfaConfig: an
        // update of the rest keeps it.
        let mfa = pool.config.mfa;
        let before = std::mem::replace(&mut pool.config, self.config.clone());
        pool.config.mfa = mfa;
        // A schema only grows (AddCustomAttributes): an update proposed from an older read
        // keeps what was added meanwhile. No API removes an attribute, so entries written
        // before this replay as they did.
        for a in before.schema {
            if !pool.config.schema.iter().any(|b| b.name == a.name) {
                pool.config.schema.push(a);
            }
        }
        pool.updated_at_ms = self.at_ms;
        put(txn, Table::Pools, pool_id.as_bytes(), &pool)?;
        Ok(Outcome::Applied)
    }
}

/// Add custom attributes to a pool's schema (AddCustomAttributes): all or none, refused if
/// one is named already or the pool would have more than `max_custom`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddCustomAttributes {
    /// Pool id.
    pub pool_id: String,
    /// The new attributes (`custom:` names).
    pub attributes: Vec<crate::SchemaAttribute>,
    /// Most custom attributes a pool may have.
    pub max_custom: u32,
    /// Time of the change, Unix ms.
    pub at_ms: u64,
}

impl Apply for AddCustomAttributes {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let pool_id = &self.pool_id;
        let Some(mut pool) = get::<UserPool>(txn, Table::Pools, pool_id.as_bytes())? else {
            return reject(Rejection::PoolNotFound);
        };
        let schema = &mut pool.config.schema;
        for a in &self.attributes {
            if schema.iter().any(|b| b.name == a.name) {
                return reject(Rejection::PreconditionFailed);
            }
            schema.push(a.clone());
        }
        let custom = schema
            .iter()
            .filter(|a| a.name.starts_with("custom:"))
            .count();
        if custom > self.max_custom as usize {
            return reject(Rejection::PreconditionFailed);
        }
        pool.updated_at_ms = self.at_ms;
        put(txn, Table::Pools, pool_id.as_bytes(), &pool)?;
        Ok(Outcome::Applied)
    }
}

/// Set a pool's MFA configuration (SetUserPoolMfaConfig).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetUserPoolMfa {
    /// Pool id.
    pub pool_id: String,
    /// The new configuration.
    pub mfa: crate::PoolMfa,
    /// Time of the change, Unix ms.
    pub at_ms: u64,
}

impl Apply for SetUserPoolMfa {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let pool_id = &self.pool_id;
        let Some(mut pool) = get::<UserPool>(txn, Table::Pools, pool_id.as_bytes())? else {
            return reject(Rejection::PoolNotFound);
        };
        pool.config.mfa = self.mfa;
        pool.updated_at_ms = self.at_ms;
        put(txn, Table::Pools, pool_id.as_bytes(), &pool)?;
        Ok(Outcome::Applied)
    }
}

/// Delete a pool (refused under deletion protection). Its rows become unreachable:
/// pool ids are never reused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteUserPool {
    /// Pool id.
    pub pool_id: String,
    /// Time of the deletion, Unix ms.
    pub at_ms: u64,
}

impl Apply for DeleteUserPool {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let pool_id = &self.pool_id;
        let Some(pool) = get::<UserPool>(txn, Table::Pools, pool_id.as_bytes())? else {
            return reject(Rejection::PoolNotFound);
        };
        if pool.config.deletion_protection {
            return reject(Rejection::DeletionProtected);
        }
        // The pool's users, clients and groups stay as unreachable rows: every lookup goes
        // through the pool id, which is never reused (the tombstone below).
        txn.delete(Table::Pools, pool_id.as_bytes())?;
        put(txn, Table::DeletedPools, pool_id.as_bytes(), &self.at_ms)?;
        let what = super::Revoked::Pool {
            pool_id: pool_id.clone(),
        };
        super::revoke(txn, what, super::after_last_token(self.at_ms))?;
        Ok(Outcome::Applied)
    }
}

fn pool_exists(txn: &impl KvTxn, pool_id: &str) -> Result<bool, CoreError> {
    Ok(txn.get(Table::Pools, pool_id.as_bytes())?.is_some())
}

/// Create an app client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateAppClient {
    /// The client.
    pub client: AppClient,
}

impl Apply for CreateAppClient {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let client = &self.client;
        if !valid_parts(&[&client.pool_id, &client.client_id]) {
            return reject(Rejection::InvalidKey);
        }
        if !pool_exists(txn, &client.pool_id)? {
            return reject(Rejection::PoolNotFound);
        }
        let key = compound(&client.pool_id, &client.client_id);
        let by_id = client.client_id.as_bytes();
        if txn.get(Table::Clients, &key)?.is_some() || txn.get(Table::ClientsById, by_id)?.is_some()
        {
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
}

/// Replace an existing app client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateAppClient {
    /// The client's new record.
    pub client: AppClient,
}

impl Apply for UpdateAppClient {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let client = &self.client;
        let key = compound(&client.pool_id, &client.client_id);
        if !pool_exists(txn, &client.pool_id)? {
            return reject(Rejection::ClientNotFound);
        }
        let Some(old) = get::<AppClient>(txn, Table::Clients, &key)? else {
            return reject(Rejection::ClientNotFound);
        };
        put(txn, Table::Clients, &key, client)?;
        if client.disabled && !old.disabled {
            revoke_client(
                txn,
                &client.pool_id,
                &client.client_id,
                client.updated_at_ms,
            )?;
        }
        Ok(Outcome::Applied)
    }
}

/// Delete an app client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteAppClient {
    /// Pool id.
    pub pool_id: String,
    /// Client id.
    pub client_id: String,
    /// The proposer's clock, Unix ms: tokens the client was issued before it are revoked
    /// (logs from before it carry 0, and record no revocation).
    #[serde(default, skip_serializing_if = "crate::model::is_zero")]
    pub at_ms: u64,
}

impl Apply for DeleteAppClient {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let key = compound(&self.pool_id, &self.client_id);
        if txn.get(Table::Clients, &key)?.is_none() {
            return reject(Rejection::ClientNotFound);
        }
        txn.delete(Table::Clients, &key)?;
        txn.delete(Table::ClientsById, self.client_id.as_bytes())?;
        if self.at_ms > 0 {
            revoke_client(txn, &self.pool_id, &self.client_id, self.at_ms)?;
        }
        Ok(Outcome::Applied)
    }
}

/// Tokens an app client was issued before `at_ms` are void (it was disabled or deleted).
fn revoke_client(
    txn: &mut impl KvTxn,
    pool_id: &str,
    client_id: &str,
    at_ms: u64,
) -> Result<(), CoreError> {
    let what = super::Revoked::Client {
        pool_id: pool_id.to_string(),
        client_id: client_id.to_string(),
        before_ms: at_ms,
    };
    super::revoke(txn, what, super::after_last_token(at_ms))
}
