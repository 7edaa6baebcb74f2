//! Signing-key lifecycle: publish, lease renewal, retirement, revocation, drop. Every
//! transition is conditional on the recorded state, so a housekeeper that acts twice or
//! late (a deposed leader, a retried write) changes nothing the second time. Also here:
//! the cluster-wide request to rotate every gateway's keys.

use super::{get, put, reject, valid_parts, Apply};
use crate::{CoreError, KeyState, KvTxn, Outcome, Rejection, RetireReason, SigningKey, Table};
use serde::{Deserialize, Serialize};

/// Publish the public half of a signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishKey {
    /// The key record.
    pub key: SigningKey,
}

impl Apply for PublishKey {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let key = &self.key;
        if !valid_parts(&[&key.kid]) {
            return reject(Rejection::InvalidKey);
        }
        if txn.get(Table::DroppedKids, key.kid.as_bytes())?.is_some() {
            return reject(Rejection::KidConflict);
        }
        if let Some(existing) = get::<SigningKey>(txn, Table::SigningKeys, key.kid.as_bytes())? {
            // Re-publishing identical material (a retried write) is harmless; other material
            // under a known kid would let two keys answer to one name.
            if existing.public_jwk == key.public_jwk && existing.alg == key.alg {
                return Ok(Outcome::Applied);
            }
            return reject(Rejection::KidConflict);
        }
        let mut key = key.clone();
        key.state = KeyState::Published;
        put(txn, Table::SigningKeys, key.kid.as_bytes(), &key)?;
        Ok(Outcome::Applied)
    }
}

/// A gateway is alive: its keys keep their place until `until_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewKeyLease {
    /// Key owner (gateway instance id).
    pub owner: String,
    /// Lease expiry, Unix ms.
    pub until_ms: u64,
}

impl Apply for RenewKeyLease {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (owner, until_ms) = (self.owner.as_str(), self.until_ms);
        if !valid_parts(&[owner]) {
            return reject(Rejection::InvalidKey);
        }
        let current = get::<u64>(txn, Table::KeyLeases, owner.as_bytes())?.unwrap_or(0);
        put(
            txn,
            Table::KeyLeases,
            owner.as_bytes(),
            &current.max(until_ms),
        )?;
        Ok(Outcome::Applied)
    }
}

/// Stop signing with a published key; it stays in the JWKS until `drop_after_ms`.
/// With `LeaseLapsed`, only if its owner's lease has indeed run out at `at_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetireKey {
    /// Key id.
    pub kid: String,
    /// Why.
    pub reason: RetireReason,
    /// The proposer's clock, Unix ms.
    pub at_ms: u64,
    /// When the key may leave the JWKS, Unix ms.
    pub drop_after_ms: u64,
}

impl Apply for RetireKey {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (kid, reason) = (self.kid.as_str(), self.reason);
        let (at_ms, drop_after_ms) = (self.at_ms, self.drop_after_ms);
        let Some(mut key) = get::<SigningKey>(txn, Table::SigningKeys, kid.as_bytes())? else {
            return reject(Rejection::KeyNotFound);
        };
        if key.state != KeyState::Published {
            // Already retired or revoked: nothing to do (a retried or duplicate retirement).
            return Ok(Outcome::Applied);
        }
        if reason == RetireReason::LeaseLapsed {
            let lease = get::<u64>(txn, Table::KeyLeases, key.owner.as_bytes())?.unwrap_or(0);
            if lease >= at_ms {
                // The owner renewed meanwhile: it is alive, its key stays.
                return reject(Rejection::PreconditionFailed);
            }
        }
        key.state = KeyState::Retired {
            retired_at_ms: at_ms,
            drop_after_ms,
        };
        put(txn, Table::SigningKeys, kid.as_bytes(), &key)?;
        Ok(Outcome::Applied)
    }
}

/// Take a key out of the JWKS at once and make validators refuse it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeKey {
    /// Key id.
    pub kid: String,
    /// The proposer's clock, Unix ms.
    pub at_ms: u64,
    /// When the tombstone may go, Unix ms.
    pub drop_after_ms: u64,
}

impl Apply for RevokeKey {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let kid = self.kid.as_str();
        let (at_ms, drop_after_ms) = (self.at_ms, self.drop_after_ms);
        let Some(mut key) = get::<SigningKey>(txn, Table::SigningKeys, kid.as_bytes())? else {
            return reject(Rejection::KeyNotFound);
        };
        if !matches!(key.state, KeyState::Revoked { .. }) {
            key.state = KeyState::Revoked {
                revoked_at_ms: at_ms,
                drop_after_ms,
            };
            put(txn, Table::SigningKeys, kid.as_bytes(), &key)?;
            let what = super::Revoked::Key {
                kid: kid.to_string(),
            };
            super::revoke(txn, what, super::after_last_token(at_ms))?;
        }
        Ok(Outcome::Applied)
    }
}

/// Remove a retired or revoked key whose overlap has passed at `at_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropKey {
    /// Key id.
    pub kid: String,
    /// The proposer's clock, Unix ms.
    pub at_ms: u64,
}

impl Apply for DropKey {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (kid, at_ms) = (self.kid.as_str(), self.at_ms);
        let Some(key) = get::<SigningKey>(txn, Table::SigningKeys, kid.as_bytes())? else {
            return Ok(Outcome::Applied);
        };
        let due = match key.state {
            KeyState::Published => false,
            KeyState::Retired { drop_after_ms, .. } | KeyState::Revoked { drop_after_ms, .. } => {
                drop_after_ms <= at_ms
            }
        };
        if !due {
            return reject(Rejection::PreconditionFailed);
        }
        txn.delete(Table::SigningKeys, kid.as_bytes())?;
        put(txn, Table::DroppedKids, kid.as_bytes(), &at_ms)?;
        Ok(Outcome::Applied)
    }
}

/// Ask every gateway to rotate its keys now (they follow this through Watch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestKeyRotation {
    /// The proposer's clock, Unix ms.
    pub at_ms: u64,
}

impl Apply for RequestKeyRotation {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        put(txn, Table::KeyRequests, b"rotate", &self.at_ms)?;
        Ok(Outcome::Applied)
    }
}
