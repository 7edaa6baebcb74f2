//! Identity pools and identities (GetId's create-if-absent through the log).

use super::{get, put, reject, valid_parts};
use crate::kv::{compound, key};
use crate::{CoreError, Identity, IdentityPool, KvTxn, Outcome, Rejection, Table};
use std::collections::BTreeMap;

pub(super) fn create_pool(txn: &mut impl KvTxn, pool: &IdentityPool) -> Result<Outcome, CoreError> {
    if !valid_parts(&[&pool.id]) {
        return reject(Rejection::InvalidKey);
    }
    if txn.get(Table::IdentityPools, pool.id.as_bytes())?.is_some() {
        return reject(Rejection::PoolExists);
    }
    put(txn, Table::IdentityPools, pool.id.as_bytes(), pool)?;
    Ok(Outcome::Applied)
}

fn login_key(pool_id: &str, provider: &str, subject: &str) -> Vec<u8> {
    key(&[pool_id, provider, subject])
}

pub(super) fn get_or_create(
    txn: &mut impl KvTxn,
    pool_id: &str,
    logins: &BTreeMap<String, String>,
    new_identity_id: &str,
    at_ms: u64,
) -> Result<Outcome, CoreError> {
    let parts_ok = valid_parts(&[pool_id, new_identity_id])
        && logins.iter().all(|(p, s)| valid_parts(&[p, s]));
    if !parts_ok {
        return reject(Rejection::InvalidKey);
    }
    let Some(pool) = get::<IdentityPool>(txn, Table::IdentityPools, pool_id.as_bytes())? else {
        return reject(Rejection::PoolNotFound);
    };
    if logins.is_empty() && !pool.allow_unauthenticated {
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
    let mut target = match owners.first() {
        Some(id) => match get::<Identity>(txn, Table::Identities, &compound(pool_id, id))? {
            Some(i) => i,
            None => {
                return Err(CoreError::Codec(format!(
                    "login points at missing identity {id}"
                )))
            }
        },
        None => {
            if txn
                .get(Table::Identities, &compound(pool_id, new_identity_id))?
                .is_some()
            {
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
    // Merge every other owner into the target: their logins move, they disappear.
    for other in owners.iter().skip(1) {
        let k = compound(pool_id, other);
        if let Some(o) = get::<Identity>(txn, Table::Identities, &k)? {
            for (provider, subject) in o.logins {
                txn.put(
                    Table::IdentityLogins,
                    &login_key(pool_id, &provider, &subject),
                    target.identity_id.as_bytes().to_vec(),
                )?;
                target.logins.insert(provider, subject);
            }
            txn.delete(Table::Identities, &k)?;
        }
    }
    for (provider, subject) in logins {
        txn.put(
            Table::IdentityLogins,
            &login_key(pool_id, provider, subject),
            target.identity_id.as_bytes().to_vec(),
        )?;
        target.logins.insert(provider.clone(), subject.clone());
    }
    target.updated_at_ms = at_ms;
    put(
        txn,
        Table::Identities,
        &compound(pool_id, &target.identity_id),
        &target,
    )?;
    Ok(Outcome::Applied)
}
