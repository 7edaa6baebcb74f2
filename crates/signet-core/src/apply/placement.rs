//! Pools placed on store groups (deploy/SHARDING.md): placement rows, the client
//! directory, and the check that makes a gateway with a stale placement map unable to write
//! a pool's state in a group that does not own it.
//!
//! One table serves both roles a group can have. In the directory group (group 0) a pool's
//! [`Placement`] row says where gateways route the pool; in a pool group the row says
//! whether this group owns the pool (`group` is this group and it is not frozen) and at
//! which epoch. A group that hosts pools and is the directory holds one row per pool that
//! is true in both senses.

use super::{apply_command, get, put, reject, valid_parts, Apply};
use crate::{Command, CoreError, KvTxn, Outcome, Rejection, Table};
use serde::{Deserialize, Serialize};

/// Where a user pool lives, as one group knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The group that owns the pool.
    pub group: u32,
    /// Bumped each time the pool changes hands (or a move is aborted).
    pub epoch: u64,
    /// The owner refuses the pool's writes (a move is shipping its last changes).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub frozen: bool,
}

/// Record a pool's placement in this group.
///
/// Epochs only go forward: a row older than the one held is refused
/// ([`Rejection::PreconditionFailed`]), as is, at the same epoch, another group or a
/// frozen pool unfrozen (an aborted move unfreezes at a new epoch). Writing the row held
/// again is accepted and changes nothing, so every step of a move can be retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacePool {
    /// The user pool.
    pub pool_id: String,
    /// Its placement from now on.
    pub placement: Placement,
}

impl Apply for PlacePool {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        if !valid_parts(&[&self.pool_id]) {
            return reject(Rejection::InvalidKey);
        }
        let key = self.pool_id.as_bytes();
        let new = self.placement;
        if let Some(held) = get::<Placement>(txn, Table::Placements, key)? {
            let backwards = new.epoch < held.epoch
                || (new.epoch == held.epoch
                    && (new.group != held.group || (held.frozen && !new.frozen)));
            if backwards {
                return reject(Rejection::PreconditionFailed);
            }
        }
        put(txn, Table::Placements, key, &new)?;
        Ok(Outcome::Applied)
    }
}

/// A pool-scoped command sent by a gateway that routes pools over several groups, with
/// the group and epoch it routed by. It applies only where this group owns the pool at
/// that epoch; anywhere else it is refused with [`Rejection::WrongGroup`] (not remembered
/// under its request id, so the gateway retries the same request once it has the current
/// placement).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routed {
    /// The group the gateway sent the command to.
    pub group: u32,
    /// The pool's epoch in the gateway's placement map.
    pub epoch: u64,
    /// The command; it must name a user pool and must not itself be routed.
    pub command: Box<Command>,
}

impl Apply for Routed {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let Some(pool_id) = self.command.user_pool_id() else {
            return reject(Rejection::InvalidKey);
        };
        if matches!(*self.command, Command::Routed(_)) || !valid_parts(&[pool_id]) {
            return reject(Rejection::InvalidKey);
        }
        let held = get::<Placement>(txn, Table::Placements, pool_id.as_bytes())?;
        match held {
            Some(p) if p.group == self.group && p.epoch == self.epoch && !p.frozen => {
                apply_command(txn, &self.command)
            }
            _ => reject(Rejection::WrongGroup {
                epoch: held.map_or(0, |p| p.epoch),
            }),
        }
    }
}

/// Record in the directory group which pool an app client belongs to: public calls name
/// only the client, and its record lives in the pool's group. Written before the client
/// itself; a reservation whose client was never created is harmless (no client answers
/// to it). A client id already recorded for another pool is refused
/// ([`Rejection::ClientExists`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexClient {
    /// The app client.
    pub client_id: String,
    /// Its pool.
    pub pool_id: String,
}

impl Apply for IndexClient {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        if !valid_parts(&[&self.client_id, &self.pool_id]) {
            return reject(Rejection::InvalidKey);
        }
        let key = self.client_id.as_bytes();
        match get::<String>(txn, Table::ClientDirectory, key)? {
            Some(pool) if pool != self.pool_id => reject(Rejection::ClientExists),
            Some(_) => Ok(Outcome::Applied),
            None => {
                put(txn, Table::ClientDirectory, key, &self.pool_id)?;
                Ok(Outcome::Applied)
            }
        }
    }
}
