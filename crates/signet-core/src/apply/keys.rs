//! Signing-key lifecycle: publish, lease renewal, retirement, revocation, drop. Every
//! transition is conditional on the recorded state, so a housekeeper that acts twice or
//! late (a deposed leader, a retried write) changes nothing the second time.

use super::{get, put, reject, valid_parts};
use crate::{CoreError, KeyState, KvTxn, Outcome, Rejection, RetireReason, SigningKey, Table};

pub(super) fn publish_key(txn: &mut impl KvTxn, key: &SigningKey) -> Result<Outcome, CoreError> {
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

pub(super) fn renew_lease(
    txn: &mut impl KvTxn,
    owner: &str,
    until_ms: u64,
) -> Result<Outcome, CoreError> {
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

pub(super) fn retire_key(
    txn: &mut impl KvTxn,
    kid: &str,
    reason: RetireReason,
    at_ms: u64,
    drop_after_ms: u64,
) -> Result<Outcome, CoreError> {
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

pub(super) fn revoke_key(
    txn: &mut impl KvTxn,
    kid: &str,
    at_ms: u64,
    drop_after_ms: u64,
) -> Result<Outcome, CoreError> {
    let Some(mut key) = get::<SigningKey>(txn, Table::SigningKeys, kid.as_bytes())? else {
        return reject(Rejection::KeyNotFound);
    };
    if !matches!(key.state, KeyState::Revoked { .. }) {
        key.state = KeyState::Revoked {
            revoked_at_ms: at_ms,
            drop_after_ms,
        };
        put(txn, Table::SigningKeys, kid.as_bytes(), &key)?;
    }
    Ok(Outcome::Applied)
}

pub(super) fn drop_key(txn: &mut impl KvTxn, kid: &str, at_ms: u64) -> Result<Outcome, CoreError> {
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
