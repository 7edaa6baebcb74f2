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

fn link_key(pool_id: &str, provider: &str, subject: &str) -> Vec<u8> {
    crate::kv::key(&[pool_id, provider, subject])
}

/// The user's `identities` attribute (a JSON array) with `f` applied.
fn edit_identities(user: &mut crate::User, f: impl FnOnce(&mut Vec<serde_json::Value>)) {
    let mut list: Vec<serde_json::Value> = user
        .attributes
        .get("identities")
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or_default();
    f(&mut list);
    if list.is_empty() {
        user.attributes.remove("identities");
    } else {
        user.attributes.insert(
            "identities".into(),
            serde_json::Value::Array(list).to_string(),
        );
    }
}

fn is_identity(v: &serde_json::Value, provider: &str, subject: &str) -> bool {
    v["providerName"] == provider && v["userId"] == subject
}

/// AdminLinkProviderForUser: the provider's subject signs in as an existing user from now
/// on. Refused when that subject already has a federated user of its own (merging two users
/// is not offered) or is linked already; the user gains the identity in `identities`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkProviderUser {
    /// The link (the user named by username and sub).
    pub link: crate::ProviderLink,
    /// The canonical username the subject's own federated user has or would have.
    pub federated_username: String,
    /// The entry to add to the user's `identities` (JSON object text).
    pub identity: String,
}

impl Apply for LinkProviderUser {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let l = &self.link;
        if !valid_parts(&[&l.pool_id, &l.provider, &l.subject, &l.username]) {
            return reject(Rejection::InvalidKey);
        }
        let (pool, user) = match super::users::load(txn, &l.pool_id, &l.username)? {
            Ok(v) => v,
            Err(r) => return reject(r),
        };
        if user.sub != l.sub {
            return reject(Rejection::UserNotFound);
        }
        if txn
            .get(Table::IdentityProviders, &compound(&l.pool_id, &l.provider))?
            .is_none()
        {
            return reject(Rejection::ProviderNotFound);
        }
        let key = link_key(&l.pool_id, &l.provider, &l.subject);
        if txn.get(Table::ProviderLinks, &key)?.is_some()
            || txn
                .get(
                    Table::Users,
                    &compound(&l.pool_id, &self.federated_username),
                )?
                .is_some()
        {
            return reject(Rejection::UsernameExists);
        }
        let Ok(identity) = serde_json::from_str::<serde_json::Value>(&self.identity) else {
            return reject(Rejection::InvalidKey);
        };
        let mut new = user.clone();
        edit_identities(&mut new, |list| list.push(identity));
        new.updated_at_ms = new.updated_at_ms.max(l.linked_at_ms);
        let stored = super::users::store_user(txn, &pool, &user, &new)?;
        if stored != Outcome::Applied {
            return Ok(stored);
        }
        put(txn, Table::ProviderLinks, &key, l)?;
        Ok(Outcome::Applied)
    }
}

/// AdminDisableProviderForUser for a linked subject: the link goes, and with it the
/// identity in the user's `identities`. Idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlinkProviderUser {
    /// Pool id.
    pub pool_id: String,
    /// Provider name.
    pub provider: String,
    /// The subject at the provider.
    pub subject: String,
    /// When, Unix milliseconds.
    pub at_ms: u64,
}

impl Apply for UnlinkProviderUser {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        if !valid_parts(&[&self.pool_id, &self.provider, &self.subject]) {
            return reject(Rejection::InvalidKey);
        }
        let key = link_key(&self.pool_id, &self.provider, &self.subject);
        let Some(link) = get::<crate::ProviderLink>(txn, Table::ProviderLinks, &key)? else {
            return Ok(Outcome::Applied);
        };
        txn.delete(Table::ProviderLinks, &key)?;
        if let Ok((pool, user)) = super::users::load(txn, &self.pool_id, &link.username)? {
            if user.sub == link.sub {
                let mut new = user.clone();
                edit_identities(&mut new, |list| {
                    list.retain(|v| !is_identity(v, &self.provider, &self.subject))
                });
                new.updated_at_ms = new.updated_at_ms.max(self.at_ms);
                super::users::store_user(txn, &pool, &user, &new)?;
            }
        }
        Ok(Outcome::Applied)
    }
}
