//! The audit trail: security events kept in bounded rings, one per user (`pool \0
//! username`) and one per pool for events about no user (`pool \0`), written in batches.
//! A ring is a counter and [`AUDIT_RING`] slots: each event overwrites the oldest, so a
//! user's trail never grows past the ring, with point reads and writes only.
//!
//! An event naming a user the pool does not have (a guess at a name, a sign-in by an
//! alias) goes to the pool's ring, the name kept in the event: otherwise every made-up
//! name would open a ring of its own, and the trail would grow with an attacker's guesses.

use super::{get, put, Apply};
use crate::kv::key;
use crate::{AuditEvent, CoreError, KvTxn, Outcome, Table, AUDIT_RING};
use serde::{Deserialize, Serialize};

/// Most events one command may carry.
pub const MAX_AUDIT_BATCH: usize = 512;

/// Append security events to their rings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordAuditEvents {
    /// The events, oldest first (at most [`MAX_AUDIT_BATCH`]; more are dropped).
    pub events: Vec<AuditEvent>,
}

/// The key of the counter of the ring of (`pool_id`, `username`).
pub(crate) fn ring_counter(pool_id: &str, username: &str) -> Vec<u8> {
    key(&[pool_id, username, "#"])
}

/// The key of slot `seq` of the ring of (`pool_id`, `username`).
pub(crate) fn ring_slot(pool_id: &str, username: &str, seq: u64) -> Vec<u8> {
    key(&[pool_id, username, &format!("{:03}", seq % AUDIT_RING)])
}

impl Apply for RecordAuditEvents {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        for e in self.events.iter().take(MAX_AUDIT_BATCH) {
            // Key parts never hold a NUL (it separates them): such an event is dropped.
            if e.pool_id.contains('\0') || e.username.contains('\0') {
                continue;
            }
            let known = !e.username.is_empty()
                && txn
                    .get(Table::Users, &crate::kv::compound(&e.pool_id, &e.username))?
                    .is_some();
            let ring_user = if known { e.username.as_str() } else { "" };
            let counter = ring_counter(&e.pool_id, ring_user);
            let seq = get::<u64>(txn, Table::AuditEvents, &counter)?.unwrap_or(0);
            let slot = ring_slot(&e.pool_id, ring_user, seq);
            put(txn, Table::AuditEvents, &slot, &e.clone().bounded())?;
            put(txn, Table::AuditEvents, &counter, &(seq + 1))?;
        }
        Ok(Outcome::Applied)
    }
}
