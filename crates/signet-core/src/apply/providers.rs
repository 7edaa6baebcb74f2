//! A user pool's identity providers: created, replaced, deleted. Names are unique in a pool,
//! and so are identifiers, across all of its providers (a sign-in naming one must find one).

use super::{get, put, reject, valid_parts, Apply};
use crate::kv::compound;
use crate::{CoreError, IdentityProvider, KvTxn, Outcome, Rejection, Table};
use serde::{Deserialize, Serialize};

/// Create (`create`) or replace an identity provider of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutIdentityProvider {
    /// The provider (secrets in `details` already sealed by the proposer).
    pub provider: IdentityProvider,
    /// Create: refused if it exists. Replace: refused if it does not.
    pub create: bool,
}

impl Apply for PutIdentityProvider {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let p = &self.provider;
        if !valid_parts(&[&p.pool_id, &p.name]) {
            return reject(Rejection::InvalidKey);
        }
        if txn.get(Table::Pools, p.pool_id.as_bytes())?.is_none() {
            return reject(Rejection::PoolNotFound);
        }
        let key = compound(&p.pool_id, &p.name);
        let existing = get::<IdentityProvider>(txn, Table::IdentityProviders, &key)?;
        let mut p = p.clone();
        let old_ids = match (self.create, existing) {
            (true, Some(_)) => return reject(Rejection::ProviderExists),
            (false, None) => return reject(Rejection::ProviderNotFound),
            (false, Some(old)) => {
                p.created_at_ms = old.created_at_ms;
                old.identifiers
            }
            (true, None) => vec![],
        };
        // Identifiers are the pool's, each naming one provider.
        for id in &p.identifiers {
            if !valid_parts(&[id]) {
                return reject(Rejection::InvalidKey);
            }
            let owner = get::<String>(txn, Table::ProviderIdentifiers, &compound(&p.pool_id, id))?;
            if owner.is_some_and(|o| o != p.name) {
                return reject(Rejection::ProviderExists);
            }
        }
        for id in old_ids.iter().filter(|i| !p.identifiers.contains(i)) {
            txn.delete(Table::ProviderIdentifiers, &compound(&p.pool_id, id))?;
        }
        for id in &p.identifiers {
            put(
                txn,
                Table::ProviderIdentifiers,
                &compound(&p.pool_id, id),
                &p.name,
            )?;
        }
        put(txn, Table::IdentityProviders, &key, &p)?;
        Ok(Outcome::Applied)
    }
}

/// Delete an identity provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteIdentityProvider {
    /// Pool id.
    pub pool_id: String,
    /// Provider name.
    pub name: String,
}

impl Apply for DeleteIdentityProvider {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let key = compound(&self.pool_id, &self.name);
        let Some(p) = get::<IdentityProvider>(txn, Table::IdentityProviders, &key)? else {
            return reject(Rejection::ProviderNotFound);
        };
        for id in &p.identifiers {
            txn.delete(Table::ProviderIdentifiers, &compound(&self.pool_id, id))?;
        }
        txn.delete(Table::IdentityProviders, &key)?;
        Ok(Outcome::Applied)
    }
}
