//! Identity pools and identities (GetId's create-if-absent through the log).

use super::{get, put, reject, valid_parts, Apply};
use crate::kv::{compound, key};
use crate::{
    CoreError, Identity, IdentityPool, KvTxn, Outcome, PoolRoles, Rejection, RoleMapping, Table,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Create an identity pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateIdentityPool {
    /// The pool.
    pub pool: IdentityPool,
}

impl Apply for CreateIdentityPool {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let pool = &self.pool;
        if !valid_parts(&[&pool.id]) {
            return reject(Rejection::InvalidKey);
        }
        if txn.get(Table::IdentityPools, pool.id.as_bytes())?.is_some() {
            return reject(Rejection::PoolExists);
        }
        put(txn, Table::IdentityPools, pool.id.as_bytes(), pool)?;
        Ok(Outcome::Applied)
    }
}

/// Replace an identity pool's settings (providers, flags); roles and mappings are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateIdentityPool {
    /// The new settings (`created_at_ms` is kept from the stored pool).
    pub pool: IdentityPool,
}

impl Apply for UpdateIdentityPool {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let pool = &self.pool;
        let Some(old) = get::<IdentityPool>(txn, Table::IdentityPools, pool.id.as_bytes())? else {
            return reject(Rejection::IdentityPoolNotFound);
        };
        let mut new = pool.clone();
        new.created_at_ms = old.created_at_ms;
        new.roles = old.roles;
        new.role_mappings = old.role_mappings;
        put(txn, Table::IdentityPools, pool.id.as_bytes(), &new)?;
        Ok(Outcome::Applied)
    }
}

/// Delete an identity pool; its identities become unreachable with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteIdentityPool {
    /// Pool id.
    pub pool_id: String,
}

impl Apply for DeleteIdentityPool {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let pool_id = self.pool_id.as_str();
        if txn.get(Table::IdentityPools, pool_id.as_bytes())?.is_none() {
            return reject(Rejection::IdentityPoolNotFound);
        }
        // Identities and logins of the pool stay behind as unreachable rows: every identity
        // operation looks the pool up first, and pool ids are random and never reused.
        txn.delete(Table::IdentityPools, pool_id.as_bytes())?;
        Ok(Outcome::Applied)
    }
}

/// Set the default roles and role mappings of an identity pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetIdentityPoolRoles {
    /// Pool id.
    pub pool_id: String,
    /// Default roles.
    pub roles: PoolRoles,
    /// Role mappings per provider name.
    pub role_mappings: BTreeMap<String, RoleMapping>,
    /// Time of the call, Unix ms.
    pub at_ms: u64,
}

impl Apply for SetIdentityPoolRoles {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, roles) = (self.pool_id.as_str(), &self.roles);
        let (mappings, at_ms) = (&self.role_mappings, self.at_ms);
        let Some(mut pool) = get::<IdentityPool>(txn, Table::IdentityPools, pool_id.as_bytes())?
        else {
            return reject(Rejection::IdentityPoolNotFound);
        };
        pool.roles = roles.clone();
        pool.role_mappings = mappings.clone();
        pool.updated_at_ms = at_ms;
        put(txn, Table::IdentityPools, pool_id.as_bytes(), &pool)?;
        Ok(Outcome::Applied)
    }
}

fn login_key(pool_id: &str, provider: &str, subject: &str) -> Vec<u8> {
    key(&[pool_id, provider, subject])
}

fn load_identity(txn: &impl KvTxn, pool_id: &str, id: &str) -> Result<Option<Identity>, CoreError> {
    get::<Identity>(txn, Table::Identities, &compound(pool_id, id))
}

/// Add `(provider, subject)` to `logins`, refusing a second subject for one provider.
fn link(
    logins: &mut BTreeMap<String, String>,
    provider: &str,
    subject: &str,
) -> Result<(), Rejection> {
    match logins.get(provider) {
        Some(s) if s != subject => Err(Rejection::LoginConflict {
            provider: provider.to_string(),
        }),
        _ => {
            logins.insert(provider.to_string(), subject.to_string());
            Ok(())
        }
    }
}

/// Resolve logins to an identity, creating it if none of them is known (GetId):
/// concurrent calls for one login end with one identity. A login not yet linked is
/// linked; logins owned by different identities merge them into the identity of the
/// first login (in provider order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetOrCreateIdentity {
    /// Identity pool.
    pub pool_id: String,
    /// Provider name → subject; empty for an unauthenticated identity.
    pub logins: BTreeMap<String, String>,
    /// The id to use if a new identity is created (chosen by the proposer).
    pub new_identity_id: String,
    /// Link the logins to this existing identity instead (developer-authenticated
    /// identities name it); identities owning any of the logins merge into it.
    #[serde(default)]
    pub into_identity_id: Option<String>,
    /// Time of the call, Unix ms.
    pub at_ms: u64,
}

impl Apply for GetOrCreateIdentity {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, logins) = (self.pool_id.as_str(), &self.logins);
        let new_identity_id = self.new_identity_id.as_str();
        let (into, at_ms) = (self.into_identity_id.as_deref(), self.at_ms);
        let parts_ok = valid_parts(&[pool_id, new_identity_id])
            && into.is_none_or(|i| valid_parts(&[i]))
            && logins.iter().all(|(p, s)| valid_parts(&[p, s]));
        if !parts_ok {
            return reject(Rejection::InvalidKey);
        }
        let Some(pool) = get::<IdentityPool>(txn, Table::IdentityPools, pool_id.as_bytes())? else {
            return reject(Rejection::IdentityPoolNotFound);
        };
        if logins.is_empty() && into.is_none() && !pool.allow_unauthenticated {
            return reject(Rejection::UnauthenticatedNotAllowed);
        }
        // Owners of the presented logins, in provider order (deterministic on every member).
        let mut owners: Vec<String> = Vec::new();
        for (provider, subject) in logins {
            if let Some(id) = txn.get(
                Table::IdentityLogins,
                &login_key(pool_id, provider, subject),
            )? {
                let id = String::from_utf8_lossy(&id).into_owned();
                if !owners.contains(&id) {
                    owners.push(id);
                }
            }
        }
        let target_id = into.map(str::to_string).or_else(|| owners.first().cloned());
        let mut target = match target_id {
            Some(id) => match load_identity(txn, pool_id, &id)? {
                Some(i) => i,
                None if into.is_some() => return reject(Rejection::IdentityNotFound),
                None => {
                    return Err(CoreError::Codec(format!(
                        "login points at missing identity {id}"
                    )))
                }
            },
            None => {
                if load_identity(txn, pool_id, new_identity_id)?.is_some() {
                    return reject(Rejection::UsernameExists);
                }
                Identity {
                    identity_id: new_identity_id.to_string(),
                    pool_id: pool_id.to_string(),
                    logins: BTreeMap::new(),
                    created_at_ms: at_ms,
                    updated_at_ms: at_ms,
                }
            }
        };
        // Decide everything before writing: a rejection must leave no trace.
        let mut merged: Vec<Identity> = Vec::new();
        for other in owners.iter().filter(|o| **o != target.identity_id) {
            if let Some(o) = load_identity(txn, pool_id, other)? {
                for (provider, subject) in &o.logins {
                    if let Err(r) = link(&mut target.logins, provider, subject) {
                        return reject(r);
                    }
                }
                merged.push(o);
            }
        }
        for (provider, subject) in logins {
            if let Err(r) = link(&mut target.logins, provider, subject) {
                return reject(r);
            }
        }
        for o in &merged {
            txn.delete(Table::Identities, &compound(pool_id, &o.identity_id))?;
            txn.delete(Table::IdentityPoolOf, o.identity_id.as_bytes())?;
        }
        for (provider, subject) in &target.logins {
            txn.put(
                Table::IdentityLogins,
                &login_key(pool_id, provider, subject),
                target.identity_id.as_bytes().to_vec(),
            )?;
        }
        target.updated_at_ms = at_ms;
        txn.put(
            Table::IdentityPoolOf,
            target.identity_id.as_bytes(),
            pool_id.as_bytes().to_vec(),
        )?;
        put(
            txn,
            Table::Identities,
            &compound(pool_id, &target.identity_id),
            &target,
        )?;
        Ok(Outcome::Applied)
    }
}

/// Remove logins from an identity (each must be linked to it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlinkIdentity {
    /// Pool id.
    pub pool_id: String,
    /// Identity id.
    pub identity_id: String,
    /// Provider name → subject to unlink.
    pub logins: BTreeMap<String, String>,
    /// Time of the call, Unix ms.
    pub at_ms: u64,
}

impl Apply for UnlinkIdentity {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, identity_id) = (self.pool_id.as_str(), self.identity_id.as_str());
        let (logins, at_ms) = (&self.logins, self.at_ms);
        if txn.get(Table::IdentityPools, pool_id.as_bytes())?.is_none() {
            return reject(Rejection::IdentityPoolNotFound);
        }
        let Some(mut identity) = load_identity(txn, pool_id, identity_id)? else {
            return reject(Rejection::IdentityNotFound);
        };
        for (provider, subject) in logins {
            if identity.logins.get(provider) != Some(subject) {
                return reject(Rejection::LoginNotLinked {
                    provider: provider.clone(),
                });
            }
        }
        for (provider, subject) in logins {
            identity.logins.remove(provider);
            txn.delete(
                Table::IdentityLogins,
                &login_key(pool_id, provider, subject),
            )?;
        }
        if identity.logins.is_empty() && !logins.is_empty() {
            // Without its last login the identity is unreachable (as in Cognito): it must not
            // live on as a guest that anybody holding the id could use.
            txn.delete(Table::Identities, &compound(pool_id, identity_id))?;
            txn.delete(Table::IdentityPoolOf, identity_id.as_bytes())?;
            return Ok(Outcome::Applied);
        }
        identity.updated_at_ms = at_ms;
        put(
            txn,
            Table::Identities,
            &compound(pool_id, identity_id),
            &identity,
        )?;
        Ok(Outcome::Applied)
    }
}

/// Delete identities and their logins (unknown ids are skipped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteIdentities {
    /// Pool id.
    pub pool_id: String,
    /// Identity ids.
    pub identity_ids: Vec<String>,
}

impl Apply for DeleteIdentities {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, ids) = (self.pool_id.as_str(), &self.identity_ids);
        for id in ids {
            if let Some(identity) = load_identity(txn, pool_id, id)? {
                for (provider, subject) in &identity.logins {
                    txn.delete(
                        Table::IdentityLogins,
                        &login_key(pool_id, provider, subject),
                    )?;
                }
                txn.delete(Table::Identities, &compound(pool_id, id))?;
                txn.delete(Table::IdentityPoolOf, id.as_bytes())?;
            }
        }
        Ok(Outcome::Applied)
    }
}
